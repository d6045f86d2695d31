//! A directory that fails is "not known here" for lookups, and feeds nothing until its feed was
//! read whole once; after that, its failure fails the rebuild (the table before keeps answering).
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use verity_application::ports::driven::{
    BackendError, Binding, FeedCursor, FeedRows, IdentityBackend,
};
use verity_domain::{Medium, ThreePid, UserId};

use super::Tolerant;

/// A directory holding alice@example.org, up or down.
struct Flaky {
    up: AtomicBool,
}

impl Flaky {
    fn answer<T>(&self, value: T) -> Result<T, BackendError> {
        if self.up.load(Ordering::Relaxed) {
            Ok(value)
        } else {
            Err(BackendError::Unavailable("connection refused".into()))
        }
    }
}

fn alice() -> (ThreePid, UserId) {
    (
        ThreePid::parse(Medium::Email, "alice@example.org").unwrap(),
        UserId::parse("@alice:example.org").unwrap(),
    )
}

#[async_trait]
impl IdentityBackend for Flaky {
    fn name(&self) -> &'static str {
        "flaky"
    }

    async fn lookup(&self, _: &ThreePid) -> Result<Option<UserId>, BackendError> {
        self.answer(Some(alice().1))
    }

    async fn lookup_many(&self, _: &[ThreePid]) -> Result<Vec<Binding>, BackendError> {
        let (threepid, user_id) = alice();
        self.answer(vec![Binding { threepid, user_id }])
    }

    async fn feed(&self, _: Option<ThreePid>, _: u32) -> Result<Vec<Binding>, BackendError> {
        self.answer(Vec::new())
    }

    async fn feed_rows(
        &self,
        after: Option<FeedCursor>,
        _: u32,
        rows: &mut FeedRows,
    ) -> Result<(), BackendError> {
        self.answer(())?;
        rows.clear();
        if after.is_none() {
            rows.push("email", "alice@example.org", "@alice:example.org");
        }
        Ok(())
    }
}

fn directory() -> (Arc<Flaky>, Tolerant) {
    let flaky = Arc::new(Flaky {
        up: AtomicBool::new(false),
    });
    let tolerant = Tolerant::new("ldap", flaky.clone());
    (flaky, tolerant)
}

#[tokio::test]
async fn a_directory_that_fails_knows_nothing_instead_of_failing_the_lookup() {
    let (flaky, directory) = directory();
    let (threepid, user_id) = alice();
    assert_eq!(directory.name(), "ldap");
    assert_eq!(directory.lookup(&threepid).await.unwrap(), None);
    assert_eq!(directory.lookup_published(&threepid).await.unwrap(), None);
    assert_eq!(
        directory
            .lookup_many(std::slice::from_ref(&threepid))
            .await
            .unwrap(),
        []
    );
    flaky.up.store(true, Ordering::Relaxed);
    assert_eq!(directory.lookup(&threepid).await.unwrap(), Some(user_id));
}

#[tokio::test]
async fn a_directory_feeds_nothing_while_down_until_read_whole_once_then_its_failure_fails() {
    let (flaky, directory) = directory();
    let mut rows = FeedRows::default();
    rows.push("stale", "row", "@x:example.org");
    // Down from the start: an empty feed, so the first table is built from the others.
    directory.feed_rows(None, 10, &mut rows).await.unwrap();
    assert!(rows.is_empty());
    assert_eq!(directory.feed_len().await.unwrap(), None);
    // Up: read whole.
    flaky.up.store(true, Ordering::Relaxed);
    directory.feed_rows(None, 10, &mut rows).await.unwrap();
    assert_eq!(rows.len(), 1);
    let cursor = rows.cursor();
    directory.feed_rows(cursor, 10, &mut rows).await.unwrap();
    assert!(rows.is_empty());
    // Down again: the rebuild fails, and the table built before keeps answering.
    flaky.up.store(false, Ordering::Relaxed);
    assert!(directory.feed_rows(None, 10, &mut rows).await.is_err());
}
