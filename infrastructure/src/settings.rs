//! The effective configuration, resolved and validated: what the rest of the server is built from.
//!
//! `config` turns the operator's YAML (mxisd/ma1sd key names) into these types; everything here is
//! already checked, so wiring code never re-validates.
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use verity_adapter_exec::{
    ExecAuthConfig, ExecDirectoryConfig, ExecIdentityConfig, ExecProfileConfig,
};
use verity_adapter_http::{HttpConfig, Views};
use verity_adapter_ldap::LdapConfig;
use verity_adapter_limits::LimitSettings;
use verity_adapter_matrix::FederationConfig;
// `memory.*` is the memory adapter's own type, which config/lookup.rs builds.
pub use verity_adapter_memory::{MemoryIdentity, MemorySettings};
use verity_adapter_notify::{FileConfig, SenderIdentity, SmtpConfig, TemplateConfig, TwilioConfig};
use verity_adapter_rest::RestConfig;
use verity_adapter_sql::{QueryBackendConfig, SynapseSqlConfig};
use verity_application::usecases::{
    AccountSettings, AssociationSettings, HashingSettings, InviteSettings, LookupSettings,
    RecursionSettings, UserDirectorySettings, ValidationSettings,
};
use verity_domain::{DEFAULT_RECURSION_NETWORKS, IpNetwork, MatrixDomain, ServerLabel};

/// Everything Verity needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `matrix.*`
    pub matrix: MatrixSettings,
    /// `server.*`
    pub server: ServerSettings,
    /// `matrix.v1`, `matrix.v2` and `server.maxBodySize`, as the HTTP adapter takes them: which
    /// APIs are served (v1 by default, as mxisd; v2 by default, as every current client needs,
    /// though ma1sd's code default was off) and the largest request body in bytes (default
    /// 524288, as sydent; larger ones get 413 `M_TOO_LARGE`).
    pub http: HttpConfig,
    /// `key.*`
    pub key: KeySettings,
    /// `storage.*`
    pub storage: StorageSettings,
    /// `session.*`
    pub session: SessionSettings,
    /// `logging.*`
    pub logging: LoggingSettings,
    /// `accountConfig.*` and `policy.policies` (with `matrix.domain`): v2 accounts and terms of
    /// service, as the account use case takes them.
    pub accounts: AccountSettings,
    /// `dns.overwrite.homeserver.federation` and `federation.*`: how homeservers are reached.
    pub federation: FederationConfig,
    /// `threepid.medium.*`: how validation messages are generated and sent.
    pub threepid: ThreepidSettings,
    /// `synapseSql.*`: the Synapse database as an identity backend; `None` unless enabled.
    pub synapse_sql: Option<SynapseSqlConfig>,
    /// `ldap.*`: an LDAP or Active Directory directory as an identity backend; `None` unless
    /// enabled.
    pub ldap: Option<DirectorySettings>,
    /// `netiq.*`: the same tree as `ldap`, for a NetIQ eDirectory (ma1sd's second directory);
    /// `None` unless enabled.
    pub netiq: Option<DirectorySettings>,
    /// `exec.*`: the operator's programs as an identity backend (ma1sd's exec store); `None`
    /// unless `exec.identity.enabled` (or `exec.enabled`).
    pub exec: Option<ExecSettings>,
    /// `exec.auth.*`: the operator's program checking passwords for the homeserver's logins;
    /// `None` unless `exec.auth.enabled` (or `exec.enabled`) and its `command` is set.
    pub exec_auth: Option<ExecAuthConfig>,
    /// `exec.profile.*`: the operator's programs answering profiles (display name, 3PIDs,
    /// roles); `None` unless `exec.profile.enabled` (or `exec.enabled`) and a program is set.
    pub exec_profile: Option<ExecProfileConfig>,
    /// `rest.*`: the operator's HTTP service as an identity backend (ma1sd's REST store); `None`
    /// unless enabled.
    pub rest: Option<RestSettings>,
    /// `sql.*`: the operator's own database as an identity backend (mxisd's generic SQL
    /// store); `None` unless enabled.
    pub sql: Option<SqlStoreSettings>,
    /// `bindings.*`, `hashing.*`, `memory.*`, `lookup.maxAddresses` and
    /// `session.policy.unbind.notifications`: binds, lookups and their backends.
    pub lookups: LookupsSettings,
    /// `invite.*`: 3PID room invites, as the invite use case takes them (with the server's name
    /// and the URLs `server.publicUrl` and the served APIs make).
    pub invites: InviteSettings,
    /// `invite.policy.ifSender.hasRole`: who may send 3PID room invites routed through Verity.
    pub invite_sender: verity_domain::SenderRoles,
    /// `view.*` (and Sydent's `verify_response_template`): the operator's own pages, read at
    /// start-up.
    pub views: Views,
    /// `ratelimit.*` and `server.trustedProxies`: the abuse limits.
    pub ratelimit: RateLimitSettings,
    /// `register.policy.*`: which 3PIDs may register on the homeserver (registration control).
    pub register: verity_domain::RegistrationPolicy,
    /// `directory.*`, `dns.overwrite.homeserver.client` and `exec.directory`: the user directory
    /// search (the other stores' directory keys are in their own settings).
    pub user_directory: UserDirectoryConfig,
}

