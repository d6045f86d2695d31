//! The configuration file as written: mxisd/ma1sd key names, every value optional.
//!
//! Nothing is defaulted or checked here beyond value types; `resolve` does that, so the raw
//! structs can say exactly which keys the operator set. Keys these structs lack are reported by
//! `read` (unknown keys, or mxisd sections a later release will use) rather than refused: mxisd
//! accepted them, and a drop-in replacement must start from the same file.
//!
//! Every section is read through [`nullable`] because files derived from the mxisd/ma1sd examples
//! routinely keep a section header whose children are all commented out (`logging:` followed by
//! `#  root: error`), which YAML reads as `null`.
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use super::invites::RawInvite;
use super::ldap::RawLdap;
use super::lenient::{DurationOrZero, Flag, Int, Lifetime, Text};
use super::lookup::{RawBindings, RawHashing, RawLookup, RawMemory, RawUnbind};
use super::recursive::RawForward;
use super::synapse::RawSynapseSql;
use super::view::RawView;

#[path = "raw_threepid.rs"]
mod threepid;
pub use threepid::{RawEmail, RawMsisdn, RawNotification, RawSmtp, RawThreepid};

/// A section that may be written as an empty header (`null`), meaning "all defaults".
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping of sections")]
pub struct RawConfig {
    #[serde(deserialize_with = "nullable")]
    pub matrix: RawMatrix,
    #[serde(deserialize_with = "nullable")]
    pub server: RawServer,
    #[serde(deserialize_with = "nullable")]
    pub key: RawKey,
    #[serde(deserialize_with = "nullable")]
    pub storage: RawStorage,
    #[serde(deserialize_with = "nullable")]
    pub session: RawSession,
    #[serde(deserialize_with = "nullable")]
    pub logging: RawLogging,
    #[serde(deserialize_with = "nullable")]
    pub account_config: RawAccountConfig,
    #[serde(deserialize_with = "nullable")]
    pub policy: RawPolicy,
    #[serde(deserialize_with = "nullable")]
    pub threepid: RawThreepid,
    #[serde(deserialize_with = "nullable")]
    pub notification: RawNotification,
    #[serde(deserialize_with = "nullable")]
    pub dns: RawDns,
    /// Verity only.
    #[serde(deserialize_with = "nullable")]
    pub federation: RawFederation,
    #[serde(deserialize_with = "nullable")]
    pub synapse_sql: RawSynapseSql,
    #[serde(deserialize_with = "nullable")]
    pub ldap: RawLdap,
    #[serde(deserialize_with = "nullable")]
    pub netiq: RawLdap,
    #[serde(deserialize_with = "nullable")]
    pub exec: super::exec::RawExec,
    #[serde(deserialize_with = "nullable")]
    pub rest: super::rest::RawRest,
    #[serde(deserialize_with = "nullable")]
    pub sql: super::sql::RawSql,
    #[serde(deserialize_with = "nullable")]
    pub memory: RawMemory,
    #[serde(deserialize_with = "nullable")]
    pub hashing: RawHashing,
    #[serde(deserialize_with = "nullable")]
    pub lookup: RawLookup,
    #[serde(deserialize_with = "nullable")]
    pub invite: RawInvite,
    #[serde(deserialize_with = "nullable")]
    pub forward: RawForward,
    /// Verity only.
    #[serde(deserialize_with = "nullable")]
    pub bindings: RawBindings,
    #[serde(deserialize_with = "nullable")]
    pub view: RawView,
    /// Verity only.
    #[serde(deserialize_with = "nullable")]
    pub ratelimit: super::ratelimit::RawRatelimit,
    #[serde(deserialize_with = "nullable")]
    pub register: super::register::RawRegister,
    pub directory: super::user_directory::RawDirectory,
}

/// `matrix`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawMatrix {
    pub domain: Option<Text>,
    #[serde(deserialize_with = "nullable")]
    pub identity: RawIdentity,
    pub v1: Option<Flag>,
    pub v2: Option<Flag>,
}

/// `matrix.identity`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawIdentity {
    /// Label -> servers. `None` values are labels written with an empty list.
    pub servers: Option<BTreeMap<String, Option<Vec<Text>>>>,
}

/// `server`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawServer {
    pub name: Option<Text>,
    pub hostname: Option<Text>,
    pub port: Option<Int<u16>>,
    pub public_url: Option<Text>,
    /// Verity only.
    pub max_body_size: Option<Int<usize>>,
    /// Verity only: peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Option<Vec<Text>>,
    /// Verity only: the internal listener.
    pub internal: Option<super::internal::RawInternal>,
    /// Verity only: the metrics listener.
    pub metrics: Option<super::metrics::RawMetrics>,
}

/// `key`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawKey {
    pub path: Option<Text>,
}

/// `storage`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawStorage {
    pub backend: Option<Text>,
    #[serde(deserialize_with = "nullable")]
    pub provider: RawProviders,
}

