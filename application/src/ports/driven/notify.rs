use std::error::Error as StdError;
use std::fmt;

use async_trait::async_trait;
use verity_domain::{
    EmailAddress, InviteToken, Msisdn, SessionId, SessionMode, ThreePid, UserId, ValidationToken,
};

use crate::ports::driving::InviteDetails;

/// A message ready to send: what a generator produces and a connector delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// An email.
    Email(EmailMessage),
    /// A text message.
    Sms(SmsMessage),
}

/// An email, already rendered. The connector builds the MIME message (fresh boundary, encoded
/// headers) from these parts, so no value can inject headers or parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// The recipient.
    pub to: EmailAddress,
    /// The subject (one line).
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body, when the template has one.
    pub html: Option<String>,
}

/// A text message, already rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    /// The recipient.
    pub to: Msisdn,
    /// The text.
    pub text: String,
}

/// Everything a validation message may say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationNotice {
    /// The 3PID being validated (also the recipient).
    pub threepid: ThreePid,
    /// The session.
    pub sid: SessionId,
    /// The token to give back.
    pub token: ValidationToken,
    /// The link that submits the token (`%VALIDATION_LINK%`).
    pub link: String,
    /// Where the 3PID is validated: a remote-only session's message says the address will be
    /// published on another server.
    pub mode: SessionMode,
}

/// Everything a 3PID room invite message may say (the `invite` template).
#[derive(Clone, PartialEq, Eq)]
pub struct InviteNotice {
    /// The invited 3PID (also the recipient).
    pub threepid: ThreePid,
    /// The inviting user (`%SENDER_ID%`).
    pub sender: UserId,
    /// The room (`%ROOM_ID%`).
    pub room_id: String,
    /// What the homeserver sent about the room and the sender, the room name and the sender's
    /// display name already cut to sydent's lengths (`%ROOM_NAME%`, `%SENDER_NAME%`,
    /// `%ROOM_ALIAS%`, `%ROOM_AVATAR_URL%`, ...).
    pub details: InviteDetails,
    /// The invite's token (`%INVITE_TOKEN%`).
    pub token: InviteToken,
    /// The invite's ephemeral private key, unpadded URL-safe base64 (`%EPHEMERAL_PRIVATE_KEY%`):
    /// a client without cryptography gives it to `/sign-ed25519`. A secret: `Debug` hides it.
    pub ephemeral_private_key: String,
    /// The `/sign-ed25519` URL with the token and key in its query (`%SIGN_URL%`), as sydent's
    /// invite link carries it.
    pub sign_url: String,
}

impl fmt::Debug for InviteNotice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InviteNotice")
            .field("threepid", &self.threepid)
            .field("sender", &self.sender)
            .field("room_id", &self.room_id)
            .field("details", &self.details)
            .field("token", &self.token)
            .field("ephemeral_private_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Why a notification could not be produced or sent.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// No generator or connector is configured for this medium.
    #[error("no notification handler for this medium")]
    Unsupported,
    /// A template could not be rendered.
    #[error("template error: {0}")]
    Template(String),
    /// The provider refused this recipient (invalid or blocked number or address).
    #[error("the recipient was rejected: {0}")]
    Rejected(String),
    /// The provider could not be reached or failed.
    #[error("the notification could not be sent")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
}

/// Renders messages from templates.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait NotificationGenerator: Send + Sync {
    /// The message asking the owner of a 3PID to validate it.
    ///
    /// # Errors
    /// [`NotifyError::Template`] when the template cannot be rendered for this 3PID.
    fn validation(&self, notice: &ValidationNotice) -> Result<Notification, NotifyError>;

    /// The message telling the owner of a 3PID that they were invited to a room.
    ///
    /// # Errors
    /// [`NotifyError::Template`] when the template cannot be rendered for this 3PID;
    /// [`NotifyError::Unsupported`] when this generator has no invite template.
    fn invite(&self, notice: &InviteNotice) -> Result<Notification, NotifyError>;

    /// The message telling the owner of a 3PID that it was unbound from a Matrix ID (ma1sd's
    /// `session.unbind.notification`; the 3PID is also the recipient).
    ///
    /// # Errors
    /// [`NotifyError::Template`] when the template cannot be rendered for this 3PID;
    /// [`NotifyError::Unsupported`] when this generator has no unbind template.
    fn unbind(&self, threepid: &ThreePid) -> Result<Notification, NotifyError>;
}

/// Delivers messages.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait NotificationConnector: Send + Sync {
    /// Sends `notification`.
    ///
    /// # Errors
    /// [`NotifyError::Rejected`] when the provider refuses the recipient,
    /// [`NotifyError::Unavailable`] when it cannot be reached; [`NotifyError::Unsupported`] for a
    /// kind of notification this connector does not carry.
    async fn send(&self, notification: &Notification) -> Result<(), NotifyError>;
}
