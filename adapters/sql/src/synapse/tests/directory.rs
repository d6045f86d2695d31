//! The user directory of `synapseSql`: ma1sd's default queries on Synapse's `profiles`, `users`
//! and `user_threepids` (the harness's schema), on SQLite and PostgreSQL; the term always bound;
//! the limit.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::DirectorySearch;
use verity_domain::{DirectoryResults, MatrixDomain, SearchLimit, SearchTerm};

use super::harness::{Kind, SynapseDb, quote};
use crate::synapse::{
    DirectoryIdType, DirectoryQueries, DirectoryQuery, SynapseSqlBackend, SynapseSqlError,
    TermBinding,
};

/// What Synapse writes when `localpart` registers with `display_name` (`guest`, or registered
/// by an application service).
async fn register(db: &SynapseDb, localpart: &str, display_name: Option<&str>, kind: &str) {
    let (guest, appservice) = match kind {
        "guest" => ("1", "NULL"),
        "appservice" => ("0", "'bridge'"),
        _ => ("0", "NULL"),
    };
    db.execute(&format!(
        "INSERT INTO users (name, creation_ts, is_guest, appservice_id) VALUES ({}, 1, {guest}, \
         {appservice})",
        quote(&format!("@{localpart}:example.org"))
    ))
    .await;
    // Synapse 1.163 writes the localpart and the whole ID (`ProfileWorkerStore`).
    db.execute(&format!(
        "INSERT INTO profiles (user_id, full_user_id, displayname) VALUES ({}, {}, {})",
        quote(localpart),
        quote(&format!("@{localpart}:example.org")),
        display_name.map_or_else(|| "NULL".to_owned(), quote)
    ))
    .await;
}

fn domain() -> MatrixDomain {
    MatrixDomain::parse("example.org").unwrap()
}

/// The backend with ma1sd's default directory queries for this database.
async fn backend(db: &SynapseDb) -> SynapseSqlBackend {
    let mut config = db.config();
    config.directory =
        Some(DirectoryQueries::synapse_defaults(&config.database, &domain()).unwrap());
    db.backend_with(config).await
}

fn term(raw: &str) -> SearchTerm {
    SearchTerm::parse(raw).unwrap()
}

fn ids(results: &DirectoryResults) -> Vec<&str> {
    let mut ids: Vec<&str> = results.entries.iter().map(|e| e.user_id.as_str()).collect();
    ids.sort_unstable();
    ids
}

async fn seed(db: &SynapseDb) {
    register(db, "alice", Some("Alice Liddell"), "user").await;
    register(db, "alan", Some("Alan Turing"), "user").await;
    register(db, "bob", Some("Bob"), "user").await;
    register(db, "nameless", None, "user").await;
    db.add("@alice:example.org", "email", "alice@wonderland.example")
        .await;
    db.add("@bob:example.org", "email", "bob@builders.example")
        .await;
    db.add("@bob:example.org", "msisdn", "447700900123").await;
}

