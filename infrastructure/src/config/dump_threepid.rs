//! `threepid`, `dns` and `federation` for `--dump-config`, with mxisd's key names (snake_case
//! inside the connector and generator blocks) and the `password` / `auth_token` secrets masked.
//!
//! The adapters' configuration types are taken apart field by field, without `..`, so that a field
//! added to one of them does not compile until it is rendered here too.
use serde::Serialize;
use verity_adapter_matrix::FederationConfig;
use verity_adapter_notify::{
    FileConfig, GenericTemplates, PlaceholderValues, SenderIdentity, SessionTemplates, SmtpConfig,
    SplitValidationTemplates, TemplateConfig, TwilioConfig, UnbindTemplates, ValidationTemplates,
};

use super::lenient::format_duration;
use crate::settings::{ConnectorSettings, MediumSettings, REDACTED, ThreepidSettings};

#[derive(Serialize)]
pub struct Threepid {
    medium: Media,
}

#[derive(Serialize)]
struct Media {
    email: Medium,
    msisdn: Medium,
}

#[derive(Serialize)]
struct Medium {
    /// Email only: mxisd had no sender identity for SMS.
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<Identity>,
    connector: &'static str,
    generator: &'static str,
    /// The chosen connector's block; `none` has none.
    #[serde(skip_serializing_if = "Connectors::is_empty")]
    connectors: Connectors,
    generators: Generators,
}

#[derive(Serialize)]
struct Identity {
    from: String,
    name: String,
}

#[derive(Default, Serialize)]
struct Connectors {
    #[serde(skip_serializing_if = "Option::is_none")]
    smtp: Option<Smtp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    twilio: Option<Twilio>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<File>,
}

impl Connectors {
    fn is_empty(&self) -> bool {
        self.smtp.is_none() && self.twilio.is_none() && self.file.is_none()
    }
}

#[derive(Serialize)]
struct Smtp {
    host: String,
    port: u16,
    tls: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    login: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'static str>,
    insecure_skip_tls_verify: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_ca_file: Option<String>,
}

#[derive(Serialize)]
struct Twilio {
    account_sid: String,
    auth_token: &'static str,
    number: String,
    api_url: String,
}

#[derive(Serialize)]
struct File {
    directory: String,
}

#[derive(Serialize)]
struct Generators {
    template: Template,
}

/// Unset templates (the built-in ones) are left out rather than named, so that the output reads
/// back as "built-in".
#[derive(Serialize)]
struct Template {
    #[serde(skip_serializing_if = "Option::is_none")]
    invite: Option<String>,
    #[serde(skip_serializing_if = "Session::is_empty")]
    session: Session,
    #[serde(skip_serializing_if = "Generic::is_empty")]
    generic: Generic,
    #[serde(skip_serializing_if = "Placeholder::is_empty")]
    placeholder: Placeholder,
}

#[derive(Serialize)]
struct Session {
    #[serde(skip_serializing_if = "Option::is_none")]
    validation: Option<Validation>,
    #[serde(skip_serializing_if = "Unbind::is_empty")]
    unbind: Unbind,
}

impl Session {
    fn is_empty(&self) -> bool {
        self.validation.is_none() && self.unbind.is_empty()
    }
}

/// Either mxisd shape, written untagged (serde_norway would write an enum as a YAML tag).
#[derive(Serialize)]
#[serde(untagged)]
enum Validation {
    Path(String),
    Split {
        #[serde(skip_serializing_if = "Option::is_none")]
        local: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        remote: Option<String>,
    },
}

#[derive(Serialize)]
struct Unbind {
    #[serde(skip_serializing_if = "Option::is_none")]
    notification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fraudulent: Option<String>,
}

impl Unbind {
    fn is_empty(&self) -> bool {
        self.notification.is_none() && self.fraudulent.is_none()
    }
}

#[derive(Serialize)]
struct Generic {
    #[serde(rename = "matrixId", skip_serializing_if = "Option::is_none")]
    matrix_id: Option<String>,
}

impl Generic {
    fn is_empty(&self) -> bool {
        self.matrix_id.is_none()
    }
}

#[derive(Serialize)]
struct Placeholder {
    #[serde(rename = "REGISTER_URL", skip_serializing_if = "Option::is_none")]
    register_url: Option<String>,
}

impl Placeholder {
    fn is_empty(&self) -> bool {
        self.register_url.is_none()
    }
}

#[derive(Serialize)]
pub struct Dns {
    overwrite: Overwrite,
}

#[derive(Serialize)]
struct Overwrite {
    homeserver: HomeserverOverwrite,
}

#[derive(Serialize)]
struct HomeserverOverwrite {
    federation: Vec<Override>,
    client: Vec<Override>,
}

