//! The `template` generator: renders notifications from mxisd-compatible template files.

mod config;
mod eml;
mod placeholders;
mod text;

use std::collections::BTreeMap;
use std::path::Path;

use verity_application::ports::driven::{
    EmailMessage, InviteNotice, Notification, NotificationGenerator, NotifyError, SmsMessage,
    ValidationNotice,
};
use verity_domain::{MatrixDomain, Medium, SessionMode, ThreePid};

use crate::{ConfigError, SenderIdentity};
pub use config::{
    GenericTemplates, PlaceholderValues, SessionTemplates, SplitValidationTemplates,
    TemplateConfig, UnbindTemplates, ValidationTemplates,
};
use eml::EmailTemplate;
use placeholders::{Context, Values, substitute};
pub(crate) use placeholders::{MAX_SUBJECT_CHARS, one_line};

/// Prefix of a template path that names one of Verity's built-in templates, as in mxisd
/// (`classpath:/threepids/email/validate-template.eml`).
pub const BUILTIN_PREFIX: &str = "classpath:";

/// Largest template file read, in bytes.
const MAX_TEMPLATE_BYTES: u64 = 1024 * 1024;

/// Verity's built-in templates, by the name mxisd gave its own (v1.2's `-local` names included).
const BUILTINS: &[(&str, &str)] = &[
    ("threepids/email/validate-template.eml", EMAIL_VALIDATE),
    (
        "threepids/email/validate-local-template.eml",
        EMAIL_VALIDATE,
    ),
    (
        "threepids/email/validate-remote-template.eml",
        include_str!("../../templates/email/validate-remote-template.eml"),
    ),
    (
        "threepids/email/invite-template.eml",
        include_str!("../../templates/email/invite-template.eml"),
    ),
    (
        "threepids/email/mxid-template.eml",
        include_str!("../../templates/email/mxid-template.eml"),
    ),
    (
        "threepids/email/unbind-notification.eml",
        include_str!("../../templates/email/unbind-notification.eml"),
    ),
    ("threepids/sms/validate-template.txt", SMS_VALIDATE),
    ("threepids/sms/validate-local-template.txt", SMS_VALIDATE),
    (
        "threepids/sms/validate-remote-template.txt",
        include_str!("../../templates/sms/validate-remote-template.txt"),
    ),
    (
        "threepids/sms/invite-template.txt",
        include_str!("../../templates/sms/invite-template.txt"),
    ),
    (
        "threepids/sms/unbind-notification.txt",
        include_str!("../../templates/sms/unbind-notification.txt"),
    ),
];
const EMAIL_VALIDATE: &str = include_str!("../../templates/email/validate-template.eml");
const SMS_VALIDATE: &str = include_str!("../../templates/sms/validate-template.txt");

/// The events a template exists for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TemplateKind {
    Validation,
    ValidationRemote,
    Invite,
    UnbindNotification,
    MatrixIdInvite,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Template {
    Email(EmailTemplate),
    Sms(String),
}

/// The `template` generator of one medium (`email` or `msisdn`).
///
/// Templates are read and checked when the generator is built, so a missing file or a broken
/// template stops start-up with its path instead of failing the first user. Placeholders are
/// substituted in a single pass, each value escaped for where it lands (see `docs/templates.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateGenerator {
    medium: Medium,
    domain: String,
    identity: SenderIdentity,
    register_url: String,
    templates: BTreeMap<TemplateKind, Template>,
}

