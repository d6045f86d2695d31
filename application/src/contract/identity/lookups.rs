//! Lookups, single and bulk: every seeded 3PID is found under its user in canonical form, and
//! nothing else is, whatever the medium.
use std::collections::BTreeSet;

use verity_domain::{Medium, ThreePid};

use super::{ContractFailure, Identity, bindings_of, ensure, ensure_eq, identities, threepid};
use crate::ports::driven::{Binding, IdentityBackend};

/// Two users with 3PIDs of every kind: an email, a phone number, an email written with
/// capitals, a custom medium whose address keeps its case.
fn people() -> Result<Vec<Identity>, ContractFailure> {
    identities(&[
        ("email", "alice@example.org", "@alice:example.org"),
        ("msisdn", "447700900123", "@alice:example.org"),
        ("email", "Bob.Smith@Example.ORG", "@bob:example.org"),
        ("matrix.id", "Some ID", "@carol:other.example:8448"),
    ])
}

/// Near misses of [`people`]: another address, a prefix, a suffix, the same address under
/// another medium, a custom address in other case, a medium the backend has never seen.
fn strangers() -> Result<Vec<ThreePid>, ContractFailure> {
    let custom = |medium: &str, address: &str| {
        Medium::parse(medium)
            .map_err(|_| ContractFailure::Setup(format!("invalid medium {medium:?}")))
            .and_then(|medium| threepid(medium, address))
    };
    Ok(vec![
        threepid(Medium::Email, "eve@example.org")?,
        threepid(Medium::Email, "alice@example.com")?,
        threepid(Medium::Email, "lice@example.org")?,
        threepid(Medium::Email, "alice@example.org.evil")?,
        threepid(Medium::Msisdn, "44770090012")?,
        threepid(Medium::Msisdn, "4477009001234")?,
        custom("matrix.id", "alice@example.org")?,
        custom("matrix.id", "some id")?,
        custom("x-unknown", "Some ID")?,
    ])
}

/// Each seeded 3PID, asked alone, is found under its user (`lookup`, `lookup_published` and a
/// `lookup_many` of one), for every medium.
///
/// # Errors
/// The broken promise, or the backend's error.
pub async fn every_seeded_3pid_is_found_under_its_user<B>(
    seeded: impl AsyncFnOnce(Vec<Identity>) -> B,
) -> Result<(), ContractFailure>
where
    B: IdentityBackend,
{
    let people = people()?;
    let backend = seeded(people.clone()).await;
    for identity in &people {
        let asked = &identity.threepid;
        let found = backend.lookup(asked).await?;
        ensure_eq(
            found.as_ref(),
            Some(&identity.user_id),
            &format!("lookup of {asked}"),
        )?;
        let published = backend.lookup_published(asked).await?;
        ensure_eq(
            published.map(|published| published.user_id).as_ref(),
            Some(&identity.user_id),
            &format!("lookup_published of {asked}"),
        )?;
        let many = backend.lookup_many(std::slice::from_ref(asked)).await?;
        ensure_eq(
            many,
            vec![identity.binding()],
            &format!("lookup_many of {asked} alone"),
        )?;
    }
    Ok(())
}

/// An email the source holds as typed (`Bob.Smith@Example.ORG`) is found by its canonical form
/// and answered, and fed, in canonical form.
///
/// # Errors
/// The broken promise, or the backend's error.
pub async fn an_email_written_with_capitals_is_found_and_answered_in_canonical_form<B>(
    seeded: impl AsyncFnOnce(Vec<Identity>) -> B,
) -> Result<(), ContractFailure>
where
    B: IdentityBackend,
{
    let seeds = identities(&[("email", "Alice.Smith@Example.ORG", "@alice:example.org")])?;
    let canonical = threepid(Medium::Email, "alice.smith@example.org")?;
    let expected = vec![Binding {
        threepid: canonical.clone(),
        user_id: seeds[0].user_id.clone(),
    }];
    let backend = seeded(seeds.clone()).await;
    ensure_eq(
        backend.lookup(&canonical).await?.as_ref(),
        Some(&seeds[0].user_id),
        "lookup of the canonical form",
    )?;
    ensure_eq(
        backend
            .lookup_many(std::slice::from_ref(&canonical))
            .await?,
        expected.clone(),
        "lookup_many of the canonical form",
    )?;
    let fed = backend.feed(None, 10).await?;
    ensure_eq(fed, expected, "the feed")?;
    ensure_eq(
        fed_address(&backend).await?,
        Some("alice.smith@example.org".to_owned()),
        "the raw feed's address, once put in canonical form",
    )
}

/// The first address of `feed_rows`, in canonical form (the table puts it so).
async fn fed_address<B: IdentityBackend>(backend: &B) -> Result<Option<String>, ContractFailure> {
    let mut rows = crate::ports::driven::FeedRows::default();
    backend.feed_rows(None, 10, &mut rows).await?;
    let Some(row) = rows.row(0) else {
        return Ok(None);
    };
    let medium = Medium::parse(row.medium)
        .map_err(|_| ContractFailure::Broken(format!("a fed medium is invalid: {row:?}")))?;
    let threepid = ThreePid::parse(medium, row.address)
        .map_err(|e| ContractFailure::Broken(format!("a fed address is invalid: {row:?}: {e}")))?;
    Ok(Some(threepid.address().to_owned()))
}

