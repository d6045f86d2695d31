//! `threepid.medium.<medium>` -> [`ThreepidSettings`]: each medium's generator and connector,
//! with mxisd's keys (see docs/connectors.md and docs/templates.md); and the warnings about
//! blocks that have no effect (a connector the medium does not use, `notification.handler`).
use std::path::PathBuf;

use url::Url;
use verity_adapter_notify::{
    FileConfig, GenericTemplates, PlaceholderValues, SenderIdentity, SessionTemplates, SmtpConfig,
    SplitValidationTemplates, TemplateConfig, TlsMode, TwilioConfig, UnbindTemplates,
    ValidationTemplates,
};

use super::error::{ConfigError, ConfigWarning};
use super::lenient::{Flag, Int, Text, text};
use super::raw::{RawConfig, RawEmail, RawMsisdn, RawSmtp};
use crate::settings::{ConnectorSettings, MediumSettings, ThreepidSettings};

const EMAIL: &str = "threepid.medium.email";
const MSISDN: &str = "threepid.medium.msisdn";
/// The one generator mxisd had, and Verity has.
const TEMPLATE: &str = "template";
const SMTP: &str = "smtp";
const TWILIO: &str = "twilio";
const FILE: &str = "file";
const NONE: &str = "none";
const EMAIL_CONNECTORS: &[&str] = &[SMTP, FILE, NONE];
const MSISDN_CONNECTORS: &[&str] = &[TWILIO, FILE, NONE];
/// mxisd's only generic handler: a generator plus a connector, what Verity always does.
const RAW_HANDLER: &str = "raw";

pub fn resolve(email: RawEmail, msisdn: RawMsisdn) -> Result<ThreepidSettings, ConfigError> {
    Ok(ThreepidSettings {
        email: self::email(email)?,
        msisdn: self::msisdn(msisdn)?,
    })
}

fn email(raw: RawEmail) -> Result<MediumSettings, ConfigError> {
    generator(raw.generator, EMAIL)?;
    let identity = raw.identity.unwrap_or_default();
    let generator = template(raw.generators.template);
    let connector = match connector_id(raw.connector, EMAIL, SMTP, EMAIL_CONNECTORS)? {
        FILE => ConnectorSettings::File(file(raw.connectors.file)),
        NONE => ConnectorSettings::None,
        _ => ConnectorSettings::Smtp(smtp(raw.connectors.smtp.unwrap_or_default())?),
    };
    // Building an SMTP connector only fails on what the operator wrote (the sender, a CA file, a
    // template), so anything written besides the defaults makes its failure a start-up error.
    let configured = match &connector {
        ConnectorSettings::Smtp(config) => {
            *config != SmtpConfig::default()
                || identity != SenderIdentity::default()
                || generator != TemplateConfig::default()
        }
        _ => true,
    };
    Ok(MediumSettings {
        configured,
        identity,
        generator,
        connector,
    })
}

fn msisdn(raw: RawMsisdn) -> Result<MediumSettings, ConfigError> {
    generator(raw.generator, MSISDN)?;
    let (configured, connector) =
        match connector_id(raw.connector, MSISDN, TWILIO, MSISDN_CONNECTORS)? {
            FILE => (true, ConnectorSettings::File(file(raw.connectors.file))),
            NONE => (true, ConnectorSettings::None),
            _ => {
                let config = twilio(raw.connectors.twilio.unwrap_or_default().into())?;
                // mxisd: without credentials SMS is simply unavailable, not a start-up error.
                (!config.is_unset(), ConnectorSettings::Twilio(config))
            }
        };
    Ok(MediumSettings {
        configured,
        identity: SenderIdentity::default(),
        generator: template(raw.generators.template),
        connector,
    })
}

/// Blank template paths mean "the built-in template", as blank values mean "unset" everywhere
/// (the adapter would try to read a file named `''`).
fn template(raw: Option<TemplateConfig>) -> TemplateConfig {
    let set = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
    let TemplateConfig {
        invite,
        session: SessionTemplates { validation, unbind },
        generic: GenericTemplates { matrix_id },
        placeholder: PlaceholderValues { register_url },
    } = raw.unwrap_or_default();
    let UnbindTemplates {
        notification,
        fraudulent,
    } = unbind;
    let validation = match validation {
        Some(ValidationTemplates::Path(path)) => set(Some(path)).map(ValidationTemplates::Path),
        Some(ValidationTemplates::Split(SplitValidationTemplates { local, remote })) => {
            let (local, remote) = (set(local), set(remote));
            (local.is_some() || remote.is_some()).then_some(ValidationTemplates::Split(
                SplitValidationTemplates { local, remote },
            ))
        }
        None => None,
    };
    TemplateConfig {
        invite: set(invite),
        session: SessionTemplates {
            validation,
            unbind: UnbindTemplates {
                notification: set(notification),
                fraudulent: set(fraudulent),
            },
        },
        generic: GenericTemplates {
            matrix_id: set(matrix_id),
        },
        placeholder: PlaceholderValues {
            register_url: set(register_url),
        },
    }
}

/// `generator`: `template` (the default) is the only one.
fn generator(raw: Option<Text>, base: &str) -> Result<(), ConfigError> {
    match text(raw) {
        Some(id) if !id.eq_ignore_ascii_case(TEMPLATE) => Err(ConfigError::invalid(
            format!("{base}.generator"),
            format!("unknown generator `{id}`; Verity has only `{TEMPLATE}` (the default)"),
        )),
        _ => Ok(()),
    }
}