/// The user directory search, as the configuration resolved it.
#[derive(Debug, Clone)]
pub struct UserDirectoryConfig {
    /// `directory.exclude.*`, and the `whoami` cache (Verity's constants).
    pub search: UserDirectorySettings,
    /// `dns.overwrite.homeserver.client`: `(host clients call, base URL of the homeserver's
    /// client API)`, as written.
    pub client_overrides: Vec<(String, String)>,
    /// `exec.directory`: the operator's search programs; `None` unless on.
    pub exec: Option<ExecDirectoryConfig>,
}

/// A directory as an identity backend (`ldap.*` or `netiq.*`): the LDAP adapter's settings, and
/// how often the wiring reads its 3PIDs again into the hashed-lookup table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectorySettings {
    /// Everything the adapter reads.
    pub config: LdapConfig,
    /// `<section>.identity.refresh` (Verity only, default 5 minutes; `0`: only at start-up and
    /// at pepper rotations): with `identity.lookup`, how often the hashed-lookup table is built
    /// again, so that a 3PID added to or removed from the directory shows within it.
    pub refresh: Duration,
}

/// The REST identity backend (`rest.*`): the adapter's settings, and how often the wiring reads
/// its `identity.all` feed again into the hashed-lookup table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestSettings {
    /// Everything the adapter reads.
    pub config: RestConfig,
    /// `rest.identity.refresh` (Verity only, default 5 minutes; `0`: only at start-up and at
    /// pepper rotations): with `rest.endpoints.identity.all`, how often the hashed-lookup table
    /// is built again.
    pub refresh: Duration,
}

/// The exec identity backend (`exec.*`): the adapter's settings, and how often the wiring reads
/// its feed again into the hashed-lookup table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecSettings {
    /// Everything the adapter reads.
    pub config: ExecIdentityConfig,
    /// `exec.identity.refresh` (Verity only, default 5 minutes; `0`: only at start-up and at
    /// pepper rotations): with `exec.identity.hashLookup`, how often the hashed-lookup table is
    /// built again.
    pub refresh: Duration,
}

/// The generic SQL store (`sql.*`): the backend's settings, its place among the backends and how
/// often the wiring reads its `lookup.query` again into the hashed-lookup table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlStoreSettings {
    /// Everything the adapter reads.
    pub config: QueryBackendConfig,
    /// `sql.identity.priority` (Verity only, default 20, ma1sd's).
    pub priority: u32,
    /// `sql.lookup.refresh` (Verity only, default 5 minutes; `0`: only at start-up and at pepper
    /// rotations): how often the hashed-lookup table is built again, so that a 3PID added to or
    /// removed from the database shows within it.
    pub refresh: Duration,
}

/// The default of [`DirectorySettings::refresh`].
pub const DEFAULT_DIRECTORY_REFRESH: Duration = Duration::from_secs(5 * 60);

/// `ratelimit.*` and the trusted proxies, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitSettings {
    /// `ratelimit.enabled` (default true): off only when the operator says so.
    pub enabled: bool,
    /// Every limit.
    pub limits: LimitSettings,
    /// `server.trustedProxies` (or the older `lookup.recursive.trustedProxies`): peers whose
    /// `X-Forwarded-For` is believed, for the limits and the recursive lookups alike.
    pub trusted_proxies: Vec<IpNetwork>,
}

