//! The effective configuration as YAML, for `--dump-config`.
//!
//! Written with the mxisd key names so the output can be compared with, or pasted into, the
//! operator's file; it parses back into the same settings. Secrets are replaced by `<redacted>`.
//! `threepid`, `dns` and `federation` are rendered by `dump_threepid`.
use std::collections::BTreeMap;

use serde::Serialize;
use url::Url;
use verity_application::usecases::AccountSettings;
use verity_domain::{ScopePolicy, TermsPolicy, ValidationPolicy};

use super::dump_threepid::{self, Dns, Federation, Threepid};
use super::invites::{self, InviteDump};
use super::ldap::{self, LdapDump};
use super::lenient::{format_duration, percent_decode};
use super::lookup::{self, LookupsDump};
use super::recursive::{self, ForwardDump};
use super::synapse::{self, SynapseSqlDump};
use super::view::{self, ViewDump};

use crate::settings::{LogFormat, REDACTED, Settings, StorageSettings};

/// Renders `settings` as a complete YAML configuration file, defaults included and every secret
/// shown as `<redacted>`.
pub fn effective_yaml(settings: &Settings) -> String {
    let header = "# Effective Verity configuration: every default filled in, secrets shown as \
                  <redacted>.\n";
    match serde_norway::to_string(&Document::from(settings)) {
        Ok(yaml) => format!("{header}{yaml}"),
        // Plain structs of strings, numbers and maps always serialize; say so rather than panic.
        Err(e) => format!("{header}# the configuration could not be rendered: {e}\n"),
    }
}

#[derive(Serialize)]
struct Document<'a> {
    matrix: Matrix<'a>,
    server: Server<'a>,
    key: Key,
    storage: Storage,
    session: Session<'a>,
    logging: Logging<'a>,
    #[serde(rename = "accountConfig")]
    account_config: AccountConfig,
    policy: PolicySection<'a>,
    threepid: Threepid,
    dns: Dns,
    federation: Federation,
    #[serde(rename = "synapseSql")]
    synapse_sql: SynapseSqlDump,
    ldap: LdapDump,
    netiq: LdapDump,
    exec: super::exec::ExecDump,
    rest: super::rest::RestDump,
    sql: super::sql::SqlDump,
    /// `bindings`, `hashing`, `memory`, `lookup`.
    #[serde(flatten)]
    lookups: LookupsDump,
    invite: InviteDump,
    forward: ForwardDump,
    view: ViewDump,
    ratelimit: super::ratelimit::RatelimitDump,
    register: super::register::RegisterDump,
    directory: super::user_directory::DirectoryDump,
}

#[derive(Serialize)]
struct Matrix<'a> {
    domain: &'a str,
    identity: Identity<'a>,
    v1: bool,
    v2: bool,
}

#[derive(Serialize)]
struct Identity<'a> {
    servers: BTreeMap<&'a str, &'a [String]>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Server<'a> {
    name: &'a str,
    hostname: &'a str,
    port: u16,
    public_url: &'a str,
    max_body_size: usize,
    trusted_proxies: Vec<String>,
    internal: super::internal::InternalDump,
    metrics: super::metrics::MetricsDump,
}

#[derive(Serialize)]
struct Key {
    path: String,
}

#[derive(Serialize)]
struct Storage {
    backend: &'static str,
    provider: Provider,
}

/// Not an enum: serde_norway writes enum variants as YAML tags (`!sqlite`), which mxisd files
/// never contain.
#[derive(Serialize)]
struct Provider {
    #[serde(skip_serializing_if = "Option::is_none")]
    sqlite: Option<Sqlite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    postgresql: Option<Postgresql>,
}

#[derive(Serialize)]
struct Sqlite {
    database: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Postgresql {
    database: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'static str>,
    max_connections: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Session<'a> {
    policy: Policy,
    lifetime: String,
    max_failed_attempts: u32,
    next_link: NextLink<'a>,
}

#[derive(Serialize)]
struct NextLink<'a> {
    allowed: &'a [String],
}

#[derive(Serialize)]
struct Policy {
    validation: Validation,
    unbind: Unbind,
}

#[derive(Serialize)]
struct Unbind {
    enabled: bool,
    notifications: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Validation {
    enabled: bool,
    for_local: Scope,
    for_remote: Scope,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Scope {
    enabled: bool,
    to_local: bool,
    to_remote: Remote,
}

#[derive(Serialize)]
struct Remote {
    enabled: bool,
    server: String,
}

#[derive(Serialize)]
struct Logging<'a> {
    /// Left out when the file does not set it: it then follows `-v` and the environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<&'a str>,
    app: &'a str,
    format: LogFormat,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountConfig {
    allow_only_trust_domains: bool,
    /// `null` (until logout) is written out rather than left out, so the key shows.
    token_lifetime: Option<String>,
    cache_lifetime: String,
}

#[derive(Serialize)]
struct PolicySection<'a> {
    policies: BTreeMap<&'a str, TermsEntry<'a>>,
}

#[derive(Serialize)]
struct TermsEntry<'a> {
    version: &'a str,
    terms: BTreeMap<&'a str, Terms<'a>>,
}

#[derive(Serialize)]
struct Terms<'a> {
    name: &'a str,
    url: &'a str,
}

