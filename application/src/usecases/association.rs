//! Binding validated 3PIDs to Matrix users and unbinding them: the session proves the 3PID, the
//! binding is kept in Verity's own store (unless the operator turned it off), the lookup table
//! follows, and the association is signed with the server's key.
use std::sync::Arc;

use async_trait::async_trait;
use verity_domain::{
    Association, ClientSecret, JsonObject, ServerName, SessionError, SessionId, SessionRules,
    SignedAssociation, Timestamp, UserId, ValidatedThreePid, ValidationSession, bind_object,
};

use self::remote::Forwarded;
use crate::ports::driven::{
    Binding, BindingStore, Clock, HomeserverClient, HomeserverError, IndexError, IndexRefresh,
    PendingInvites, RateLimiter, RemoteIdentityServers, SessionStore, Signer,
};
use crate::ports::driving::{
    self, Actor, AssociationError, Bind, SignedRequest, Unbind, UnbindProof,
};

/// What the association use case needs from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssociationSettings {
    /// Session lifetime: a bind must come within it.
    pub rules: SessionRules,
    /// `session.policy.unbind.enabled`.
    pub unbind_enabled: bool,
}

/// The association use case.
pub struct AssociationService {
    sessions: Arc<dyn SessionStore>,
    bindings: Option<Arc<dyn BindingStore>>,
    /// The lookup table, refreshed after each bind and unbind of Verity's own store.
    index: Arc<dyn IndexRefresh>,
    signer: Arc<dyn Signer>,
    clock: Arc<dyn Clock>,
    settings: AssociationSettings,
    /// How homeserver-signed unbinds are checked; `None`: they are refused.
    federation: Option<FederationCheck>,
    /// Where binds of remotely validated sessions are forwarded (`association_remote.rs`);
    /// `None`: remote-pending sessions are refused.
    remote: Option<Arc<dyn RemoteIdentityServers>>,
    /// The pending 3PID invites a bind signs and queues; `None`: binds ignore invites.
    invites: Option<Arc<dyn PendingInvites>>,
    /// Tells the owner of an unbound 3PID (`association_notify.rs`); `None`: nobody is told.
    unbind_notifier: Option<super::Notifier>,
    /// Counts each unbind notification against its destination (see `association_notify.rs`).
    notification_limiter: Option<Arc<dyn RateLimiter>>,
}

/// What checking a homeserver-signed request needs.
struct FederationCheck {
    homeserver: Arc<dyn HomeserverClient>,
    /// The names this server is known by (`server.name`, the host of `server.publicUrl`): a
    /// signed request must be addressed to one of them.
    own_names: Vec<String>,
}

impl AssociationService {
    /// Wires the use case. `bindings` is `None` when the operator turned Verity's own binding
    /// store off (`bindings.enabled: false`): binds are then only signed, as mxisd did, and
    /// lookups know only what the other backends know.
    pub fn new(
        sessions: Arc<dyn SessionStore>,
        bindings: Option<Arc<dyn BindingStore>>,
        index: Arc<dyn IndexRefresh>,
        signer: Arc<dyn Signer>,
        clock: Arc<dyn Clock>,
        settings: AssociationSettings,
    ) -> Self {
        Self {
            sessions,
            bindings,
            index,
            signer,
            clock,
            settings,
            federation: None,
            remote: None,
            invites: None,
            unbind_notifier: None,
            notification_limiter: None,
        }
    }

    /// After each bind, signs the pending room invites of the bound 3PID, returns them in the
    /// association's `invites` and queues their delivery to the user's homeserver.
    #[must_use]
    pub fn with_invites(mut self, invites: Arc<dyn PendingInvites>) -> Self {
        self.invites = Some(invites);
        self
    }

    /// The object a bind signs: the association with the signed pending invites of its 3PID,
    /// if any (sydent's `invites`). An invite failure never fails the bind, which already
    /// happened.
    async fn with_pending_invites(&self, association: &Association) -> JsonObject {
        let Some(invites) = &self.invites else {
            return association.to_object();
        };
        match invites
            .on_bind(&association.threepid, &association.user_id)
            .await
        {
            Ok(entries) => bind_object(association, &entries),
            Err(error) => {
                tracing::error!(error = %error, "the pending invites of a bound 3PID could not be queued");
                association.to_object()
            }
        }
    }

