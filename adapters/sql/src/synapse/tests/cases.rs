//! What the Synapse backend must do, whatever the database behind it, beyond what every identity
//! backend must (the contract suite in `super::contract`) and its replaceable queries
//! ([`super::queries`]).
use pretty_assertions::assert_eq;
use sea_orm::ConnectionTrait;
use verity_application::ports::driven::{BackendError, Binding, IdentityBackend};
use verity_domain::{Medium, ThreePid, UserId};

use super::harness::{Kind, SynapseDb};
use crate::synapse::{IdentityQueries, IdentityQuery, SynapseSqlBackend};

pub(super) fn email(address: &str) -> ThreePid {
    ThreePid::parse(Medium::Email, address).unwrap()
}

pub(super) fn msisdn(digits: &str) -> ThreePid {
    ThreePid::parse(Medium::Msisdn, digits).unwrap()
}

pub(super) fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

pub(super) fn binding(threepid: ThreePid, user_id: &str) -> Binding {
    Binding {
        threepid,
        user_id: user(user_id),
    }
}

/// Every binding of the feed, `page` at a time, checking each page on the way.
pub(super) async fn whole_feed(backend: &SynapseSqlBackend, page: u32) -> Vec<Binding> {
    let mut all: Vec<Binding> = Vec::new();
    let mut after = None;
    loop {
        let next = backend.feed(after.clone(), page).await.unwrap();
        assert!(next.len() <= page as usize, "a page longer than asked");
        let Some(last) = next.last() else {
            return all;
        };
        after = Some(last.threepid.clone());
        all.extend(next);
    }
}

/// The order `feed` promises: medium, then address, as strings.
fn feed_order(bindings: &[Binding]) -> Vec<(String, String)> {
    bindings
        .iter()
        .map(|b| {
            (
                b.threepid.medium().as_str().to_owned(),
                b.threepid.address().to_owned(),
            )
        })
        .collect()
}

pub(crate) async fn the_backend_is_named_as_mxisd_named_the_section(db: &SynapseDb) {
    assert_eq!(db.backend().await.name(), "synapseSql");
}

pub(crate) async fn a_3pid_only_on_the_account_is_neither_found_nor_published(db: &SynapseDb) {
    // On the account (user_threepids) but never shared with an identity server: mxisd 1.x
    // published these (ma1sd#27); the user chose not to.
    db.add("@alice:example.org", "email", "private@example.org")
        .await;
    db.add("@alice:example.org", "msisdn", "447700900999").await;
    db.share("@alice:example.org", "email", "public@example.org")
        .await;
    let backend = db.backend().await;
    assert_eq!(
        backend.lookup(&email("private@example.org")).await.unwrap(),
        None
    );
    assert_eq!(backend.lookup(&msisdn("447700900999")).await.unwrap(), None);
    let asked = [
        email("private@example.org"),
        msisdn("447700900999"),
        email("public@example.org"),
    ];
    assert_eq!(
        backend.lookup_many(&asked).await.unwrap(),
        vec![binding(email("public@example.org"), "@alice:example.org")]
    );
    assert_eq!(
        backend.feed(None, 10).await.unwrap(),
        vec![binding(email("public@example.org"), "@alice:example.org")]
    );
}

pub(crate) async fn a_3pid_unbound_by_its_user_is_no_longer_found(db: &SynapseDb) {
    db.share("@alice:example.org", "email", "alice@example.org")
        .await;
    let backend = db.backend().await;
    assert!(
        backend
            .lookup(&email("alice@example.org"))
            .await
            .unwrap()
            .is_some()
    );
    // What Synapse does when the user unbinds the address in their client.
    db.execute("DELETE FROM user_threepid_id_server WHERE address = 'alice@example.org'")
        .await;
    assert_eq!(
        backend.lookup(&email("alice@example.org")).await.unwrap(),
        None
    );
    assert_eq!(backend.feed(None, 10).await.unwrap(), vec![]);
}

pub(crate) async fn a_3pid_bound_at_several_identity_servers_is_one_binding(db: &SynapseDb) {
    db.share("@alice:example.org", "email", "alice@example.org")
        .await;
    db.bind_at(
        "@alice:example.org",
        "email",
        "alice@example.org",
        "matrix.org",
    )
    .await;
    // A stale row of another user, with different capitals: one binding, always the same user.
    db.bind_at(
        "@zed:example.org",
        "email",
        "ALICE@example.org",
        "matrix.org",
    )
    .await;
    let backend = db.backend().await;
    let alice = email("alice@example.org");
    assert_eq!(
        backend.lookup(&alice).await.unwrap(),
        Some(user("@alice:example.org"))
    );
    assert_eq!(
        backend
            .lookup_many(std::slice::from_ref(&alice))
            .await
            .unwrap(),
        vec![binding(alice.clone(), "@alice:example.org")]
    );
    assert_eq!(
        backend.feed(None, 10).await.unwrap(),
        vec![binding(alice, "@alice:example.org")]
    );
}

