//! The feed the hashed-lookup table is built from: `feed` in (medium, address) order of the
//! strings' bytes, resuming strictly after any 3PID, at most `limit` a page; `feed_rows` handing
//! every binding over once, in whatever order, resuming from its own cursors.
use std::collections::BTreeSet;

use verity_domain::{Medium, ThreePid, UserId};

use super::{ContractFailure, Identity, ensure, ensure_eq, identities, threepid};
use crate::ports::driven::{Binding, FeedRows, IdentityBackend};

/// 3PIDs whose order tells byte order from a locale's or from the media's declaration order:
/// media sorting before `email` and after `msisdn`, addresses in mixed case, with punctuation,
/// accents, and characters JSON escapes.
fn assorted() -> Result<Vec<Identity>, ContractFailure> {
    identities(&[
        ("msisdn", "447700900002", "@m1:example.org"),
        ("email", "zoe@example.org", "@e3:example.org"),
        ("email", "adam@example.org", "@e1:example.org"),
        ("msisdn", "15550000001", "@m2:example.org"),
        ("email", "Mia@example.org", "@e2:example.org"),
        ("email", "a@example.org", "@e4:example.org"),
        ("email", "ab@example.org", "@e5:example.org"),
        ("matrix.id", "alpha", "@c1:example.org"),
        ("matrix.id", "Zed", "@c2:example.org"),
        ("matrix.id", "a-c", "@c3:example.org"),
        ("matrix.id", "_x", "@c4:example.org"),
        ("matrix.id", "\u{e9}clair", "@c5:example.org"),
        ("matrix.id", "Eclair", "@c6:example.org"),
        (
            "matrix.id",
            "quote\" 'single' and \\ backslash: 3:\u{fc}",
            "@c7:example.org",
        ),
        ("chat", "a medium before email", "@c8:example.org"),
        ("x.handle", "a medium after msisdn", "@c9:example.org"),
    ])
}

/// The order `feed` promises: medium, then address, as strings (byte order).
fn key(threepid: &ThreePid) -> (String, String) {
    (
        threepid.medium().as_str().to_owned(),
        threepid.address().to_owned(),
    )
}

/// The bindings of `identities` in feed order.
fn in_feed_order(identities: &[Identity]) -> Vec<Binding> {
    let mut bindings: Vec<Binding> = identities.iter().map(Identity::binding).collect();
    bindings.sort_by_key(|binding| key(&binding.threepid));
    bindings
}

/// Every binding of `feed`, `page` at a time, checking each page's length; at most `pages`
/// pages, so that a feed that never ends fails rather than hangs.
async fn whole_feed<B: IdentityBackend>(
    backend: &B,
    page: u32,
    pages: usize,
) -> Result<Vec<Binding>, ContractFailure> {
    let mut all = Vec::new();
    let mut after = None;
    for _ in 0..pages {
        let next = backend.feed(after.clone(), page).await?;
        ensure(next.len() <= page as usize, || {
            format!("a page of {} bindings where {page} were asked", next.len())
        })?;
        let Some(last) = next.last() else {
            return Ok(all);
        };
        after = Some(last.threepid.clone());
        all.extend(next);
    }
    Err(ContractFailure::Broken(format!(
        "the feed, in pages of {page}, does not end after {pages} pages"
    )))
}

/// `feed` hands over every binding once, in (medium, address) order of the strings' bytes,
/// whatever the page size, each page at most `limit` long.
///
/// # Errors
/// The broken promise, or the backend's error.
pub async fn the_feed_pages_through_every_3pid_in_medium_then_address_order<B>(
    seeded: impl AsyncFnOnce(Vec<Identity>) -> B,
) -> Result<(), ContractFailure>
where
    B: IdentityBackend,
{
    let assorted = assorted()?;
    let expected = in_feed_order(&assorted);
    let backend = seeded(assorted).await;
    for page in [1, 2, 3, 7, 100] {
        ensure_eq(
            whole_feed(&backend, page, expected.len() + 2).await?,
            expected.clone(),
            &format!("the whole feed in pages of {page}"),
        )?;
    }
    ensure_eq(
        backend.feed(None, 2).await?,
        expected[..2].to_vec(),
        "the first page of 2",
    )?;
    ensure_eq(
        backend.feed(Some(expected[1].threepid.clone()), 4).await?,
        expected[2..6].to_vec(),
        "the page of 4 after the second binding",
    )
}

