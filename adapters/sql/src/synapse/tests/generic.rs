//! The generic `sql` store: the operator's own table and queries, on SQLite, PostgreSQL (when
//! `VERITY_TEST_POSTGRES_URL` is set) and MariaDB/MySQL (when `VERITY_TEST_MYSQL_URL` is set),
//! each case in a fresh database (`synapse::tests::generic::<backend>::<case>`); and a store whose
//! database is down, which opens anyway and says so in its health check.
use pretty_assertions::assert_eq;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use verity_application::ports::driven::{
    BackendError, Binding, FeedRow, FeedRows, HealthCheck, IdentityBackend, StoreError,
};
use verity_domain::{MatrixDomain, Medium, ThreePid, UserId};

use crate::synapse::{
    FeedQuery, IdentityQueries, IdentityQuery, IdentityType, QueryBackend, QueryBackendConfig,
    SqlDatabase,
};
use crate::testing::mysql::{ScratchMysql, mysql_url};
use crate::testing::{ScratchDatabase, postgres_url};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sqlite,
    Postgres,
    MySql,
}

/// The operator's directory: a login, a full user ID, one mail (as typed) and one phone.
const SCHEMA: &str = "CREATE TABLE people ( login VARCHAR(64) NOT NULL, mxid VARCHAR(255) NOT \
                      NULL, mail VARCHAR(255), phone VARCHAR(32) )";
const PEOPLE: &str = "INSERT INTO people VALUES \
                      ('alice', '@alice:example.org', 'alice@example.org', '12025550143'), \
                      ('bob', '@bob:example.org', 'Bob@Example.org', NULL), \
                      ('carol', '@carol:example.org', NULL, '442079460958')";

/// An address that is a valid email and a tautology once spliced between quotes.
pub(crate) const TAUTOLOGY: &str = "x'OR'1'!='@example.org";

/// One test's database, written through a connection of its own (the backend only reads).
pub(crate) struct OperatorDb {
    writer: DatabaseConnection,
    database: SqlDatabase,
    _dir: tempfile::TempDir,
    postgres: Option<ScratchDatabase>,
    mysql: Option<ScratchMysql>,
}

impl OperatorDb {
    /// The `people` table, filled, or `None` when the server is not configured.
    pub(crate) async fn open(kind: Kind) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, database, postgres, mysql) = match kind {
            Kind::Sqlite => {
                let path = dir.path().join("people.db");
                let url = format!("sqlite://{}?mode=rwc", path.display());
                (url, SqlDatabase::Sqlite { path }, None, None)
            }
            Kind::Postgres => {
                let scratch = ScratchDatabase::create_on(&postgres_url()?).await;
                let url = scratch.url().to_owned();
                let database = SqlDatabase::Postgres { url: url.clone() };
                (url, database, Some(scratch), None)
            }
            Kind::MySql => {
                let scratch = ScratchMysql::create_on(&mysql_url()?).await;
                let url = scratch.url().to_owned();
                let database = SqlDatabase::MySql { url: url.clone() };
                (url, database, None, Some(scratch))
            }
        };
        let writer = Database::connect(url).await.expect("connect the writer");
        for statement in [SCHEMA, PEOPLE] {
            writer.execute_unprepared(statement).await.expect(statement);
        }
        Some(Self {
            writer,
            database,
            _dir: dir,
            postgres,
            mysql,
        })
    }

    /// The operator's queries, as an ma1sd `sql` section would have them.
    pub(crate) fn config(&self) -> QueryBackendConfig {
        let mut config = QueryBackendConfig::generic(self.database.clone());
        config.identity = Some(IdentityQueries {
            query: Some(
                IdentityQuery::parse(
                    "SELECT login AS uid FROM people WHERE ? = 'email' AND lower(mail) = ?",
                )
                .unwrap(),
            ),
            by_medium: [(
                Medium::Msisdn,
                IdentityQuery::parse("SELECT login AS uid FROM people WHERE phone = :address")
                    .unwrap(),
            )]
            .into(),
            id_type: IdentityType::Localpart(MatrixDomain::parse("example.org").unwrap()),
        });
        config.feed_query = Some(
            FeedQuery::parse(
                "SELECT mxid, 'email' AS medium, mail AS address FROM people WHERE mail IS NOT \
                 NULL UNION ALL SELECT mxid, 'msisdn', phone FROM people WHERE phone IS NOT NULL",
            )
            .unwrap(),
        );
        config
    }

    /// The backend on the operator's queries, opened as the wiring opens it (lazily).
    pub(crate) async fn backend(&self) -> QueryBackend {
        QueryBackend::open(&self.config()).await.expect("open")
    }

    pub(crate) async fn finish(self) {
        let Self {
            writer,
            postgres,
            mysql,
            ..
        } = self;
        writer.close().await.expect("close the writer");
        if let Some(scratch) = postgres {
            scratch.drop_database().await;
        }
        if let Some(scratch) = mysql {
            scratch.drop_database().await;
        }
    }
}

