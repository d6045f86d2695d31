//! Raw configuration -> [`Settings`]: defaults filled in, every value checked.
//!
//! Defaults follow mxisd/ma1sd unless `docs/configuration.md` says otherwise. Blank strings count
//! as unset because the ma1sd example config ships `name: ''`, `publicUrl: ''` and `path: ''`
//! placeholders, and ma1sd itself treats blank values as absent.
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use url::Url;
use verity_adapter_http::HttpConfig;
use verity_application::usecases::{AssociationSettings, ValidationSettings};
use verity_domain::{
    MatrixDomain, RemotePolicy, ScopePolicy, ServerLabel, SessionRules, ValidationPolicy,
};

use super::error::ConfigError;
use super::lenient::{Flag, Int, Text, text};
use super::raw::{RawConfig, RawMatrix, RawScope, RawServer, RawSession};
use super::view;
use super::{
    accounts, federation, invites, ldap, logging, lookup, recursive, storage, synapse, threepid,
};
use crate::settings::{KeySettings, MatrixSettings, ServerSettings, SessionSettings, Settings};

/// The label of the default identity server list, and of the server remote sessions go to when a
/// policy does not name one (mxisd 1.3+ and ma1sd; mxisd 1.2 called it `matrix-org`).
pub const DEFAULT_LABEL: &str = "root";
/// The label mxisd and ma1sd predefine (`MatrixConfig.Identity`: `matrix-org` ->
/// `https://matrix.org`), which their docs use in `forward.servers` and `toRemote.server`.
pub const MATRIX_ORG_LABEL: &str = "matrix-org";
const DEFAULT_IDENTITY_SERVER: &str = "https://matrix.org";
const DEFAULT_HOSTNAME: &str = "0.0.0.0";
const DEFAULT_PORT: u16 = 8090;
/// sydent's limit; mxisd had none.
const DEFAULT_MAX_BODY_BYTES: usize = 512 * 1024;
/// mxisd required `key.path`; this default sits next to the default database, `verity.db`.
pub const DEFAULT_KEY_PATH: &str = "keys";

pub fn resolve(mut raw: RawConfig) -> Result<Settings, ConfigError> {
    let server_proxies = raw.server.trusted_proxies.take();
    let apis = (raw.matrix.v1, raw.matrix.v2);
    let max_body_size = raw.server.max_body_size;
    let matrix = matrix(raw.matrix)?;
    let server = server(raw.server, &matrix.domain)?;
    let http = http(apis, max_body_size)?;
    let key = KeySettings {
        path: PathBuf::from(text(raw.key.path).unwrap_or_else(|| DEFAULT_KEY_PATH.to_owned())),
    };
    let storage = storage::resolve(raw.storage)?;
    let mut lookups = lookup::resolve(
        lookup::Sections {
            bindings: &raw.bindings,
            hashing: &raw.hashing,
            memory: &raw.memory,
            lookup: &raw.lookup,
            unbind: &raw.session.policy.unbind,
            synapse_identity: raw.synapse_sql.identity.as_ref(),
        },
        &matrix.domain,
    )?;
    lookups.recursive = recursive::resolve(
        &raw.lookup.recursive.unwrap_or_default(),
        &raw.forward,
        &matrix.identity_servers,
    )?;
    // One list of trusted proxies for the whole server; the recursive lookups' older key is
    // still read when the new one is absent.
    let trusted_proxies = super::ratelimit::trusted_proxies(
        server_proxies.as_deref(),
        &lookups.recursive.forwarding.trusted_proxies,
    )?;
    lookups
        .recursive
        .forwarding
        .trusted_proxies
        .clone_from(&trusted_proxies);
    let ratelimit = super::ratelimit::resolve(raw.ratelimit, trusted_proxies)?;
    let session = session(raw.session, &matrix, &server, &http)?;
    let logging = logging::resolve(raw.logging)?;
    let synapse_sql = synapse::resolve(raw.synapse_sql, &matrix.domain)?;
    let ldap = ldap::resolve(raw.ldap, "ldap", &matrix.domain)?;
    let netiq = ldap::resolve(raw.netiq, "netiq", &matrix.domain)?;
    let mut user_directory =
        super::user_directory::resolve(raw.directory, raw.dns.overwrite.homeserver.client.take())?;
    user_directory.exec = super::exec_directory::resolve(
        raw.exec.directory.take(),
        &super::exec_directory::ExecGlobals {
            enabled: raw.exec.enabled,
            token: raw.exec.token.as_ref(),
            concurrency: raw.exec.concurrency,
        },
        &matrix.domain,
    )?;
    let exec_profile = super::exec_profile::resolve(
        raw.exec.profile.take(),
        &super::exec_directory::ExecGlobals {
            enabled: raw.exec.enabled,
            token: raw.exec.token.as_ref(),
            concurrency: raw.exec.concurrency,
        },
    )?;
    let (exec, exec_auth) = super::exec::resolve(raw.exec, &matrix.domain)?;
    let rest = super::rest::resolve(raw.rest, &matrix.domain)?;
    let sql = super::sql::resolve(raw.sql, &matrix.domain)?;
    let views = view::resolve(&raw.view, matrix.domain.as_str())?;
    let accounts = accounts::accounts(raw.account_config, raw.policy, &matrix.domain)?;
    let invites = invites::resolve(&raw.invite, &server, &http, &session.validation.link_base)?;
    let invite_sender = invites::sender_roles(&raw.invite)?;
    let register = super::register::resolve(&raw.register)?;
    Ok(Settings {
        matrix,
        server,
        http,
        key,
        storage,
        session,
        logging,
        accounts,
        federation: federation::resolve(raw.dns, raw.federation)?,
        threepid: threepid::resolve(raw.threepid.medium.email, raw.threepid.medium.msisdn)?,
        synapse_sql,
        ldap,
        netiq,
        exec,
        exec_auth,
        exec_profile,
        rest,
        sql,
        lookups,
        invites,
        invite_sender,
        views,
        ratelimit,
        register,
        user_directory,
    })
}

