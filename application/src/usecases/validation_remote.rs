//! SMS sessions the policy sends to a remote identity server (mxisd's two codes): once the local
//! code is accepted, Verity opens the remote session at once (the remote server texts a NEW
//! code), and the next code submitted to the same local session is forwarded there.
use std::sync::Arc;

use verity_domain::{
    Medium, ServerLabel, SessionMode, ValidationSession, ValidationToken, server_host,
};

use super::ValidationService;
use crate::ports::driven::{Change, RemoteError, RemoteIdentityServers};
use crate::ports::driving::{TokenAccepted, ValidationError};
use crate::usecases::remote_sessions::{
    fresh_secret, remote_failure, request_remote_token, server_of,
};

impl ValidationService {
    /// Starts remote sessions for SMS the policy publishes elsewhere, and forwards their codes.
    #[must_use]
    pub fn with_remote_servers(mut self, remote: Arc<dyn RemoteIdentityServers>) -> Self {
        self.remote = Some(remote);
        self
    }

    /// The remote client and label when `session` is an SMS session forced to a remote server.
    pub(super) fn sms_remote<'a>(
        &'a self,
        session: &'a ValidationSession,
    ) -> Option<(&'a Arc<dyn RemoteIdentityServers>, &'a ServerLabel)> {
        match (session.threepid().medium(), session.mode(), &self.remote) {
            (Medium::Msisdn, SessionMode::RemotePending(label), Some(remote)) => {
                Some((remote, label))
            }
            _ => None,
        }
    }

    /// The server whose code the user must submit next, if any, as users know it: the host of
    /// the base URL the remote session was opened on (never the operator's label).
    pub(super) fn remote_code_from(&self, session: &ValidationSession) -> Option<String> {
        self.sms_remote(session)?;
        let started = session.remote()?;
        (!session.is_remotely_validated()).then(|| server_host(&started.base_url))
    }

    /// Right after the local code of a forced-remote SMS session was accepted (in `session`, not
    /// yet stored): opens the remote session. On failure the caller stores nothing, so the
    /// local code can be submitted again.
    pub(super) async fn start_remote_sms(
        &self,
        session: &mut ValidationSession,
    ) -> Result<(), ValidationError> {
        let Some((remote, label)) = self.sms_remote(session) else {
            return Ok(());
        };
        let (remote, label) = (remote.clone(), label.clone());
        let own_secret = session.parts().client_secret.clone();
        let request = session
            .next_remote_request(
                &own_secret,
                fresh_secret(self.secrets.as_ref())?,
                self.clock.now(),
                &self.settings.rules,
            )
            .map_err(|_| ValidationError::NotValidated)?;
        // Stored with the local validation, by the caller, in one conditional change.
        request_remote_token(remote.as_ref(), session, request)
            .await
            .map_err(ValidationError::Remote)?;
        tracing::info!(sid = %session.id(), server = %label, "remote SMS session started: a second code was sent");
        Ok(())
    }

    /// A code submitted to an already validated forced-remote SMS session whose remote session
    /// waits for its code: anything but the local code again goes to the remote server. `None`
    /// when the submission is not one of those.
    pub(super) async fn forward_remote_code(
        &self,
        session: &mut ValidationSession,
        token: &ValidationToken,
    ) -> Result<Option<TokenAccepted>, ValidationError> {
        let Some((remote, _)) = self.sms_remote(session) else {
            return Ok(None);
        };
        let remote = remote.clone();
        let Some(started) = session.remote().cloned() else {
            return Ok(None);
        };
        if started.validated_at.is_some() {
            return Ok(None);
        }
        let rules = self.settings.rules;
        if session.is_locked(&rules) {
            return Err(ValidationError::TooManyAttempts);
        }
        if session.token().matches(token) {
            return Ok(None);
        }
        // The second code counts against the session's cap like the first: counted atomically
        // before it is forwarded, so concurrent guesses cannot exceed it here either.
        let attempt = self
            .sessions
            .count_token_attempt(session.id())
            .await?
            .ok_or(ValidationError::NoValidSession)?;
        session
            .count_remote_code(attempt, &rules)
            .map_err(|_| ValidationError::TooManyAttempts)?;
        remote
            .submit_token(
                &server_of(&started),
                &started.sid,
                &started.client_secret,
                token,
            )
            .await
            .map_err(|error| match error {
                // The user mistyped the second code: the remote server counts its own attempts.
                RemoteError::Refused { errcode, .. } if errcode == "M_TOKEN_INCORRECT" => {
                    ValidationError::TokenIncorrect
                }
                other => ValidationError::Remote(remote_failure(&started.server, other)),
            })?;
        let threepid = session.threepid().clone();
        let now = self.clock.now();
        session
            .record_remote_validation(&threepid, now)
            .map_err(|_| ValidationError::NotValidated)?;
        let recorded = self
            .sessions
            .mark_remote_validated(session.id(), &started.sid, now)
            .await?;
        if recorded == Change::Stale {
            // Validated there by a concurrent request (fine), or the remote session was opened
            // again meanwhile and this code was for the old one.
            let stored = self
                .sessions
                .find(session.id())
                .await?
                .ok_or(ValidationError::NoValidSession)?;
            if !stored.is_remotely_validated() {
                return Err(ValidationError::NotValidated);
            }
            *session = stored;
        }
        tracing::info!(sid = %session.id(), server = %started.server, "3PID validated on the remote identity server");
        let parts = session.parts();
        Ok(Some(TokenAccepted {
            threepid: parts.threepid.clone(),
            mode: parts.mode.clone(),
            next_link: parts.next_link.clone(),
            remote_code_from: None,
        }))
    }
}

#[cfg(test)]
#[path = "validation_remote_tests.rs"]
mod tests;
