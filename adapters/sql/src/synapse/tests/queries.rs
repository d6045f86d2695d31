//! The queries an operator may replace, as mxisd allowed: custom identity queries (one, per
//! medium, answering a localpart), a custom feed query, lookups switched off, and the queries
//! checked at start-up.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::IdentityBackend;
use verity_domain::{MatrixDomain, Medium};

use super::cases::{binding, email, msisdn, user, whole_feed};
use super::harness::{Kind, SynapseDb};
use crate::synapse::{
    FeedQuery, IdentityQueries, IdentityQuery, IdentityType, SynapseSqlBackend, SynapseSqlError,
};

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