fn flag(value: Option<Flag>, default: bool) -> bool {
    value.map_or(default, |Flag(b)| b)
}

fn int<T>(value: Option<Int<T>>, default: T) -> T {
    value.map_or(default, |Int(n)| n)
}

fn matrix(raw: RawMatrix) -> Result<MatrixSettings, ConfigError> {
    let domain = text(raw.domain).ok_or_else(|| {
        ConfigError::missing(
            "matrix.domain",
            "set it to the domain of your Matrix IDs, the part after ':' in @alice:example.org",
        )
    })?;
    let domain = MatrixDomain::parse(&domain)
        .map_err(|e| ConfigError::invalid("matrix.domain", e.to_string()))?;
    Ok(MatrixSettings {
        domain,
        identity_servers: identity_servers(raw.identity.servers)?,
    })
}

/// `matrix.v1`, `matrix.v2` and `server.maxBodySize`.
fn http(
    (v1, v2): (Option<Flag>, Option<Flag>),
    max_body_size: Option<Int<usize>>,
) -> Result<HttpConfig, ConfigError> {
    let max_body_bytes = int(max_body_size, DEFAULT_MAX_BODY_BYTES);
    if max_body_bytes == 0 {
        return Err(ConfigError::invalid(
            "server.maxBodySize",
            "must be a number of bytes greater than zero",
        ));
    }
    Ok(HttpConfig {
        max_body_bytes,
        v1: flag(v1, true),
        // ma1sd's code default is false, but its example config and every current client need v2.
        v2: flag(v2, true),
    })
}

