//! Sydent 2.6.1's `sydent.conf` (INI, read by Python's `configparser`) into a typed
//! [`SydentConf`], and the equivalent Verity YAML ([`verity_yaml`]).
//!
//! Values are resolved exactly as Sydent resolves them: its built-in defaults
//! (`sydent/config/__init__.py`'s `CONFIG_DEFAULTS`) sit in the named sections, the file's
//! sections override them, and the file's `[DEFAULT]` section only counts for options Sydent has
//! no default for (an `email.smtphost` written under `[DEFAULT]` is shadowed by Sydent's own
//! default, as in Sydent: a warning says so). The exception: `server.name`, `db.file` and
//! `pidfile.path`, whose defaults Sydent takes from the environment (`SYDENT_SERVER_NAME`...) and
//! writes under `[DEFAULT]` on its first start, are taken from there, with a warning to check.
//! Checked against real Sydent 2.6.1's `SydentConfig` on the same files.
use std::fmt;
use std::path::PathBuf;

use verity_domain::SigningKey;

use crate::settings::Secret;

#[path = "sydent_conf_extras.rs"]
mod extras;
#[path = "sydent_conf_ini.rs"]
mod ini;
#[path = "sydent_conf_read.rs"]
mod read;
#[path = "sydent_conf_templates.rs"]
pub mod templates;
#[path = "sydent_conf_terms.rs"]
mod terms;
#[path = "sydent_conf_yaml.rs"]
mod yaml;

pub use extras::TEMPLATES_DIR;
use ini::Ini;
pub use ini::IniError;
use read::{Resolved, email, general, http, signing_key};
pub use terms::{SydentLocalisedPolicy, SydentPolicy, SydentTerms};
pub use yaml::{YamlExtras, verity_yaml, verity_yaml_with};

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
    /// `internalapi.http.port`, when set (Sydent's internal bind API is then served).
    pub internal_port: Option<u16>,
    /// `internalapi.http.bind_address` (default `::1`).
    pub internal_bind_address: String,
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

#[cfg(test)]
#[path = "sydent_conf_tests.rs"]
mod tests;
