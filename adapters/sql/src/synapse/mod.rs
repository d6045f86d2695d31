//! An [`IdentityBackend`] over a Synapse database (mxisd/ma1sd's `synapseSql` store): the 3PIDs
//! users chose to share through their homeserver, read from Synapse's SQLite file or PostgreSQL
//! database, read-only, through the backend's own small pool.
//!
//! By default, as ma1sd, both lookups and the hash feed read `user_threepid_id_server`: a row
//! there means the user bound the 3PID to an identity server through the homeserver, and
//! removing the binding removes the row. `user_threepids` holds every 3PID on an account, shared
//! or not, and mxisd 1.x answering from it published addresses users never chose to publish
//! (ma1sd#27). Emails compare case-insensitively (older Synapse versions stored them as typed),
//! and a 3PID bound to several identity servers is one binding.
//!
//! The operator may replace the queries ([`IdentityQuery`], [`FeedQuery`]), as mxisd allowed.
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::error::Error as StdError;
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use verity_application::ports::driven::{BackendError, Binding, IdentityBackend};
use verity_domain::{Medium, ThreePid, UserId};

mod config;
mod query;
mod rows;

#[cfg(test)]
mod tests;

pub use config::{IdentityQueries, IdentityType, SynapseDatabase, SynapseSqlConfig};
pub use query::{FeedQuery, IdentityQuery, QueryError};

use query::SqlBuilder;
use rows::{from_db, parse_binding, parse_user};

/// The 3PIDs Synapse users chose to share (ma1sd's default for lookups and the hash feed).
const SHARED_3PIDS: &str = "SELECT user_id AS mxid, medium, address FROM user_threepid_id_server";

/// 3PIDs per bulk-lookup statement: one bind parameter each plus one per medium, well under the
/// smallest limit of either backend (999 on SQLite builds before 3.32).
const LOOKUPS_PER_STATEMENT: usize = 300;