/// The operator's lists are laid over the predefined `root` and `matrix-org` lists (both
/// `https://matrix.org`): adding a label keeps them, and writing `root:` or `matrix-org:` replaces
/// that one. ma1sd dropped its predefined `matrix-org` as soon as the file listed any server,
/// which broke `forward.servers: ['matrix-org']` next to an own label; Verity keeps it.
fn identity_servers(
    raw: Option<BTreeMap<String, Option<Vec<Text>>>>,
) -> Result<BTreeMap<ServerLabel, Vec<String>>, ConfigError> {
    let mut servers = BTreeMap::new();
    for predefined in [DEFAULT_LABEL, MATRIX_ORG_LABEL] {
        if let Ok(label) = ServerLabel::parse(predefined) {
            servers.insert(label, vec![DEFAULT_IDENTITY_SERVER.to_owned()]);
        }
    }
    for (label, entries) in raw.unwrap_or_default() {
        let key = format!("matrix.identity.servers.{label}");
        let parsed =
            ServerLabel::parse(&label).map_err(|e| ConfigError::invalid(&key, e.to_string()))?;
        let mut list = Vec::new();
        for (index, Text(entry)) in entries.unwrap_or_default().into_iter().enumerate() {
            let entry = entry.trim().to_owned();
            identity_server_entry(&entry)
                .map_err(|message| ConfigError::invalid(format!("{key}[{index}]"), message))?;
            list.push(entry);
        }
        servers.insert(parsed, list);
    }
    Ok(servers)
}

/// An entry is an http(s) URL (used as is) or a domain name with an optional port (discovered
/// through DNS, as mxisd did).
fn identity_server_entry(entry: &str) -> Result<(), String> {
    if entry.contains("://") {
        let url = Url::parse(entry).map_err(|e| format!("{entry:?} is not a valid URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "{entry:?} must be an http:// or https:// URL, or a domain name"
            ));
        }
        return Ok(());
    }
    host_and_port(entry).map_err(|why| {
        format!(
            "{entry:?} is neither an http(s) URL nor a domain name with an optional port: {why}"
        )
    })
}

/// `example.org`, `example.org:8448`, `[::1]:8090`, `10.0.0.1`: a host and an optional port,
/// nothing else.
fn host_and_port(value: &str) -> Result<(), &'static str> {
    if value.is_empty()
        || value.contains(['/', '@', '?', '#'])
        || value.contains(char::is_whitespace)
    {
        return Err("only a host and an optional port are allowed");
    }
    let url = Url::parse(&format!("https://{value}")).map_err(|_| "the host is not valid")?;
    match url.host() {
        Some(url::Host::Domain(domain)) if MatrixDomain::parse(domain).is_err() => {
            Err("the host is not a domain name")
        }
        Some(_) => Ok(()),
        None => Err("there is no host"),
    }
}

fn server(raw: RawServer, domain: &MatrixDomain) -> Result<ServerSettings, ConfigError> {
    let name = text(raw.name).unwrap_or_else(|| domain.as_str().to_owned());
    host_and_port(&name).map_err(|why| {
        ConfigError::invalid(
            "server.name",
            format!("{name:?} is not a server name: {why}"),
        )
    })?;
    let hostname = text(raw.hostname).unwrap_or_else(|| DEFAULT_HOSTNAME.to_owned());
    let bare = hostname.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_err() && MatrixDomain::parse(bare).is_err() {
        return Err(ConfigError::invalid(
            "server.hostname",
            format!("{hostname:?} is neither an IP address nor a host name"),
        ));
    }
    let public_url = public_url(text(raw.public_url), &name)?;
    Ok(ServerSettings {
        name,
        hostname,
        port: int(raw.port, DEFAULT_PORT),
        public_url,
        internal: super::internal::resolve(raw.internal)?,
        metrics: super::metrics::resolve(raw.metrics)?,
    })
}

