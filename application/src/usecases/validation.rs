//! 3PID validation sessions under the operator's scope policy.
use std::sync::Arc;

use async_trait::async_trait;
use verity_domain::{
    ClientSecret, MatrixDomain, RefusalReason, RequestOutcome, Scope, SessionError, SessionId,
    SessionMode, SessionRequest, SessionRules, Submission, ValidatedThreePid, ValidationDecision,
    ValidationPolicy, ValidationSession, percent_encode, token_kind_for,
};

use super::notifier::{MediumHandler, Notifier};
use crate::ports::driven::{
    Change, Clock, NotifyError, RemoteIdentityServers, SecretGenerator, SessionStore, StoreError,
    ValidationNotice,
};
use crate::ports::driving::{
    RequestToken, SubmitToken, TokenAccepted, TokenRequested, Validation, ValidationError,
};

/// What the validation use case needs from configuration.
#[derive(Debug, Clone)]
pub struct ValidationSettings {
    /// `matrix.domain`: decides the scope of emails.
    pub domain: MatrixDomain,
    /// `session.policy.validation`.
    pub policy: ValidationPolicy,
    /// Lifetime and attempt cap.
    pub rules: SessionRules,
    /// The base the validation link is built on, e.g. `https://id.example.org/_matrix/identity/v2`
    /// (no trailing slash); `/validate/<medium>/submitToken?...` is appended.
    pub link_base: String,
}

/// The validation use case.
pub struct ValidationService {
    sessions: Arc<dyn SessionStore>,
    notifier: Notifier,
    clock: Arc<dyn Clock>,
    secrets: Arc<dyn SecretGenerator>,
    settings: ValidationSettings,
    /// Where forced-remote SMS sessions continue (`validation_remote.rs`); `None`: they stop
    /// after the local code.
    remote: Option<Arc<dyn RemoteIdentityServers>>,
}

impl ValidationService {
    /// Wires the use case.
    pub fn new(
        sessions: Arc<dyn SessionStore>,
        notifier: Notifier,
        clock: Arc<dyn Clock>,
        secrets: Arc<dyn SecretGenerator>,
        settings: ValidationSettings,
    ) -> Self {
        Self {
            sessions,
            notifier,
            clock,
            secrets,
            settings,
            remote: None,
        }
    }

    /// Deletes sessions whose lifetime has passed; returns how many. Run periodically.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let cutoff = self
            .clock
            .now()
            .saturating_sub(self.settings.rules.lifetime);
        self.sessions.purge_modified_before(cutoff).await
    }

    /// The policy's verdict for a 3PID, as a session mode or the refusal.
    fn mode_for(
        &self,
        session_threepid: &verity_domain::ThreePid,
    ) -> Result<SessionMode, ValidationError> {
        let decision = self
            .settings
            .policy
            .decide(Scope::of(session_threepid, &self.settings.domain));
        match (&decision, SessionMode::from_decision(&decision)) {
            (_, Some(mode)) => Ok(mode),
            (ValidationDecision::Refused(reason), None) => Err(ValidationError::Refused(*reason)),
            (_, None) => Err(ValidationError::Refused(RefusalReason::Disabled)),
        }
    }

    /// The link that submits the token: every value is in a URL-safe charset already, and is
    /// percent-encoded anyway so a future token format cannot break the link.
    fn link(&self, session: &ValidationSession) -> String {
        let parts = session.parts();
        format!(
            "{}/validate/{}/submitToken?sid={}&client_secret={}&token={}",
            self.settings.link_base,
            percent_encode(parts.threepid.medium().as_str()),
            percent_encode(parts.id.as_str()),
            percent_encode(parts.client_secret.expose()),
            percent_encode(parts.token.expose()),
        )
    }

    async fn send(
        &self,
        handler: &MediumHandler,
        session: &ValidationSession,
    ) -> Result<(), ValidationError> {
        let medium = session.threepid().medium();
        let notice = ValidationNotice {
            threepid: session.threepid().clone(),
            sid: session.id().clone(),
            token: session.token().clone(),
            link: self.link(session),
            mode: session.mode().clone(),
        };
        let failed = |error: NotifyError| {
            tracing::error!(%medium, sid = %session.id(), error = %error, "validation message not sent");
            match error {
                NotifyError::Unsupported => ValidationError::UnsupportedMedium(medium.clone()),
                NotifyError::Rejected(_) => ValidationError::SendFailed {
                    medium: medium.clone(),
                    rejected: true,
                },
                NotifyError::Template(_) | NotifyError::Unavailable(_) => {
                    ValidationError::SendFailed {
                        medium: medium.clone(),
                        rejected: false,
                    }
                }
            }
        };
        let message = handler.generator.validation(&notice).map_err(failed)?;
        handler.connector.send(&message).await.map_err(failed)?;
        tracing::info!(%medium, sid = %session.id(), "validation message sent");
        Ok(())
    }
}

