//! The `smtp` connector: sends emails through an SMTP server with lettre.

mod pool;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::{Address, Message};
use serde::Deserialize;
use verity_application::ports::driven::{
    EmailMessage, Notification, NotificationConnector, NotifyError,
};

use crate::error::{DeliveryFailure, chain};
use crate::template::{MAX_SUBJECT_CHARS, one_line};
use crate::{ConfigError, SenderIdentity, redact};
use pool::{Connector, Failure, Pool, Security};

/// Longest a whole delivery may take (connection, TLS, authentication and transfer).
pub(crate) const SEND_TIMEOUT: Duration = Duration::from_secs(30);

const KEY_TLS: &str = "threepid.medium.email.connectors.smtp.tls";
const KEY_FROM: &str = "threepid.medium.email.identity.from";
const KEY_CA_FILE: &str = "threepid.medium.email.connectors.smtp.tls_ca_file";
const KEY_LOGIN: &str = "threepid.medium.email.connectors.smtp.login";
const KEY_PASSWORD: &str = "threepid.medium.email.connectors.smtp.password";

/// `threepid.medium.email.connectors.smtp`, with mxisd's keys and defaults plus two Verity-only
/// TLS keys.
///
/// Unlike mxisd (and Sydent before CVE-2023-38686), the server's certificate and host name are
/// always checked when TLS is used; `insecure_skip_tls_verify` is the one explicit way out, and
/// it logs a warning at start-up.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SmtpConfig {
    /// `host`: the SMTP server. Default `''`: start-up succeeds but every email fails, as in mxisd.
    pub host: String,
    /// `port`. Default `587`.
    pub port: u16,
    /// `tls`: 0 = none, 1 = STARTTLS when the server offers it, 2 = STARTTLS required,
    /// 3 = implicit TLS (SMTPS, usually port 465). Default `1`.
    pub tls: u8,
    /// `login`. Default none. Credentials are sent when `login` or `password` is non-empty, and
    /// only over TLS: with `tls: 0` every email then fails, with `tls: 1` STARTTLS is required.
    pub login: Option<String>,
    /// `password`. Default none. Never logged; `Debug` shows it as `<redacted>`.
    pub password: Option<String>,
    /// `insecure_skip_tls_verify` (Verity only): accept any certificate and host name. Default
    /// `false`. Anyone between Verity and the SMTP server can then read validation links.
    pub insecure_skip_tls_verify: bool,
    /// `tls_ca_file` (Verity only): a PEM file of extra CA certificates to trust, for an SMTP
    /// server whose certificate comes from a private CA. Default none (the public web PKI roots).
    pub tls_ca_file: Option<PathBuf>,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            tls: 1,
            login: None,
            password: None,
            insecure_skip_tls_verify: false,
            tls_ca_file: None,
        }
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("login", &self.login)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("tls_ca_file", &self.tls_ca_file)
            .finish()
    }
}

/// mxisd's `tls` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// `0`: plain SMTP. Tokens cross the network in clear text.
    None,
    /// `1`: STARTTLS when the server offers it, plain otherwise (a network attacker can strip it).
    /// With credentials, a server that does not offer STARTTLS gets none and the email fails.
    Opportunistic,
    /// `2`: STARTTLS, and fail when the server does not offer it.
    Required,
    /// `3`: TLS from the first byte (SMTPS).
    Implicit,
}

impl TlsMode {
    /// The mode of mxisd's `tls` number, or `None` outside 0 to 3.
    pub fn from_mxisd(value: u8) -> Option<Self> {
        match value {
            0 => Some(Self::None),
            1 => Some(Self::Opportunistic),
            2 => Some(Self::Required),
            3 => Some(Self::Implicit),
            _ => None,
        }
    }
}