/// `https://{server.name}` by default; `%SERVER_NAME%` is replaced as in ma1sd; trailing slashes
/// are dropped so paths can be appended with `format!("{public_url}/...")`.
fn public_url(raw: Option<String>, server_name: &str) -> Result<String, ConfigError> {
    let key = "server.publicUrl";
    let value = raw
        .unwrap_or_else(|| format!("https://{server_name}"))
        .replace("%SERVER_NAME%", server_name);
    let value = value.trim_end_matches('/').to_owned();
    let url = Url::parse(&value)
        .map_err(|e| ConfigError::invalid(key, format!("{value:?} is not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::invalid(
            key,
            format!("{value:?} must be an http:// or https:// URL with a host"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::invalid(
            key,
            format!("{value:?} must not have a query (?) or a fragment (#)"),
        ));
    }
    Ok(value)
}

/// Where the token link points: the v2 path (its GET works without an access token in Verity),
/// or the v1 path when v2 is off, under `server.publicUrl`.
fn link_base(http: &HttpConfig, server: &ServerSettings) -> String {
    let api = if http.v2 {
        "/_matrix/identity/v2"
    } else {
        "/_matrix/identity/api/v1"
    };
    format!("{}{api}", server.public_url)
}

fn session(
    raw: RawSession,
    matrix: &MatrixSettings,
    server: &ServerSettings,
    http: &HttpConfig,
) -> Result<SessionSettings, ConfigError> {
    let defaults = SessionRules::default();
    let max_failed_attempts = int(raw.max_failed_attempts, defaults.max_failed_attempts);
    if max_failed_attempts == 0 {
        // The session would lock before the first (even correct) token is checked.
        return Err(ConfigError::invalid(
            "session.maxFailedAttempts",
            "must be at least 1",
        ));
    }
    let rules = SessionRules {
        lifetime: raw.lifetime.map_or(defaults.lifetime, |l| l.0),
        max_failed_attempts,
    };
    Ok(SessionSettings {
        validation: ValidationSettings {
            domain: matrix.domain.clone(),
            policy: policy(raw.policy.validation, &matrix.identity_servers)?,
            rules,
            link_base: link_base(http, server),
        },
        association: AssociationSettings {
            rules,
            unbind_enabled: flag(raw.policy.unbind.enabled, true),
        },
        next_link_allowed: accounts::next_link_allowed(raw.next_link)?,
    })
}

fn policy(
    raw: super::raw::RawValidation,
    servers: &BTreeMap<ServerLabel, Vec<String>>,
) -> Result<ValidationPolicy, ConfigError> {
    let base = "session.policy.validation";
    let root = ServerLabel::parse(DEFAULT_LABEL).map_err(|e| {
        ConfigError::invalid(format!("{base}.forLocal.toRemote.server"), e.to_string())
    })?;
    let defaults = ValidationPolicy::defaults(root);
    let policy = ValidationPolicy {
        enabled: flag(raw.enabled, defaults.enabled),
        for_local: scope(
            raw.for_local,
            defaults.for_local,
            &format!("{base}.forLocal"),
        )?,
        for_remote: scope(
            raw.for_remote,
            defaults.for_remote,
            &format!("{base}.forRemote"),
        )?,
    };
    // A label only matters when sessions may go there; a disabled target may name anything, so
    // switching a scope off never requires tidying its `server`.
    if policy.enabled {
        for (name, rules) in [
            ("forLocal", &policy.for_local),
            ("forRemote", &policy.for_remote),
        ] {
            if rules.enabled && rules.to_remote.enabled {
                check_label(
                    &format!("{base}.{name}.toRemote.server"),
                    &rules.to_remote.server,
                    servers,
                )?;
            }
        }
    }
    Ok(policy)
}

fn scope(raw: RawScope, defaults: ScopePolicy, key: &str) -> Result<ScopePolicy, ConfigError> {
    let server = match text(raw.to_remote.server) {
        Some(label) => ServerLabel::parse(&label)
            .map_err(|e| ConfigError::invalid(format!("{key}.toRemote.server"), e.to_string()))?,
        None => defaults.to_remote.server,
    };
    Ok(ScopePolicy {
        enabled: flag(raw.enabled, defaults.enabled),
        to_local: flag(raw.to_local, defaults.to_local),
        to_remote: RemotePolicy {
            enabled: flag(raw.to_remote.enabled, defaults.to_remote.enabled),
            server,
        },
    })
}

fn check_label(
    key: &str,
    label: &ServerLabel,
    servers: &BTreeMap<ServerLabel, Vec<String>>,
) -> Result<(), ConfigError> {
    match servers.get(label) {
        Some(list) if !list.is_empty() => Ok(()),
        Some(_) => Err(ConfigError::invalid(
            key,
            format!(
                "remote sessions go to `{label}`, but matrix.identity.servers.{label} is an empty \
                 list: add a server to it, or set toRemote.enabled: false"
            ),
        )),
        None => {
            let known: Vec<&str> = servers.keys().map(ServerLabel::as_str).collect();
            Err(ConfigError::invalid(
                key,
                format!(
                    "`{label}` is not a label of matrix.identity.servers (configured labels: {})",
                    known.join(", ")
                ),
            ))
        }
    }
}
