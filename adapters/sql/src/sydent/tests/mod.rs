//! The Sydent source against Sydent 2.6.1's own schema, filled with the statements Sydent's
//! stores run (`harness`), and against deployments real Sydent made (`real`, when the kit finds
//! Sydent).
mod bindings;
mod harness;
mod invites;
mod real;
mod tables;

use verity_application::ports::driven::{ImportSource, SourceError, SourceRow};

/// Every row of a table, read `limit` at a time until an empty page.
pub(crate) async fn all<T, F, Fut>(limit: u32, mut page: F) -> Vec<SourceRow<T>>
where
    F: FnMut(i64, u32) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<SourceRow<T>>, SourceError>>,
{
    let mut rows: Vec<SourceRow<T>> = Vec::new();
    let mut after = 0;
    loop {
        let next = page(after, limit).await.expect("a page");
        assert!(next.len() <= limit as usize, "more rows than the limit");
        let Some(last) = next.last() else {
            return rows;
        };
        after = last.position;
        rows.extend(next);
    }
}

/// Every binding, a hundred at a time.
pub(crate) async fn all_bindings(
    source: &impl ImportSource,
) -> Vec<SourceRow<verity_application::ports::driven::ImportedBinding>> {
    all(100, |after, limit| source.bindings(after, limit)).await
}