/// Sends emails through an SMTP server.
///
/// Each email is a new MIME message built by lettre from the rendered subject and parts: a fresh
/// random boundary, `multipart/alternative` when there is an HTML part, an RFC 2047-encoded UTF-8
/// subject, `From` from `identity.from`/`identity.name`, `To` the recipient, `Date`, a
/// `Message-ID` in the sender's domain and a `User-Agent`. No rendered value can therefore add a
/// header or a part (CVE-2021-29432).
///
/// Connections are opened with `TCP_NODELAY` and kept for the next email (see `pool`): up to 10
/// idle, each checked with `NOOP` before reuse and closed after 60 s unused.
///
/// Errors: a permanent refusal of the recipient (550, 551, 553) is [`NotifyError::Rejected`];
/// everything else (connection, TLS, authentication, 4xx, timeouts after
/// 30 s) is [`NotifyError::Unavailable`], described without the server's reply text, which can
/// quote the address. A failed email is never sent again by the connector.
pub struct SmtpConnector {
    pool: Option<Arc<Pool>>,
    from: Option<Mailbox>,
    message_id_domain: String,
    login: Login,
}

/// Whether credentials are configured, and what the TLS level means for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Login {
    /// No `login` or `password`: nothing to protect.
    None,
    /// Credentials with `tls` 2 or 3: TLS is in place before anything is sent.
    OverTls,
    /// Credentials with `tls: 1`: lettre is told STARTTLS is required, so a server that does not
    /// offer it (or an attacker who strips it from the `EHLO` answer) gets no `AUTH`.
    StartTlsRequired,
    /// Credentials with `tls: 0`: they would cross the network in clear text, so nothing is sent.
    InClear,
}

impl Login {
    fn of(config: &SmtpConfig, mode: TlsMode) -> Self {
        if credentials(config).is_none() {
            return Self::None;
        }
        match mode {
            TlsMode::None => Self::InClear,
            TlsMode::Opportunistic => Self::StartTlsRequired,
            TlsMode::Required | TlsMode::Implicit => Self::OverTls,
        }
    }
}

/// Why an email is not sent with `tls: 0` and a login (the error and the start-up warning).
const LOGIN_IN_CLEAR: &str = "`threepid.medium.email.connectors.smtp.login`/`password` are set \
     but `threepid.medium.email.connectors.smtp.tls` is 0: Verity never sends SMTP credentials \
     unencrypted, so no email is sent; set `tls` to 2 (STARTTLS) or 3 (implicit TLS), or remove \
     the login";

impl fmt::Debug for SmtpConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConnector")
            .field("configured", &self.pool.is_some())
            .field("from", &self.from.as_ref().map(ToString::to_string))
            .finish_non_exhaustive()
    }
}

impl SmtpConnector {
    /// Builds the connector. An empty `host` or `identity.from` does not fail (mxisd starts with
    /// neither set); it logs a warning and every email then fails with a message naming the key.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a `tls` outside 0 to 3, an `identity.from` that is not an
    /// email address, or an unusable `tls_ca_file`; [`ConfigError::Path`] when that file cannot
    /// be read.
    pub fn new(config: &SmtpConfig, identity: &SenderIdentity) -> Result<Self, ConfigError> {
        let mode = TlsMode::from_mxisd(config.tls).ok_or_else(|| ConfigError::Invalid {
            key: KEY_TLS,
            reason: format!("{} is not one of 0, 1, 2 or 3", config.tls),
        })?;
        let from = sender(identity)?;
        if from.is_none() {
            tracing::warn!("`{KEY_FROM}` is not set: every email will fail until it is");
        }
        let message_id_domain = from.as_ref().map_or_else(
            || "verity.invalid".to_owned(),
            |m| m.email.domain().to_owned(),
        );
        let login = Login::of(config, mode);
        match login {
            Login::InClear => tracing::warn!("{LOGIN_IN_CLEAR}"),
            Login::StartTlsRequired => tracing::info!(
                "`{KEY_LOGIN}` is set with `{KEY_TLS}: 1`: STARTTLS is required before the \
                 credentials are sent; a mail server that does not offer it gets none and the \
                 email fails"
            ),
            Login::None | Login::OverTls => {}
        }
        let host = config.host.trim();
        let pool = if host.is_empty() {
            tracing::warn!(
                "`threepid.medium.email.connectors.smtp.host` is not set: every email will fail \
                 until it is"
            );
            None
        } else {
            Some(Pool::new(connector(config, host, mode, login)?))
        };
        Ok(Self {
            pool,
            from,
            message_id_domain,
            login,
        })
    }

