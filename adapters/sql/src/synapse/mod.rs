//! An [`IdentityBackend`] over operator-written queries, read-only through the backend's own small
//! pool: mxisd/ma1sd's `synapseSql` store (a Synapse database, SQLite or PostgreSQL) and its
//! generic `sql` store (the operator's own database, also MariaDB/MySQL). The two are one backend
//! with two configurations ([`QueryBackendConfig::new`], [`QueryBackendConfig::generic`]): ma1sd's
//! `SqlConfig` gave both the same default queries, and the module keeps the Synapse name it was
//! written under.
//!
//! By default, as ma1sd, both lookups and the hash feed read `user_threepid_id_server`: a row
//! there means the user bound the 3PID to an identity server through the homeserver, and
//! removing the binding removes the row. `user_threepids` holds every 3PID on an account, shared
//! or not, and mxisd 1.x answering from it published addresses users never chose to publish
//! (ma1sd#27). Emails compare case-insensitively (older Synapse versions stored them as typed),
//! and a 3PID bound to several identity servers is one binding.
//!
//! The operator may replace the queries ([`IdentityQuery`], [`FeedQuery`]), as mxisd allowed;
//! their parameters are always bound, never spliced into the SQL.
use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::error::Error as StdError;
use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};
use verity_application::ports::driven::{
    BackendError, Binding, FeedCursor, FeedRows, IdentityBackend,
};
use verity_domain::{Medium, ThreePid, UserId};

mod breaker;
mod config;
mod connect;
mod directory;
mod profile;
mod query;
mod rows;

#[cfg(test)]
mod tests;

pub use config::{
    GENERIC_SQL, IdentityQueries, IdentityType, QueryBackendConfig, SYNAPSE_SQL, SqlDatabase,
    SynapseDatabase, SynapseSqlConfig,
};
pub use directory::{
    DirectoryIdType, DirectoryQueries, DirectoryQuery, TermBinding, synapse_default_sql,
};
pub use profile::{
    ProfileQueries, ProfileQuery, ProfileUser, SYNAPSE_DISPLAY_NAME, SYNAPSE_THREEPIDS,
};
pub use query::{FeedQuery, IdentityQuery, QueryError};

use breaker::Breaker;
use query::SqlBuilder;
use rows::{from_db, parse_binding, parse_user};

/// The 3PIDs Synapse users chose to share (ma1sd's default for lookups and the hash feed).
const SHARED_3PIDS: &str = "SELECT user_id AS mxid, medium, address FROM user_threepid_id_server";

/// 3PIDs per bulk-lookup statement: one bind parameter each plus one per medium, well under the
/// smallest limit of either backend (999 on SQLite builds before 3.32).
const LOOKUPS_PER_STATEMENT: usize = 300;