    /// Accepts unbinds signed by the user's homeserver (`Authorization: X-Matrix`), checked
    /// against the keys `homeserver` fetches, when addressed to one of `own_names`.
    #[must_use]
    pub fn with_homeserver_signatures(
        mut self,
        homeserver: Arc<dyn HomeserverClient>,
        own_names: Vec<String>,
    ) -> Self {
        self.federation = Some(FederationCheck {
            homeserver,
            own_names,
        });
        self
    }

    /// Checks that `signed` was signed by the homeserver of `user` and addressed to this server.
    async fn check_signature(
        &self,
        signed: &SignedRequest,
        user: &UserId,
    ) -> Result<(), AssociationError> {
        let check = self
            .federation
            .as_ref()
            .ok_or(AssociationError::HomeserverSignatureUnsupported)?;
        let rejected = |why: String| AssociationError::SignatureRejected(why);
        // Only a user's own homeserver may speak for them (Identity Service API, unbind).
        let user_server = ServerName::parse(user.server_name())
            .map_err(|_| rejected("the user ID has no valid server name".into()))?;
        if signed.auth.origin != user_server {
            return Err(rejected(format!(
                "{} cannot unbind a user of {}",
                signed.auth.origin, user_server
            )));
        }
        let destination = match &signed.auth.destination {
            Some(named) if check.own_names.iter().any(|own| own == named) => named.clone(),
            Some(named) => return Err(rejected(format!("the request is addressed to {named}"))),
            None => check.own_names.first().cloned().unwrap_or_default(),
        };
        let keys = check
            .homeserver
            .server_keys(&signed.auth.origin, &signed.auth.key)
            .await
            .map_err(|error| {
                tracing::warn!(origin = %signed.auth.origin, error = %error, "origin keys unavailable");
                match error {
                    HomeserverError::InvalidResponse(why) => rejected(why),
                    _ => AssociationError::HomeserverUnavailable,
                }
            })?;
        signed
            .auth
            .verify(
                &signed.method,
                &signed.uri,
                &destination,
                Some(&signed.content.to_value()),
                &keys,
            )
            .map_err(|error| rejected(error.to_string()))
    }

    /// The session and its validated 3PID, checked as `getValidated3pid` checks it. The bind
    /// works on this one copy (read once) until it records the result.
    async fn validated(
        &self,
        sid: &SessionId,
        client_secret: &ClientSecret,
    ) -> Result<(ValidatedThreePid, ValidationSession), AssociationError> {
        let session = self
            .sessions
            .find(sid)
            .await?
            .ok_or(AssociationError::NoValidSession)?;
        let validated = session
            .validated(client_secret, self.clock.now(), &self.settings.rules)
            .map_err(session_error)?;
        Ok((validated, session))
    }
}

fn session_error(error: SessionError) -> AssociationError {
    match error {
        SessionError::NoValidSession => AssociationError::NoValidSession,
        SessionError::Expired => AssociationError::SessionExpired,
        SessionError::NotValidated | SessionError::TokenIncorrect { .. } | SessionError::Locked => {
            AssociationError::NotValidated
        }
    }
}

impl From<IndexError> for AssociationError {
    fn from(error: IndexError) -> Self {
        match error {
            IndexError::Store(error) => Self::Internal(error),
            IndexError::Backend(error) => Self::Backend(error),
        }
    }
}

#[async_trait]
impl driving::Association for AssociationService {
    async fn bind(&self, request: Bind) -> Result<SignedAssociation, AssociationError> {
        // v2 (sydent): a token binds its own user only. v1 had no token to compare with.
        if let Some(requester) = &request.requester
            && requester != &request.user_id
        {
            return Err(AssociationError::NotTheRequester(request.user_id));
        }
        let (validated, mut session) = self.validated(&request.sid, &request.client_secret).await?;
        // A remotely published 3PID is bound there first (association_remote.rs); a forced
        // remote session is bound there only: nothing is stored or published here.
        if let Forwarded::Only(association) = self.forward_bind(&request, &mut session).await? {
            return Ok(association);
        }
        let binding = Binding {
            threepid: validated.threepid,
            user_id: request.user_id,
        };
        let now = self.clock.now();
        self.store_binding(&binding, now).await?;
        self.record_local_bind(&mut session, &binding.user_id)
            .await?;
        tracing::info!(sid = %request.sid, medium = %binding.threepid.medium(), "3PID bound");
        self.sign_bound(binding, now).await
    }

