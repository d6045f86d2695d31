//! Sydent 2.6.1's `sydent.conf` (INI, read by Python's `configparser`) into a typed
//! [`SydentConf`], and the equivalent Verity YAML ([`verity_yaml`]).
//!
//! Values are resolved exactly as Sydent resolves them: its built-in defaults
//! (`sydent/config/__init__.py`'s `CONFIG_DEFAULTS`) sit in the named sections, the file's
//! sections override them, and the file's `[DEFAULT]` section only counts for options Sydent has
//! no default for (so a `server.name` written under `[DEFAULT]` is shadowed by Sydent's own empty
//! default, as in Sydent: a warning says so).
use std::fmt;
use std::path::PathBuf;

use verity_domain::{KeyId, SigningKey};

use crate::settings::Secret;

#[path = "sydent_conf_ini.rs"]
mod ini;
#[path = "sydent_conf_templates.rs"]
pub mod templates;
#[path = "sydent_conf_yaml.rs"]
mod yaml;

use ini::Ini;
pub use ini::IniError;
pub use yaml::{
    SydentLocalisedPolicy, SydentPolicy, SydentTerms, YamlExtras, verity_yaml, verity_yaml_with,
};

/// Sydent's built-in defaults (2.6.1), `(section, option, value)`; environment-dependent ones
/// (`server.name`, `pidfile.path`, `db.file`) with the value Sydent uses when the variable is unset.
const DEFAULTS: &[(&str, &str, &str)] = &[
    ("general", "server.name", ""),
    ("general", "log.path", ""),
    ("general", "log.level", "INFO"),
    ("general", "pidfile.path", "sydent.pid"),
    ("general", "terms.path", ""),
    ("general", "address_lookup_limit", "10000"),
    ("general", "templates.path", "res"),
    ("general", "brand.default", "matrix-org"),
    ("general", "enable_v1_associations", "true"),
    ("general", "delete_tokens_on_bind", "true"),
    ("general", "ip.blacklist", ""),
    ("general", "ip.whitelist", ""),
    ("general", "homeserver_allow_list", ""),
    ("general", "enable_v1_access", "true"),
    ("db", "db.file", "sydent.db"),
    ("http", "clientapi.http.bind_address", "::"),
    ("http", "clientapi.http.port", "8090"),
    ("http", "internalapi.http.bind_address", "::1"),
    ("http", "internalapi.http.port", ""),
    ("http", "replication.https.certfile", ""),
    ("http", "replication.https.cacert", ""),
    ("http", "replication.https.bind_address", "::"),
    ("http", "replication.https.port", "4434"),
    ("http", "obey_x_forwarded_for", "False"),
    ("http", "federation.verifycerts", "True"),
    ("http", "client_http_base", ""),
    (
        "email",
        "email.from",
        "Sydent Validation <noreply@{hostname}>",
    ),
    ("email", "email.subject", "Your Validation Token"),
    (
        "email",
        "email.invite.subject",
        "%(sender_display_name)s has invited you to chat",
    ),
    (
        "email",
        "email.invite.subject_space",
        "%(sender_display_name)s has invited you to a space",
    ),
    ("email", "email.smtphost", "localhost"),
    ("email", "email.smtpport", "25"),
    ("email", "email.smtpusername", ""),
    ("email", "email.smtppassword", ""),
    ("email", "email.hostname", ""),
    ("email", "email.tlsmode", "0"),
    (
        "email",
        "email.default_web_client_location",
        "https://app.element.io",
    ),
    ("sms", "bodytemplate", "Your code is {token}"),
    ("sms", "username", ""),
    ("sms", "password", ""),
    ("crypto", "ed25519.signingkey", ""),
];

/// Why `sydent.conf` cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum SydentConfError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not INI as Python's `configparser` reads it.
    #[error("sydent.conf: {0}")]
    Ini(#[from] IniError),
    /// `[crypto] ed25519.signingkey` is empty: Sydent makes and saves one on its first start, so
    /// this is not the file the running Sydent used.
    #[error(
        "sydent.conf: [crypto] ed25519.signingkey is empty: Sydent writes its key there on its first start, so this is not the file your Sydent ran with; point --config at that file (nothing signed by Sydent could be checked with a new key)"
    )]
    MissingSigningKey,
    /// `[crypto] ed25519.signingkey` is not `ed25519 <version> <base64 seed>` (nor the older
    /// 64-hex-digit form). The value itself is never shown.
    #[error("sydent.conf: [crypto] ed25519.signingkey is not a signing key: {0}")]
    BadSigningKey(&'static str),
    /// A value Sydent itself would refuse at start-up.
    #[error("sydent.conf: [{section}] {option}: {why}")]
    Invalid {
        /// The section.
        section: &'static str,
        /// The option.
        option: &'static str,
        /// Why.
        why: String,
    },
}