impl<'a> From<&'a Settings> for Document<'a> {
    fn from(s: &'a Settings) -> Self {
        Self {
            matrix: Matrix {
                domain: s.matrix.domain.as_str(),
                identity: Identity {
                    servers: s
                        .matrix
                        .identity_servers
                        .iter()
                        .map(|(label, list)| (label.as_str(), list.as_slice()))
                        .collect(),
                },
                v1: s.http.v1,
                v2: s.http.v2,
            },
            server: Server {
                name: &s.server.name,
                hostname: &s.server.hostname,
                port: s.server.port,
                public_url: &s.server.public_url,
                max_body_size: s.http.max_body_bytes,
                trusted_proxies: s
                    .ratelimit
                    .trusted_proxies
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                internal: super::internal::dump(&s.server.internal),
                metrics: super::metrics::dump(&s.server.metrics),
            },
            key: Key {
                path: s.key.path.to_string_lossy().into_owned(),
            },
            storage: storage(&s.storage),
            session: Session {
                policy: Policy {
                    validation: validation(&s.session.validation.policy),
                    unbind: Unbind {
                        enabled: s.session.association.unbind_enabled,
                        notifications: s.lookups.unbind_notifications,
                    },
                },
                lifetime: format_duration(s.session.validation.rules.lifetime),
                max_failed_attempts: s.session.validation.rules.max_failed_attempts,
                next_link: NextLink {
                    allowed: &s.session.next_link_allowed,
                },
            },
            logging: Logging {
                root: s.logging.root.as_deref(),
                app: s.logging.app(),
                format: s.logging.format,
            },
            account_config: account_config(&s.accounts),
            policy: PolicySection {
                policies: s
                    .accounts
                    .policies
                    .iter()
                    .map(|policy| (policy.name.as_str(), terms_entry(policy)))
                    .collect(),
            },
            threepid: dump_threepid::threepid(&s.threepid),
            dns: dump_threepid::dns(&s.federation, &s.user_directory.client_overrides),
            federation: dump_threepid::federation(&s.federation),
            synapse_sql: synapse::dump(s.synapse_sql.as_ref(), s.lookups.priorities.synapse_sql),
            ldap: ldap::dump(s.ldap.as_ref()),
            netiq: ldap::dump(s.netiq.as_ref()),
            exec: super::exec::dump(
                s.exec.as_ref(),
                s.exec_auth.as_ref(),
                s.user_directory.exec.as_ref(),
                s.exec_profile.as_ref(),
            ),
            rest: super::rest::dump(s.rest.as_ref()),
            sql: super::sql::dump(s.sql.as_ref()),
            invite: invites::dump(&s.invites, &s.invite_sender),
            view: view::dump(&s.views),
            lookups: lookup::dump(&s.lookups),
            forward: recursive::dump(&s.lookups.recursive).1,
            ratelimit: super::ratelimit::dump(&s.ratelimit),
            register: super::register::dump(&s.register),
            directory: super::user_directory::dump(&s.user_directory),
        }
    }
}

fn storage(settings: &StorageSettings) -> Storage {
    match settings {
        StorageSettings::Sqlite { database } => Storage {
            backend: "sqlite",
            provider: Provider {
                sqlite: Some(Sqlite {
                    database: database.to_string_lossy().into_owned(),
                }),
                postgresql: None,
            },
        },
        StorageSettings::Postgresql {
            url,
            max_connections,
        } => Storage {
            backend: "postgresql",
            provider: Provider {
                sqlite: None,
                postgresql: Some(postgresql(url.expose(), *max_connections)),
            },
        },
    }
}

/// Splits the connection URL back into ma1sd's keys: `//host[:port]/db[?params]`, `username`,
/// and `password` (masked).
fn postgresql(url: &str, max_connections: u32) -> Postgresql {
    let Ok(mut parsed) = Url::parse(url) else {
        // Settings only ever hold URLs `storage` built; never print one that failed to parse,
        // it may contain the password.
        return Postgresql {
            database: REDACTED.to_owned(),
            username: String::new(),
            password: Some(REDACTED),
            max_connections,
        };
    };
    let username = percent_decode(parsed.username());
    let password = parsed.password().map(|_| REDACTED);
    // Dropping the user part cannot fail on a URL with a host, the only kind `storage` builds.
    let _ = parsed.set_password(None);
    let _ = parsed.set_username("");
    let database = format!("//{}", &parsed[url::Position::BeforeHost..]);
    Postgresql {
        database,
        username,
        password,
        max_connections,
    }
}

fn validation(policy: &ValidationPolicy) -> Validation {
    Validation {
        enabled: policy.enabled,
        for_local: scope(&policy.for_local),
        for_remote: scope(&policy.for_remote),
    }
}

fn scope(rules: &ScopePolicy) -> Scope {
    Scope {
        enabled: rules.enabled,
        to_local: rules.to_local,
        to_remote: Remote {
            enabled: rules.to_remote.enabled,
            server: rules.to_remote.server.as_str().to_owned(),
        },
    }
}

fn account_config(accounts: &AccountSettings) -> AccountConfig {
    AccountConfig {
        allow_only_trust_domains: accounts.allow_only_trusted_domain,
        token_lifetime: accounts.token_lifetime.map(format_duration),
        cache_lifetime: format_duration(accounts.cache_lifetime),
    }
}

fn terms_entry(policy: &TermsPolicy) -> TermsEntry<'_> {
    TermsEntry {
        version: &policy.version,
        terms: policy
            .translations
            .iter()
            .map(|(language, document)| {
                (
                    language.as_str(),
                    Terms {
                        name: &document.name,
                        url: &document.url,
                    },
                )
            })
            .collect(),
    }
}
