use async_trait::async_trait;
use verity_domain::{
    ClientSecret, JsonObject, ServerLabel, SessionId, SignedAssociation, ThreePid, UserId,
    XMatrixAuth,
};

use crate::ports::driven::{BackendError, Binding, StoreError};
use crate::ports::driving::{Actor, RemoteFailure};

/// `POST /3pid/bind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// The validation session.
    pub sid: SessionId,
    /// Its client secret.
    pub client_secret: ClientSecret,
    /// The Matrix user to bind the session's 3PID to.
    pub user_id: UserId,
    /// The owner of the v2 access token; `None` on v1, which had no authentication.
    pub requester: Option<UserId>,
}

/// What proves the caller may unbind a 3PID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnbindProof {
    /// The sid and client secret of a session that validated the 3PID.
    Session {
        /// The validation session.
        sid: SessionId,
        /// Its client secret.
        client_secret: ClientSecret,
    },
    /// Only an `Authorization: X-Matrix` header: the homeserver of the user signed the request
    /// (MSC1915; what Synapse sends when a user removes a 3PID or deactivates).
    HomeserverSignature(SignedRequest),
    /// Nothing.
    None,
}

/// A request as a homeserver signed it: what the signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The parsed `Authorization: X-Matrix` header.
    pub auth: XMatrixAuth,
    /// The HTTP method.
    pub method: String,
    /// The path and query, exactly as received.
    pub uri: String,
    /// The JSON body, exactly as received (every field counts, known or not).
    pub content: JsonObject,
}

/// `POST /3pid/unbind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unbind {
    /// The Matrix user the 3PID is bound to.
    pub user_id: UserId,
    /// The 3PID to unbind.
    pub threepid: ThreePid,
    /// Why the caller may.
    pub proof: UnbindProof,
}

/// Why a bind or unbind failed. The HTTP adapter maps each to the spec's errcode.
#[derive(Debug, thiserror::Error)]
pub enum AssociationError {
    /// No session matches the sid and client secret.
    #[error("no session matches this sid and client_secret")]
    NoValidSession,
    /// The session's lifetime has passed.
    #[error("the validation session has expired")]
    SessionExpired,
    /// The session has not been validated.
    #[error("the 3PID has not been validated in this session")]
    NotValidated,
    /// The policy sends this 3PID to another identity server: it is neither bound nor published
    /// here.
    #[error(
        "this 3PID must be validated and bound on the identity server `{0}` (the policy of this \
         server does not bind it here)"
    )]
    RemoteValidationRequired(ServerLabel),
    /// The policy publishes this 3PID on another identity server, and the user has not (yet)
    /// completed the validation there.
    #[error(
        "this 3PID must first be validated on the identity server `{0}`: follow the link in the \
         message it sent, then bind again"
    )]
    RemoteNotValidated(ServerLabel),
    /// The remote identity server failed or refused the forwarded bind; nothing was bound.
    #[error("{0}")]
    Remote(RemoteFailure),
    /// v2: the access token belongs to another user than the one to bind.
    #[error("the access token does not belong to {0}")]
    NotTheRequester(UserId),
    /// Unbind: the session validated another 3PID.
    #[error("the validation session is not for this 3PID")]
    ThreePidMismatch,
    /// Unbind with only a homeserver signature, which this server is not set up to check.
    #[error(
        "unbinding through a homeserver signature (X-Matrix) is not available: unbind with the \
         sid and client_secret of a session that validated the 3PID"
    )]
    HomeserverSignatureUnsupported,
    /// The homeserver signature does not prove the right to unbind (wrong origin, destination,
    /// key or signature).
    #[error("the homeserver signature is not accepted: {0}")]
    SignatureRejected(String),
    /// The origin's signing keys could not be fetched.
    #[error("the homeserver's signing keys could not be fetched")]
    HomeserverUnavailable,
    /// Unbind without any proof.
    #[error("unbinding needs the sid and client_secret of a session that validated the 3PID")]
    ProofRequired,
    /// Unbind is switched off (`session.policy.unbind.enabled`).
    #[error("this server does not allow unbinding 3PIDs")]
    UnbindDisabled,
    /// The association could not be signed.
    #[error("the association could not be signed")]
    Signing(#[from] verity_domain::SigningError),
    /// A store failed.
    #[error("internal error")]
    Internal(#[from] StoreError),
    /// An identity backend failed while the lookup table was brought up to date.
    #[error("an identity backend failed")]
    Backend(#[from] BackendError),
}

/// Binding validated 3PIDs to Matrix users, and unbinding them (Identity Service API, "Establishing
/// associations").
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Association: Send + Sync {
    /// Binds the session's validated 3PID to the user and returns the signed association
    /// (`address, medium, mxid, not_before, not_after, ts, signatures`, and `invites` when the
    /// address had pending invites), or a remote server's exactly as it answered.
    async fn bind(&self, request: Bind) -> Result<SignedAssociation, AssociationError>;

    /// Removes the binding of the 3PID to the user. Unbinding what is not bound succeeds.
    async fn unbind(&self, request: Unbind) -> Result<(), AssociationError>;

    /// Binds `binding` without a validation session: the operator vouches for the 3PID (Sydent's
    /// internal API). Otherwise as [`bind`](Self::bind) does: stored, the lookup table brought
    /// in step, the pending invites signed, returned and queued for delivery, the association
    /// signed. Logged with `actor`.
    async fn bind_vouched(
        &self,
        binding: Binding,
        actor: &Actor,
    ) -> Result<SignedAssociation, AssociationError>;

    /// Removes `binding` without any proof: the operator decides (Sydent's internal API,
    /// `verity admin bindings remove`). Otherwise as [`unbind`](Self::unbind) does, whatever
    /// `session.policy.unbind.enabled` says: the lookup table in step, the change recorded for
    /// the other instances, the owner notified when notifications are on. Says whether a binding
    /// was removed (a binding of the 3PID to another user is left alone). Logged with `actor`.
    async fn unbind_vouched(
        &self,
        binding: Binding,
        actor: &Actor,
    ) -> Result<bool, AssociationError>;
}
