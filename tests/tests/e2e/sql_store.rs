//! The generic `sql` identity store (mxisd/ma1sd's `sql` section) over the operator's own table,
//! on SQLite and PostgreSQL: v1 single and bulk lookups and v2 hashed lookups answered from it and
//! from Verity's own bindings together, a row added to the table found by hashed lookups within
//! `sql.lookup.refresh`, 3PIDs written as SQL injections finding nobody, and a server that starts
//! and answers from its other backends while the store's database is unreachable, `/status`
//! naming it.
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::json;
use verity_adapter_sql::testing::{ScratchDatabase, execute, postgres_url};
use verity_tests::Backend;

use crate::sessions::{app_with_peers, register_alice};
use crate::store_lookups::{bind_alice, bulk_sorted, hashed_eventually, status, v1_lookup};

/// The operator's directory: a login, a full user ID, one mail as typed and one phone.
const PEOPLE: &[&str] = &[
    "CREATE TABLE people ( login VARCHAR(64) NOT NULL, mxid VARCHAR(255) NOT NULL, \
     mail VARCHAR(255), phone VARCHAR(32) )",
    "INSERT INTO people VALUES ('bob', '@bob:example.org', 'Bob@Example.org', NULL), \
     ('carol', '@carol:example.org', NULL, '442079460958')",
];

/// A valid email address that is a tautology once spliced between quotes.
const TAUTOLOGY: &str = "x'OR'1'!='@example.org";

/// The operator's database: where it is (for `sql.type` and `sql.connection`) and a URL to write
/// to it.
pub(crate) struct PeopleDb {
    kind: &'static str,
    connection: String,
    pub(crate) writer_url: String,
    _dir: tempfile::TempDir,
    scratch: Option<ScratchDatabase>,
}

impl PeopleDb {
    /// The table on SQLite, or on PostgreSQL (`None` when it is not configured).
    pub(crate) async fn open(postgres: bool) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = if postgres {
            let scratch = ScratchDatabase::create_on(&postgres_url()?).await;
            Self {
                kind: "postgresql",
                connection: scratch.url().to_owned(),
                writer_url: scratch.url().to_owned(),
                _dir: dir,
                scratch: Some(scratch),
            }
        } else {
            let path = dir.path().join("people.db");
            Self {
                kind: "sqlite",
                connection: path.display().to_string(),
                writer_url: format!("sqlite://{}?mode=rwc", path.display()),
                _dir: dir,
                scratch: None,
            }
        };
        execute(&db.writer_url, PEOPLE).await;
        Some(db)
    }

    /// The `sql` section: ma1sd's keys, the operator's queries, the hash table fed every second.
    pub(crate) fn yaml(&self) -> String {
        format!(
            "
sql:
  enabled: true
  type: {}
  connection: '{}'
  identity:
    type: uid
    query: \"SELECT login AS uid FROM people WHERE ? = 'email' AND lower(mail) = ?\"
    medium:
      msisdn: 'SELECT login AS uid FROM people WHERE phone = :address'
  lookup:
    query: \"SELECT mxid, 'email' AS medium, mail AS address FROM people WHERE mail IS NOT NULL
      UNION ALL SELECT mxid, 'msisdn', phone FROM people WHERE phone IS NOT NULL\"
    refresh: 1s
",
            self.kind, self.connection
        )
    }

    pub(crate) async fn finish(self) {
        if let Some(scratch) = self.scratch {
            scratch.drop_database().await;
        }
    }
}