/// Near misses of the seeded 3PIDs (another address, a prefix or suffix, the same address under
/// another medium, a custom address in other case, an unknown medium) are not found, neither
/// alone nor in bulk, and are not errors.
///
/// # Errors
/// The broken promise, or the backend's error.
pub async fn a_3pid_that_was_not_seeded_is_not_found<B>(
    seeded: impl AsyncFnOnce(Vec<Identity>) -> B,
) -> Result<(), ContractFailure>
where
    B: IdentityBackend,
{
    let strangers = strangers()?;
    let backend = seeded(people()?).await;
    for stranger in &strangers {
        ensure_eq(
            backend.lookup(stranger).await?,
            None,
            &format!("lookup of {stranger}, never seeded"),
        )?;
        let published = backend.lookup_published(stranger).await?;
        ensure_eq(
            published.map(|published| published.user_id),
            None,
            &format!("lookup_published of {stranger}, never seeded"),
        )?;
    }
    ensure_eq(
        backend.lookup_many(&strangers).await?,
        Vec::new(),
        "lookup_many of 3PIDs never seeded",
    )
}

/// A bulk lookup mixing known and unknown 3PIDs of every medium (one asked twice) answers
/// the known ones under their users, each a 3PID that was asked, and nothing else.
///
/// # Errors
/// The broken promise, or the backend's error.
pub async fn lookup_many_answers_exactly_the_asked_3pids_it_knows<B>(
    seeded: impl AsyncFnOnce(Vec<Identity>) -> B,
) -> Result<(), ContractFailure>
where
    B: IdentityBackend,
{
    let people = people()?;
    let backend = seeded(people.clone()).await;
    // Every seeded 3PID but the first (which the backend must not volunteer), the strangers
    // between them, and one asked twice.
    let known: Vec<&Identity> = people.iter().skip(1).collect();
    let mut asked: Vec<ThreePid> = strangers()?;
    for (i, identity) in known.iter().enumerate() {
        asked.insert(i * 2, identity.threepid.clone());
    }
    asked.push(known[0].threepid.clone());
    let found = backend.lookup_many(&asked).await?;
    let asked_set: BTreeSet<&ThreePid> = asked.iter().collect();
    for binding in &found {
        ensure(asked_set.contains(&binding.threepid), || {
            format!(
                "lookup_many answered {} -> {}, which was not asked",
                binding.threepid,
                binding.user_id.as_str()
            )
        })?;
    }
    let distinct: BTreeSet<Binding> = found.into_iter().collect();
    ensure_eq(
        distinct.into_iter().collect::<Vec<_>>(),
        bindings_of(&known.into_iter().cloned().collect::<Vec<_>>()),
        "lookup_many of a mixed request",
    )
}

/// A bulk lookup of 1,400 emails, 350 of them among 700 seeded, finds exactly those 350: more
/// than one statement or request of most technologies holds.
///
/// # Errors
/// The broken promise, or the backend's error.
pub async fn lookup_many_of_more_3pids_than_one_query_holds_finds_them_all<B>(
    seeded: impl AsyncFnOnce(Vec<Identity>) -> B,
) -> Result<(), ContractFailure>
where
    B: IdentityBackend,
{
    let many = (0..700)
        .map(|n| {
            Identity::new(
                "email",
                &format!("u{n}@example.org"),
                &format!("@u{n}:example.org"),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Every even number below 2,800: those below 700 are seeded.
    let asked = (0..2_800)
        .step_by(2)
        .map(|n| threepid(Medium::Email, &format!("u{n}@example.org")))
        .collect::<Result<Vec<_>, _>>()?;
    let expected: Vec<Identity> = many.iter().step_by(2).cloned().collect();
    let backend = seeded(many).await;
    let mut found = backend.lookup_many(&asked).await?;
    found.sort();
    ensure_eq(
        found,
        bindings_of(&expected),
        "lookup_many of 1,400 emails, 350 known",
    )
}

/// A bulk lookup of nothing answers nothing, and is not an error.
///
/// # Errors
/// The broken promise, or the backend's error.
pub async fn lookup_many_of_nothing_is_empty<B>(
    seeded: impl AsyncFnOnce(Vec<Identity>) -> B,
) -> Result<(), ContractFailure>
where
    B: IdentityBackend,
{
    let backend = seeded(people()?).await;
    ensure_eq(
        backend.lookup_many(&[]).await?,
        Vec::new(),
        "lookup_many of nothing",
    )
}

/// A backend holding nothing finds nothing, feeds nothing and counts no more than nothing.
///
/// # Errors
/// The broken promise, or the backend's error.
pub async fn an_empty_backend_finds_nothing_and_feeds_nothing<B>(
    seeded: impl AsyncFnOnce(Vec<Identity>) -> B,
) -> Result<(), ContractFailure>
where
    B: IdentityBackend,
{
    let backend = seeded(Vec::new()).await;
    let people = people()?;
    let asked: Vec<ThreePid> = people.iter().map(|p| p.threepid.clone()).collect();
    for threepid in &asked {
        ensure_eq(
            backend.lookup(threepid).await?,
            None,
            &format!("lookup of {threepid} in an empty backend"),
        )?;
    }
    ensure_eq(
        backend.lookup_many(&asked).await?,
        Vec::new(),
        "lookup_many in an empty backend",
    )?;
    ensure_eq(
        backend.feed(None, 10).await?,
        Vec::new(),
        "the feed of an empty backend",
    )?;
    ensure_eq(
        fed_address(&backend).await?,
        None,
        "the raw feed of an empty backend",
    )?;
    let len = backend.feed_len().await?;
    ensure(matches!(len, None | Some(0)), || {
        format!("an empty backend counts {len:?} bindings in its feed")
    })
}
