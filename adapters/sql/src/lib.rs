//! Verity's own store over sea-orm: SQLite (the default) and PostgreSQL.
//!
//! [`connect`] opens the database, brings its schema up to date and returns an [`SqlStore`], from
//! which the port implementations are made ([`SqlStore::session_store`],
//! [`SqlStore::account_store`], [`SqlStore::terms_store`], [`SqlStore::binding_store`],
//! [`SqlStore::hash_store`], [`SqlStore::invite_store`], [`SqlStore::health_check`]).
//! [`SydentSource`] reads a Sydent database for `verity import sydent`, [`Ma1sdSource`] ma1sd's for
//! `verity import ma1sd`.
//! No sea-orm or sqlx type crosses this crate's public API: errors are translated here, to
//! [`SqlError`] at start-up and to the ports' `StoreError` afterwards.
#![warn(missing_docs)]

mod accounts;
mod bindings;
mod errors;
mod health;
mod import;
mod invites;
mod lookup_hashes;
pub mod ma1sd;
mod migration;
mod sessions;
mod store;
pub mod sydent;
mod synapse;
mod terms;

#[cfg(test)]
mod contract;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use accounts::SeaOrmAccountStore;
pub use bindings::SeaOrmBindingStore;
pub use health::SqlHealthCheck;
pub use import::SqlImportSink;
pub use invites::SeaOrmInviteStore;
pub use lookup_hashes::SeaOrmHashStore;
pub use ma1sd::Ma1sdSource;
pub use sessions::SeaOrmSessionStore;
pub use store::{SqlError, SqlStore, connect};
pub use sydent::SydentSource;
pub use synapse::{
    DirectoryIdType, DirectoryQueries, DirectoryQuery, FeedQuery, GENERIC_SQL, IdentityQueries,
    IdentityQuery, IdentityType, ProfileQueries, ProfileQuery, ProfileUser, QueryBackend,
    QueryBackendConfig, QueryBackendError, QueryError, SYNAPSE_DISPLAY_NAME, SYNAPSE_SQL,
    SYNAPSE_THREEPIDS, SqlDatabase, SynapseDatabase, SynapseSqlBackend, SynapseSqlConfig,
    SynapseSqlError, TermBinding, synapse_default_sql,
};
pub use terms::SeaOrmTermsStore;
