//! Ports that drive Verity: one use-case trait per area, called by the HTTP adapter.

mod accounts;
mod admin;
mod association;
mod authentication;
mod invites;
mod keys;
mod limits;
mod lookup;
mod operator;
mod registration_gate;
mod remote_sessions;
mod room_invite_gate;
mod status;
mod user_directory;
mod validation;

pub use accounts::{Accounts, AuthError, Registration, RegistrationError};
pub use admin::{Admin, AdminError, InviteStatus, InviteView, KeyInfo, PepperRotation};
pub use association::{Association, AssociationError, Bind, SignedRequest, Unbind, UnbindProof};
pub use authentication::{Authentication, Login, LoginError};
pub use invites::{InviteDetails, InviteError, InviteStored, Invites, SignEd25519, StoreInvite};
pub use keys::Keys;
pub use limits::{Caller, LimitExceeded, Limits};
pub use lookup::{HashDetails, Lookup, LookupError, LookupRequest};
pub use operator::Actor;
pub use registration_gate::{RegistrationGate, RegistrationGateError};
pub use remote_sessions::{RemoteFailure, RemoteOverview, RemoteSessionError, RemoteSessions};
pub use room_invite_gate::{InviteTarget, RoomInviteGate, RoomInviteGateError, RoomInviteRequest};
pub use status::{CheckReport, Readiness, ServerStatus, Status, VersionInfo};
pub use user_directory::{DirectoryCaller, DirectoryError, UserDirectory};
pub use validation::{
    RequestToken, SubmitToken, TokenAccepted, TokenRequested, Validation, ValidationError,
};

#[cfg(any(test, feature = "mocks"))]
pub use accounts::MockAccounts;
#[cfg(any(test, feature = "mocks"))]
pub use admin::MockAdmin;
#[cfg(any(test, feature = "mocks"))]
pub use association::MockAssociation;
#[cfg(any(test, feature = "mocks"))]
pub use authentication::MockAuthentication;
#[cfg(any(test, feature = "mocks"))]
pub use invites::MockInvites;
#[cfg(any(test, feature = "mocks"))]
pub use keys::MockKeys;
#[cfg(any(test, feature = "mocks"))]
pub use limits::MockLimits;
#[cfg(any(test, feature = "mocks"))]
pub use lookup::MockLookup;
#[cfg(any(test, feature = "mocks"))]
pub use registration_gate::MockRegistrationGate;
#[cfg(any(test, feature = "mocks"))]
pub use remote_sessions::MockRemoteSessions;
#[cfg(any(test, feature = "mocks"))]
pub use room_invite_gate::MockRoomInviteGate;
#[cfg(any(test, feature = "mocks"))]
pub use status::MockStatus;
#[cfg(any(test, feature = "mocks"))]
pub use user_directory::MockUserDirectory;
#[cfg(any(test, feature = "mocks"))]
pub use validation::MockValidation;
