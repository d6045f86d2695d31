//! What the Synapse backend must do, whatever the database behind it.
use pretty_assertions::assert_eq;
use sea_orm::ConnectionTrait;
use verity_application::ports::driven::{BackendError, Binding, IdentityBackend};
use verity_domain::{MatrixDomain, Medium, ThreePid, UserId};

use super::harness::{Kind, SynapseDb};
use crate::synapse::{
    FeedQuery, IdentityQueries, IdentityQuery, IdentityType, SynapseSqlBackend, SynapseSqlError,
};

fn email(address: &str) -> ThreePid {
    ThreePid::parse(Medium::Email, address).unwrap()
}

fn msisdn(digits: &str) -> ThreePid {
    ThreePid::parse(Medium::Msisdn, digits).unwrap()
}

fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

fn binding(threepid: ThreePid, user_id: &str) -> Binding {
    Binding {
        threepid,
        user_id: user(user_id),
    }
}

/// Every binding of the feed, `page` at a time, checking each page on the way.
async fn whole_feed(backend: &SynapseSqlBackend, page: u32) -> Vec<Binding> {
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

pub(crate) async fn a_shared_email_and_phone_number_are_found(db: &SynapseDb) {
    db.share("@alice:example.org", "email", "alice@example.org")
        .await;
    db.share("@bob:example.org", "msisdn", "447700900123").await;
    let backend = db.backend().await;
    assert_eq!(
        backend.lookup(&email("alice@example.org")).await.unwrap(),
        Some(user("@alice:example.org"))
    );
    assert_eq!(
        backend.lookup(&msisdn("447700900123")).await.unwrap(),
        Some(user("@bob:example.org"))
    );
}

pub(crate) async fn an_unknown_3pid_is_not_found(db: &SynapseDb) {
    db.share("@alice:example.org", "email", "alice@example.org")
        .await;
    let backend = db.backend().await;
    for unknown in [
        email("bob@example.org"),
        email("alice@example.com"),
        msisdn("447700900123"),
        // The same address under another medium is another 3PID.
        ThreePid::parse(Medium::parse("matrix.id").unwrap(), "alice@example.org").unwrap(),
    ] {
        assert_eq!(backend.lookup(&unknown).await.unwrap(), None, "{unknown}");
    }
}

pub(crate) async fn emails_stored_with_capitals_are_found_and_published_in_canonical_form(
    db: &SynapseDb,
) {
    // Synapse before 1.0 stored addresses as typed; user_threepid_id_server was never rewritten.
    db.share("@alice:example.org", "email", "Alice.Smith@Example.ORG")
        .await;
    let backend = db.backend().await;
    let canonical = email("alice.smith@example.org");
    assert_eq!(
        backend.lookup(&canonical).await.unwrap(),
        Some(user("@alice:example.org"))
    );
    assert_eq!(
        backend
            .lookup_many(std::slice::from_ref(&canonical))
            .await
            .unwrap(),
        vec![binding(canonical.clone(), "@alice:example.org")]
    );
    assert_eq!(
        backend.feed(None, 10).await.unwrap(),
        vec![binding(canonical, "@alice:example.org")]
    );
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

pub(crate) async fn lookup_many_returns_exactly_the_known_3pids_of_a_mixed_request(db: &SynapseDb) {
    db.share("@alice:example.org", "email", "alice@example.org")
        .await;
    db.share("@bob:example.org", "email", "Bob@Example.org")
        .await;
    db.share("@bob:example.org", "msisdn", "447700900123").await;
    db.add("@carol:example.org", "email", "carol@example.org")
        .await;
    let backend = db.backend().await;
    let asked = [
        msisdn("447700900123"),
        email("nobody@example.org"),
        email("bob@example.org"),
        email("carol@example.org"),
        email("alice@example.org"),
        msisdn("15550000000"),
        // Asked twice, answered once.
        email("alice@example.org"),
    ];
    let mut found = backend.lookup_many(&asked).await.unwrap();
    found.sort();
    assert_eq!(
        found,
        vec![
            binding(email("alice@example.org"), "@alice:example.org"),
            binding(email("bob@example.org"), "@bob:example.org"),
            binding(msisdn("447700900123"), "@bob:example.org"),
        ]
    );
}

pub(crate) async fn lookup_many_of_more_3pids_than_one_statement_binds_finds_them_all(
    db: &SynapseDb,
) {
    let mut values = Vec::new();
    for i in 0..1_200 {
        values.push(format!(
            "('@u{i}:example.org', 'email', 'u{i}@example.org', 'vector.im')"
        ));
    }
    db.execute(&format!(
        "INSERT INTO user_threepid_id_server (user_id, medium, address, id_server) VALUES {}",
        values.join(", ")
    ))
    .await;
    let backend = db.backend().await;
    // 1 200 asked (every even number up to 2 398), the 600 below 1 200 known: several statements.
    let asked: Vec<ThreePid> = (0..2_400)
        .step_by(2)
        .map(|n| email(&format!("u{n}@example.org")))
        .collect();
    let found = backend.lookup_many(&asked).await.unwrap();
    let expected: Vec<Binding> = (0..1_200)
        .step_by(2)
        .map(|n| {
            binding(
                email(&format!("u{n}@example.org")),
                &format!("@u{n}:example.org"),
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(found, expected);
}

pub(crate) async fn lookup_many_of_nothing_is_empty(db: &SynapseDb) {
    db.share("@alice:example.org", "email", "alice@example.org")
        .await;
    assert_eq!(db.backend().await.lookup_many(&[]).await.unwrap(), vec![]);
}

pub(crate) async fn the_feed_pages_in_medium_then_address_order(db: &SynapseDb) {
    let shared = [
        ("@m1:example.org", "msisdn", "447700900002"),
        ("@e3:example.org", "email", "zoe@example.org"),
        ("@e1:example.org", "email", "adam@example.org"),
        ("@m2:example.org", "msisdn", "15550000001"),
        ("@e2:example.org", "email", "Mia@example.org"),
        ("@e4:example.org", "email", "a@example.org"),
        ("@e5:example.org", "email", "ab@example.org"),
    ];
    for (user_id, medium, address) in shared {
        db.share(user_id, medium, address).await;
    }
    db.add("@hidden:example.org", "email", "hidden@example.org")
        .await;
    let backend = db.backend().await;
    let expected = vec![
        binding(email("a@example.org"), "@e4:example.org"),
        binding(email("ab@example.org"), "@e5:example.org"),
        binding(email("adam@example.org"), "@e1:example.org"),
        binding(email("mia@example.org"), "@e2:example.org"),
        binding(email("zoe@example.org"), "@e3:example.org"),
        binding(msisdn("15550000001"), "@m2:example.org"),
        binding(msisdn("447700900002"), "@m1:example.org"),
    ];
    for page in [1, 2, 3, 7, 100] {
        assert_eq!(
            whole_feed(&backend, page).await,
            expected,
            "pages of {page}"
        );
    }
    let first = backend.feed(None, 2).await.unwrap();
    assert_eq!(first, expected[..2]);
    let second = backend
        .feed(Some(first[1].threepid.clone()), 4)
        .await
        .unwrap();
    assert_eq!(second, expected[2..6]);
    assert_eq!(
        backend
            .feed(Some(msisdn("447700900002")), 10)
            .await
            .unwrap(),
        vec![]
    );
}

pub(crate) async fn the_feed_resumes_after_a_3pid_it_does_not_hold(db: &SynapseDb) {
    db.share("@a:example.org", "email", "a@example.org").await;
    db.share("@c:example.org", "email", "c@example.org").await;
    db.share("@m:example.org", "msisdn", "15550000001").await;
    let backend = db.backend().await;
    assert_eq!(
        backend
            .feed(Some(email("b@example.org")), 10)
            .await
            .unwrap(),
        vec![
            binding(email("c@example.org"), "@c:example.org"),
            binding(msisdn("15550000001"), "@m:example.org"),
        ]
    );
    // A medium sorting between email and msisdn.
    let between = ThreePid::parse(Medium::parse("matrix.id").unwrap(), "x").unwrap();
    assert_eq!(
        backend.feed(Some(between), 10).await.unwrap(),
        vec![binding(msisdn("15550000001"), "@m:example.org")]
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

pub(crate) async fn the_feed_of_an_empty_database_or_a_zero_limit_is_empty(db: &SynapseDb) {
    let backend = db.backend().await;
    assert_eq!(backend.feed(None, 10).await.unwrap(), vec![]);
    db.share("@alice:example.org", "email", "alice@example.org")
        .await;
    assert_eq!(backend.feed(None, 0).await.unwrap(), vec![]);
}

pub(crate) async fn a_custom_identity_query_replaces_the_default(db: &SynapseDb) {
    // mxisd 1.x's query, as an operator may have kept it: every 3PID on the account.
    db.add("@alice:example.org", "email", "alice@example.org")
        .await;
    db.add("@bob:example.org", "msisdn", "447700900123").await;
    let mut config = db.config();
    config.identity = Some(IdentityQueries {
        query: Some(
            IdentityQuery::parse(
                "SELECT user_id AS uid FROM user_threepids WHERE medium = ? AND address = ?",
            )
            .unwrap(),
        ),
        ..IdentityQueries::default()
    });
    let backend = db.backend_with(config).await;
    assert_eq!(
        backend.lookup(&email("alice@example.org")).await.unwrap(),
        Some(user("@alice:example.org"))
    );
    let asked = [
        email("alice@example.org"),
        msisdn("447700900123"),
        email("nobody@example.org"),
    ];
    assert_eq!(
        backend.lookup_many(&asked).await.unwrap(),
        vec![
            binding(email("alice@example.org"), "@alice:example.org"),
            binding(msisdn("447700900123"), "@bob:example.org"),
        ]
    );
    // The feed keeps its own (default) query: nothing was shared.
    assert_eq!(backend.feed(None, 10).await.unwrap(), vec![]);
}

pub(crate) async fn a_per_medium_query_takes_precedence_and_named_placeholders_work(
    db: &SynapseDb,
) {
    db.share("@alice:example.org", "email", "alice@example.org")
        .await;
    db.add("@bob:example.org", "msisdn", "447700900123").await;
    let mut config = db.config();
    let mut identity = IdentityQueries::default();
    // Phone numbers from the account, whether shared or not; emails stay on the default.
    identity.by_medium.insert(
        Medium::Msisdn,
        IdentityQuery::parse(
            "SELECT user_id FROM user_threepids WHERE address = :address AND medium = :medium",
        )
        .unwrap(),
    );
    config.identity = Some(identity);
    let backend = db.backend_with(config).await;
    assert_eq!(
        backend.lookup(&msisdn("447700900123")).await.unwrap(),
        Some(user("@bob:example.org"))
    );
    assert_eq!(
        backend.lookup(&email("alice@example.org")).await.unwrap(),
        Some(user("@alice:example.org"))
    );
    let found = backend
        .lookup_many(&[msisdn("447700900123"), email("alice@example.org")])
        .await
        .unwrap();
    assert_eq!(
        found,
        vec![
            binding(email("alice@example.org"), "@alice:example.org"),
            binding(msisdn("447700900123"), "@bob:example.org"),
        ]
    );
}

pub(crate) async fn a_localpart_query_is_completed_with_the_domain(db: &SynapseDb) {
    db.share("@alice:example.org", "email", "alice@example.org")
        .await;
    let localpart = match db.kind {
        Kind::Sqlite => "substr(user_id, 2, instr(user_id, ':') - 2)",
        Kind::Postgres => "split_part(substr(user_id, 2), ':', 1)",
    };
    let mut config = db.config();
    config.identity = Some(IdentityQueries {
        query: Some(
            IdentityQuery::parse(&format!(
                "SELECT {localpart} AS uid FROM user_threepid_id_server \
                 WHERE medium = ? AND address = ?"
            ))
            .unwrap(),
        ),
        id_type: IdentityType::Localpart(MatrixDomain::parse("example.org").unwrap()),
        ..IdentityQueries::default()
    });
    let backend = db.backend_with(config).await;
    assert_eq!(
        backend.lookup(&email("alice@example.org")).await.unwrap(),
        Some(user("@alice:example.org"))
    );
}

pub(crate) async fn a_custom_lookup_query_feeds_the_hash_table(db: &SynapseDb) {
    db.add("@alice:example.org", "email", "alice@example.org")
        .await;
    db.add("@bob:example.org", "email", "BOB@example.org").await;
    db.add("@bob:example.org", "msisdn", "447700900123").await;
    let mut config = db.config();
    config.feed_query = Some(
        FeedQuery::parse("SELECT user_id AS mxid, medium, address FROM user_threepids;").unwrap(),
    );
    let backend = db.backend_with(config).await;
    let expected = vec![
        binding(email("alice@example.org"), "@alice:example.org"),
        binding(email("bob@example.org"), "@bob:example.org"),
        binding(msisdn("447700900123"), "@bob:example.org"),
    ];
    assert_eq!(whole_feed(&backend, 2).await, expected);
    // Lookups keep the default, shared-only query.
    assert_eq!(
        backend.lookup(&email("alice@example.org")).await.unwrap(),
        None
    );
}

pub(crate) async fn identity_lookups_can_be_switched_off_while_the_feed_stays(db: &SynapseDb) {
    db.share("@alice:example.org", "email", "alice@example.org")
        .await;
    let mut config = db.config();
    config.identity = None;
    let backend = db.backend_with(config).await;
    let alice = email("alice@example.org");
    assert_eq!(backend.lookup(&alice).await.unwrap(), None);
    assert_eq!(
        backend
            .lookup_many(std::slice::from_ref(&alice))
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        backend.feed(None, 10).await.unwrap(),
        vec![binding(alice, "@alice:example.org")]
    );
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

pub(crate) async fn a_missing_table_or_a_broken_custom_query_stops_start_up(db: &SynapseDb) {
    let query_error = |result: Result<SynapseSqlBackend, SynapseSqlError>| match result {
        Err(SynapseSqlError::Query { query, .. }) => query,
        other => panic!("expected a query error, got {other:?}"),
    };
    let mut config = db.config();
    config.identity = Some(IdentityQueries {
        query: Some(
            IdentityQuery::parse("SELECT uid FROM no_such_table WHERE a = :address").unwrap(),
        ),
        ..IdentityQueries::default()
    });
    assert_eq!(
        query_error(SynapseSqlBackend::connect(&config).await),
        "identity.query"
    );
    let mut config = db.config();
    config.identity = Some(IdentityQueries {
        by_medium: [(
            Medium::Msisdn,
            IdentityQuery::parse("SELEC uid FROM user_threepids WHERE a = :address").unwrap(),
        )]
        .into(),
        ..IdentityQueries::default()
    });
    assert_eq!(
        query_error(SynapseSqlBackend::connect(&config).await),
        "identity.medium.msisdn"
    );
    let mut config = db.config();
    // ma1sd's contract is mxid, medium, address: `user_id` is not enough.
    config.feed_query =
        Some(FeedQuery::parse("SELECT user_id, medium, address FROM user_threepids").unwrap());
    assert_eq!(
        query_error(SynapseSqlBackend::connect(&config).await),
        "lookup.query"
    );
    // A database that is not Synapse's.
    db.execute("DROP TABLE user_threepid_id_server").await;
    let err = query_error(SynapseSqlBackend::connect(&db.config()).await);
    assert!(err.contains("user_threepid_id_server"), "{err}");
}