pub(crate) async fn the_default_queries_find_people_by_display_name_ignoring_case(db: &SynapseDb) {
    seed(db).await;
    let backend = backend(db).await;
    assert_eq!(DirectorySearch::name(&backend), "synapseSql");
    let found = backend
        .search_by_name(&term("AL"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(ids(&found), ["@alan:example.org", "@alice:example.org"]);
    assert!(!found.limited);
    let alice = found
        .entries
        .iter()
        .find(|e| e.user_id.as_str() == "@alice:example.org")
        .unwrap();
    assert_eq!(alice.display_name.as_deref(), Some("Alice Liddell"));
    let nobody = backend
        .search_by_name(&term("zebra"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(nobody, DirectoryResults::default());
}

pub(crate) async fn the_default_queries_find_people_by_any_3pid_on_their_account(db: &SynapseDb) {
    seed(db).await;
    let backend = backend(db).await;
    let found = backend
        .search_by_threepid(&term("BUILDERS"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(ids(&found), ["@bob:example.org"]);
    assert_eq!(found.entries[0].display_name.as_deref(), Some("Bob"));
    let found = backend
        .search_by_threepid(&term("7700900"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(ids(&found), ["@bob:example.org"]);
}

pub(crate) async fn the_limit_is_kept_and_limited_said_when_more_matched(db: &SynapseDb) {
    seed(db).await;
    let backend = backend(db).await;
    let found = backend
        .search_by_name(&term("a"), SearchLimit::from_request(Some(1)))
        .await
        .unwrap();
    assert_eq!(found.entries.len(), 1);
    assert!(found.limited);
}

pub(crate) async fn a_term_with_quotes_is_a_value_never_sql(db: &SynapseDb) {
    seed(db).await;
    let backend = backend(db).await;
    for raw in ["x' OR '1'='1", "'); DROP TABLE profiles; --", "\\"] {
        let found = backend
            .search_by_name(&term(raw), SearchLimit::default())
            .await
            .unwrap();
        assert_eq!(found, DirectoryResults::default(), "{raw}");
    }
    // The table is still there.
    let found = backend
        .search_by_name(&term("bob"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(ids(&found), ["@bob:example.org"]);
}

pub(crate) async fn a_localpart_with_an_underscore_has_its_own_profile_and_no_other(
    db: &SynapseDb,
) {
    // ma1sd joined `users.name LIKE concat('@', profiles.user_id, ':%')`: the `_` of `a_b`
    // matched the `x` of `axb`, which was listed under a_b's display name.
    register(db, "a_b", Some("Alpha Beta"), "user").await;
    register(db, "axb", Some("Axe"), "user").await;
    let found = backend(db)
        .await
        .search_by_name(&term("alpha"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(ids(&found), ["@a_b:example.org"]);
    assert_eq!(found.entries[0].display_name.as_deref(), Some("Alpha Beta"));
}

pub(crate) async fn the_terms_like_wildcards_are_searched_literally(db: &SynapseDb) {
    seed(db).await;
    register(db, "pct", Some("100% Real"), "user").await;
    register(db, "under", Some("snake_case"), "user").await;
    register(db, "bang", Some("Wow!"), "user").await;
    db.add("@under:example.org", "email", "first_last@example.org")
        .await;
    let backend = backend(db).await;
    for (raw, expected) in [
        ("%", "@pct:example.org"),
        ("0% r", "@pct:example.org"),
        ("_", "@under:example.org"),
        ("e_c", "@under:example.org"),
        ("!", "@bang:example.org"),
    ] {
        let found = backend
            .search_by_name(&term(raw), SearchLimit::default())
            .await
            .unwrap();
        assert_eq!(ids(&found), [expected], "{raw}");
    }
    let found = backend
        .search_by_threepid(&term("t_l"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(ids(&found), ["@under:example.org"]);
    let nobody = backend
        .search_by_threepid(&term("%"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(nobody, DirectoryResults::default());
}

pub(crate) async fn on_postgres_guests_and_bridged_users_are_not_listed(db: &SynapseDb) {
    register(db, "guest1", Some("Guest Someone"), "guest").await;
    register(db, "bridged", Some("Bridged Someone"), "appservice").await;
    register(db, "real", Some("Real Someone"), "user").await;
    let found = backend(db)
        .await
        .search_by_name(&term("someone"), SearchLimit::default())
        .await
        .unwrap();
    // ma1sd's SQLite query reads `profiles` alone; its PostgreSQL one joins `users`.
    let expected: &[&str] = match db.kind {
        Kind::Postgres => &["@real:example.org"],
        Kind::Sqlite => &[
            "@bridged:example.org",
            "@guest1:example.org",
            "@real:example.org",
        ],
    };
    assert_eq!(ids(&found), expected);
}

pub(crate) async fn an_operator_query_of_localparts_is_completed_with_the_domain(db: &SynapseDb) {
    seed(db).await;
    let mut config = db.config();
    config.directory = Some(DirectoryQueries {
        by_name: Some(
            DirectoryQuery::parse(
                "SELECT user_id, displayname FROM profiles WHERE user_id LIKE :term",
                DirectoryIdType::Localpart(domain()),
                TermBinding::Contains,
            )
            .unwrap(),
        ),
        by_threepid: None,
    });
    let backend = db.backend_with(config).await;
    let found = backend
        .search_by_name(&term("bo"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(ids(&found), ["@bob:example.org"]);
    // No 3PID query: nobody, no error.
    let none = backend
        .search_by_threepid(&term("bo"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(none, DirectoryResults::default());
}

pub(crate) async fn a_broken_directory_query_stops_start_up(db: &SynapseDb) {
    db.execute("DROP TABLE profiles").await;
    let mut config = db.config();
    config.directory =
        Some(DirectoryQueries::synapse_defaults(&config.database, &domain()).unwrap());
    let err = SynapseSqlBackend::connect(&config).await.unwrap_err();
    match err {
        SynapseSqlError::Query { query, .. } => assert_eq!(query, "directory.query.name"),
        other => panic!("{other:?}"),
    }
}
