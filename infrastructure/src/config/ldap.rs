//! `ldap.*` and `netiq.*` (mxisd/ma1sd: the same tree, NetIQ eDirectory's under its own name) ->
//! the LDAP adapter's own [`LdapConfig`], with ma1sd's keys and defaults. See docs/backends.md.
//!
//! Kept from ma1sd knowingly: `attribute.uid.value` defaults to `saMAccountName`, and writing
//! `attribute.threepid` replaces ma1sd's whole default map (setting `email` alone drops `msisdn`,
//! so no phone number an ma1sd installation kept private is published after the switch).
//! Changed: `connection.tls` also takes `starttls`, and LDAPS without a port uses 636 (ma1sd kept
//! 389); a bind DN without a password, or a password without a bind DN, is refused (an
//! "unauthenticated bind" that Active Directory accepts as anonymous).
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use verity_adapter_ldap::{BindPassword, LdapConfig, TlsMode, UidType};
use verity_domain::MatrixDomain;

use super::error::ConfigError;
use super::lenient::{DurationOrZero, Flag, Int, Lifetime, Text, text};
use crate::settings::{DEFAULT_DIRECTORY_REFRESH, DirectorySettings};

#[path = "ldap_checks.rs"]
mod checks;
#[path = "ldap_dump.rs"]
mod dump;

use checks::{attribute_list, attribute_name, filter, medium};
pub use dump::{LdapDump, dump};

/// `ldap` / `netiq`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawLdap {
    pub enabled: Option<Flag>,
    pub filter: Option<Text>,
    pub active_directory: Option<Flag>,
    pub default_domain: Option<Text>,
    pub connection: Option<RawConnection>,
    pub attribute: Option<RawAttribute>,
    pub auth: Option<RawFilter>,
    pub directory: Option<RawDirectory>,
    pub identity: Option<RawIdentity>,
    pub profile: Option<RawFilter>,
}

/// `<section>.connection`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawConnection {
    pub host: Option<Text>,
    pub port: Option<Int<u16>>,
    /// `false`/`true` as in ma1sd (`true`: LDAPS), or Verity's `starttls`.
    pub tls: Option<Text>,
    pub bind_dn: Option<Text>,
    pub bind_password: Option<Text>,
    #[serde(rename = "baseDNs")]
    pub base_dns: Option<Vec<Text>>,
    /// ma1sd's older single base DN, added to `baseDNs`.
    pub base_dn: Option<Text>,
    /// Verity only.
    pub ca_file: Option<Text>,
    /// Verity only.
    pub connect_timeout: Option<Lifetime>,
    /// Verity only.
    pub operation_timeout: Option<Lifetime>,
    /// Verity only.
    pub page_size: Option<Int<u32>>,
}

/// `<section>.attribute`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawAttribute {
    pub uid: Option<RawUid>,
    pub name: Option<Text>,
    /// Medium -> attributes; `None` values are media written without a list.
    pub threepid: Option<BTreeMap<String, Option<Vec<Text>>>>,
}

/// `<section>.attribute.uid`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawUid {
    #[serde(rename = "type")]
    pub kind: Option<Text>,
    pub value: Option<Text>,
}

/// `<section>.auth` and `<section>.profile`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawFilter {
    pub filter: Option<Text>,
}

/// `<section>.directory`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawDirectory {
    pub filter: Option<Text>,
    pub attribute: Option<RawDirectoryAttribute>,
}

/// `<section>.directory.attribute`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawDirectoryAttribute {
    pub other: Option<Vec<Text>>,
}

/// `<section>.identity`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawIdentity {
    pub filter: Option<Text>,
    pub token: Option<Text>,
    /// Medium -> filter; `None` values are media written without a filter.
    pub medium: Option<BTreeMap<String, Option<Text>>>,
    pub lookup: Option<Flag>,
    /// Verity only (as `synapseSql.identity.priority`; ma1sd fixed 20).
    pub priority: Option<Int<i32>>,
    /// Verity only.
    pub refresh: Option<DurationOrZero>,
}