    async fn unbind(&self, request: Unbind) -> Result<(), AssociationError> {
        if !self.settings.unbind_enabled {
            return Err(AssociationError::UnbindDisabled);
        }
        let proof = match &request.proof {
            UnbindProof::Session { sid, client_secret } => {
                let (validated, _) = self.validated(sid, client_secret).await?;
                if validated.threepid != request.threepid {
                    return Err(AssociationError::ThreePidMismatch);
                }
                format!("session {sid}")
            }
            UnbindProof::HomeserverSignature(signed) => {
                // The homeserver logs no body and neither did we: say why here, or an
                // operator sees only a 403 (no secrets: names, keys and reasons only).
                if let Err(error) = self.check_signature(signed, &request.user_id).await {
                    tracing::warn!(
                        origin = %signed.auth.origin,
                        key = signed.auth.key.as_str(),
                        destination = signed.auth.destination.as_deref().unwrap_or("-"),
                        own_names = ?self.federation.as_ref().map(|check| &check.own_names),
                        %error,
                        "refused a homeserver-signed unbind"
                    );
                    return Err(error);
                }
                format!("signed by {}", signed.auth.origin)
            }
            UnbindProof::None => return Err(AssociationError::ProofRequired),
        };
        let binding = Binding {
            threepid: request.threepid,
            user_id: request.user_id,
        };
        let removed = self.remove_binding(&binding).await?;
        tracing::info!(proof, medium = %binding.threepid.medium(), removed, "3PID unbound");
        self.notify_unbound(&binding.threepid).await;
        Ok(())
    }

    async fn bind_vouched(
        &self,
        binding: Binding,
        actor: &Actor,
    ) -> Result<SignedAssociation, AssociationError> {
        let now = self.clock.now();
        self.store_binding(&binding, now).await?;
        // The operator's audit trail: who bound what (the address is the operator's own data).
        tracing::info!(
            %actor,
            medium = %binding.threepid.medium(),
            address = binding.threepid.address(),
            mxid = %binding.user_id,
            "3PID bound by the operator"
        );
        self.sign_bound(binding, now).await
    }

    async fn unbind_vouched(
        &self,
        binding: Binding,
        actor: &Actor,
    ) -> Result<bool, AssociationError> {
        let removed = self.remove_binding(&binding).await?;
        tracing::info!(
            %actor,
            medium = %binding.threepid.medium(),
            address = binding.threepid.address(),
            mxid = %binding.user_id,
            removed,
            "3PID unbound by the operator"
        );
        // Only a removal is told: nothing changed for the owner otherwise.
        if removed {
            self.notify_unbound(&binding.threepid).await;
        }
        Ok(removed)
    }
}

impl AssociationService {
    /// Stores `binding` at `now` (when Verity's binding store is on) and brings the lookup table
    /// in step; the store records the change for the other instances in the same transaction.
    async fn store_binding(
        &self,
        binding: &Binding,
        now: Timestamp,
    ) -> Result<(), AssociationError> {
        if let Some(bindings) = &self.bindings {
            bindings.bind(binding, now).await?;
            self.index.refresh(&binding.threepid).await?;
        }
        Ok(())
    }

    /// The association of a stored `binding`, vouched for at `now`, with the pending invites of
    /// its 3PID signed and queued, signed with the server's key.
    async fn sign_bound(
        &self,
        binding: Binding,
        now: Timestamp,
    ) -> Result<SignedAssociation, AssociationError> {
        let association = Association::vouched_at(binding.threepid, binding.user_id, now);
        let object = self.with_pending_invites(&association).await;
        Ok(SignedAssociation::signed_by(
            &association,
            self.signer.sign(&object)?,
        )?)
    }

    /// Removes `binding` from Verity's binding store (nothing when it is off) and, when one was
    /// removed, brings the lookup table in step. Says whether one was removed.
    async fn remove_binding(&self, binding: &Binding) -> Result<bool, AssociationError> {
        let removed = match &self.bindings {
            Some(bindings) => bindings.unbind(binding, self.clock.now()).await?,
            None => false,
        };
        if removed {
            self.index.refresh(&binding.threepid).await?;
        }
        Ok(removed)
    }
}

#[path = "association_remote.rs"]
mod remote;

#[path = "association_notify.rs"]
mod notify;

#[cfg(test)]
#[path = "association_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "association_invites_tests.rs"]
mod invites_tests;

#[cfg(test)]
#[path = "association_notify_tests.rs"]
mod notify_tests;

#[cfg(test)]
#[path = "association_vouched_tests.rs"]
mod vouched_tests;