/// `storage.provider`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawProviders {
    #[serde(deserialize_with = "nullable")]
    pub sqlite: RawSqlite,
    #[serde(deserialize_with = "nullable")]
    pub postgresql: RawPostgresql,
}

/// `storage.provider.sqlite`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawSqlite {
    pub database: Option<Text>,
}

/// `storage.provider.postgresql`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawPostgresql {
    pub database: Option<Text>,
    pub username: Option<Text>,
    pub password: Option<Text>,
    /// Verity only: the connection pool size.
    pub max_connections: Option<Int<u32>>,
    // ma1sd's ORMLite pool tuning: read so typos and bad values are still reported, but sqlx's
    // pool has no equivalent knobs (see docs/configuration.md).
    pub pool: Option<Flag>,
    pub max_connections_free: Option<Int<u64>>,
    pub max_connection_age_millis: Option<Int<u64>>,
    pub check_connections_every_millis: Option<Int<u64>>,
    pub test_before_get_from_pool: Option<Flag>,
}

/// `session`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawSession {
    #[serde(deserialize_with = "nullable")]
    pub policy: RawSessionPolicy,
    /// Verity only.
    pub lifetime: Option<Lifetime>,
    /// Verity only.
    pub max_failed_attempts: Option<Int<u32>>,
    /// Verity only.
    #[serde(deserialize_with = "nullable")]
    pub next_link: RawNextLink,
}

/// `session.nextLink` (Verity only)
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawNextLink {
    pub allowed: Option<Vec<Text>>,
}

/// `session.policy`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawSessionPolicy {
    #[serde(deserialize_with = "nullable")]
    pub validation: RawValidation,
    #[serde(deserialize_with = "nullable")]
    pub unbind: RawUnbind,
}

/// `session.policy.validation`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawValidation {
    pub enabled: Option<Flag>,
    #[serde(deserialize_with = "nullable")]
    pub for_local: RawScope,
    #[serde(deserialize_with = "nullable")]
    pub for_remote: RawScope,
}

/// `session.policy.validation.forLocal` / `.forRemote`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawScope {
    pub enabled: Option<Flag>,
    pub to_local: Option<Flag>,
    #[serde(deserialize_with = "nullable")]
    pub to_remote: RawRemote,
}

/// `...toRemote`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawRemote {
    pub enabled: Option<Flag>,
    pub server: Option<Text>,
}

/// `logging`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawLogging {
    pub root: Option<Text>,
    pub app: Option<Text>,
    /// Verity only.
    pub format: Option<Text>,
}

/// `accountConfig` (ma1sd)
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawAccountConfig {
    pub allow_only_trust_domains: Option<Flag>,
    /// Verity only.
    pub token_lifetime: Option<Lifetime>,
    /// Verity only.
    pub cache_lifetime: Option<DurationOrZero>,
}

/// `policy` (ma1sd's terms of service)
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawPolicy {
    /// Policy name -> policy. `None` values are names written without a body.
    pub policies: Option<BTreeMap<String, Option<RawTermsPolicy>>>,
}

/// `policy.policies.<name>`
///
/// ma1sd's `regexp` (the request paths the policy gates) is deliberately not a field: Verity gates
/// the endpoints the specification gates, so `read` reports the key as ignored, with the reason.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawTermsPolicy {
    pub version: Option<Text>,
    /// Language code -> document. `None` values are languages written without a body.
    pub terms: Option<BTreeMap<String, Option<RawTerms>>>,
}

/// `policy.policies.<name>.terms.<lang>`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawTerms {
    pub name: Option<Text>,
    pub url: Option<Text>,
}

/// `dns`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawDns {
    #[serde(deserialize_with = "nullable")]
    pub overwrite: RawOverwrite,
}

/// `dns.overwrite`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawOverwrite {
    #[serde(deserialize_with = "nullable")]
    pub homeserver: RawHomeserverOverwrite,
}

/// `dns.overwrite.homeserver`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawHomeserverOverwrite {
    pub federation: Option<Vec<RawOverride>>,
    /// Resolved by `user_directory`.
    pub client: Option<Vec<RawOverride>>,
}

/// `dns.overwrite.homeserver.federation[i]`
#[derive(Debug, Default, Deserialize)]
#[serde(
    default,
    rename_all = "camelCase",
    expecting = "a mapping with `name` and `value`"
)]
pub struct RawOverride {
    pub name: Option<Text>,
    pub value: Option<Text>,
}

/// `federation` (Verity only)
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawFederation {
    pub allowed_networks: Option<Vec<Text>>,
    pub verify_tls: Option<Flag>,
    pub timeout: Option<Lifetime>,
    pub max_response_bytes: Option<Int<usize>>,
    pub max_concurrent_requests: Option<Int<usize>>,
    pub max_concurrent_requests_per_server: Option<Int<usize>>,
}