fn threepid(medium: Medium, address: &str) -> ThreePid {
    ThreePid::parse(medium, address).unwrap()
}

fn email(address: &str) -> ThreePid {
    threepid(Medium::Email, address)
}

fn msisdn(number: &str) -> ThreePid {
    threepid(Medium::Msisdn, number)
}

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn binding(threepid: ThreePid, id: &str) -> Binding {
    Binding {
        threepid,
        user_id: user(id),
    }
}

macro_rules! generic_suite {
    ($($case:ident),* $(,)?) => {
        generic_suite!(@backend sqlite, Sqlite; $($case),*);
        generic_suite!(@backend postgres, Postgres; $($case),*);
        generic_suite!(@backend mysql, MySql; $($case),*);
    };
    (@backend $backend:ident, $kind:ident; $($case:ident),*) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let kind = super::Kind::$kind;
                    let Some(db) = super::OperatorDb::open(kind).await else {
                        return;
                    };
                    super::$case(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

generic_suite![
    operator_queries_answer_single_and_bulk_lookups_and_feed_the_hash_table,
    an_address_that_is_a_tautology_once_spliced_finds_nobody,
    the_store_cannot_write_even_through_its_own_connection,
    rows_that_are_no_binding_are_handed_to_the_table_which_leaves_them_out,
];

async fn operator_queries_answer_single_and_bulk_lookups_and_feed_the_hash_table(db: &OperatorDb) {
    let backend = db.backend().await;
    assert_eq!(IdentityBackend::name(&backend), "sql");
    HealthCheck::check(&backend).await.expect("healthy");
    assert!(!backend.required());
    for (threepid, found) in [
        (email("alice@example.org"), Some("@alice:example.org")),
        // Stored as typed; the operator's query compares lower-case, as ma1sd bound it.
        (email("bob@example.org"), Some("@bob:example.org")),
        (msisdn("442079460958"), Some("@carol:example.org")),
        (msisdn("12025550143"), Some("@alice:example.org")),
        (email("nobody@example.org"), None),
    ] {
        assert_eq!(
            backend.lookup(&threepid).await.unwrap(),
            found.map(user),
            "{threepid}"
        );
    }
    let many = backend
        .lookup_many(&[
            email("alice@example.org"),
            msisdn("442079460958"),
            email("nobody@example.org"),
            email("alice@example.org"),
        ])
        .await
        .unwrap();
    assert_eq!(
        many,
        [
            binding(email("alice@example.org"), "@alice:example.org"),
            binding(msisdn("442079460958"), "@carol:example.org"),
        ]
    );
    assert_eq!(
        backend.feed(None, 10).await.unwrap(),
        [
            binding(email("alice@example.org"), "@alice:example.org"),
            binding(email("bob@example.org"), "@bob:example.org"),
            binding(msisdn("12025550143"), "@alice:example.org"),
            binding(msisdn("442079460958"), "@carol:example.org"),
        ]
    );
    // Paged: strictly after the cursor.
    assert_eq!(
        backend
            .feed(Some(email("bob@example.org")), 1)
            .await
            .unwrap(),
        [binding(msisdn("12025550143"), "@alice:example.org")]
    );
}

async fn an_address_that_is_a_tautology_once_spliced_finds_nobody(db: &OperatorDb) {
    // Spliced between quotes, the address matches every row: the test's input is a real attack.
    let spliced = format!("SELECT login FROM people WHERE lower(mail) = '{TAUTOLOGY}'");
    let rows = db
        .writer
        .query_all_raw(sea_orm::Statement::from_string(
            db.writer.get_database_backend(),
            spliced,
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3, "the spliced query should match every row");

    let backend = db.backend().await;
    let attack = email(TAUTOLOGY);
    assert_eq!(backend.lookup(&attack).await.unwrap(), None);
    assert_eq!(
        backend.lookup_many(&[attack]).await.unwrap(),
        Vec::<Binding>::new()
    );
}

async fn the_store_cannot_write_even_through_its_own_connection(db: &OperatorDb) {
    let backend = db.backend().await;
    let denied = backend.db.execute_unprepared("DELETE FROM people").await;
    assert!(denied.is_err(), "the backend could write: {denied:?}");
    assert_eq!(
        backend.lookup(&email("alice@example.org")).await.unwrap(),
        Some(user("@alice:example.org"))
    );
}

async fn rows_that_are_no_binding_are_handed_to_the_table_which_leaves_them_out(db: &OperatorDb) {
    db.writer
        .execute_unprepared(
            "INSERT INTO people VALUES ('dan', 'dan', NULL, '+1 (202) 555-0199'), \
             ('eve', '@eve:example.org', 'Eve@Example.org', NULL)",
        )
        .await
        .unwrap();
    let backend = db.backend().await;
    let mut rows = FeedRows::default();
    backend.feed_rows(None, 100, &mut rows).await.unwrap();
    let all: Vec<_> = (0..rows.len()).filter_map(|i| rows.row(i)).collect();
    let row = |medium, address, user_id| FeedRow {
        medium,
        address,
        user_id,
    };
    assert_eq!(all.len(), 6, "{all:?}");
    assert!(all.contains(&row("msisdn", "+1 (202) 555-0199", "dan")));
    assert!(all.contains(&row("email", "eve@example.org", "@eve:example.org")));
    // `feed`, which builds bindings, names the row instead.
    assert!(matches!(
        backend.feed(None, 100).await,
        Err(BackendError::Corrupt(_))
    ));
}

// A database that is down or broken: no server needed.

/// The backend on a database nobody answers for, and what its health check and a lookup say.
async fn down(database: SqlDatabase) -> (StoreError, BackendError) {
    let config = QueryBackendConfig::generic(database);
    let started = std::time::Instant::now();
    let backend = QueryBackend::open(&config).await.expect("opens while down");
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    let health = HealthCheck::check(&backend).await.unwrap_err();
    // Held: the next calls fail at once instead of each waiting out the connect timeout.
    let started = std::time::Instant::now();
    let lookup = backend
        .lookup(&email("alice@example.org"))
        .await
        .unwrap_err();
    assert!(HealthCheck::check(&backend).await.is_err());
    assert!(started.elapsed() < std::time::Duration::from_millis(500));
    (health, lookup)
}

#[tokio::test]
async fn a_postgres_or_mysql_store_that_is_down_opens_and_reports_itself_unavailable() {
    // Port 1 on the loopback: nothing listens there.
    for database in [
        SqlDatabase::Postgres {
            url: "postgres://verity:hunter2@127.0.0.1:1/people".into(),
        },
        SqlDatabase::MySql {
            url: "mysql://verity:hunter2@127.0.0.1:1/people".into(),
        },
    ] {
        let (health, lookup) = down(database.clone()).await;
        assert!(
            matches!(health, StoreError::Unavailable(_)),
            "{database:?}: {health:?}"
        );
        assert!(
            matches!(lookup, BackendError::Unavailable(_)),
            "{database:?}: {lookup:?}"
        );
        let shown = format!("{health} {health:?} {lookup} {lookup:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}

#[tokio::test]
async fn an_sqlite_store_missing_at_start_answers_once_its_file_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.db");
    let (health, _) = down(SqlDatabase::Sqlite { path: path.clone() }).await;
    assert!(matches!(health, StoreError::Unavailable(_)), "{health:?}");
    assert!(!path.exists(), "the backend created {}", path.display());

    let mut config = QueryBackendConfig::generic(SqlDatabase::Sqlite { path: path.clone() });
    config.identity = Some(IdentityQueries {
        query: Some(IdentityQuery::parse("SELECT mxid FROM people WHERE mail = :address").unwrap()),
        ..IdentityQueries::default()
    });
    config.feed = false;
    let backend = QueryBackend::open(&config).await.unwrap();
    let writer = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    for statement in [SCHEMA, PEOPLE] {
        writer.execute_unprepared(statement).await.unwrap();
    }
    HealthCheck::check(&backend)
        .await
        .expect("healthy once there");
    assert_eq!(
        backend.lookup(&email("alice@example.org")).await.unwrap(),
        Some(user("@alice:example.org"))
    );
    // A blank `lookup.query`: no feed, and no default query checked.
    assert_eq!(backend.feed(None, 10).await.unwrap(), Vec::<Binding>::new());
}

#[tokio::test]
async fn a_broken_query_is_named_by_the_health_check_not_by_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.db");
    let writer = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    writer.execute_unprepared(SCHEMA).await.unwrap();
    let mut config = QueryBackendConfig::generic(SqlDatabase::Sqlite { path });
    config.identity = Some(IdentityQueries {
        query: Some(IdentityQuery::parse("SELECT uid FROM nobody WHERE a = :address").unwrap()),
        ..IdentityQueries::default()
    });
    let backend = QueryBackend::open(&config).await.unwrap();
    match HealthCheck::check(&backend).await {
        Err(StoreError::Corrupt(message)) => {
            assert!(message.contains("identity.query"), "{message}");
        }
        other => panic!("expected the query named, got {other:?}"),
    }
}