/// How binds are kept and lookups answered.
#[derive(Debug, Clone)]
pub struct LookupsSettings {
    /// `bindings.enabled` (Verity only, default true): keep binds in Verity's own store, which is
    /// also the `bindings` identity backend. Off, binds are only signed, as mxisd did.
    pub bindings: bool,
    /// `hashing.*` (ma1sd): the `sha256` table and its pepper.
    pub hashing: HashingSettings,
    /// `hashing.algorithms` (what `/lookup` accepts) and `lookup.maxAddresses` (Verity only,
    /// default 10000: addresses per lookup request), as the lookup use case takes them.
    pub lookup: LookupSettings,
    /// `memory.*` (mxisd): a static list of users and 3PIDs; `None` unless enabled.
    pub memory: Option<MemorySettings>,
    /// `memory.priority`, `bindings.priority` and `synapseSql.identity.priority`: the order in
    /// which the identity backends are asked.
    pub priorities: BackendPriorities,
    /// `session.policy.unbind.notifications` (ma1sd, default true): tell the owner of a 3PID
    /// when it is unbound (the `session.unbind.notification` template).
    pub unbind_notifications: bool,
    /// `lookup.recursive.*` and `forward.servers`: forwarding lookups to other identity servers.
    pub recursive: RecursiveSettings,
}

/// The identity backends' priorities (Verity only; ma1sd fixed them in code, and had a key for
/// its `exec` store only, `exec.identity.priority`): the backend with the highest number is asked
/// first. Equal numbers keep the order memory, bindings, synapseSql (docs/backends.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendPriorities {
    /// `memory.priority` (default 2147483647, ma1sd's `Integer.MAX_VALUE`: asked first).
    pub memory: u32,
    /// `bindings.priority` (default 20, the number ma1sd gave its own stores).
    pub bindings: u32,
    /// `synapseSql.identity.priority` (default 20, ma1sd's).
    pub synapse_sql: u32,
}

impl Default for BackendPriorities {
    fn default() -> Self {
        Self {
            memory: 2_147_483_647,
            bindings: 20,
            synapse_sql: 20,
        }
    }
}

/// `lookup.recursive.*` (mxisd; `trustedProxies` is Verity's) and `forward.servers` (mxisd).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecursiveSettings {
    /// `lookup.recursive.enabled` (default true; nothing is forwarded without `forward.servers`).
    pub enabled: bool,
    /// As the lookup use case takes them: `forward.servers` (labels of
    /// `matrix.identity.servers`, asked in order; default none), `lookup.recursive.allowedCidr`
    /// (requesters whose lookups may be forwarded; default loopback and private ranges) and
    /// `lookup.recursive.trustedProxies` (peers whose `X-Forwarded-For` is believed; default
    /// none). Kept when `enabled` is false, so `--dump-config` still shows them.
    pub forwarding: RecursionSettings,
}

impl Default for RecursiveSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            forwarding: RecursionSettings {
                servers: Vec::new(),
                allowed: DEFAULT_RECURSION_NETWORKS
                    .iter()
                    .filter_map(|net| IpNetwork::parse(net).ok())
                    .collect(),
                trusted_proxies: Vec::new(),
            },
        }
    }
}

/// `threepid.medium.email` and `threepid.medium.msisdn`.
#[derive(Debug, Clone)]
pub struct ThreepidSettings {
    /// Email.
    pub email: MediumSettings,
    /// Phone numbers.
    pub msisdn: MediumSettings,
}

/// One medium's generator and connector.
#[derive(Debug, Clone)]
pub struct MediumSettings {
    /// Whether the operator configured this medium's connector (an unconfigured default that
    /// cannot be built leaves the medium unsupported, as mxisd did, instead of stopping start-up).
    pub configured: bool,
    /// `identity.from` / `identity.name` (email).
    pub identity: SenderIdentity,
    /// `generators.template`.
    pub generator: TemplateConfig,
    /// `connector` with its `connectors.<id>` block.
    pub connector: ConnectorSettings,
}

/// The connector chosen for a medium.
#[derive(Debug, Clone)]
pub enum ConnectorSettings {
    /// `smtp` (email).
    Smtp(SmtpConfig),
    /// `twilio` (msisdn).
    Twilio(TwilioConfig),
    /// `file` (Verity only): messages written to a directory, for trying Verity out.
    File(FileConfig),
    /// `none`: messages are dropped.
    None,
}

/// `matrix.*`
#[derive(Debug, Clone)]
pub struct MatrixSettings {
    /// `matrix.domain`: required.
    pub domain: MatrixDomain,
    /// `matrix.identity.servers`: label -> entries (URLs or domain names), `root` by default.
    pub identity_servers: BTreeMap<ServerLabel, Vec<String>>,
}

/// `server.*`
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// `server.name`: the name this server signs with (default `matrix.domain`).
    pub name: String,
    /// `server.hostname`: the address to listen on (default `0.0.0.0`).
    pub hostname: String,
    /// `server.port`: the port to listen on (default 8090).
    pub port: u16,
    /// `server.publicUrl`: the URL users and servers reach Verity at (default
    /// `https://{server.name}`), without a trailing slash.
    pub public_url: String,
    /// `server.internal.*` (Verity only): the internal listener.
    pub internal: InternalSettings,
    /// `server.metrics.*` (Verity only): the metrics listener.
    pub metrics: MetricsSettings,
}

