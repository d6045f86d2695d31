//! What the Synapse backend is built from: where the database is and which queries to run.
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use verity_domain::{MatrixDomain, Medium};

use super::query::{FeedQuery, IdentityQuery};

/// Where Synapse keeps its data.
#[derive(Clone, PartialEq, Eq)]
pub enum SynapseDatabase {
    /// Synapse's SQLite file (`homeserver.db`), opened read-only.
    Sqlite {
        /// The file; it must exist.
        path: PathBuf,
    },
    /// Synapse's PostgreSQL database.
    Postgres {
        /// A `postgres://` URL; it may carry the password, so it is never printed.
        url: String,
    },
}

impl fmt::Debug for SynapseDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            Self::Postgres { .. } => f
                .debug_struct("Postgres")
                .field("url", &"<redacted>")
                .finish(),
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

/// Everything the Synapse backend needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynapseSqlConfig {
    /// The database.
    pub database: SynapseDatabase,
    /// The size of the backend's own pool (at least 1).
    pub max_connections: u32,
    /// The lookup queries; `None` when lookups are off (`identity.enabled: false`), so the
    /// backend only feeds the hash table.
    pub identity: Option<IdentityQueries>,
    /// `lookup.query`; `None` means every row of Synapse's `user_threepid_id_server`.
    pub feed_query: Option<FeedQuery>,
}

impl SynapseSqlConfig {
    /// The default pool size: lookups are single short reads.
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 4;

    /// The defaults mxisd/ma1sd used for `database`.
    pub fn new(database: SynapseDatabase) -> Self {
        Self {
            database,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            identity: Some(IdentityQueries::default()),
            feed_query: None,
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
}
