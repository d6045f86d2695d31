//! Verity's pure domain: third-party identifiers (3PIDs), their scope, validation sessions, the
//! validation policy that decides where a 3PID may be validated, the associations the server vouches
//! for and the hashes they are looked up by, and the ed25519 keys and canonical JSON that signatures
//! are made of.
//!
//! Nothing here performs I/O, reads the clock or draws random numbers: time arrives as a
//! [`Timestamp`] and every secret as an already-generated value, so every rule is deterministic and
//! exhaustively testable.
#![warn(missing_docs)]

mod account;
mod association;
mod bound_invite;
pub mod canonical_json;
mod email;
mod federation;
mod invite;
mod invite_policy;
mod invite_sender;
mod keys;
mod limits;
mod lookup;
mod matrix_ids;
mod medium;
mod msisdn;
mod names;
mod network;
mod password;
mod percent;
mod policy;
mod profile;
mod registration;
mod remote_session;
mod scope;
mod secrets;
mod session;
mod signed_association;
mod signed_invite;
mod signed_json;
mod signing;
mod threepid;
mod time;
mod user_directory;

pub use account::{
    ACCESS_TOKEN_LENGTH, AccessToken, Account, InvalidAccessToken, PolicyDocument, TermsPolicy,
    TokenFingerprint, unsigned_policies,
};
pub use association::{ASSOCIATION_LIFETIME, Association};
pub use bound_invite::{BoundInvite, bind_object, onbind_body};
pub use canonical_json::{CanonicalJsonError, canonical_json};
pub use email::{EmailAddress, InvalidEmail};
pub use federation::{FederationAuthError, XMatrixAuth, verified_server_keys};
pub use invite::{
    Delivery, DeliveryState, FIRST_RETRY_DELAY, INVITE_TOKEN_LENGTH, InvalidInviteToken, Invite,
    InviteToken, MAX_RETRY_DELAY, MAX_ROOM_NAME_CHARS, MAX_SENDER_DISPLAY_NAME_CHARS,
    ephemeral_signed_object, invite_display_name, invite_expiry, retry_delay, truncate_display,
};
pub use invite_policy::{
    InviteBlocklist, InviteRefusal, WEB_CLIENT_LOCATION, forbidden_invite_char,
    is_forbidden_in_invite_text,
};
pub use invite_sender::SenderRoles;
pub use keys::{ED25519, InvalidKey, KeyId, KeyKind, PublicKey, SigningKey};
pub use limits::{
    IPV6_REQUESTER_PREFIX, LimitCheck, LimitClass, LimitKey, LimitedRequest, RequesterKey,
    RetryAfter,
};
pub use lookup::{
    Addresses, InvalidPepper, LookupAlgorithm, LookupHash, MAX_PEPPER_LENGTH, MalformedPlainEntry,
    Pepper, PlainEntry,
};
pub use matrix_ids::{Host, InvalidMatrixId, ServerName, UserId};
pub use medium::{InvalidMedium, Medium};
pub use msisdn::{InvalidMsisdn, Msisdn};
pub use names::{InvalidName, MatrixDomain, ServerLabel};
pub use network::{
    DEFAULT_RECURSION_NETWORKS, InvalidNetwork, IpNetwork, MAX_FORWARDED_HOPS, Requester,
    in_networks,
};
pub use password::{InvalidPassword, MAX_PASSWORD_CHARS, Password};
pub use percent::percent_encode;
pub use policy::{RefusalReason, RemotePolicy, ScopePolicy, ValidationDecision, ValidationPolicy};
pub use profile::{MAX_DISPLAY_NAME_CHARS, MAX_ROLE_CHARS, Profile};
pub use registration::{
    AddressPattern, DomainRule, InvalidRegistrationRule, MediumRules, RegistrationDecision,
    RegistrationPolicy,
};
pub use remote_session::{BindRoute, RemoteRequest, RemoteSession, RemoteStepError, server_host};
pub use scope::Scope;
pub use secrets::{
    ClientSecret, InvalidSecret, SESSION_ID_LENGTH, SendAttempt, SessionId, TokenKind,
    ValidationToken,
};
pub use session::{
    RequestOutcome, SessionError, SessionMode, SessionParts, SessionRequest, SessionRules,
    Submission, ValidatedThreePid, ValidationSession, token_kind_for,
};
pub use signed_association::{InvalidSignedAssociation, SignedAssociation};
pub use signed_invite::SignedInvite;
pub use signed_json::{InvalidSignedJson, JsonObject, NotAJsonObject, SignatureRef, SignedJson};
pub use signing::{SigningError, VerificationError, sign_json, verify_json};
pub use threepid::{InvalidThreePid, ThreePid};
pub use time::{Timestamp, UtcTime};
pub use user_directory::{
    DEFAULT_SEARCH_LIMIT, DirectoryEntry, DirectoryResults, HomeserverAccessToken,
    InvalidSearchTerm, MAX_HOMESERVER_TOKEN_CHARS, MAX_SEARCH_LIMIT, MAX_SEARCH_TERM_CHARS,
    SearchLimit, SearchTerm,
};
