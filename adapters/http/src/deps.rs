//! What the HTTP adapter is built from: the use cases it drives and the settings its routes read.
//!
//! A leaf module of its own because both the OpenAPI service (`api`) and the whole application
//! (`app`) take it; kept in either, the two would import each other.
use std::sync::Arc;

use verity_application::ports::driving::{
    Accounts, Association, Invites, Keys, Limits, Lookup, RegistrationGate, RemoteSessions,
    RoomInviteGate, Status, UserDirectory, Validation,
};

use crate::pages::SharedViews;

/// The use cases the HTTP API drives, and what the routes need to know.
#[derive(Clone)]
pub struct HttpDeps {
    /// Health and version.
    pub status: Arc<dyn Status>,
    /// Accounts, authentication and terms.
    pub accounts: Arc<dyn Accounts>,
    /// Validation sessions.
    pub validation: Arc<dyn Validation>,
    /// The server's keys.
    pub keys: Arc<dyn Keys>,
    /// Bind and unbind.
    pub association: Arc<dyn Association>,
    /// Lookups.
    pub lookup: Arc<dyn Lookup>,
    /// The abuse limits, asked before every limited operation.
    pub limits: Arc<dyn Limits>,
    /// 3PID room invites (and the validity of their ephemeral keys).
    pub invites: Arc<dyn Invites>,
    /// The homeserver's user directory search, routed here by the reverse proxy.
    pub user_directory: Arc<dyn UserDirectory>,
    /// The remote step of validation sessions; `None` when no remote identity server client is
    /// wired (remote-forced sessions then stop after the local validation).
    pub remote_sessions: Option<Arc<dyn RemoteSessions>>,
    /// Registration control (`register.policy`); `None` when it is not configured: the
    /// homeserver's registration paths are then not served (404 `M_UNRECOGNIZED`).
    pub registration: Option<Arc<dyn RegistrationGate>>,
    /// The invite policy (`invite.policy.ifSender.hasRole`) in front of the homeserver's room
    /// invites; `None`: the homeserver's invite path is not served (404 `M_UNRECOGNIZED`).
    pub room_invites: Option<Arc<dyn RoomInviteGate>>,
    /// URL prefixes `next_link` may redirect to after a validation by link
    /// (`session.nextLink.allowed`); empty: never redirect.
    pub next_link_allowed: Arc<[String]>,
    /// The operator's own pages (`view.*`), replaced when the configuration is reloaded;
    /// [`SharedViews::default`] serves the built-in ones.
    pub views: Arc<SharedViews>,
    /// `server.publicUrl` without a trailing slash (it may have a path, behind a reverse proxy):
    /// every link, form action and redirect the pages make starts with it. Empty: they start at
    /// the root of the host the request came to (tests).
    pub public_url: Arc<str>,
}