/// How long opening a connection, or waiting for a free one, may take before a lookup fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a read waits for Synapse's write lock on SQLite.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the Synapse backend could not be opened. Messages never contain the connection URL, which
/// may carry a password.
#[derive(Debug, thiserror::Error)]
pub enum SynapseSqlError {
    /// The database could not be reached or opened.
    #[error("cannot open the Synapse database")]
    Connect(#[source] Box<dyn StdError + Send + Sync>),
    /// A query fails on this database: a missing table, or a custom query that does not run.
    #[error("the Synapse database cannot run {query}")]
    Query {
        /// Which query, by its mxisd key under `synapseSql` (`identity.query`, `lookup.query`),
        /// or `the default queries (table user_threepid_id_server)`.
        query: String,
        /// What the database said.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// The Synapse backend. Cloning shares the pool.
#[derive(Clone)]
pub struct SynapseSqlBackend {
    db: DatabaseConnection,
    identity: Option<IdentityQueries>,
    feed_query: Option<FeedQuery>,
}

impl std::fmt::Debug for SynapseSqlBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SynapseSqlBackend")
            .field("backend", &self.db.get_database_backend())
            .field("identity", &self.identity)
            .field("feed_query", &self.feed_query)
            .finish_non_exhaustive()
    }
}

impl SynapseSqlBackend {
    /// Opens the Synapse database read-only and checks that every configured query runs on it
    /// (so a wrong path, a missing table or a broken custom query stops start-up rather than
    /// every lookup).
    ///
    /// # Errors
    /// [`SynapseSqlError::Connect`] or [`SynapseSqlError::Query`].
    pub async fn connect(config: &SynapseSqlConfig) -> Result<Self, SynapseSqlError> {
        let mut options = match &config.database {
            SynapseDatabase::Sqlite { path } => {
                // The path is set on the driver's options, not in the URL, so no character of
                // it needs escaping; the file must exist and is never written.
                let mut options = ConnectOptions::new("sqlite:synapse.db?mode=ro");
                let path = path.clone();
                options.map_sqlx_sqlite_opts(move |sqlite| {
                    sqlite
                        .filename(&path)
                        .read_only(true)
                        .create_if_missing(false)
                        .busy_timeout(SQLITE_BUSY_TIMEOUT)
                });
                options
            }
            SynapseDatabase::Postgres { url } => {
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return Err(SynapseSqlError::Connect(
                        "the PostgreSQL URL must start with postgres://".into(),
                    ));
                }
                let mut options = ConnectOptions::new(url.as_str());
                // Every transaction read-only: even a custom query cannot change Synapse's data.
                options.map_sqlx_postgres_opts(|pg| {
                    pg.options([("default_transaction_read_only", "on")])
                        .application_name("verity")
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
        let db = Database::connect(options)
            .await
            .map_err(|err| SynapseSqlError::Connect(Box::new(err)))?;
        let backend = Self {
            db,
            identity: config.identity.clone(),
            feed_query: config.feed_query.clone(),
        };
        if let Err(err) = backend.probe().await {
            let _ = backend.db.close().await;
            return Err(err);
        }
        tracing::debug!(backend = ?backend.db.get_database_backend(), "Synapse database opened");
        Ok(backend)
    }

    /// Runs every configured query once, on nothing.
    async fn probe(&self) -> Result<(), SynapseSqlError> {
        let failed = |query: &str| {
            let query = query.to_owned();
            move |err: DbErr| SynapseSqlError::Query {
                query,
                source: Box::new(err),
            }
        };
        let defaults = "the default queries (table user_threepid_id_server)";
        let mut uses_defaults = self.feed_query.is_none();
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
        if let Some(feed) = &self.feed_query {
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

    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Byte-order comparison on both backends: PostgreSQL would otherwise sort by the
    /// database's locale, and `feed` promises the (medium, address) order Rust's strings have.
    fn collate(&self) -> &'static str {
        match self.backend() {
            DbBackend::Postgres => " COLLATE \"C\"",
            _ => " COLLATE BINARY",
        }
    }

    /// `source` (columns mxid, medium, address) with emails lower-cased, as columns of `t`.
    fn normalised(&self, source: &str) -> String {
        let c = self.collate();
        format!(
            "(SELECT q.medium{c} AS medium, \
             (CASE WHEN q.medium = 'email' THEN lower(q.address) ELSE q.address END){c} \
             AS address, q.mxid{c} AS mxid FROM ({source}) q) t"
        )
    }

    /// The default lookups: every 3PID of `threepids` found in `user_threepid_id_server`, one
    /// statement per [`LOOKUPS_PER_STATEMENT`].
    async fn lookup_shared(&self, threepids: &[&ThreePid]) -> Result<Vec<Binding>, BackendError> {
        let mut found = Vec::new();
        for chunk in threepids.chunks(LOOKUPS_PER_STATEMENT) {
            let mut by_medium: BTreeMap<Medium, BTreeSet<&str>> = BTreeMap::new();
            for threepid in chunk {
                by_medium
                    .entry(threepid.medium())
                    .or_default()
                    .insert(threepid.address());
            }
            let mut sql = SqlBuilder::new(self.backend());
            sql.push(&format!(
                "SELECT t.medium, t.address, MIN(t.mxid) FROM {} WHERE ",
                self.normalised(SHARED_3PIDS)
            ));
            for (i, (medium, addresses)) in by_medium.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { " OR (" });
                sql.push("t.medium = ");
                sql.bind(medium.as_str());
                sql.push(" AND t.address IN (");
                for (j, address) in addresses.iter().enumerate() {
                    if j > 0 {
                        sql.push(", ");
                    }
                    sql.bind(*address);
                }
                sql.push("))");
            }
            sql.push(" GROUP BY t.medium, t.address");
            let rows = self
                .db
                .query_all_raw(sql.statement())
                .await
                .map_err(from_db)?;
            for row in &rows {
                let binding = parse_binding(row)?;
                // Only what was asked: a stored address whose canonical form differs from its
                // lower-case form is not the 3PID asked about.
                if chunk.contains(&&binding.threepid) {
                    found.push(binding);
                }
            }
        }
        Ok(found)
    }

    /// A custom identity query for one 3PID: the first row's `uid` (or first) column.
    async fn lookup_custom(
        &self,
        query: &IdentityQuery,
        id_type: &IdentityType,
        threepid: &ThreePid,
    ) -> Result<Option<UserId>, BackendError> {
        let statement = query
            .render(
                self.backend(),
                threepid.medium().as_str(),
                threepid.address(),
            )
            .statement();
        let Some(row) = self.db.query_one_raw(statement).await.map_err(from_db)? else {
            return Ok(None);
        };
        let column = row
            .column_names()
            .iter()
            .position(|name| name.eq_ignore_ascii_case("uid"))
            .unwrap_or(0);
        let value: Option<String> = row.try_get_by_index(column).map_err(from_db)?;
        let value = value.ok_or_else(|| {
            BackendError::Corrupt(format!(
                "the custom identity query returned no user for {threepid}"
            ))
        })?;
        let user_id = match id_type {
            IdentityType::Mxid => value,
            IdentityType::Localpart(domain) => format!("@{value}:{}", domain.as_str()),
        };
        parse_user(&user_id, &threepid.to_string()).map(Some)
    }
}

#[async_trait]
impl IdentityBackend for SynapseSqlBackend {
    fn name(&self) -> &'static str {
        "synapseSql"
    }

    async fn lookup(&self, threepid: &ThreePid) -> Result<Option<UserId>, BackendError> {
        let Some(identity) = &self.identity else {
            return Ok(None);
        };
        if let Some(query) = identity.custom(&threepid.medium()) {
            return self.lookup_custom(query, &identity.id_type, threepid).await;
        }
        let found = self.lookup_shared(&[threepid]).await?;
        Ok(found.into_iter().next().map(|binding| binding.user_id))
    }

    async fn lookup_many(&self, threepids: &[ThreePid]) -> Result<Vec<Binding>, BackendError> {
        let Some(identity) = &self.identity else {
            return Ok(Vec::new());
        };
        // Each 3PID once, whatever the request repeats.
        let unique: BTreeSet<&ThreePid> = threepids.iter().collect();
        let (custom, shared): (Vec<&ThreePid>, Vec<&ThreePid>) = unique
            .into_iter()
            .partition(|threepid| identity.custom(&threepid.medium()).is_some());
        let mut found = self.lookup_shared(&shared).await?;
        // A custom query takes one 3PID at a time (mxisd's contract): one statement each.
        for threepid in custom {
            if let Some(query) = identity.custom(&threepid.medium())
                && let Some(user_id) = self
                    .lookup_custom(query, &identity.id_type, threepid)
                    .await?
            {
                found.push(Binding {
                    threepid: threepid.clone(),
                    user_id,
                });
            }
        }
        found.sort();
        Ok(found)
    }

    async fn feed(
        &self,
        after: Option<ThreePid>,
        limit: u32,
    ) -> Result<Vec<Binding>, BackendError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let source = self
            .feed_query
            .as_ref()
            .map_or_else(|| SHARED_3PIDS.to_owned(), FeedQuery::body);
        let mut sql = SqlBuilder::new(self.backend());
        sql.push(&format!(
            "SELECT t.medium, t.address, MIN(t.mxid) FROM {}",
            self.normalised(&source)
        ));
        if let Some(after) = &after {
            sql.push(" WHERE t.medium > ");
            sql.bind(after.medium().as_str());
            sql.push(" OR (t.medium = ");
            sql.bind(after.medium().as_str());
            sql.push(" AND t.address > ");
            sql.bind(after.address());
            sql.push(")");
        }
        sql.push(" GROUP BY t.medium, t.address ORDER BY t.medium, t.address LIMIT ");
        sql.bind(i64::from(limit));
        let rows = self
            .db
            .query_all_raw(sql.statement())
            .await
            .map_err(from_db)?;
        let mut page = rows
            .iter()
            .map(parse_binding)
            .collect::<Result<Vec<_>, _>>()?;
        // Canonical forms sort like the lower-cased ones SQL ordered, except for the odd
        // non-ASCII address: keep the promise anyway, and never repeat the 3PID `after` names.
        let key = |binding: &Binding| {
            (
                binding.threepid.medium().as_str().to_owned(),
                binding.threepid.address().to_owned(),
            )
        };
        page.sort_by_key(key);
        page.dedup_by(|a, b| a.threepid == b.threepid);
        if let Some(after) = &after {
            let after = (
                after.medium().as_str().to_owned(),
                after.address().to_owned(),
            );
            page.retain(|binding| key(binding) > after);
        }
        Ok(page)
    }
}