    fn message(&self, from: &Mailbox, email: &EmailMessage) -> Result<Message, NotifyError> {
        let to: Address = email.to.as_str().parse().map_err(|_| {
            NotifyError::Rejected("the address cannot be written in an email header".into())
        })?;
        let builder = Message::builder()
            .from(from.clone())
            .to(Mailbox::new(None, to))
            .subject(one_line(&email.subject, MAX_SUBJECT_CHARS))
            .date_now()
            .message_id(Some(format!(
                "<{:032x}@{}>",
                rand::random::<u128>(),
                self.message_id_domain
            )))
            .user_agent(format!("Verity/{}", env!("CARGO_PKG_VERSION")));
        let built = match &email.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(SinglePart::plain(email.text.clone())),
        };
        built.map_err(|error| NotifyError::Template(format!("cannot build the email: {error}")))
    }
}

/// The `From` mailbox, or `None` when `identity.from` is empty.
fn sender(identity: &SenderIdentity) -> Result<Option<Mailbox>, ConfigError> {
    let from = identity.from.trim();
    if from.is_empty() {
        return Ok(None);
    }
    let address: Address = from.parse().map_err(|error| ConfigError::Invalid {
        key: KEY_FROM,
        reason: format!("{from:?} is not an email address: {error}"),
    })?;
    let name = one_line(identity.name.trim(), 200).into_owned();
    Ok(Some(Mailbox::new(
        (!name.is_empty()).then_some(name),
        address,
    )))
}

/// The credentials, when `login` or `password` is non-empty.
fn credentials(config: &SmtpConfig) -> Option<Credentials> {
    let login = config.login.clone().unwrap_or_default();
    let password = config.password.clone().unwrap_or_default();
    (!login.is_empty() || !password.is_empty()).then(|| Credentials::new(login, password))
}

fn connector(
    config: &SmtpConfig,
    host: &str,
    mode: TlsMode,
    login: Login,
) -> Result<Connector, ConfigError> {
    // lettre sends `AUTH` on whatever connection it is given, so with credentials, level 1 asks
    // for STARTTLS outright: the server's EHLO answer is checked on each connection and the
    // connection fails before `AUTH` when STARTTLS is not in it.
    let security = match mode {
        TlsMode::None => Security::Plain,
        TlsMode::Opportunistic if login == Login::StartTlsRequired => {
            Security::StartTls(tls_parameters(config, host)?)
        }
        TlsMode::Opportunistic => Security::StartTlsIfOffered(tls_parameters(config, host)?),
        TlsMode::Required => Security::StartTls(tls_parameters(config, host)?),
        TlsMode::Implicit => Security::Implicit(tls_parameters(config, host)?),
    };
    // `tls: 0` gets no credentials at all: `send` refuses before connecting.
    let credentials = credentials(config).filter(|_| login != Login::InClear);
    Ok(Connector::new(
        host,
        config.port,
        security,
        credentials,
        SEND_TIMEOUT,
    ))
}

/// lettre's TLS parameters: the server's certificate and host name checked against the public
/// roots and `tls_ca_file`, unless `insecure_skip_tls_verify`.
fn tls_parameters(config: &SmtpConfig, host: &str) -> Result<TlsParameters, ConfigError> {
    let mut params = TlsParameters::builder(host.to_owned());
    if config.insecure_skip_tls_verify {
        tracing::warn!(
            "`threepid.medium.email.connectors.smtp.insecure_skip_tls_verify` is on: the SMTP \
             server's certificate and host name are not checked, so anyone on the network path \
             can read validation links"
        );
        params = params
            .dangerous_accept_invalid_certs(true)
            .dangerous_accept_invalid_hostnames(true);
    }
    if let Some(path) = &config.tls_ca_file {
        let pem = std::fs::read(path).map_err(|source| ConfigError::Path {
            key: KEY_CA_FILE,
            path: path.clone(),
            source,
        })?;
        let certificate = Certificate::from_pem(&pem).map_err(|error| ConfigError::Invalid {
            key: KEY_CA_FILE,
            reason: format!("{}: {error}", path.display()),
        })?;
        params = params.add_root_certificate(certificate);
    }
    params.build_rustls().map_err(|error| ConfigError::Invalid {
        key: KEY_TLS,
        reason: format!("cannot set up TLS: {error}"),
    })
}