#[derive(Serialize)]
struct Override {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Federation {
    allowed_networks: Vec<String>,
    verify_tls: bool,
    timeout: String,
    max_response_bytes: usize,
    max_concurrent_requests: usize,
    max_concurrent_requests_per_server: usize,
}

pub fn threepid(settings: &ThreepidSettings) -> Threepid {
    let ThreepidSettings { email, msisdn } = settings;
    Threepid {
        medium: Media {
            email: medium(email, true),
            msisdn: medium(msisdn, false),
        },
    }
}

fn medium(settings: &MediumSettings, with_identity: bool) -> Medium {
    let MediumSettings {
        configured: _,
        identity,
        generator,
        connector,
    } = settings;
    let mut connectors = Connectors::default();
    let id = match connector {
        ConnectorSettings::Smtp(config) => {
            connectors.smtp = Some(smtp(config));
            "smtp"
        }
        ConnectorSettings::Twilio(config) => {
            connectors.twilio = Some(twilio(config));
            "twilio"
        }
        ConnectorSettings::File(config) => {
            let FileConfig { directory } = config;
            connectors.file = Some(File {
                directory: directory.to_string_lossy().into_owned(),
            });
            "file"
        }
        ConnectorSettings::None => "none",
    };
    Medium {
        identity: with_identity.then(|| {
            let SenderIdentity { from, name } = identity;
            Identity {
                from: from.clone(),
                name: name.clone(),
            }
        }),
        connector: id,
        generator: "template",
        connectors,
        generators: Generators {
            template: template(generator),
        },
    }
}

fn smtp(config: &SmtpConfig) -> Smtp {
    let SmtpConfig {
        host,
        port,
        tls,
        login,
        password,
        insecure_skip_tls_verify,
        tls_ca_file,
    } = config;
    Smtp {
        host: host.clone(),
        port: *port,
        tls: *tls,
        login: login.clone(),
        password: password
            .as_deref()
            .map(|p| if p.is_empty() { "" } else { REDACTED }),
        insecure_skip_tls_verify: *insecure_skip_tls_verify,
        tls_ca_file: tls_ca_file
            .as_ref()
            .map(|path| path.to_string_lossy().into_owned()),
    }
}

fn twilio(config: &TwilioConfig) -> Twilio {
    let TwilioConfig {
        account_sid,
        auth_token,
        number,
        api_url,
    } = config;
    Twilio {
        account_sid: account_sid.clone(),
        // Empty stays empty, so an unconfigured block reads back as unconfigured.
        auth_token: if auth_token.is_empty() { "" } else { REDACTED },
        number: number.clone(),
        api_url: api_url.clone(),
    }
}

fn template(config: &TemplateConfig) -> Template {
    let TemplateConfig {
        invite,
        session,
        generic,
        placeholder,
    } = config;
    let SessionTemplates { validation, unbind } = session;
    let UnbindTemplates {
        notification,
        fraudulent,
    } = unbind;
    let GenericTemplates { matrix_id } = generic;
    let PlaceholderValues { register_url } = placeholder;
    Template {
        invite: invite.clone(),
        session: Session {
            validation: validation.as_ref().map(|validation| match validation {
                ValidationTemplates::Path(path) => Validation::Path(path.clone()),
                ValidationTemplates::Split(SplitValidationTemplates { local, remote }) => {
                    Validation::Split {
                        local: local.clone(),
                        remote: remote.clone(),
                    }
                }
            }),
            unbind: Unbind {
                notification: notification.clone(),
                fraudulent: fraudulent.clone(),
            },
        },
        generic: Generic {
            matrix_id: matrix_id.clone(),
        },
        placeholder: Placeholder {
            register_url: register_url.clone(),
        },
    }
}

pub fn dns(config: &FederationConfig, client: &[(String, String)]) -> Dns {
    let entries = |list: &[(String, String)]| {
        list.iter()
            .map(|(name, value)| Override {
                name: name.clone(),
                value: value.clone(),
            })
            .collect()
    };
    Dns {
        overwrite: Overwrite {
            homeserver: HomeserverOverwrite {
                federation: entries(&config.overrides),
                client: entries(client),
            },
        },
    }
}

pub fn federation(config: &FederationConfig) -> Federation {
    let FederationConfig {
        overrides: _,
        allowed_networks,
        verify_tls,
        timeout,
        max_response_bytes,
        max_concurrent_requests,
        max_concurrent_requests_per_server,
    } = config;
    Federation {
        allowed_networks: allowed_networks.iter().map(ToString::to_string).collect(),
        verify_tls: *verify_tls,
        timeout: format_duration(*timeout),
        max_response_bytes: *max_response_bytes,
        max_concurrent_requests: *max_concurrent_requests,
        max_concurrent_requests_per_server: *max_concurrent_requests_per_server,
    }
}