/// Why a query backend could not be opened. Messages never contain the connection URL, which may
/// carry a password.
#[derive(Debug, thiserror::Error)]
pub enum QueryBackendError {
    /// The database could not be reached or opened.
    #[error("cannot open the database")]
    Connect(#[source] Box<dyn StdError + Send + Sync>),
    /// A query fails on this database: a missing table, or a custom query that does not run.
    #[error("the database cannot run {query}")]
    Query {
        /// Which query, by its mxisd key under the section (`identity.query`, `lookup.query`),
        /// or `the default queries (table user_threepid_id_server)`.
        query: String,
        /// What the database said.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// The name the Synapse backend's code and tests know its errors by.
pub type SynapseSqlError = QueryBackendError;

/// A query backend. Cloning shares the pool.
#[derive(Clone)]
pub struct QueryBackend {
    section: &'static str,
    db: DatabaseConnection,
    identity: Option<IdentityQueries>,
    feed_query: Option<FeedQuery>,
    feed: bool,
    directory: Option<DirectoryQueries>,
    profile: Option<ProfileQueries>,
    breaker: Arc<Breaker>,
}

/// The name the Synapse backend's code and tests know it by.
pub type SynapseSqlBackend = QueryBackend;

impl std::fmt::Debug for QueryBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryBackend")
            .field("section", &self.section)
            .field("backend", &self.db.get_database_backend())
            .field("identity", &self.identity)
            .field("feed_query", &self.feed_query)
            .field("feed", &self.feed)
            .field("directory", &self.directory)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl QueryBackend {
    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// `Err` at once while the database is known to be unreachable ([`Breaker`]).
    fn pass(&self) -> Result<(), BackendError> {
        self.breaker
            .pass()
            .map_err(|held| BackendError::Unavailable(Box::new(held)))
    }

    /// `err` as a backend error; an unreachable database trips the [`Breaker`].
    fn failed(&self, err: DbErr) -> BackendError {
        if connect::unreachable(&err) {
            self.breaker.trip();
        }
        from_db(err)
    }

    /// `expr` compared by bytes on every backend: PostgreSQL and MySQL would otherwise sort by
    /// the database's locale or collation, and `feed` promises the (medium, address) order Rust's
    /// strings have. MySQL's binary collation needs utf8mb4 text, whatever the column's charset.
    fn collated(&self, expr: &str) -> String {
        match self.backend() {
            DbBackend::Postgres => format!("{expr} COLLATE \"C\""),
            DbBackend::MySql => format!("CONVERT({expr} USING utf8mb4) COLLATE utf8mb4_bin"),
            _ => format!("{expr} COLLATE BINARY"),
        }
    }

    /// `source` (columns mxid, medium, address) with emails lower-cased, as columns of `t`.
    fn normalised(&self, source: &str) -> String {
        format!(
            "(SELECT {} AS medium, {} AS address, {} AS mxid FROM ({source}) q) t",
            self.collated("q.medium"),
            self.collated(
                "(CASE WHEN q.medium = 'email' THEN lower(q.address) ELSE q.address END)"
            ),
            self.collated("q.mxid"),
        )
    }

    /// A page of the feed's query, by (medium, address) in byte order, strictly after `after`:
    /// columns medium, address and the (smallest) user, NULL media and addresses left out.
    async fn feed_page(
        &self,
        after: Option<(&str, &str)>,
        limit: u32,
    ) -> Result<Vec<sea_orm::QueryResult>, BackendError> {
        self.pass()?;
        let source = self
            .feed_query
            .as_ref()
            .map_or_else(|| SHARED_3PIDS.to_owned(), FeedQuery::body);
        let mut sql = SqlBuilder::new(self.backend());
        sql.push(&format!(
            "SELECT t.medium, t.address, MIN(t.mxid) FROM {} \
             WHERE t.medium IS NOT NULL AND t.address IS NOT NULL",
            self.normalised(&source)
        ));
        if let Some((medium, address)) = after {
            sql.push(" AND (t.medium > ");
            sql.bind(medium);
            sql.push(" OR (t.medium = ");
            sql.bind(medium);
            sql.push(" AND t.address > ");
            sql.bind(address);
            sql.push("))");
        }
        sql.push(" GROUP BY t.medium, t.address ORDER BY t.medium, t.address LIMIT ");
        sql.bind(i64::from(limit));
        self.db
            .query_all_raw(sql.statement())
            .await
            .map_err(|err| self.failed(err))
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
                .map_err(|err| self.failed(err))?;
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
        let Some(row) = self
            .db
            .query_one_raw(statement)
            .await
            .map_err(|err| self.failed(err))?
        else {
            return Ok(None);
        };
        let column = row
            .column_names()
            .iter()
            .position(|name| name.eq_ignore_ascii_case("uid"))
            .unwrap_or(0);
        // ma1sd read the column as a string whatever its type: a numeric ID is a localpart too.
        let value: Option<String> = match row.try_get_by_index::<Option<String>>(column) {
            Ok(value) => value,
            Err(err) => row
                .try_get_by_index::<Option<i64>>(column)
                .map_err(|_| from_db(err))?
                .map(|n| n.to_string()),
        };
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
impl IdentityBackend for QueryBackend {
    fn name(&self) -> &'static str {
        self.section
    }

    async fn lookup(&self, threepid: &ThreePid) -> Result<Option<UserId>, BackendError> {
        let Some(identity) = &self.identity else {
            return Ok(None);
        };
        self.pass()?;
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
        self.pass()?;
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
        if limit == 0 || !self.feed {
            return Ok(Vec::new());
        }
        let medium = after.as_ref().map(ThreePid::medium);
        let after_key = medium
            .as_ref()
            .zip(after.as_ref())
            .map(|(medium, after)| (medium.as_str(), after.address()));
        let rows = self.feed_page(after_key, limit).await?;
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

    /// The rows as the feed's query gives them (emails lower-cased), every one handed over: the
    /// hash table leaves out, with a warning, a row that is not a valid binding (a phone written
    /// with punctuation, say) instead of the whole feed failing on it.
    async fn feed_rows(
        &self,
        after: Option<FeedCursor>,
        limit: u32,
        rows: &mut FeedRows,
    ) -> Result<(), BackendError> {
        rows.clear();
        if limit == 0 || !self.feed {
            return Ok(());
        }
        let after = match &after {
            None => None,
            Some(FeedCursor::Key { medium, address }) => Some((medium.as_str(), address.as_str())),
            Some(FeedCursor::Position(_)) => {
                return Err(BackendError::Corrupt(
                    "the feed was given a position it never returned".into(),
                ));
            }
        };
        for row in &self.feed_page(after, limit).await? {
            let text = |index: usize| {
                row.try_get_by_index::<Option<String>>(index)
                    .map_err(from_db)
            };
            let (medium, address, user) = (text(0)?, text(1)?, text(2)?);
            rows.push(
                medium.as_deref().unwrap_or_default(),
                address.as_deref().unwrap_or_default(),
                user.as_deref().unwrap_or_default(),
            );
        }
        Ok(())
    }
}
