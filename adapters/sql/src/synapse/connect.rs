//! Opening a query backend's database, checking its queries, and its health for `/status`.
//!
//! `synapseSql` opens eagerly ([`QueryBackend::connect`]): Synapse's database is Verity's
//! neighbour, and a wrong path or table stops start-up. The generic `sql` store is the operator's
//! database, which may be down while Verity starts ([`QueryBackend::open`]): its pool connects on
//! first use and [`QueryBackend::check`] says whether it answers and runs every query.
use std::time::Duration;

use async_trait::async_trait;
use futures_util::{StreamExt as _, TryStreamExt as _};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DbErr, RuntimeErr, SqlxSqliteConnector,
    StreamTrait as _, sqlx,
};
use verity_application::ports::driven::{HealthCheck, StoreError};

use super::query::SqlBuilder;
use super::{QueryBackend, QueryBackendConfig, QueryBackendError, SHARED_3PIDS, SqlDatabase};

/// How long opening a connection, or waiting for a free one, may take before a lookup fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a read waits for a writer's lock on SQLite (Synapse's, say).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

impl QueryBackend {
    /// Opens the database read-only and checks that every configured query runs on it (so a
    /// wrong path, a missing table or a broken custom query stops start-up rather than every
    /// lookup).
    ///
    /// # Errors
    /// [`QueryBackendError::Connect`] or [`QueryBackendError::Query`].
    pub async fn connect(config: &QueryBackendConfig) -> Result<Self, QueryBackendError> {
        let db = Database::connect(options(config)?)
            .await
            .map_err(|err| QueryBackendError::Connect(Box::new(err)))?;
        let backend = Self::with(config, db);
        if let Err(err) = backend.probe().await {
            let _ = backend.db.close().await;
            return Err(err);
        }
        tracing::debug!(section = config.section, backend = ?backend.backend(), "query backend opened");
        Ok(backend)
    }

    /// The backend without touching the database: its pool connects when first used, so a
    /// database that is down does not stop start-up. [`check`](Self::check) then says whether it
    /// answers.
    ///
    /// # Errors
    /// [`QueryBackendError::Connect`] when the connection settings cannot be used at all (a
    /// URL of the wrong scheme).
    pub async fn open(config: &QueryBackendConfig) -> Result<Self, QueryBackendError> {
        if let SqlDatabase::Sqlite { path } = &config.database {
            // sea-orm reads SQLite's version as it connects, even lazily: the pool is made here.
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(config.max_connections.max(1))
                .min_connections(0)
                .acquire_timeout(CONNECT_TIMEOUT)
                .connect_lazy_with(read_only_sqlite(
                    sqlx::sqlite::SqliteConnectOptions::new(),
                    path,
                ));
            return Ok(Self::with(
                config,
                SqlxSqliteConnector::from_sqlx_sqlite_pool(pool),
            ));
        }
        let mut options = options(config)?;
        options.connect_lazy(true);
        let db = Database::connect(options)
            .await
            .map_err(|err| QueryBackendError::Connect(Box::new(err)))?;
        Ok(Self::with(config, db))
    }

    fn with(config: &QueryBackendConfig, db: sea_orm::DatabaseConnection) -> Self {
        Self {
            section: config.section,
            db,
            identity: config.identity.clone(),
            feed_query: config.feed_query.clone(),
            feed: config.feed,
            directory: config.directory.clone(),
            profile: config.profile.clone(),
            breaker: std::sync::Arc::default(),
        }
    }

    /// Whether the database answers and runs every configured query, on nothing.
    ///
    /// # Errors
    /// [`QueryBackendError::Connect`] when it cannot be reached, [`QueryBackendError::Query`]
    /// when it answers but a query fails (a missing table, a broken custom query).
    pub async fn check(&self) -> Result<(), QueryBackendError> {
        self.probe().await
    }