/// `None` unless `<section>.enabled`; the other keys are checked only then, as ma1sd read them
/// only then. `section` is `ldap` or `netiq`.
pub fn resolve(
    raw: RawLdap,
    section: &str,
    domain: &MatrixDomain,
) -> Result<Option<DirectorySettings>, ConfigError> {
    if !raw.enabled.is_some_and(|Flag(on)| on) {
        return Ok(None);
    }
    let key = |name: &str| format!("{section}.{name}");
    let mut config = LdapConfig::new(String::new(), domain.as_str());
    connection(raw.connection.unwrap_or_default(), &mut config, &key)?;

    config.filter = filter(raw.filter, &key("filter"))?.unwrap_or_default();
    let auth = raw.auth.unwrap_or_default();
    config.auth_filter = filter(auth.filter, &key("auth.filter"))?;
    let profile = raw.profile.unwrap_or_default();
    config.profile_filter = filter(profile.filter, &key("profile.filter"))?;
    let directory = raw.directory.unwrap_or_default();
    config.directory_filter = filter(directory.filter, &key("directory.filter"))?;
    let other = directory.attribute.unwrap_or_default().other;
    config.directory_other_attributes = attribute_list(other, &key("directory.attribute.other"))?;

    attributes(raw.attribute.unwrap_or_default(), &mut config, &key)?;
    config.active_directory = raw.active_directory.is_some_and(|Flag(on)| on);
    config.default_domain = text(raw.default_domain);
    if config.active_directory && config.uid_type == UidType::Mxid {
        return Err(ConfigError::invalid(
            key("attribute.uid.type"),
            format!(
                "{section}.activeDirectory is on, so the uid attribute holds a user principal \
                 name (login@domain): set the type to `uid` (as ma1sd required)"
            ),
        ));
    }
    if let Some(domain) = &config.default_domain
        && (domain.contains(['@', '/']) || domain.contains(char::is_whitespace))
    {
        return Err(ConfigError::invalid(
            key("defaultDomain"),
            format!("{domain:?} is not a domain: write it as in the UPNs, e.g. corp.example.org"),
        ));
    }

    let identity = raw.identity.unwrap_or_default();
    config.identity_filter = filter(identity.filter, &key("identity.filter"))?;
    if let Some(token) = identity.token {
        config.identity_token = text(Some(token)).ok_or_else(|| {
            ConfigError::invalid(
                key("identity.token"),
                "must not be blank: it is the placeholder the address replaces in \
                 identity.medium filters (default `%3pid`)",
            )
        })?;
    }
    for (name, query) in identity.medium.unwrap_or_default() {
        let medium_key = key(&format!("identity.medium.{name}"));
        medium(&name, &medium_key)?;
        let Some(query) = filter(query, &medium_key)? else {
            continue;
        };
        if !query.contains(&config.identity_token) {
            return Err(ConfigError::invalid(
                medium_key,
                format!(
                    "the filter does not contain {token:?} (identity.token), so it would find \
                     the same users whatever address is looked up",
                    token = config.identity_token
                ),
            ));
        }
        config.identity_queries.insert(name, query);
    }
    config.hash_lookup = identity.lookup.is_some_and(|Flag(on)| on);
    if let Some(Int(priority)) = identity.priority {
        config.priority = priority;
    }
    let refresh = identity.refresh.map_or(DEFAULT_DIRECTORY_REFRESH, |d| d.0);
    Ok(Some(DirectorySettings { config, refresh }))
}

/// `<section>.connection.*` into `config`.
fn connection(
    raw: RawConnection,
    config: &mut LdapConfig,
    key: &dyn Fn(&str) -> String,
) -> Result<(), ConfigError> {
    config.host = text(raw.host).ok_or_else(|| {
        ConfigError::missing(
            key("connection.host"),
            "the directory's host name or address, e.g. ldap.example.org",
        )
    })?;
    if config.host.contains(['/', '?', '#', '@']) || config.host.contains(char::is_whitespace) {
        return Err(ConfigError::invalid(
            key("connection.host"),
            format!(
                "{:?} is not a host name or address: write the port in connection.port and \
                 LDAPS as connection.tls: true",
                config.host
            ),
        ));
    }
    config.tls = match text(raw.tls).map(|t| t.to_ascii_lowercase()).as_deref() {
        None | Some("false" | "no" | "off" | "none") => TlsMode::None,
        Some("true" | "yes" | "on" | "ldaps") => TlsMode::Ldaps,
        Some("starttls") => TlsMode::StartTls,
        Some(other) => {
            return Err(ConfigError::invalid(
                key("connection.tls"),
                format!(
                    "unknown value `{other}`; expected `false` (plain LDAP), `true` (LDAPS) or \
                     `starttls`"
                ),
            ));
        }
    };
    config.port = match raw.port {
        None => config.tls.default_port(),
        Some(Int(0)) => {
            return Err(ConfigError::invalid(
                key("connection.port"),
                "must be 1 to 65535",
            ));
        }
        Some(Int(port)) => port,
    };
    config.ca_file = text(raw.ca_file).map(PathBuf::from);
    if config.ca_file.is_some() && config.tls == TlsMode::None {
        return Err(ConfigError::invalid(
            key("connection.caFile"),
            "a CA file is only used with TLS: set connection.tls to `true` (LDAPS) or `starttls`",
        ));
    }
    credentials(raw.bind_dn, raw.bind_password, config, key)?;
    config.base_dns = base_dns(raw.base_dns, raw.base_dn, key)?;
    if let Some(Lifetime(timeout)) = raw.connect_timeout {
        config.connect_timeout = timeout;
    }
    if let Some(Lifetime(timeout)) = raw.operation_timeout {
        config.operation_timeout = timeout;
    }
    match raw.page_size {
        Some(Int(0)) => {
            return Err(ConfigError::invalid(
                key("connection.pageSize"),
                "must be at least 1 (Active Directory returns at most 1000 entries a page)",
            ));
        }
        Some(Int(size)) => config.page_size = size,
        None => {}
    }
    Ok(())
}