/// What every backend must answer is the identity backend contract (`super::contract`); this
/// one also answers a 3PID asked twice once.
pub(crate) async fn lookup_many_answers_a_3pid_asked_twice_once(db: &SynapseDb) {
    db.share("@alice:example.org", "email", "Alice@example.org")
        .await;
    let backend = db.backend().await;
    let alice = email("alice@example.org");
    assert_eq!(
        backend
            .lookup_many(&[alice.clone(), email("bob@example.org"), alice.clone()])
            .await
            .unwrap(),
        vec![binding(alice, "@alice:example.org")]
    );
}

pub(crate) async fn the_feed_orders_by_bytes_whatever_the_database_collation(db: &SynapseDb) {
    // Custom media keep their case, and PostgreSQL's usual locales sort `Zed` after `alpha`,
    // `a-c` after `ab`: the feed's order must be the strings' own. Synapse wants a C-collated
    // database but starts on another with `allow_unsafe_locale`; give the columns a locale
    // collation where the server has ICU, so the test means something on a C server too.
    if db.kind == Kind::Postgres {
        db.execute(
            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu') \
             THEN ALTER TABLE user_threepid_id_server \
             ALTER COLUMN user_id TYPE text COLLATE \"und-x-icu\", \
             ALTER COLUMN medium TYPE text COLLATE \"und-x-icu\", \
             ALTER COLUMN address TYPE text COLLATE \"und-x-icu\"; END IF; END $$",
        )
        .await;
    }
    let medium = "matrix.id";
    for (i, address) in ["alpha", "Zed", "ab", "a-c", "_x", "éclair", "Eclair"]
        .iter()
        .enumerate()
    {
        db.share(&format!("@u{i}:example.org"), medium, address)
            .await;
    }
    let backend = db.backend().await;
    for page in [1, 3, 10] {
        let feed = whole_feed(&backend, page).await;
        let order = feed_order(&feed);
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "pages of {page}");
        assert_eq!(order.len(), 7, "pages of {page}");
    }
}

fn assert_corrupt_naming<T: std::fmt::Debug>(
    result: Result<T, BackendError>,
    named: &str,
    hidden: &str,
) {
    let Err(BackendError::Corrupt(message)) = &result else {
        panic!("expected Corrupt, got {result:?}");
    };
    assert!(message.contains(named), "{message}");
    assert!(!message.contains(hidden), "{message}");
}

pub(crate) async fn a_row_with_an_invalid_user_id_is_corrupt_and_named(db: &SynapseDb) {
    db.share("@alice:example.org", "email", "alice@example.org")
        .await;
    db.bind_at("not a user id", "email", "broken@example.org", "vector.im")
        .await;
    db.bind_at("@nobody", "msisdn", "15550000001", "vector.im")
        .await;
    let backend = db.backend().await;
    assert_corrupt_naming(
        backend.lookup(&email("broken@example.org")).await,
        "email:broken@example.org",
        "not a user id",
    );
    assert_corrupt_naming(
        backend.lookup(&msisdn("15550000001")).await,
        "msisdn:15550000001",
        "@nobody",
    );
    assert_corrupt_naming(
        backend
            .lookup_many(&[email("alice@example.org"), email("broken@example.org")])
            .await,
        "email:broken@example.org",
        "not a user id",
    );
    assert_corrupt_naming(
        backend.feed(None, 10).await,
        "email:broken@example.org",
        "not a user id",
    );
    // The good rows are still answered.
    assert_eq!(
        backend.lookup(&email("alice@example.org")).await.unwrap(),
        Some(user("@alice:example.org"))
    );
    assert_eq!(
        backend.feed(None, 1).await.unwrap(),
        vec![binding(email("alice@example.org"), "@alice:example.org")]
    );
    // A custom query returning garbage is corrupt too, named by the 3PID asked about.
    let mut config = db.config();
    config.identity = Some(IdentityQueries {
        query: Some(IdentityQuery::parse("SELECT 'garbage' AS uid WHERE :address <> ''").unwrap()),
        ..IdentityQueries::default()
    });
    let custom = db.backend_with(config).await;
    assert_corrupt_naming(
        custom.lookup(&email("x@example.org")).await,
        "email:x@example.org",
        "garbage",
    );
}

pub(crate) async fn a_row_with_an_invalid_3pid_is_corrupt_in_the_feed(db: &SynapseDb) {
    db.bind_at("@alice:example.org", "Email", "alice@example.org", "x")
        .await;
    let backend = db.backend().await;
    assert_corrupt_naming(
        backend.feed(None, 10).await,
        "Email:alice@example.org",
        "\0",
    );
    db.execute("DELETE FROM user_threepid_id_server").await;
    db.bind_at("@bob:example.org", "msisdn", "+44 7700 900123", "x")
        .await;
    assert_corrupt_naming(backend.feed(None, 10).await, "msisdn:+44 7700 900123", "\0");
}

pub(crate) async fn the_connection_cannot_write(db: &SynapseDb) {
    db.share("@alice:example.org", "email", "alice@example.org")
        .await;
    let backend = db.backend().await;
    let denied = backend
        .db
        .execute_unprepared("DELETE FROM user_threepid_id_server")
        .await;
    assert!(denied.is_err(), "the backend could write: {denied:?}");
    assert_eq!(
        backend.lookup(&email("alice@example.org")).await.unwrap(),
        Some(user("@alice:example.org"))
    );
}
