//! The user directory of the generic `sql` store: the operator's `directory.query.*`, every
//! placeholder given the term as typed (as ma1sd bound it), on SQLite, PostgreSQL and MySQL
//! (each when configured; see `generic.rs`).
use pretty_assertions::assert_eq;
use verity_application::ports::driven::DirectorySearch;
use verity_domain::{DirectoryResults, MatrixDomain, SearchLimit, SearchTerm};

use super::generic::{Kind, OperatorDb, TAUTOLOGY};
use crate::synapse::{
    DirectoryIdType, DirectoryQueries, DirectoryQuery, QueryBackend, TermBinding,
};

/// `'%' || ? || '%'`, in this database's words (MySQL's `||` is a logical OR).
fn contains(kind: Kind) -> &'static str {
    match kind {
        Kind::MySql => "CONCAT('%', ?, '%')",
        Kind::Sqlite | Kind::Postgres => "'%' || ? || '%'",
    }
}

/// The operator's directory queries: logins (localparts) by login or Matrix ID, and Matrix IDs
/// by mail, each with the login as display name.
fn queries(kind: Kind) -> DirectoryQueries {
    let like = contains(kind);
    let domain = MatrixDomain::parse("example.org").unwrap();
    DirectoryQueries {
        by_name: Some(
            DirectoryQuery::parse(
                &format!(
                    "SELECT login, login FROM people WHERE lower(login) LIKE lower({like}) OR \
                     lower(mxid) LIKE lower({like})"
                ),
                DirectoryIdType::Localpart(domain),
                TermBinding::AsTyped,
            )
            .unwrap(),
        ),
        by_threepid: Some(
            DirectoryQuery::parse(
                &format!("SELECT mxid, login FROM people WHERE lower(mail) LIKE lower({like})"),
                DirectoryIdType::Mxid,
                TermBinding::AsTyped,
            )
            .unwrap(),
        ),
    }
}

async fn backend(db: &OperatorDb, kind: Kind, directory: Option<DirectoryQueries>) -> QueryBackend {
    let mut config = db.config();
    config.identity = None;
    config.directory = directory.or_else(|| Some(queries(kind)));
    QueryBackend::open(&config).await.expect("open")
}

fn term(raw: &str) -> SearchTerm {
    SearchTerm::parse(raw).unwrap()
}

fn ids(results: &DirectoryResults) -> Vec<&str> {
    let mut ids: Vec<&str> = results.entries.iter().map(|e| e.user_id.as_str()).collect();
    ids.sort_unstable();
    ids
}

/// Runs `case` on every database that is configured.
async fn on_every_database(case: impl AsyncFn(&OperatorDb, Kind)) {
    for kind in [Kind::Sqlite, Kind::Postgres, Kind::MySql] {
        if let Some(db) = OperatorDb::open(kind).await {
            case(&db, kind).await;
            db.finish().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_queries_find_people_by_name_and_by_mail_with_the_term_in_every_placeholder() {
    on_every_database(async |db, kind| {
        let backend = backend(db, kind, None).await;
        assert_eq!(DirectorySearch::name(&backend), "sql");
        // In the second placeholder only (the Matrix ID), and in the first (the login).
        for raw in ["ALICE:example", "car"] {
            let found = backend
                .search_by_name(&term(raw), SearchLimit::default())
                .await
                .unwrap();
            let expected = if raw == "car" {
                "@carol:example.org"
            } else {
                "@alice:example.org"
            };
            assert_eq!(ids(&found), [expected], "{kind:?} {raw}");
        }
        let found = backend
            .search_by_threepid(&term("example.org"), SearchLimit::default())
            .await
            .unwrap();
        assert_eq!(
            ids(&found),
            ["@alice:example.org", "@bob:example.org"],
            "{kind:?}"
        );
        assert!(found.entries[0].display_name.is_some());
        let limited = backend
            .search_by_threepid(&term("example.org"), SearchLimit::from_request(Some(1)))
            .await
            .unwrap();
        assert_eq!(limited.entries.len(), 1);
        assert!(limited.limited, "{kind:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_term_that_is_a_tautology_once_spliced_finds_nobody() {
    on_every_database(async |db, kind| {
        let backend = backend(db, kind, None).await;
        for raw in [TAUTOLOGY, "' OR '1'='1", "x') OR ('a'='a"] {
            let found = backend
                .search_by_threepid(&term(raw), SearchLimit::default())
                .await
                .unwrap();
            assert_eq!(found, DirectoryResults::default(), "{kind:?} {raw}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_without_directory_queries_finds_nobody() {
    on_every_database(async |db, kind| {
        let backend = backend(db, kind, Some(DirectoryQueries::default())).await;
        let found = backend
            .search_by_name(&term("alice"), SearchLimit::default())
            .await
            .unwrap();
        assert_eq!(found, DirectoryResults::default(), "{kind:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_escape_bang_in_the_query_the_terms_wildcards_are_searched_literally() {
    on_every_database(async |db, kind| {
        let like = contains(kind);
        let by_mail = |escape: &str| DirectoryQueries {
            by_name: None,
            by_threepid: Some(
                DirectoryQuery::parse(
                    &format!(
                        "SELECT mxid, login FROM people WHERE lower(mail) LIKE lower({like}){escape}"
                    ),
                    DirectoryIdType::Mxid,
                    TermBinding::AsTyped,
                )
                .unwrap(),
            ),
        };
        // As ma1sd bound it, `%` is a wildcard in the operator's query: it finds everyone.
        let unescaped = backend(db, kind, Some(by_mail(""))).await;
        let everyone = unescaped
            .search_by_threepid(&term("%"), SearchLimit::default())
            .await
            .unwrap();
        assert_eq!(everyone.entries.len(), 2, "{kind:?}");
        // With ESCAPE '!' (the same on SQLite, PostgreSQL and MySQL), it is a percent sign.
        let escaped = backend(db, kind, Some(by_mail(" ESCAPE '!'"))).await;
        for raw in ["%", "_", "!", "a_ice", "!%"] {
            let found = escaped
                .search_by_threepid(&term(raw), SearchLimit::default())
                .await
                .unwrap();
            assert_eq!(found, DirectoryResults::default(), "{kind:?} {raw}");
        }
        let found = escaped
            .search_by_threepid(&term("alice@"), SearchLimit::default())
            .await
            .unwrap();
        assert_eq!(ids(&found), ["@alice:example.org"], "{kind:?}");
    })
    .await;
}