/// `server.metrics.*` (Verity only): where Prometheus scrapes `/metrics`, apart from the public
/// listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// `server.metrics.enabled` (default true): collect metrics and serve them.
    pub enabled: bool,
    /// `server.metrics.address` (default `127.0.0.1`).
    pub address: String,
    /// `server.metrics.port` (default 8099).
    pub port: u16,
}

/// `server.internal.*` (Verity only): the listener of what only the operator's own servers may
/// call (the homeserver's `check_credentials`), apart from the public one.
#[derive(Debug, Clone)]
pub struct InternalSettings {
    /// `server.internal.enabled`: unset, the listener starts when something is served on it (a
    /// store that can check passwords), and a port that is taken is then only a warning;
    /// `true`, it always starts and a taken port stops start-up; `false`, it never starts.
    pub enabled: Option<bool>,
    /// `server.internal.hostname` (default `127.0.0.1`).
    pub hostname: String,
    /// `server.internal.port` (default 8091).
    pub port: u16,
    /// `server.internal.secret`: when set, every request must carry it as `Authorization:
    /// Bearer <secret>` (the stock kamax module sends none).
    pub secret: Option<Secret>,
    /// `server.internal.bindApi` (default false): serve Sydent's internal bind API, which binds
    /// and unbinds any 3PID without proof, on this listener.
    pub bind_api: bool,
}

/// `key.*`
#[derive(Debug, Clone)]
pub struct KeySettings {
    /// `key.path`: the directory holding the signing keys.
    pub path: PathBuf,
}

/// `storage.*`: where Verity keeps its own data.
#[derive(Clone)]
pub enum StorageSettings {
    /// `storage.backend: sqlite` with `storage.provider.sqlite.database` (a file path).
    Sqlite {
        /// The database file; created on first start.
        database: PathBuf,
    },
    /// `storage.backend: postgresql` with `storage.provider.postgresql.*`.
    Postgresql {
        /// A `postgres://` connection URL built from the provider keys; it may carry the password.
        url: Secret,
        /// `storage.provider.postgresql.maxConnections` (Verity only; default 10).
        max_connections: u32,
    },
}

impl StorageSettings {
    /// The connection URL for the SQL adapter.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite { database } => format!("sqlite://{}?mode=rwc", database.display()),
            Self::Postgresql { url, .. } => url.expose().to_owned(),
        }
    }
}

impl fmt::Debug for StorageSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { database } => f
                .debug_struct("Sqlite")
                .field("database", database)
                .finish(),
            Self::Postgresql {
                max_connections, ..
            } => f
                .debug_struct("Postgresql")
                .field("url", &REDACTED)
                .field("max_connections", max_connections)
                .finish(),
        }
    }
}

/// `session.*`, as the use cases take it.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// `session.policy.validation`, `session.lifetime` and `session.maxFailedAttempts` (Verity
    /// only), with `matrix.domain` and the base of the token link (`server.publicUrl` and the v2
    /// path, or the v1 path when `matrix.v2` is off): the validation use case's settings.
    pub validation: ValidationSettings,
    /// `session.policy.unbind.enabled` (ma1sd, default true) and the session rules: the
    /// association use case's settings.
    pub association: AssociationSettings,
    /// `session.nextLink.allowed` (Verity only): URL prefixes the validation page may redirect a
    /// `next_link` to; empty (the default) never redirects, so no link becomes an open redirect.
    pub next_link_allowed: Vec<String>,
}

/// `logging.*`
#[derive(Debug, Clone)]
pub struct LoggingSettings {
    /// `logging.app`: the level filter for Verity's own logs (`info` by default; an `EnvFilter`
    /// directive such as `verity=debug,sqlx=warn` also works). `RUST_LOG` overrides it.
    pub filter: String,
    /// `logging.root`: the level for everything but Verity's own logs, when the file sets it.
    /// `-v`, `-vv`, `MA1SD_LOG_LEVEL` and `MXISD_LOG_LEVEL` change Verity's level and keep this.
    pub root: Option<String>,
    /// `logging.format` (Verity only): `text` (default) or `json`.
    pub format: LogFormat,
}

/// How log lines are written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines with `key=value` fields.
    Text,
    /// One JSON object per line.
    Json,
}

/// What a secret is shown as, in `Debug` output and in `--dump-config`.
pub const REDACTED: &str = "<redacted>";

/// A configuration value that must never be printed: `Debug` and `Serialize` show a marker.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(if self.0.is_empty() { "" } else { REDACTED })
    }
}