/// Sydent's `email.tlsmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SydentTls {
    /// Anything but the three words below (Sydent's default `0`): plain SMTP.
    None,
    /// `STARTTLS`: upgrade, required.
    StartTls,
    /// `SSL` or `TLS`: implicit TLS (SMTPS).
    Implicit,
}

/// `[email]`.
#[derive(Debug, Clone)]
pub struct SydentEmail {
    /// `email.smtphost` (default `localhost`).
    pub smtp_host: String,
    /// `email.smtpport` (default `25`).
    pub smtp_port: u16,
    /// `email.smtpusername`; `None` when empty.
    pub smtp_username: Option<String>,
    /// `email.smtppassword`; `None` when empty. Never printed.
    pub smtp_password: Option<Secret>,
    /// `email.tlsmode`.
    pub tls: SydentTls,
    /// `email.hostname`: the SMTP HELO name; `None` when empty (Sydent used its FQDN).
    pub helo_hostname: Option<String>,
    /// `email.from` as written (`Name <address>` or an address).
    pub from: String,
    /// `email.template` (deprecated): the validation email, a path.
    pub template: Option<String>,
    /// `email.invite_template` (deprecated): the invite email, a path.
    pub invite_template: Option<String>,
    /// `email.subject` (read by Sydent, used nowhere).
    pub subject: String,
    /// `email.invite.subject` (raw, `%(sender_display_name)s` not resolved).
    pub invite_subject: String,
    /// `email.invite.subject_space` (raw).
    pub invite_subject_space: String,
    /// `email.default_web_client_location`.
    pub default_web_client_location: String,
    /// Other `email.*` options that were written (blocklists, rate limits, obfuscation), for the
    /// YAML's comments: `(option, value)`.
    pub other: Vec<(String, String)>,
}

/// `[sms]`: Sydent sends SMS through OpenMarket's API.
#[derive(Debug, Clone)]
pub struct SydentSms {
    /// `bodyTemplate` (Python `str.format`, `{token}`).
    pub body_template: String,
    /// `username` (OpenMarket); `None` when empty.
    pub username: Option<String>,
    /// `password` (OpenMarket); `None` when empty. Never printed.
    pub password: Option<Secret>,
    /// `originators.*`, `smsrule.*`, rate limits: `(option, value)`.
    pub other: Vec<(String, String)>,
}

/// `[http]`.
#[derive(Debug, Clone)]
pub struct SydentHttp {
    /// `clientapi.http.bind_address` (default `::`).
    pub bind_address: String,
    /// `clientapi.http.port` (default `8090`).
    pub port: u16,
    /// `client_http_base`: the public base URL of validation links; `None` when empty.
    pub client_http_base: Option<String>,
    /// `verify_response_template` (deprecated): the validation link's page, a path.
    pub verify_response_template: Option<String>,
    /// `federation.verifycerts`.
    pub verify_federation_certs: bool,
    /// `obey_x_forwarded_for`.
    pub obey_x_forwarded_for: bool,
    /// `internalapi.http.port`, when set.
    pub internal_port: Option<u16>,
    /// `replication.https.certfile` is set (Sydent then serves replication).
    pub replication_enabled: bool,
    /// `[peer.<name>]` sections: replication peers.
    pub peers: Vec<String>,
}

