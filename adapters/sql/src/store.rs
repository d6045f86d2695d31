//! Opening the database (pool settings per backend, then the migrations) and the handle the
//! stores are made from.
use std::error::Error as StdError;
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sea_orm::{
    ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DbBackend, DbErr,
    TransactionTrait as _,
};
use sea_orm_migration::MigratorTrait;

use crate::migration::Migrator;
use crate::{
    SeaOrmAccountStore, SeaOrmBindingStore, SeaOrmHashStore, SeaOrmInviteStore, SeaOrmSessionStore,
    SeaOrmTermsStore, SqlHealthCheck,
};

/// How long a statement waits for another connection's write lock on SQLite before it fails with
/// `SQLITE_BUSY`. Writes here are single short statements, so seconds of waiting only happen under
/// real overload, and then failing is the right answer.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the store could not be opened. Messages never contain the connection URL, which may carry a
/// password.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The URL is neither `sqlite:` nor `postgres://` / `postgresql://`.
    #[error("unsupported database URL: expected sqlite: or postgres://")]
    UnsupportedUrl,
    /// The database could not be reached or opened.
    #[error("cannot connect to the database")]
    Connect(#[source] Box<dyn StdError + Send + Sync>),
    /// The schema could not be brought up to date.
    #[error("cannot migrate the database schema")]
    Migrate(#[source] Box<dyn StdError + Send + Sync>),
    /// Closing the pool failed.
    #[error("cannot close the database")]
    Close(#[source] Box<dyn StdError + Send + Sync>),
}

/// An open, migrated database: a connection pool shared by every store made from it. Cloning is
/// cheap and shares the pool.
#[derive(Clone)]
pub struct SqlStore {
    db: DatabaseConnection,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.db.get_database_backend())
            .finish_non_exhaustive()
    }
}

/// Connects to `url` with a pool of at most `max_connections` (at least 1), applies every pending
/// migration and returns the store.
///
/// `url` is `sqlite://<path>?mode=rwc` (the file is created if missing; its directory must exist),
/// `sqlite::memory:` (tests; always a single connection, kept open, since each SQLite connection
/// to `:memory:` would otherwise be its own empty database), or `postgres://user:pass@host:port/db`.
/// SQLite connections use WAL journaling (readers never block the writer), a busy timeout (so
/// concurrent writers wait instead of failing) and enforced foreign keys.
///
/// # Errors
/// [`SqlError::UnsupportedUrl`], [`SqlError::Connect`] or [`SqlError::Migrate`].
pub async fn connect(url: &str, max_connections: u32) -> Result<SqlStore, SqlError> {
    let mut options = ConnectOptions::new(url);
    // sqlx would log every statement at info level; failures still surface as `SqlError` /
    // `StoreError`, and the callers log those.
    options
        .sqlx_logging(false)
        .max_connections(max_connections.max(1));
    if url.starts_with("sqlite:") {
        configure_sqlite(&mut options, is_sqlite_memory(url));
    } else if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(SqlError::UnsupportedUrl);
    }
    let db = Database::connect(options)
        .await
        .map_err(|err| SqlError::Connect(Box::new(err)))?;
    migrate(&db)
        .await
        .map_err(|err| SqlError::Migrate(Box::new(err)))?;
    tracing::debug!(backend = ?db.get_database_backend(), "store connected and migrated");
    Ok(SqlStore { db })
}

/// The advisory lock that serialises Verity's migrations on one PostgreSQL database (the key is
/// arbitrary but fixed: every version of Verity must use this one).
const MIGRATION_LOCK_KEY: i64 = 0x7665_7269_7479_6d69; // "veritymi"

/// Applies the pending migrations. On PostgreSQL several instances may start at once (after an
/// upgrade, or a deployment that starts them together): each would compute the same pending list
/// and create the same tables, and all but one would fail. So they take turns: one transaction
/// holds an advisory lock (released at commit, or when a crashed instance's connection ends), and
/// the migrations run inside it as savepoints; the next instance then finds nothing pending.
/// SQLite's processes share one file on one machine and are started one after the other
/// (docs/instances.md).
async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    let txn = db.begin().await?;
    txn.execute_unprepared(&format!(
        "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
    ))
    .await?;
    Migrator::up(&txn, None).await?;
    txn.commit().await
}

/// sqlx treats `:memory:` and `mode=memory` as an in-memory database.
fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

fn configure_sqlite(options: &mut ConnectOptions, in_memory: bool) {
    options.map_sqlx_sqlite_opts(|sqlite: SqliteConnectOptions| {
        // WAL needs a file; SQLite silently keeps its own mode for in-memory databases. FULL
        // synchronous (sqlx's default) is kept: writes are rare and must survive power loss.
        sqlite
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .foreign_keys(true)
    });
    if in_memory {
        // An in-memory database lives as long as its last connection: one connection, never
        // retired by the pool, or the data would vanish after an idle period.
        options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
    }
}

impl SqlStore {
    /// The validation session store.
    pub fn session_store(&self) -> SeaOrmSessionStore {
        SeaOrmSessionStore::new(self.db.clone())
    }

    /// The identity-server account store.
    pub fn account_store(&self) -> SeaOrmAccountStore {
        SeaOrmAccountStore::new(self.db.clone())
    }

    /// The store of accepted terms of service.
    pub fn terms_store(&self) -> SeaOrmTermsStore {
        SeaOrmTermsStore::new(self.db.clone())
    }

    /// Verity's own bindings, which are also the `bindings` identity backend.
    pub fn binding_store(&self) -> SeaOrmBindingStore {
        SeaOrmBindingStore::new(self.db.clone())
    }

    /// The precomputed lookup hashes.
    pub fn hash_store(&self) -> SeaOrmHashStore {
        SeaOrmHashStore::new(self.db.clone())
    }

    /// The pending 3PID invites and their delivery.
    pub fn invite_store(&self) -> SeaOrmInviteStore {
        SeaOrmInviteStore::new(self.db.clone())
    }

    /// Verity's tables as an import writes them; imported accepted terms are recorded as
    /// accepted at `now` (sydent keeps no time).
    pub fn import_sink(&self, now: verity_domain::Timestamp) -> crate::SqlImportSink {
        crate::SqlImportSink::new(self.db.clone(), now)
    }

    /// The health check for `/status` (name `"store"`).
    pub fn health_check(&self) -> SqlHealthCheck {
        SqlHealthCheck::new(self.db.clone())
    }

    /// Closes the pool after the connections in use are returned; stores made from this handle
    /// fail with `StoreError::Unavailable` afterwards.
    ///
    /// # Errors
    /// [`SqlError::Close`].
    pub async fn close(self) -> Result<(), SqlError> {
        self.db
            .close()
            .await
            .map_err(|err: DbErr| SqlError::Close(Box::new(err)))
    }

    /// The raw connection, for tests that must write rows the stores never would.
    #[cfg(test)]
    pub(crate) fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod postgres_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_memory_urls_are_recognised_as_in_memory() {
        assert!(is_sqlite_memory("sqlite::memory:"));
        assert!(is_sqlite_memory("sqlite://x?mode=memory&cache=shared"));
        assert!(!is_sqlite_memory(
            "sqlite:///var/lib/verity/verity.db?mode=rwc"
        ));
    }

    #[tokio::test]
    async fn an_unknown_scheme_is_refused_without_echoing_the_url() {
        let err = connect("mysql://user:hunter2@db/verity", 1)
            .await
            .expect_err("mysql is not supported");
        assert!(matches!(err, SqlError::UnsupportedUrl));
        assert!(!err.to_string().contains("hunter2"));
    }
}