async fn lookups_are_answered_from_the_store_and_the_bindings_together(postgres: bool) {
    let Some(people) = PeopleDb::open(postgres).await else {
        return;
    };
    let (app, peers) = app_with_peers(Backend::Sqlite, &people.yaml()).await;
    let token = register_alice(&app, &peers).await;
    bind_alice(&app, &peers, &token, "alice@example.org").await;

    // v1: the store (an address stored as typed, a phone by its own query) and the bindings.
    for (medium, address, user) in [
        ("email", "bob@example.org", "@bob:example.org"),
        ("msisdn", "442079460958", "@carol:example.org"),
        ("email", "alice@example.org", "@alice:example.org"),
    ] {
        let found = v1_lookup(&app.client, medium, address).await;
        assert_eq!(found["mxid"], user, "{medium} {address}: {found}");
    }
    // Injections: bound as data, they find nobody (or are not valid 3PIDs at all).
    for injection in [TAUTOLOGY, "x' OR '1'='1", "x@example.org' OR '1'='1"] {
        let found = app.client.lookup_v1(injection, "email").await;
        let found = found.map(|answer| serde_json::to_value(answer.into_inner()).expect("JSON"));
        assert!(
            matches!(&found, Ok(value) if *value == json!({})) || found.is_err(),
            "{injection}: {found:?}"
        );
    }
    let bulk = bulk_sorted(
        &app.client,
        &[
            ("email", "bob@example.org"),
            ("email", "alice@example.org"),
            ("msisdn", "442079460958"),
            ("email", TAUTOLOGY),
            ("email", "nobody@example.org"),
        ],
    )
    .await;
    assert_eq!(
        bulk,
        [
            ["email", "alice@example.org", "@alice:example.org"],
            ["email", "bob@example.org", "@bob:example.org"],
            ["msisdn", "442079460958", "@carol:example.org"],
        ]
        .map(|row| row.map(str::to_owned).to_vec())
    );

    // v2: the hash table fed from the store's lookup.query and from the bindings.
    let alice = app.client_as(&token);
    hashed_eventually(
        &alice,
        &[
            ("bob@example.org", "email"),
            ("442079460958", "msisdn"),
            ("alice@example.org", "email"),
            (TAUTOLOGY, "email"),
        ],
        json!([
            "@alice:example.org",
            "@bob:example.org",
            "@carol:example.org",
        ]),
    )
    .await;
    // A row added to the store is found by hashed lookups within the refresh (1 s).
    execute(
        &people.writer_url,
        &["INSERT INTO people VALUES ('dave', '@dave:example.org', 'dave@example.org', NULL)"],
    )
    .await;
    hashed_eventually(
        &alice,
        &[("dave@example.org", "email")],
        json!(["@dave:example.org"]),
    )
    .await;

    let (code, body) = status(&app).await;
    assert_eq!(
        (code, &body["checks"]["sql"]),
        (200, &json!("OK")),
        "{body}"
    );
    people.finish().await;
}

#[tokio::test]
async fn lookups_are_answered_from_an_sqlite_store_and_verity_own_bindings_together() {
    lookups_are_answered_from_the_store_and_the_bindings_together(false).await;
}

#[tokio::test]
async fn lookups_are_answered_from_a_postgres_store_and_verity_own_bindings_together() {
    lookups_are_answered_from_the_store_and_the_bindings_together(true).await;
}

#[tokio::test]
async fn with_the_store_unreachable_verity_starts_answers_from_its_other_backends_and_status_names_it()
 {
    // A PostgreSQL URL on a closed port (1, on the loopback: nothing listens there).
    let yaml = "
sql:
  enabled: true
  type: postgresql
  connection: '//127.0.0.1:1/people?user=verity&password=sql-secret'
  lookup:
    query: 'SELECT mxid, medium, address FROM people'
memory:
  enabled: true
  identities:
    - username: memo
      threepids:
        - {medium: email, address: memo@example.org}
";
    let started = Instant::now();
    let (app, peers) = app_with_peers(Backend::Sqlite, yaml).await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "start-up took {:?}",
        started.elapsed()
    );
    let found = v1_lookup(&app.client, "email", "memo@example.org").await;
    assert_eq!(found["mxid"], "@memo:example.org", "{found}");
    assert_eq!(
        v1_lookup(&app.client, "email", "nobody@example.org").await,
        json!({})
    );
    // The hash table is built without the store: hashed lookups answer, not 503.
    let token = register_alice(&app, &peers).await;
    hashed_eventually(
        &app.client_as(&token),
        &[("memo@example.org", "email")],
        json!(["@memo:example.org"]),
    )
    .await;
    // Lookups the store cannot answer do not wait on it each time: once it has failed to
    // connect, it is not asked again for 10 s. At most one of these pays the connect timeout
    // (5 s, when a hold ends); waiting each time would take 25 s.
    let asked = Instant::now();
    for _ in 0..5 {
        v1_lookup(&app.client, "email", "nobody@example.org").await;
    }
    assert!(
        asked.elapsed() < Duration::from_secs(12),
        "5 lookups took {:?}",
        asked.elapsed()
    );
    let (code, body) = status(&app).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["health"], "OK", "{body}");
    assert_eq!(body["checks"]["sql"], "UNHEALTHY", "{body}");
    assert!(!body.to_string().contains("sql-secret"), "{body}");
}