/// `[general]`.
#[derive(Debug, Clone)]
pub struct SydentGeneral {
    /// `server.name`; `None` when empty (Sydent then used the machine's host name).
    pub server_name: Option<String>,
    /// `log.level`.
    pub log_level: String,
    /// `log.path`; `None` when empty (stderr).
    pub log_path: Option<String>,
    /// `templates.path` (default `res`).
    pub templates_path: String,
    /// `brand.default` (default `matrix-org`).
    pub brand_default: String,
    /// `terms.path`; `None` when empty (no terms).
    pub terms_path: Option<String>,
    /// `address_lookup_limit`.
    pub address_lookup_limit: u32,
    /// `enable_v1_access`.
    pub enable_v1_access: bool,
    /// `enable_v1_associations` (forced off when `enable_v1_access` is off, as Sydent).
    pub enable_v1_associations: bool,
    /// `delete_tokens_on_bind`.
    pub delete_tokens_on_bind: bool,
    /// `ip.blacklist`, comma-separated, as written.
    pub ip_blacklist: Vec<String>,
    /// `ip.whitelist`.
    pub ip_whitelist: Vec<String>,
    /// `homeserver_allow_list`.
    pub homeserver_allow_list: Vec<String>,
    /// Other `[general]` options that were written (`prometheus_*`, `sentry_dsn`,
    /// `pidfile.path`): `(option, value)`, `sentry_dsn`'s value hidden.
    pub other: Vec<(String, String)>,
}

/// Sydent's configuration, as Sydent 2.6.1 resolves it.
#[derive(Clone)]
pub struct SydentConf {
    /// `[general]`.
    pub general: SydentGeneral,
    /// `[db] db.file`.
    pub database_path: String,
    /// `[crypto] ed25519.signingkey`, with its id (`ed25519:0`).
    pub signing_key: SigningKey,
    /// `[email]`.
    pub email: SydentEmail,
    /// `[sms]`.
    pub sms: SydentSms,
    /// `[http]`.
    pub http: SydentHttp,
    /// Sections Sydent does not read, and `[DEFAULT]` options it never sees: for the YAML's
    /// comments.
    pub warnings: Vec<String>,
}

impl fmt::Debug for SydentConf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `SigningKey`'s Debug hides the seed; the secrets are `Secret`s.
        f.debug_struct("SydentConf")
            .field("general", &self.general)
            .field("database_path", &self.database_path)
            .field("signing_key", &self.signing_key)
            .field("email", &self.email)
            .field("sms", &self.sms)
            .field("http", &self.http)
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// Sydent's view of the file: its defaults, overridden by the file's sections.
struct Resolved {
    ini: Ini,
}

impl Resolved {
    fn new(mut ini: Ini) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        for (section, option, value) in DEFAULTS {
            let table = ini.sections.entry((*section).to_owned()).or_default();
            if !table.contains_key(*option) {
                if let Some(shadowed) = ini.defaults.get(*option)
                    && shadowed != value
                {
                    warnings.push(format!(
                        "[DEFAULT] {option} is not read by Sydent 2.6.1 (its own default for [{section}] wins): the value used is {value:?}; move it to [{section}] in sydent.conf if you meant it"
                    ));
                }
                table.insert((*option).to_owned(), (*value).to_owned());
            }
        }
        for section in ini.sections.keys() {
            let known = ["general", "db", "http", "email", "sms", "crypto"];
            if !known.contains(&section.as_str()) && !section.starts_with("peer.") {
                warnings.push(format!("[{section}] is not a section Sydent reads"));
            }
        }
        (Self { ini }, warnings)
    }

    fn get(&self, section: &str, option: &str) -> Result<String, IniError> {
        Ok(self.ini.get(section, option)?.unwrap_or_default())
    }

    fn optional(&self, section: &str, option: &str) -> Result<Option<String>, IniError> {
        Ok(self.ini.get(section, option)?.filter(|v| !v.is_empty()))
    }

    fn raw(&self, section: &str, option: &str) -> String {
        self.ini.raw(section, option).unwrap_or_default().to_owned()
    }

    /// The options of `section` outside `known`, `(option, value)`.
    fn others(&self, section: &str, known: &[&str]) -> Vec<(String, String)> {
        let defaults: Vec<&str> = DEFAULTS
            .iter()
            .filter(|(s, _, _)| *s == section)
            .map(|(_, o, _)| *o)
            .collect();
        self.ini
            .sections
            .get(section)
            .into_iter()
            .flatten()
            .filter(|(option, _)| {
                !known.contains(&option.as_str()) && !defaults.contains(&option.as_str())
            })
            .map(|(option, value)| (option.clone(), value.clone()))
            .collect()
    }
}

