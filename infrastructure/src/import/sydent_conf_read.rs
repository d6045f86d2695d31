//! How Sydent 2.6.1 resolves each value of `sydent.conf`: its defaults, its boolean and list
//! rules, the signing key's two formats.
use verity_domain::{KeyId, SigningKey};

use super::ini::{Ini, IniError};
use super::{SydentConfError, SydentEmail, SydentGeneral, SydentHttp, SydentTls};
use crate::settings::Secret;

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

/// The environment variable Sydent takes an option's default from.
fn environment_variable(option: &str) -> Option<&'static str> {
    match option {
        "server.name" => Some("SYDENT_SERVER_NAME"),
        "db.file" => Some("SYDENT_DB_PATH"),
        "pidfile.path" => Some("SYDENT_PID_FILE"),
        _ => None,
    }
}

/// Sydent's view of the file: its defaults, overridden by the file's sections.
pub(super) struct Resolved {
    pub(super) ini: Ini,
}

impl Resolved {
    pub(super) fn new(mut ini: Ini) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        for (section, option, value) in DEFAULTS {
            let table = ini.sections.entry((*section).to_owned()).or_default();
            if table.contains_key(*option) {
                continue;
            }
            let in_default = ini.defaults.get(*option).filter(|v| *v != value);
            let used = match (in_default, environment_variable(option)) {
                // Sydent's default for this option is the environment variable's value, and the
                // file Sydent writes on its first start has it under [DEFAULT]: Sydent's Docker
                // image runs so (SYDENT_SERVER_NAME, SYDENT_DB_PATH, SYDENT_PID_FILE).
                (Some(written), Some(variable)) => {
                    warnings.push(format!(
                        "[{section}] {option} is taken from [DEFAULT] ({written}): Sydent used it if {variable} was set to it when it ran (as its Docker image does), otherwise {value:?}; CHECK"
                    ));
                    written.clone()
                }
                (Some(_), None) => {
                    warnings.push(format!(
                        "[DEFAULT] {option} is not read by Sydent 2.6.1 (its own default for [{section}] wins): the value used is {value:?}; move it to [{section}] in sydent.conf if you meant it"
                    ));
                    (*value).to_owned()
                }
                (None, _) => (*value).to_owned(),
            };
            table.insert((*option).to_owned(), used);
        }
        for section in ini.sections.keys() {
            let known = ["general", "db", "http", "email", "sms", "crypto"];
            if !known.contains(&section.as_str()) && !section.starts_with("peer.") {
                warnings.push(format!("[{section}] is not a section Sydent reads"));
            }
        }
        (Self { ini }, warnings)
    }

    pub(super) fn get(&self, section: &str, option: &str) -> Result<String, IniError> {
        Ok(self.ini.get(section, option)?.unwrap_or_default())
    }

    pub(super) fn optional(&self, section: &str, option: &str) -> Result<Option<String>, IniError> {
        Ok(self.ini.get(section, option)?.filter(|v| !v.is_empty()))
    }

    fn raw(&self, section: &str, option: &str) -> String {
        self.ini.raw(section, option).unwrap_or_default().to_owned()
    }

    /// The options of `section` outside `known`, `(option, value)`.
    pub(super) fn others(&self, section: &str, known: &[&str]) -> Vec<(String, String)> {
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

pub(super) fn general(conf: &Resolved) -> Result<SydentGeneral, SydentConfError> {
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

pub(super) fn email(conf: &Resolved) -> Result<SydentEmail, SydentConfError> {
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

pub(super) fn http(conf: &Resolved) -> Result<SydentHttp, SydentConfError> {
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
        internal_bind_address: conf.get("http", "internalapi.http.bind_address")?,
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
pub(super) fn signing_key(value: &str) -> Result<SigningKey, SydentConfError> {
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
