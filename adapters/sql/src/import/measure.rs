//! The import's throughput, measured by hand (docs/benchmarks.md, "Importing Sydent"): a Sydent
//! 2.6.1 database with 50,000 bound addresses (Sydent's own schema, each row with its `sgAssoc`)
//! is imported through [`ImportService`] into a fresh Verity store, then imported again.
//! Ignored by default; it asserts only that every row arrived, never on a time.
//!
//! ```sh
//! VERITY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo nextest run -p verity-adapter-sql --run-ignored only import::measure --no-capture
//! ```
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, Database};
use verity_application::ports::driven::{KeyStore, StoreError, StoredKey};
use verity_application::usecases::{ImportOptions, ImportService};
use verity_domain::{KeyId, KeyKind, Timestamp};

use crate::sydent::SydentSource;
use crate::testing::{ScratchDatabase, postgres_url};
use crate::{SqlStore, connect};

const ROWS: u64 = 50_000;
const SERVER: &str = "id.example.org";

/// Sydent 2.6.1's schema (the Sydent source's tests keep a copy of its `.sql` files).
const SCHEMA: &str = include_str!("../sydent/tests/schema.sql");

/// No key is imported here: the key store is never written.
struct NoKeys;

#[async_trait]
impl KeyStore for NoKeys {
    async fn current(&self) -> Result<Option<KeyId>, StoreError> {
        Ok(None)
    }
    async fn keys(&self, _: KeyKind) -> Result<Vec<StoredKey>, StoreError> {
        Ok(Vec::new())
    }
    async fn add(&self, _: KeyKind, _: &StoredKey) -> Result<(), StoreError> {
        Err(StoreError::Conflict)
    }
    async fn set_current(&self, _: &KeyId) -> Result<(), StoreError> {
        Err(StoreError::NotFound)
    }
}

/// A Sydent database in `dir` with [`ROWS`] bound emails, made with SQL as Sydent's binder
/// writes it (local row, then the global row of this server with the signed JSON).
async fn sydent_db(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("sydent.db");
    let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    db.execute_unprepared(SCHEMA).await.unwrap();
    db.execute_unprepared(&format!(
        "INSERT INTO local_threepid_associations \
         (medium, address, lookup_hash, mxid, ts, notBefore, notAfter) \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS}) \
         SELECT 'email', 'user' || i || '@example.org', 'hash', '@user' || i || ':example.org', \
         1767225600000 + i, 1767225600000 + i, 4920825600000 + i FROM n"
    ))
    .await
    .unwrap();
    db.execute_unprepared(&format!(
        "INSERT INTO global_threepid_associations \
         (medium, address, lookup_hash, mxid, ts, notBefore, notAfter, originServer, originId, \
         sgAssoc) SELECT medium, address, 'hash', mxid, ts, notBefore, notAfter, '{SERVER}', id, \
         '{{\"medium\": \"email\", \"address\": \"' || address || '\", \"mxid\": \"' || mxid || \
         '\", \"ts\": ' || ts || ', \"not_before\": ' || notBefore || ', \"not_after\": ' || \
         notAfter || ', \"signatures\": {{\"{SERVER}\": {{\"ed25519:0\": \"DgYnRJ8wpA1XG1m1k+dF0zV1y\
         J5p1Lqf4X2Q0i7qKfTz3n8bA0c9o0r4m6ZtJ2aQ8lYy1kR9tE3w5uH7nJxBg\"}}}}}}' \
         FROM local_threepid_associations"
    ))
    .await
    .unwrap();
    db.close().await.unwrap();
    path
}

/// Imports twice into `store`, printing rows per second.
async fn measure(label: &str, sydent: &std::path::Path, store: &SqlStore) {
    let source = SydentSource::open(sydent, SERVER).await.unwrap();
    let service = ImportService::new(
        Arc::new(source.clone()),
        Arc::new(store.import_sink(Timestamp::from_millis(1))),
        Arc::new(NoKeys),
    );
    for run in ["first import", "second import"] {
        let began = Instant::now();
        let report = service.run(ImportOptions::default()).await.unwrap();
        let took = began.elapsed();
        assert_eq!(report.bindings.read, ROWS);
        assert_eq!(report.bindings.added + report.bindings.unchanged, ROWS);
        #[allow(clippy::cast_precision_loss)]
        let rate = ROWS as f64 / took.as_secs_f64();
        eprintln!(
            "{label}, {run}: {ROWS} bindings in {:.2} s: {rate:.0} rows/s (added {}, unchanged {})",
            took.as_secs_f64(),
            report.bindings.added,
            report.bindings.unchanged
        );
    }
    source.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, run by hand (docs/benchmarks.md)"]
async fn importing_fifty_thousand_sydent_bindings_measures_rows_per_second() {
    let dir = tempfile::tempdir().unwrap();
    let began = Instant::now();
    let sydent = sydent_db(dir.path()).await;
    eprintln!(
        "made the Sydent database in {:.2} s",
        began.elapsed().as_secs_f64()
    );

    let file = dir.path().join("verity.db");
    let sqlite = connect(&format!("sqlite://{}?mode=rwc", file.display()), 4)
        .await
        .unwrap();
    measure("SQLite file", &sydent, &sqlite).await;
    sqlite.close().await.unwrap();

    if let Some(admin) = postgres_url() {
        let scratch = ScratchDatabase::create_on(&admin).await;
        let postgres = connect(scratch.url(), 4).await.unwrap();
        measure("PostgreSQL", &sydent, &postgres).await;
        postgres.close().await.unwrap();
        scratch.drop_database().await;
    }
}