impl SydentConf {
    /// Reads `sydent.conf` from disk.
    ///
    /// # Errors
    /// [`SydentConfError::Read`], and every error of [`SydentConf::parse`].
    pub fn load(path: &std::path::Path) -> Result<Self, SydentConfError> {
        let text = std::fs::read_to_string(path).map_err(|source| SydentConfError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Reads the text of a `sydent.conf`.
    ///
    /// # Errors
    /// [`SydentConfError::Ini`] for text Python's `configparser` refuses,
    /// [`SydentConfError::MissingSigningKey`] / [`SydentConfError::BadSigningKey`] for the key,
    /// [`SydentConfError::Invalid`] for a value Sydent refuses at start-up (a port that is not a
    /// number...).
    pub fn parse(text: &str) -> Result<Self, SydentConfError> {
        let (conf, mut warnings) = Resolved::new(Ini::parse(text)?);
        let signing_key = signing_key(&conf.get("crypto", "ed25519.signingkey")?)?;
        let general = general(&conf)?;
        let email = email(&conf)?;
        let sms = SydentSms {
            body_template: conf.get("sms", "bodytemplate")?,
            username: conf.optional("sms", "username")?,
            password: conf.optional("sms", "password")?.map(Secret::new),
            other: conf.others("sms", &[]),
        };
        let http = http(&conf)?;
        if general.server_name.is_none() {
            warnings.push("[general] server.name is empty: Sydent used the machine's host name; set matrix.domain and server.name below".to_owned());
        }
        Ok(Self {
            general,
            database_path: conf.get("db", "db.file")?,
            signing_key,
            email,
            sms,
            http,
            warnings,
        })
    }
}

fn invalid(section: &'static str, option: &'static str, why: String) -> SydentConfError {
    SydentConfError::Invalid {
        section,
        option,
        why,
    }
}

fn number<T: std::str::FromStr>(
    conf: &Resolved,
    section: &'static str,
    option: &'static str,
) -> Result<T, SydentConfError> {
    let value = conf.get(section, option)?;
    value
        .trim()
        .parse()
        .map_err(|_| invalid(section, option, format!("{value:?} is not a number")))
}

/// Python's `getboolean` (`1/yes/true/on`, `0/no/false/off`, any case).
fn boolean(
    conf: &Resolved,
    section: &'static str,
    option: &'static str,
) -> Result<bool, SydentConfError> {
    let value = conf.get(section, option)?;
    match value.to_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Ok(true),
        "0" | "no" | "false" | "off" => Ok(false),
        _ => Err(invalid(
            section,
            option,
            format!("{value:?} is not a boolean"),
        )),
    }
}

/// Sydent's `parse_cfg_bool`: only `true` (any case) is true.
fn sydent_bool(conf: &Resolved, section: &str, option: &str) -> Result<bool, IniError> {
    Ok(conf.get(section, option)?.eq_ignore_ascii_case("true"))
}

fn list(conf: &Resolved, section: &str, option: &str) -> Result<Vec<String>, IniError> {
    let raw = conf.get(section, option)?;
    Ok(if raw.is_empty() {
        Vec::new()
    } else {
        raw.split(',').map(|item| item.trim().to_owned()).collect()
    })
}

fn general(conf: &Resolved) -> Result<SydentGeneral, SydentConfError> {
    let enable_v1_access = sydent_bool(conf, "general", "enable_v1_access")?;
    let homeserver_allow_list = list(conf, "general", "homeserver_allow_list")?;
    if !homeserver_allow_list.is_empty() && enable_v1_access {
        return Err(invalid(
            "general",
            "homeserver_allow_list",
            "Sydent refuses to start with an allow list while enable_v1_access is true".to_owned(),
        ));
    }
    let mut other = conf.others("general", &[]);
    for (option, value) in &mut other {
        if option == "sentry_dsn" {
            *value = "<redacted>".to_owned();
        }
    }
    let pidfile = conf.get("general", "pidfile.path")?;
    if pidfile != "sydent.pid" {
        other.push(("pidfile.path".to_owned(), pidfile));
    }
    Ok(SydentGeneral {
        server_name: conf.optional("general", "server.name")?,
        log_level: conf.get("general", "log.level")?,
        log_path: conf.optional("general", "log.path")?,
        templates_path: conf.get("general", "templates.path")?,
        brand_default: conf.get("general", "brand.default")?,
        terms_path: conf.optional("general", "terms.path")?,
        address_lookup_limit: number(conf, "general", "address_lookup_limit")?,
        enable_v1_associations: enable_v1_access
            && sydent_bool(conf, "general", "enable_v1_associations")?,
        enable_v1_access,
        delete_tokens_on_bind: sydent_bool(conf, "general", "delete_tokens_on_bind")?,
        ip_blacklist: list(conf, "general", "ip.blacklist")?,
        ip_whitelist: list(conf, "general", "ip.whitelist")?,
        homeserver_allow_list,
        other,
    })
}

fn email(conf: &Resolved) -> Result<SydentEmail, SydentConfError> {
    let tls = match conf.get("email", "email.tlsmode")?.as_str() {
        "SSL" | "TLS" => SydentTls::Implicit,
        "STARTTLS" => SydentTls::StartTls,
        _ => SydentTls::None,
    };
    Ok(SydentEmail {
        smtp_host: conf.get("email", "email.smtphost")?,
        smtp_port: number(conf, "email", "email.smtpport")?,
        smtp_username: conf.optional("email", "email.smtpusername")?,
        smtp_password: conf
            .optional("email", "email.smtppassword")?
            .map(Secret::new),
        tls,
        helo_hostname: conf.optional("email", "email.hostname")?,
        from: conf.get("email", "email.from")?,
        template: conf.optional("email", "email.template")?,
        invite_template: conf.optional("email", "email.invite_template")?,
        subject: conf.get("email", "email.subject")?,
        invite_subject: conf.raw("email", "email.invite.subject"),
        invite_subject_space: conf.raw("email", "email.invite.subject_space"),
        default_web_client_location: conf.get("email", "email.default_web_client_location")?,
        other: conf.others("email", &["email.template", "email.invite_template"]),
    })
}

fn http(conf: &Resolved) -> Result<SydentHttp, SydentConfError> {
    let internal = conf.get("http", "internalapi.http.port")?;
    let internal_port = if internal.is_empty() {
        None
    } else {
        Some(number(conf, "http", "internalapi.http.port")?)
    };
    Ok(SydentHttp {
        bind_address: conf.get("http", "clientapi.http.bind_address")?,
        port: number(conf, "http", "clientapi.http.port")?,
        client_http_base: conf.optional("http", "client_http_base")?,
        verify_response_template: conf.optional("http", "verify_response_template")?,
        verify_federation_certs: boolean(conf, "http", "federation.verifycerts")?,
        obey_x_forwarded_for: boolean(conf, "http", "obey_x_forwarded_for")?,
        internal_port,
        replication_enabled: !conf.get("http", "replication.https.certfile")?.is_empty(),
        peers: conf
            .ini
            .sections
            .keys()
            .filter_map(|s| s.strip_prefix("peer."))
            .map(str::to_owned)
            .collect(),
    })
}

/// `ed25519 <version> <unpadded base64 seed>` (what Sydent writes), or the older single 64-digit
/// hex seed that Sydent rewrites as version `0`. The key id is `ed25519:<version>`.
fn signing_key(value: &str) -> Result<SigningKey, SydentConfError> {
    let parts: Vec<&str> = value.split(' ').collect();
    match parts.as_slice() {
        [""] => Err(SydentConfError::MissingSigningKey),
        [hex] => {
            let seed = decode_hex_seed(hex).ok_or(SydentConfError::BadSigningKey(
                "a one-part key must be 64 hexadecimal digits (Sydent's old format)",
            ))?;
            let id = KeyId::from_identifier("0")
                .map_err(|_| SydentConfError::BadSigningKey("bad key version"))?;
            Ok(SigningKey::from_seed(id, &seed))
        }
        [algorithm, version, seed, ..] => {
            if *algorithm != "ed25519" {
                return Err(SydentConfError::BadSigningKey(
                    "the algorithm must be ed25519",
                ));
            }
            let id = KeyId::from_identifier(version).map_err(|_| {
                SydentConfError::BadSigningKey("the version must be letters, digits or '_'")
            })?;
            SigningKey::from_base64_seed(id, seed).map_err(|_| {
                SydentConfError::BadSigningKey("the seed is not the base64 encoding of 32 bytes")
            })
        }
        _ => Err(SydentConfError::BadSigningKey(
            "expected `ed25519 <version> <base64 seed>`",
        )),
    }
}

fn decode_hex_seed(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 || !bytes.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut seed = [0_u8; 32];
    for (out, pair) in seed.iter_mut().zip(bytes.chunks(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *out = u8::from_str_radix(text, 16).ok()?;
    }
    Some(seed)
}

#[cfg(test)]
#[path = "sydent_conf_tests.rs"]
mod tests;