impl TemplateGenerator {
    /// Builds the generator of `medium` (`email` or `msisdn`) for `matrix.domain`, loading every
    /// template `config` names. `identity` (`threepid.medium.email.identity`) fills `%FROM_EMAIL%`
    /// and `%FROM_NAME%`; it is ignored for SMS.
    ///
    /// # Errors
    /// [`ConfigError::UnsupportedMedium`] for another medium; [`ConfigError::TemplateRead`] or
    /// [`ConfigError::Template`], naming the key and path, when a template cannot be read or is
    /// not a usable template.
    pub fn new(
        medium: &Medium,
        domain: &MatrixDomain,
        identity: &SenderIdentity,
        config: &TemplateConfig,
    ) -> Result<Self, ConfigError> {
        let (dir, ext) = match medium {
            Medium::Email => ("email", "eml"),
            Medium::Msisdn => ("sms", "txt"),
            Medium::Other(name) => {
                return Err(ConfigError::UnsupportedMedium {
                    medium: name.clone(),
                });
            }
        };
        let builtin = |name: &str| format!("{BUILTIN_PREFIX}/threepids/{dir}/{name}.{ext}");
        let (local, remote) = match &config.session.validation {
            None => (None, None),
            Some(ValidationTemplates::Path(path)) => (Some(path.clone()), None),
            Some(ValidationTemplates::Split(split)) => (split.local.clone(), split.remote.clone()),
        };
        let mut wanted = vec![
            (
                TemplateKind::Validation,
                "session.validation",
                local.unwrap_or_else(|| builtin("validate-template")),
            ),
            (
                TemplateKind::ValidationRemote,
                "session.validation.remote",
                remote.unwrap_or_else(|| builtin("validate-remote-template")),
            ),
            (
                TemplateKind::Invite,
                "invite",
                config
                    .invite
                    .clone()
                    .unwrap_or_else(|| builtin("invite-template")),
            ),
            (
                TemplateKind::UnbindNotification,
                "session.unbind.notification",
                config
                    .session
                    .unbind
                    .notification
                    .clone()
                    .unwrap_or_else(|| builtin("unbind-notification")),
            ),
        ];
        let matrix_id = config.generic.matrix_id.clone();
        if let Some(path) =
            matrix_id.or_else(|| (*medium == Medium::Email).then(|| builtin("mxid-template")))
        {
            wanted.push((TemplateKind::MatrixIdInvite, "generic.matrixId", path));
        }
        if config.session.unbind.fraudulent.is_some() {
            tracing::warn!(
                "threepid.medium.{medium}.generators.template.session.unbind.fraudulent is set, \
                 but Verity never sends the fraudulent-unbind warning; the key is ignored"
            );
        }
        let mut templates = BTreeMap::new();
        for (kind, key, path) in wanted {
            let key = format!("threepid.medium.{medium}.generators.template.{key}");
            let source = load(&key, &path)?;
            let template = match medium {
                Medium::Email => {
                    let template =
                        EmailTemplate::parse(&source).map_err(|reason| ConfigError::Template {
                            key: key.clone(),
                            path: path.clone(),
                            reason,
                        })?;
                    if template.subject.is_empty() {
                        tracing::warn!(%key, %path, "this email template has no Subject line");
                    }
                    Template::Email(template)
                }
                _ => Template::Sms(source.trim_end().to_owned()),
            };
            tracing::debug!(%key, %path, "template loaded");
            templates.insert(kind, template);
        }
        let register_url = config
            .placeholder
            .register_url
            .clone()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| format!("https://{domain}"));
        Ok(Self {
            medium: medium.clone(),
            domain: domain.as_str().to_owned(),
            identity: identity.clone(),
            register_url,
            templates,
        })
    }

    /// The placeholders every message has.
    fn common_values(&self, recipient: &ThreePid) -> Values {
        let medium = recipient.medium();
        let mut values = Values::default();
        values
            .set("DOMAIN", self.domain.clone())
            .set("DOMAIN_PRETTY", capitalise(&self.domain))
            .set("RECIPIENT_MEDIUM", medium.as_str())
            .set("RECIPIENT_MEDIUM_URL_ENCODED", url_encode(medium.as_str()))
            .set("RECIPIENT_ADDRESS", recipient.address())
            .set(
                "RECIPIENT_ADDRESS_URL_ENCODED",
                url_encode(recipient.address()),
            )
            .set("REGISTER_URL", self.register_url.clone());
        if self.medium == Medium::Email {
            values
                .set("FROM_EMAIL", self.identity.from.clone())
                .set("FROM_NAME", self.identity.name.clone());
        }
        values
    }

    /// Renders the `kind` template for `recipient` with `values`.
    fn render(
        &self,
        kind: TemplateKind,
        recipient: &ThreePid,
        values: &Values,
    ) -> Result<Notification, NotifyError> {
        let template = self.templates.get(&kind).ok_or(NotifyError::Unsupported)?;
        match (template, recipient) {
            (Template::Email(template), ThreePid::Email(to)) => {
                Ok(Notification::Email(EmailMessage {
                    to: to.clone(),
                    subject: substitute(&template.subject, values, Context::Subject),
                    text: substitute(&template.text, values, Context::Text),
                    html: template
                        .html
                        .as_deref()
                        .map(|html| substitute(html, values, Context::Html)),
                }))
            }
            (Template::Sms(template), ThreePid::Msisdn(to)) => Ok(Notification::Sms(SmsMessage {
                to: to.clone(),
                text: substitute(template, values, Context::Text),
            })),
            _ => Err(NotifyError::Template(format!(
                "the {} template generator cannot address a {} 3PID",
                self.medium,
                recipient.medium()
            ))),
        }
    }
}