/// Sorts a failed delivery into the port's two kinds.
fn map_failure(failure: &Failure, login: Login) -> NotifyError {
    match failure {
        Failure::Smtp(error) => map_error(error, login),
        Failure::Connect(error) => DeliveryFailure::unavailable(format!(
            "the mail server could not be used: cannot connect: {}",
            chain(error)
        )),
        Failure::NotEncrypted => DeliveryFailure::unavailable(format!(
            "the connection to the mail server is not encrypted, and `{KEY_LOGIN}`/\
             `{KEY_PASSWORD}` are never sent unencrypted; no credentials were sent"
        )),
    }
}

/// Sorts lettre's errors into the port's two kinds.
fn map_error(error: &lettre::transport::smtp::Error, login: Login) -> NotifyError {
    // lettre's own words when a required STARTTLS is not offered.
    if login == Login::StartTlsRequired && error.is_client() && chain(error).contains("STARTTLS") {
        return DeliveryFailure::unavailable(format!(
            "the mail server does not offer STARTTLS, and `{KEY_LOGIN}`/`{KEY_PASSWORD}` are \
             never sent unencrypted (`{KEY_TLS}` is 1); no credentials were sent"
        ));
    }
    if let Some(code) = error.status() {
        let code = u16::from(code);
        if error.is_permanent() && matches!(code, 550 | 551 | 553) {
            return NotifyError::Rejected(format!(
                "the mail server refused the recipient ({code})"
            ));
        }
        return DeliveryFailure::unavailable(format!("the mail server answered {code}"));
    }
    if error.is_timeout() {
        return DeliveryFailure::unavailable("the mail server did not answer in time");
    }
    let kind = if error.is_tls() {
        "TLS with the mail server failed"
    } else {
        "the mail server could not be used"
    };
    DeliveryFailure::unavailable(format!("{kind}: {}", chain(error)))
}

#[async_trait]
impl NotificationConnector for SmtpConnector {
    async fn send(&self, notification: &Notification) -> Result<(), NotifyError> {
        let Notification::Email(email) = notification else {
            return Err(NotifyError::Unsupported);
        };
        let recipient = redact::recipient(notification);
        let Some(from) = &self.from else {
            tracing::warn!(%recipient, "email not sent: `{KEY_FROM}` is not set");
            return Err(DeliveryFailure::unavailable(format!(
                "`{KEY_FROM}` is not set, so no email can be sent"
            )));
        };
        let Some(pool) = &self.pool else {
            tracing::warn!(%recipient, "email not sent: the SMTP host is not set");
            return Err(DeliveryFailure::unavailable(
                "`threepid.medium.email.connectors.smtp.host` is not set, so no email can be sent",
            ));
        };
        if self.login == Login::InClear {
            tracing::warn!(%recipient, "email not sent: {LOGIN_IN_CLEAR}");
            return Err(DeliveryFailure::unavailable(LOGIN_IN_CLEAR));
        }
        let message = self.message(from, email)?;
        let envelope = message.envelope().clone();
        let formatted = message.formatted();
        let result =
            match tokio::time::timeout(SEND_TIMEOUT, pool.send(&envelope, &formatted)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(failure)) => Err(map_failure(&failure, self.login)),
                Err(_) => Err(DeliveryFailure::unavailable(format!(
                    "sending took longer than {} s",
                    SEND_TIMEOUT.as_secs()
                ))),
            };
        match &result {
            Ok(()) => tracing::info!(%recipient, "email sent"),
            Err(error) => tracing::warn!(%recipient, error = %chain(error), "email not sent"),
        }
        result
    }
}