/// `<section>.connection.bindDn` and `.bindPassword` into `config`: both or neither.
fn credentials(
    bind_dn: Option<Text>,
    bind_password: Option<Text>,
    config: &mut LdapConfig,
    key: &dyn Fn(&str) -> String,
) -> Result<(), ConfigError> {
    config.bind_dn = text(bind_dn).unwrap_or_default();
    // The password is taken as written (spaces included), blank meaning none.
    let password = bind_password
        .map(|Text(p)| p)
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_default();
    match (config.bind_dn.is_empty(), password.is_empty()) {
        (false, true) => {
            return Err(ConfigError::missing(
                key("connection.bindPassword"),
                "connection.bindDn is set: give its password (a DN with an empty password is an \
                 unauthenticated bind, which directories accept as anonymous), or remove \
                 bindDn to bind anonymously",
            ));
        }
        (true, false) => {
            return Err(ConfigError::missing(
                key("connection.bindDn"),
                "connection.bindPassword is set: give the DN it belongs to, or remove the \
                 password to bind anonymously",
            ));
        }
        _ => {}
    }
    config.bind_password = BindPassword::new(password);
    Ok(())
}

/// `<section>.connection.baseDNs`, with ma1sd's older `baseDn`: at least one.
fn base_dns(
    base_dns: Option<Vec<Text>>,
    base_dn: Option<Text>,
    key: &dyn Fn(&str) -> String,
) -> Result<Vec<String>, ConfigError> {
    // ma1sd adds the older single `baseDn` to the list.
    let mut base_dns: Vec<String> = base_dns
        .unwrap_or_default()
        .into_iter()
        .filter_map(|dn| text(Some(dn)))
        .collect();
    if let Some(dn) = text(base_dn)
        && !base_dns.contains(&dn)
    {
        base_dns.push(dn);
    }
    if base_dns.is_empty() {
        return Err(ConfigError::missing(
            key("connection.baseDNs"),
            "at least one base DN is required: the subtrees searched, e.g. \
             ['ou=people,dc=example,dc=org'] (ma1sd's older connection.baseDn works too)",
        ));
    }
    Ok(base_dns)
}

/// `<section>.attribute.*` into `config`.
fn attributes(
    raw: RawAttribute,
    config: &mut LdapConfig,
    key: &dyn Fn(&str) -> String,
) -> Result<(), ConfigError> {
    let uid = raw.uid.unwrap_or_default();
    config.uid_type = match text(uid.kind).map(|k| k.to_ascii_lowercase()).as_deref() {
        None | Some("uid") => UidType::Uid,
        Some("mxid") => UidType::Mxid,
        Some(other) => {
            return Err(ConfigError::invalid(
                key("attribute.uid.type"),
                format!("unknown type `{other}`; expected `uid` (a localpart) or `mxid`"),
            ));
        }
    };
    if let Some(value) = text(uid.value) {
        config.uid_attribute = attribute_name(value, &key("attribute.uid.value"))?;
    }
    if let Some(name) = text(raw.name) {
        config.name_attribute = attribute_name(name, &key("attribute.name"))?;
    }
    // ma1sd: a written map replaces the default one whole (module docs).
    if let Some(threepid) = raw.threepid {
        config.threepid_attributes = BTreeMap::new();
        for (name, list) in threepid {
            let medium_key = key(&format!("attribute.threepid.{name}"));
            medium(&name, &medium_key)?;
            let list = attribute_list(list, &medium_key)?;
            config.threepid_attributes.insert(name, list);
        }
    }
    Ok(())
}