    /// Runs every configured query once, on nothing.
    async fn probe(&self) -> Result<(), QueryBackendError> {
        self.breaker
            .pass()
            .map_err(|held| QueryBackendError::Connect(Box::new(held)))?;
        let failed = |query: &str| {
            let query = query.to_owned();
            move |err: DbErr| {
                if unreachable(&err) {
                    self.breaker.trip();
                    QueryBackendError::Connect(Box::new(err))
                } else {
                    QueryBackendError::Query {
                        query,
                        source: Box::new(err),
                    }
                }
            }
        };
        let defaults = "the default queries (table user_threepid_id_server)";
        let mut uses_defaults = self.feed && self.feed_query.is_none();
        if let Some(identity) = &self.identity {
            uses_defaults |= identity.query.is_none();
            let custom = identity
                .query
                .iter()
                .map(|query| ("identity.query".to_owned(), query))
                .chain(
                    identity
                        .by_medium
                        .iter()
                        .map(|(medium, query)| (format!("identity.medium.{medium}"), query)),
                );
            for (name, query) in custom {
                let statement = query.render(self.backend(), "", "").statement();
                self.db
                    .query_all_raw(statement)
                    .await
                    .map_err(failed(&name))?;
            }
        }
        if uses_defaults {
            let mut sql = SqlBuilder::new(self.backend());
            sql.push(&format!("SELECT * FROM ({SHARED_3PIDS}) q WHERE 1 = 0"));
            self.db
                .query_all_raw(sql.statement())
                .await
                .map_err(failed(defaults))?;
        }
        if let Some(directory) = &self.directory {
            for (name, query) in [
                ("directory.query.name", &directory.by_name),
                ("directory.query.threepid", &directory.by_threepid),
            ] {
                if let Some(query) = query {
                    // One row at most: the query runs (a mistake in it shows now) without
                    // reading the whole directory.
                    let _: Vec<_> = self
                        .db
                        .stream_raw(query.statement(self.backend(), ""))
                        .await
                        .map_err(failed(name))?
                        .take(1)
                        .try_collect()
                        .await
                        .map_err(failed(name))?;
                }
            }
        }
        if self.feed
            && let Some(feed) = &self.feed_query
        {
            // The wrapper reads the columns ma1sd documented: mxid, medium and address.
            let mut sql = SqlBuilder::new(self.backend());
            sql.push(&format!(
                "SELECT q.mxid, q.medium, q.address FROM ({}) q WHERE 1 = 0",
                feed.body()
            ));
            self.db
                .query_all_raw(sql.statement())
                .await
                .map_err(failed("lookup.query"))?;
        }
        Ok(())
    }
}

/// The pool's options for `config.database`, read-only on every backend.
fn options(config: &QueryBackendConfig) -> Result<ConnectOptions, QueryBackendError> {
    let url_of = |url: &str, schemes: &[&str], name: &str| {
        if schemes.iter().any(|scheme| url.starts_with(scheme)) {
            Ok(ConnectOptions::new(url))
        } else {
            Err(QueryBackendError::Connect(
                format!("the {name} URL must start with {}", schemes[0]).into(),
            ))
        }
    };
    let mut options = match &config.database {
        SqlDatabase::Sqlite { path } => {
            // The path is set on the driver's options, not in the URL, so no character of it
            // needs escaping; the file must exist and is never written.
            let mut options = ConnectOptions::new("sqlite:synapse.db?mode=ro");
            let path = path.clone();
            options.map_sqlx_sqlite_opts(move |sqlite| read_only_sqlite(sqlite, &path));
            options
        }
        SqlDatabase::Postgres { url } => {
            let mut options = url_of(url, &["postgres://", "postgresql://"], "PostgreSQL")?;
            // Every transaction read-only: even a custom query cannot change the data.
            options.map_sqlx_postgres_opts(|pg| {
                pg.options([("default_transaction_read_only", "on")])
                    .application_name("verity")
            });
            options
        }
        SqlDatabase::MySql { url } => {
            let mut options = url_of(url, &["mysql://", "mariadb://"], "MySQL")?;
            // MySQL has no read-only connection option: each session is made read-only as it
            // opens, so even a custom query cannot change the data.
            options.map_sqlx_mysql_pool_opts(|pool| {
                pool.after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::Executor::execute(conn, "SET SESSION TRANSACTION READ ONLY")
                            .await
                            .map(|_| ())
                    })
                })
            });
            options
        }
    };
    options
        .sqlx_logging(false)
        .max_connections(config.max_connections.max(1))
        .min_connections(0)
        .connect_timeout(CONNECT_TIMEOUT)
        .acquire_timeout(CONNECT_TIMEOUT);
    Ok(options)
}

/// `sqlite` on the file at `path`, which must exist and is never written.
fn read_only_sqlite(
    sqlite: sqlx::sqlite::SqliteConnectOptions,
    path: &std::path::Path,
) -> sqlx::sqlite::SqliteConnectOptions {
    sqlx::ConnectOptions::disable_statement_logging(
        sqlite
            .filename(path)
            .read_only(true)
            .create_if_missing(false)
            .busy_timeout(SQLITE_BUSY_TIMEOUT),
    )
}

/// Whether `err` says the database could not be reached (rather than that it refused a query).
pub(super) fn unreachable(err: &DbErr) -> bool {
    match err {
        DbErr::Conn(_) | DbErr::ConnectionAcquire(_) => true,
        DbErr::Query(RuntimeErr::SqlxError(inner)) | DbErr::Exec(RuntimeErr::SqlxError(inner)) => {
            matches!(
                inner.as_ref(),
                sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
            )
        }
        _ => false,
    }
}

/// The operator's database for `/status`: the other backends stand in for it, so its failure is
/// reported without making the server unhealthy.
#[async_trait]
impl HealthCheck for QueryBackend {
    fn name(&self) -> &'static str {
        self.section
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.probe().await.map_err(|err| match err {
            QueryBackendError::Connect(source) => StoreError::Unavailable(source),
            QueryBackendError::Query { .. } => StoreError::Corrupt(err.to_string()),
        })
    }

    fn required(&self) -> bool {
        false
    }
}
