//! Binds that go to a remote identity server: a session whose 3PID the policy publishes on
//! another server is bound there (Verity forwards the homeserver's bind with its own remote
//! secret), and, when the policy also keeps it here, bound here afterwards.
use std::sync::Arc;

use verity_domain::{BindRoute, SessionMode, SignedAssociation, UserId, ValidationSession};

use super::AssociationService;
use crate::ports::driven::RemoteIdentityServers;
use crate::ports::driving::{AssociationError, Bind};
use crate::usecases::remote_sessions::{confirm_remote_validation, remote_failure, server_of};

/// What the remote part of a bind did.
pub(super) enum Forwarded {
    /// Nothing to forward: bind here.
    No,
    /// Bound remotely; bind here too (an offered remote step that was taken).
    AlsoLocal,
    /// Bound remotely only: this is the remote server's association, and nothing is stored here.
    Only(SignedAssociation),
}

impl AssociationService {
    /// Forwards binds of remotely validated sessions to their remote identity server.
    #[must_use]
    pub fn with_remote_servers(mut self, remote: Arc<dyn RemoteIdentityServers>) -> Self {
        self.remote = Some(remote);
        self
    }

    /// Records on the session whom it was bound to here, once that bind succeeded, when the
    /// remote step is offered: taken afterwards, the step binds the 3PID there to the same user
    /// (`RemoteSessionService::check`). Other modes have nothing to carry over.
    pub(super) async fn record_local_bind(
        &self,
        session: &mut ValidationSession,
        user: &UserId,
    ) -> Result<(), AssociationError> {
        if !matches!(session.mode(), SessionMode::LocalOfferRemote(_)) {
            return Ok(());
        }
        if session.bound_to() == Some(user) {
            return Ok(());
        }
        session.record_local_bind(user.clone());
        // Stale only when the session was purged meanwhile: then no remote step can follow.
        let _stale_or_not = self.sessions.record_local_bind(session.id(), user).await?;
        Ok(())
    }

    /// The remote part of a bind of a (locally validated) session in `mode`. Nothing is stored
    /// here before the remote server accepted the bind, so a remote failure binds nothing.
    pub(super) async fn forward_bind(
        &self,
        request: &Bind,
        session: &mut ValidationSession,
    ) -> Result<Forwarded, AssociationError> {
        let mode = session.mode().clone();
        if mode == SessionMode::Local {
            return Ok(Forwarded::No);
        }
        let Some(remote) = &self.remote else {
            // No remote client: a forced remote session can only be refused, as before.
            return match mode {
                SessionMode::RemotePending(label) => {
                    Err(AssociationError::RemoteValidationRequired(label.clone()))
                }
                _ => Ok(Forwarded::No),
            };
        };
        let (target, also_local) = match session.bind_route() {
            BindRoute::Local => return Ok(Forwarded::No),
            BindRoute::RemoteThenLocal(target) => (target, true),
            BindRoute::RemoteOnly(target) => (target, false),
            BindRoute::RemoteNotValidated(None) => {
                return Err(AssociationError::RemoteNotValidated(
                    mode.remote_label()
                        .cloned()
                        .ok_or(AssociationError::NotValidated)?,
                ));
            }
            // The user may have completed the remote validation without coming back to the
            // check page: ask the remote server before refusing.
            BindRoute::RemoteNotValidated(Some(target)) => {
                let now = self.clock.now();
                let validated = confirm_remote_validation(remote.as_ref(), session, now)
                    .await
                    .map_err(AssociationError::Remote)?;
                if !validated {
                    return Err(AssociationError::RemoteNotValidated(target.server));
                }
                // Stale: a concurrent check recorded it first; the remote server said it is
                // validated either way.
                let _stale_or_not = self
                    .sessions
                    .mark_remote_validated(session.id(), &target.sid, now)
                    .await?;
                (target, false)
            }
        };
        let association = remote
            .bind(
                &server_of(&target),
                &target.sid,
                &target.client_secret,
                &request.user_id,
            )
            .await
            .map_err(|error| AssociationError::Remote(remote_failure(&target.server, error)))?;
        tracing::info!(sid = %request.sid, server = %target.server, "3PID bound on the remote identity server");
        Ok(if also_local {
            Forwarded::AlsoLocal
        } else {
            Forwarded::Only(association)
        })
    }
}

#[cfg(test)]
#[path = "association_remote_tests.rs"]
mod tests;