fn session_error(error: SessionError) -> ValidationError {
    match error {
        SessionError::NoValidSession => ValidationError::NoValidSession,
        SessionError::Expired => ValidationError::SessionExpired,
        SessionError::TokenIncorrect { .. } => ValidationError::TokenIncorrect,
        SessionError::Locked => ValidationError::TooManyAttempts,
        SessionError::NotValidated => ValidationError::NotValidated,
    }
}

#[async_trait]
impl Validation for ValidationService {
    async fn request_token(
        &self,
        request: RequestToken,
    ) -> Result<TokenRequested, ValidationError> {
        let mode = self.mode_for(&request.threepid)?;
        let medium = request.threepid.medium();
        let handler = self
            .notifier
            .handler(&medium)
            .ok_or_else(|| ValidationError::UnsupportedMedium(medium.clone()))?;
        let now = self.clock.now();
        let rules = self.settings.rules;

        // The same 3PID and secret resume their live session: the same sid, and a message only
        // when send_attempt grew (the spec's rule; sydent re-sends every time). A locked session
        // is not resumed: its token can no longer be used, so the user gets a fresh one.
        let existing = self
            .sessions
            .find_latest(&request.threepid, &request.client_secret)
            .await?;
        let live = |s: &ValidationSession| !s.is_expired(now, &rules) && !s.is_locked(&rules);
        if let Some(mut session) = existing.filter(live) {
            if session.request_again(request.send_attempt) == RequestOutcome::SendAgain {
                // Sent before it is recorded, as for a new session: a failed send records
                // nothing, so the client's retry sends again. Only send_attempt is written, so
                // the submissions counted meanwhile stay counted.
                self.send(handler, &session).await?;
                if self
                    .sessions
                    .record_resend(session.id(), request.send_attempt)
                    .await?
                    == Change::Stale
                {
                    // A concurrent resend recorded this attempt or a higher one: same answer.
                    tracing::debug!(sid = %session.id(), "send_attempt already recorded");
                }
            }
            return Ok(TokenRequested {
                sid: session.id().clone(),
                threepid: request.threepid,
            });
        }

        let token = self
            .secrets
            .validation_token(token_kind_for(&request.threepid));
        let session = ValidationSession::start(
            SessionRequest {
                id: self.secrets.session_id(),
                client_secret: request.client_secret,
                threepid: request.threepid.clone(),
                token,
                send_attempt: request.send_attempt,
                next_link: request.next_link,
                mode,
            },
            now,
        );
        // Sent before it is stored: a failed send leaves nothing behind, so the client's retry
        // (even with the same send_attempt) starts afresh instead of finding a silent session.
        self.send(handler, &session).await?;
        self.sessions.insert(&session).await?;
        Ok(TokenRequested {
            sid: session.id().clone(),
            threepid: request.threepid,
        })
    }

    async fn submit_token(
        &self,
        submission: SubmitToken,
    ) -> Result<TokenAccepted, ValidationError> {
        let mut session = self
            .sessions
            .find(&submission.sid)
            .await?
            .ok_or(ValidationError::NoValidSession)?;
        let now = self.clock.now();
        let rules = self.settings.rules;
        let state = session
            .check_submission(&submission.client_secret, now, &rules)
            .map_err(session_error)?;
        // The policy may have changed since the session was created: it still decides.
        self.mode_for(session.threepid())?;
        if state == Submission::AlreadyValidated
            && let Some(accepted) = self
                .forward_remote_code(&mut session, &submission.token)
                .await?
        {
            return Ok(accepted);
        }
        let session = self
            .record_submission(session, state, &submission, now)
            .await?;
        let parts = session.parts();
        Ok(TokenAccepted {
            threepid: parts.threepid.clone(),
            mode: parts.mode.clone(),
            next_link: parts.next_link.clone(),
            remote_code_from: self.remote_code_from(&session),
        })
    }

    async fn validated_3pid(
        &self,
        sid: &SessionId,
        client_secret: &ClientSecret,
    ) -> Result<ValidatedThreePid, ValidationError> {
        let session = self
            .sessions
            .find(sid)
            .await?
            .ok_or(ValidationError::NoValidSession)?;
        session
            .validated(client_secret, self.clock.now(), &self.settings.rules)
            .map_err(session_error)
    }
}

#[path = "validation_remote.rs"]
mod remote;

#[path = "validation_submit.rs"]
mod submit;

#[cfg(test)]
#[path = "validation_tests.rs"]
mod tests;