impl NotificationGenerator for TemplateGenerator {
    fn validation(&self, notice: &ValidationNotice) -> Result<Notification, NotifyError> {
        let mut values = self.common_values(&notice.threepid);
        values
            .set("VALIDATION_LINK", notice.link.clone())
            .set("VALIDATION_TOKEN", notice.token.expose())
            .set("NEXT_URL", notice.link.clone());
        let kind = match notice.mode {
            SessionMode::RemotePending(_) => TemplateKind::ValidationRemote,
            SessionMode::Local | SessionMode::LocalOfferRemote(_) => TemplateKind::Validation,
        };
        self.render(kind, &notice.threepid, &values)
    }

    fn invite(&self, notice: &InviteNotice) -> Result<Notification, NotifyError> {
        let mut values = self.common_values(&notice.threepid);
        let sender_id = notice.sender.as_str();
        let details = &notice.details;
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let sender_name = text(&details.sender_display_name);
        let room_name = text(&details.room_name);
        let or = |name: &str, id: &str| {
            if name.trim().is_empty() {
                id.to_owned()
            } else {
                name.to_owned()
            }
        };
        let medium = notice.threepid.medium();
        values
            .set("SENDER_ID", sender_id)
            .set("SENDER_NAME_OR_ID", or(&sender_name, sender_id))
            .set("SENDER_NAME", sender_name)
            .set("INVITE_MEDIUM", medium.as_str())
            .set("INVITE_MEDIUM_URL_ENCODED", url_encode(medium.as_str()))
            .set("INVITE_ADDRESS", notice.threepid.address())
            .set(
                "INVITE_ADDRESS_URL_ENCODED",
                url_encode(notice.threepid.address()),
            )
            .set("ROOM_ID", notice.room_id.clone())
            .set("ROOM_NAME_OR_ID", or(&room_name, &notice.room_id))
            .set("ROOM_NAME", room_name)
            .set("ROOM_ALIAS", text(&details.room_alias))
            .set("ROOM_AVATAR_URL", text(&details.room_avatar_url))
            .set("ROOM_JOIN_RULES", text(&details.room_join_rules))
            .set("ROOM_TYPE", text(&details.room_type))
            .set("SENDER_AVATAR_URL", text(&details.sender_avatar_url))
            .set("GUEST_USER_ID", text(&details.guest_user_id))
            .set("GUEST_ACCESS_TOKEN", text(&details.guest_access_token))
            .set("WEB_CLIENT_LOCATION", text(&details.web_client_location))
            .set("INVITE_TOKEN", notice.token.as_str())
            .set(
                "EPHEMERAL_PRIVATE_KEY",
                notice.ephemeral_private_key.clone(),
            )
            .set("SIGN_URL", notice.sign_url.clone());
        self.render(TemplateKind::Invite, &notice.threepid, &values)
    }

    /// ma1sd's unbind notification: the placeholders every message has, nothing more.
    fn unbind(&self, threepid: &ThreePid) -> Result<Notification, NotifyError> {
        let values = self.common_values(threepid);
        self.render(TemplateKind::UnbindNotification, threepid, &values)
    }
}

/// Reads a template: a built-in one for `classpath:` paths, else the file.
fn load(key: &str, path: &str) -> Result<String, ConfigError> {
    if let Some(name) = path.strip_prefix(BUILTIN_PREFIX) {
        let name = name.trim_start_matches('/');
        return BUILTINS
            .iter()
            .find(|(builtin, _)| *builtin == name)
            .map(|(_, text)| (*text).to_owned())
            .ok_or_else(|| ConfigError::Template {
                key: key.to_owned(),
                path: path.to_owned(),
                reason: format!(
                    "Verity has no built-in template of that name; built-in templates are {}",
                    BUILTINS
                        .iter()
                        .map(|(name, _)| format!("{BUILTIN_PREFIX}/{name}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
    }
    let read_error = |source| ConfigError::TemplateRead {
        key: key.to_owned(),
        path: path.to_owned(),
        source,
    };
    let file = Path::new(path);
    let size = std::fs::metadata(file).map_err(read_error)?.len();
    if size > MAX_TEMPLATE_BYTES {
        return Err(ConfigError::Template {
            key: key.to_owned(),
            path: path.to_owned(),
            reason: format!("the file is larger than {MAX_TEMPLATE_BYTES} bytes"),
        });
    }
    let bytes = std::fs::read(file).map_err(read_error)?;
    String::from_utf8(bytes).map_err(|_| ConfigError::Template {
        key: key.to_owned(),
        path: path.to_owned(),
        reason: "the file is not UTF-8 text".into(),
    })
}

/// `example.org` -> `Example.org` (mxisd's `DOMAIN_PRETTY`).
fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `application/x-www-form-urlencoded` encoding, like Java's `URLEncoder` that mxisd used.
fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