/// `feed` resumes strictly after the 3PID it is given, whether the backend holds it or not:
/// an address between two held ones, a medium between two held ones, one it has never seen,
/// the last one.
///
/// # Errors
/// The broken promise, or the backend's error.
pub async fn the_feed_resumes_strictly_after_any_3pid_held_or_not<B>(
    seeded: impl AsyncFnOnce(Vec<Identity>) -> B,
) -> Result<(), ContractFailure>
where
    B: IdentityBackend,
{
    let held = identities(&[
        ("email", "a@example.org", "@a:example.org"),
        ("email", "c@example.org", "@c:example.org"),
        ("msisdn", "15550000001", "@m:example.org"),
        ("x.handle", "h", "@h:example.org"),
    ])?;
    let expected = in_feed_order(&held);
    let medium = |name: &str| {
        Medium::parse(name).map_err(|_| ContractFailure::Setup(format!("invalid medium {name}")))
    };
    let afters = [
        threepid(Medium::Email, "a@example.org")?,
        threepid(Medium::Email, "b@example.org")?,
        threepid(medium("matrix.id")?, "x")?,
        threepid(medium("aaa")?, "x")?,
        threepid(medium("x.handle")?, "h")?,
        threepid(medium("zzz")?, "x")?,
    ];
    let backend = seeded(held).await;
    for after in afters {
        let rest: Vec<Binding> = expected
            .iter()
            .filter(|binding| key(&binding.threepid) > key(&after))
            .cloned()
            .collect();
        ensure_eq(
            backend.feed(Some(after.clone()), 10).await?,
            rest,
            &format!("the feed after {after}"),
        )?;
    }
    Ok(())
}

/// A page of no binding is empty, from `feed` and from `feed_rows`.
///
/// # Errors
/// The broken promise, or the backend's error.
pub async fn a_zero_limit_feeds_nothing<B>(
    seeded: impl AsyncFnOnce(Vec<Identity>) -> B,
) -> Result<(), ContractFailure>
where
    B: IdentityBackend,
{
    let backend = seeded(assorted()?).await;
    ensure_eq(
        backend.feed(None, 0).await?,
        Vec::new(),
        "a feed page of limit 0",
    )?;
    let mut rows = FeedRows::default();
    rows.push("stale", "row", "@left:example.org");
    backend.feed_rows(None, 0, &mut rows).await?;
    ensure_eq(rows.len(), 0, "rows of a feed_rows page of limit 0")
}

/// `feed_rows` hands over every binding exactly once, whatever the page size, each page at most
/// `limit` long, resuming from the cursor of the page before; each row, once put in canonical
/// form, is a seeded binding. The count `feed_len` gives, if any, need not be exact.
///
/// # Errors
/// The broken promise, or the backend's error.
pub async fn the_raw_feed_hands_over_every_3pid_once_whatever_the_page_size<B>(
    seeded: impl AsyncFnOnce(Vec<Identity>) -> B,
) -> Result<(), ContractFailure>
where
    B: IdentityBackend,
{
    let assorted = assorted()?;
    let expected: BTreeSet<Binding> = assorted.iter().map(Identity::binding).collect();
    let backend = seeded(assorted).await;
    backend.feed_len().await?;
    for page in [1, 4, 100] {
        let mut fed = Vec::new();
        let mut rows = FeedRows::default();
        let mut after = None;
        let mut pages = 0;
        loop {
            pages += 1;
            ensure(pages <= expected.len() + 2, || {
                format!("feed_rows, in pages of {page}, does not end")
            })?;
            backend.feed_rows(after.clone(), page, &mut rows).await?;
            ensure(rows.len() <= page as usize, || {
                format!("a page of {} rows where {page} were asked", rows.len())
            })?;
            let Some(cursor) = rows.cursor() else {
                break;
            };
            for row in rows.iter() {
                fed.push(canonical(row.medium, row.address, row.user_id)?);
            }
            after = Some(cursor);
        }
        ensure_eq(
            fed.len(),
            expected.len(),
            &format!("rows in pages of {page}"),
        )?;
        ensure_eq(
            fed.into_iter().collect::<BTreeSet<_>>(),
            expected.clone(),
            &format!("the bindings of feed_rows in pages of {page}"),
        )?;
    }
    Ok(())
}

/// A fed row as the table reads it: its 3PID put in canonical form.
fn canonical(medium: &str, address: &str, user_id: &str) -> Result<Binding, ContractFailure> {
    let invalid = || ContractFailure::Broken(format!("a fed row is invalid: {medium}:{address}"));
    let medium = Medium::parse(medium).map_err(|_| invalid())?;
    Ok(Binding {
        threepid: ThreePid::parse(medium, address).map_err(|_| invalid())?,
        user_id: UserId::parse(user_id).map_err(|_| invalid())?,
    })
}
