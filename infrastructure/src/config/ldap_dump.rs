//! `ldap` and `netiq` in `--dump-config`: ma1sd's keys with every default written out, the bind
//! password masked; it reads back into the same settings.
use std::collections::BTreeMap;

use serde::Serialize;
use verity_adapter_ldap::{TlsMode, UidType};

use crate::config::lenient::format_duration;
use crate::settings::{DirectorySettings, REDACTED};

/// `<section>`: `enabled: false` alone when the directory is off.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LdapDump {
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    on: Option<Enabled>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Enabled {
    #[serde(skip_serializing_if = "String::is_empty")]
    filter: String,
    active_directory: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_domain: Option<String>,
    connection: Connection,
    attribute: Attribute,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<Filter>,
    directory: Directory,
    identity: Identity,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<Filter>,
}

/// `false`/`true` as ma1sd wrote them, or `starttls`.
#[derive(Serialize)]
#[serde(untagged)]
enum Tls {
    Flag(bool),
    Word(&'static str),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    host: String,
    port: u16,
    tls: Tls,
    #[serde(skip_serializing_if = "Option::is_none")]
    ca_file: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    bind_dn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    bind_password: Option<&'static str>,
    #[serde(rename = "baseDNs")]
    base_dns: Vec<String>,
    connect_timeout: String,
    operation_timeout: String,
    page_size: u32,
}

#[derive(Serialize)]
struct Attribute {
    uid: Uid,
    name: String,
    threepid: BTreeMap<String, Vec<String>>,
}

#[derive(Serialize)]
struct Uid {
    #[serde(rename = "type")]
    kind: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Filter {
    filter: String,
}

#[derive(Serialize)]
struct Directory {
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<String>,
    attribute: DirectoryAttribute,
}

#[derive(Serialize)]
struct DirectoryAttribute {
    other: Vec<String>,
}

#[derive(Serialize)]
struct Identity {
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<String>,
    token: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    medium: BTreeMap<String, String>,
    lookup: bool,
    priority: i32,
    refresh: String,
}

/// `<section>` from its settings.
pub fn dump(settings: Option<&DirectorySettings>) -> LdapDump {
    let Some(DirectorySettings { config, refresh }) = settings else {
        return LdapDump {
            enabled: false,
            on: None,
        };
    };
    let filter = |value: &Option<String>| value.clone().map(|filter| Filter { filter });
    LdapDump {
        enabled: true,
        on: Some(Enabled {
            filter: config.filter.clone(),
            active_directory: config.active_directory,
            default_domain: config.default_domain.clone(),
            connection: Connection {
                host: config.host.clone(),
                port: config.port,
                tls: match config.tls {
                    TlsMode::None => Tls::Flag(false),
                    TlsMode::Ldaps => Tls::Flag(true),
                    TlsMode::StartTls => Tls::Word("starttls"),
                },
                ca_file: config
                    .ca_file
                    .as_ref()
                    .map(|path| path.to_string_lossy().into_owned()),
                bind_dn: config.bind_dn.clone(),
                bind_password: (!config.bind_password.is_empty()).then_some(REDACTED),
                base_dns: config.base_dns.clone(),
                connect_timeout: format_duration(config.connect_timeout),
                operation_timeout: format_duration(config.operation_timeout),
                page_size: config.page_size,
            },
            attribute: Attribute {
                uid: Uid {
                    kind: match config.uid_type {
                        UidType::Uid => "uid",
                        UidType::Mxid => "mxid",
                    },
                    value: config.uid_attribute.clone(),
                },
                name: config.name_attribute.clone(),
                threepid: config.threepid_attributes.clone(),
            },
            auth: filter(&config.auth_filter),
            directory: Directory {
                filter: config.directory_filter.clone(),
                attribute: DirectoryAttribute {
                    other: config.directory_other_attributes.clone(),
                },
            },
            identity: Identity {
                filter: config.identity_filter.clone(),
                token: config.identity_token.clone(),
                medium: config.identity_queries.clone(),
                lookup: config.hash_lookup,
                priority: config.priority,
                refresh: format_duration(*refresh),
            },
            profile: filter(&config.profile_filter),
        }),
    }
}