/// `connector`: one of `allowed` (any case), `default` when unset.
fn connector_id(
    raw: Option<Text>,
    base: &str,
    default: &'static str,
    allowed: &[&'static str],
) -> Result<&'static str, ConfigError> {
    let Some(id) = text(raw) else {
        return Ok(default);
    };
    allowed
        .iter()
        .find(|known| id.eq_ignore_ascii_case(known))
        .copied()
        .ok_or_else(|| {
            let medium = base.rsplit('.').next().unwrap_or(base);
            ConfigError::invalid(
                format!("{base}.connector"),
                format!(
                    "unknown connector `{id}` for {medium}; expected one of {}",
                    allowed.join(", ")
                ),
            )
        })
}

/// The mxisd keys and defaults of `SmtpConfig`; blank text means unset, passwords are kept as
/// written.
fn smtp(raw: RawSmtp) -> Result<SmtpConfig, ConfigError> {
    let base = format!("{EMAIL}.connectors.smtp");
    let SmtpConfig {
        host,
        port,
        tls,
        login,
        password,
        insecure_skip_tls_verify,
        tls_ca_file,
    } = SmtpConfig::default();
    let config = SmtpConfig {
        host: text(raw.host).unwrap_or(host),
        port: raw.port.map_or(port, |Int(n)| n),
        tls: raw.tls.map_or(tls, |Int(n)| n),
        login: text(raw.login).or(login),
        password: raw
            .password
            .map(|t| t.0)
            .filter(|p| !p.is_empty())
            .or(password),
        insecure_skip_tls_verify: raw
            .insecure_skip_tls_verify
            .map_or(insecure_skip_tls_verify, |Flag(b)| b),
        tls_ca_file: text(raw.tls_ca_file).map(PathBuf::from).or(tls_ca_file),
    };
    if config.port == 0 {
        return Err(ConfigError::invalid(
            format!("{base}.port"),
            "must be a port number from 1 to 65535",
        ));
    }
    if TlsMode::from_mxisd(config.tls).is_none() {
        return Err(ConfigError::invalid(
            format!("{base}.tls"),
            format!(
                "{} is not one of 0 (no TLS), 1 (STARTTLS if offered), 2 (STARTTLS required) \
                 or 3 (implicit TLS)",
                config.tls
            ),
        ));
    }
    Ok(config)
}

/// A Twilio block is either entirely unset (SMS unavailable) or complete.
fn twilio(mut config: TwilioConfig) -> Result<TwilioConfig, ConfigError> {
    let base = format!("{MSISDN}.connectors.twilio");
    if config.api_url.trim().is_empty() {
        config.api_url = TwilioConfig::default().api_url;
    }
    let api_url = config.api_url.trim();
    let valid = Url::parse(api_url)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some());
    if !valid {
        return Err(ConfigError::invalid(
            format!("{base}.api_url"),
            format!("{api_url:?} is not an absolute http:// or https:// URL"),
        ));
    }
    if config.is_unset() {
        return Ok(config);
    }
    for (key, value) in [
        ("account_sid", &config.account_sid),
        ("auth_token", &config.auth_token),
        ("number", &config.number),
    ] {
        if value.trim().is_empty() {
            return Err(ConfigError::missing(
                format!("{base}.{key}"),
                "Twilio needs account_sid, auth_token and number; leave all three out to run \
                 without SMS",
            ));
        }
    }
    Ok(config)
}

/// A blank `directory` means the default, as blank values do everywhere.
fn file(raw: Option<FileConfig>) -> FileConfig {
    let config = raw.unwrap_or_default();
    if config
        .directory
        .as_os_str()
        .to_string_lossy()
        .trim()
        .is_empty()
    {
        FileConfig::default()
    } else {
        config
    }
}

/// Blocks that are valid but have no effect: a connector block the medium does not use, and a
/// `notification.handler` other than `raw`.
pub fn warnings(raw: &RawConfig) -> Vec<ConfigWarning> {
    let email = &raw.threepid.medium.email;
    let msisdn = &raw.threepid.medium.msisdn;
    let mut warnings = Vec::new();
    let mut unused = |base: &str, chosen: &Option<Text>, default: &str, blocks: &[(&str, bool)]| {
        let chosen = chosen_id(chosen, default);
        for (id, written) in blocks {
            if *written && !id.eq_ignore_ascii_case(&chosen) {
                warnings.push(ConfigWarning::Unused {
                    path: format!("{base}.connectors.{id}"),
                    reason: format!("{base}.connector is `{chosen}`"),
                });
            }
        }
    };
    unused(
        EMAIL,
        &email.connector,
        SMTP,
        &[
            (SMTP, email.connectors.smtp.is_some()),
            (FILE, email.connectors.file.is_some()),
        ],
    );
    unused(
        MSISDN,
        &msisdn.connector,
        TWILIO,
        &[
            (TWILIO, msisdn.connectors.twilio.is_some()),
            (FILE, msisdn.connectors.file.is_some()),
        ],
    );
    let handler = &raw.notification.handler;
    for (medium, value) in [("email", &handler.email), ("msisdn", &handler.msisdn)] {
        if let Some(id) = text(value.clone()).filter(|id| !id.eq_ignore_ascii_case(RAW_HANDLER)) {
            warnings.push(ConfigWarning::Unused {
                path: format!("notification.handler.{medium}"),
                reason: format!(
                    "Verity has only the `{RAW_HANDLER}` handler (the generator and connector of \
                     threepid.medium.{medium}); `{id}` is not available yet"
                ),
            });
        }
    }
    warnings
}

fn chosen_id(raw: &Option<Text>, default: &str) -> String {
    text(raw.clone()).map_or_else(|| default.to_owned(), |id| id.to_ascii_lowercase())
}
