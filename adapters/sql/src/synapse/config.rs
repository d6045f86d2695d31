//! What a query backend is built from: which section configures it, where the database is and
//! which queries to run. `synapseSql` and `sql` are two configurations of the same backend: ma1sd
//! gave both the same default queries (Synapse's `user_threepid_id_server`), and the operator's
//! own queries replace them.
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use verity_domain::{MatrixDomain, Medium};

use super::directory::DirectoryQueries;
use super::profile::ProfileQueries;
use super::query::{FeedQuery, IdentityQuery};

/// The section of mxisd's `synapseSql` store: a Synapse database.
pub const SYNAPSE_SQL: &str = "synapseSql";
/// The section of mxisd's generic `sql` store: the operator's own database.
pub const GENERIC_SQL: &str = "sql";

/// Where the data is.
#[derive(Clone, PartialEq, Eq)]
pub enum SqlDatabase {
    /// An SQLite file (Synapse's `homeserver.db`, say), opened read-only.
    Sqlite {
        /// The file; it must exist.
        path: PathBuf,
    },
    /// A PostgreSQL database.
    Postgres {
        /// A `postgres://` URL; it may carry the password, so it is never printed.
        url: String,
    },
    /// A MariaDB or MySQL database (the generic `sql` store only, as in mxisd).
    MySql {
        /// A `mysql://` URL; it may carry the password, so it is never printed.
        url: String,
    },
}

/// The name the Synapse backend's code and tests know the database by.
pub type SynapseDatabase = SqlDatabase;

impl fmt::Debug for SqlDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            Self::Postgres { .. } => f
                .debug_struct("Postgres")
                .field("url", &"<redacted>")
                .finish(),
            Self::MySql { .. } => f.debug_struct("MySql").field("url", &"<redacted>").finish(),
        }
    }
}

/// How the value a custom identity query returns becomes a user ID (mxisd's `identity.type`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IdentityType {
    /// `mxid` (the default): a whole user ID, as Synapse stores them.
    #[default]
    Mxid,
    /// `uid`: a localpart, completed with this domain.
    Localpart(MatrixDomain),
}

/// The queries answering single and bulk lookups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityQueries {
    /// `identity.query`; `None` means Synapse's `user_threepid_id_server`, case-insensitive for
    /// emails and batched for bulk lookups.
    pub query: Option<IdentityQuery>,
    /// `identity.medium.<medium>`: a query for one medium, taking precedence over `query`.
    pub by_medium: BTreeMap<Medium, IdentityQuery>,
    /// `identity.type`: what the custom queries return.
    pub id_type: IdentityType,
}

impl IdentityQueries {
    /// The custom query for `medium`, if any.
    pub(crate) fn custom(&self, medium: &Medium) -> Option<&IdentityQuery> {
        self.by_medium.get(medium).or(self.query.as_ref())
    }
}

/// Everything a query backend needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryBackendConfig {
    /// The configuration section ([`SYNAPSE_SQL`] or [`GENERIC_SQL`]): the backend's name in
    /// lookups, logs and `/status`.
    pub section: &'static str,
    /// The database.
    pub database: SqlDatabase,
    /// The size of the backend's own pool (at least 1).
    pub max_connections: u32,
    /// The lookup queries; `None` when lookups are off (`identity.enabled: false`), so the
    /// backend only feeds the hash table.
    pub identity: Option<IdentityQueries>,
    /// `lookup.query`; `None` means every row of Synapse's `user_threepid_id_server`.
    pub feed_query: Option<FeedQuery>,
    /// Whether the backend feeds the hashed-lookup table at all: `false` when `lookup.query` is
    /// written blank (ma1sd then skipped the feed, "Lookup query not configured").
    pub feed: bool,
    /// `directory.query.*`: the user directory searches; `None` when the store has no directory
    /// (`directory.enabled: false`, or no query for the generic store).
    pub directory: Option<DirectoryQueries>,
    /// `profile.*`: the profile queries; `None` when the store answers no profile
    /// (`profile.enabled: false`, or no query for the generic store).
    pub profile: Option<ProfileQueries>,
}

/// The name the Synapse backend's code and tests know its configuration by.
pub type SynapseSqlConfig = QueryBackendConfig;

impl QueryBackendConfig {
    /// The default pool size: lookups are single short reads.
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 4;

    /// The defaults mxisd/ma1sd used for `synapseSql` on `database`.
    pub fn new(database: SqlDatabase) -> Self {
        Self::for_section(SYNAPSE_SQL, database)
    }

    /// The defaults mxisd/ma1sd used for the generic `sql` store on `database`: the same
    /// queries as `synapseSql` (ma1sd's `SqlConfig` holds them for both).
    pub fn generic(database: SqlDatabase) -> Self {
        Self::for_section(GENERIC_SQL, database)
    }

    fn for_section(section: &'static str, database: SqlDatabase) -> Self {
        Self {
            section,
            database,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            identity: Some(IdentityQueries::default()),
            feed_query: None,
            feed: true,
            directory: None,
            profile: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_postgres_url_is_never_printed() {
        let database = SynapseDatabase::Postgres {
            url: "postgres://synapse:hunter2@db/synapse".into(),
        };
        let shown = format!("{:?}", SynapseSqlConfig::new(database));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn the_mysql_url_is_never_printed() {
        let database = SqlDatabase::MySql {
            url: "mysql://verity:hunter2@db/people".into(),
        };
        let shown = format!("{:?}", QueryBackendConfig::generic(database));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("section: \"sql\""), "{shown}");
    }
}
