//! How a token submission is counted and recorded: in one conditional change for most sessions,
//! in two (count, then validation) where a remote session is opened in between.
use verity_domain::{SessionId, Submission, Timestamp, ValidationSession, ValidationToken};

use super::{ValidationService, session_error};
use crate::ports::driven::{Change, Counted};
use crate::ports::driving::{SubmitToken, ValidationError};

impl ValidationService {
    /// Counts a submission checked by `check_submission` (`state`) and records the validation
    /// its token makes; the session as it now stands, or why the token is refused.
    pub(super) async fn record_submission(
        &self,
        session: ValidationSession,
        state: Submission,
        submission: &SubmitToken,
        now: Timestamp,
    ) -> Result<ValidationSession, ValidationError> {
        if state == Submission::Pending && self.sms_remote(&session).is_none() {
            // The common case: counted and validated in one conditional statement (one commit).
            return self
                .count_and_validate(session, &submission.token, now)
                .await;
        }
        let mut session = session;
        self.submit_in_two_steps(&mut session, state, submission, now)
            .await?;
        Ok(session)
    }

    /// A pending session's submission counted and, for the right token within the cap, recorded
    /// by the store in one change; the domain then gives the answer for the number it got.
    async fn count_and_validate(
        &self,
        mut session: ValidationSession,
        token: &ValidationToken,
        now: Timestamp,
    ) -> Result<ValidationSession, ValidationError> {
        let rules = self.settings.rules;
        let counted = self
            .sessions
            .count_and_validate(session.id(), token, rules.max_failed_attempts, now)
            .await?;
        let (attempt, validated) = match counted {
            Counted::Validated { attempt } => (attempt, true),
            Counted::Refused { attempt } => (attempt, false),
            // Validated by a concurrent submission (or gone): answered like a submission to the
            // session as it is stored now.
            Counted::Stale => return self.answer_from_stored(session.id(), token, now).await,
        };
        match (session.accept_token(token, attempt, now, &rules), validated) {
            (Ok(()), true) => {
                tracing::info!(sid = %session.id(), medium = %session.threepid().medium(), "3PID validated");
                Ok(session)
            }
            (Err(error), false) => Err(session_error(error)),
            // The store and the copy read before disagree: the session changed in between (its
            // token is never rewritten, so this is not expected). The store's state decides.
            (Ok(()), false) => Err(ValidationError::TokenIncorrect),
            (Err(_), true) => self.answer_from_stored(session.id(), token, now).await,
        }
    }

    /// The answer to a submission from the session as stored now (validated by a concurrent
    /// submission, typically): a validated session accepts its own token again.
    async fn answer_from_stored(
        &self,
        sid: &SessionId,
        token: &ValidationToken,
        now: Timestamp,
    ) -> Result<ValidationSession, ValidationError> {
        let mut stored = self
            .sessions
            .find(sid)
            .await?
            .ok_or(ValidationError::NoValidSession)?;
        if !stored.is_validated() {
            return Err(ValidationError::TokenIncorrect);
        }
        stored
            .accept_token(token, 0, now, &self.settings.rules)
            .map_err(session_error)?;
        Ok(stored)
    }

    /// Submissions of a validated session (no count) and of forced-remote SMS sessions, whose
    /// remote session is opened between the count and the recorded validation: the count, then
    /// the validation as a second conditional change.
    async fn submit_in_two_steps(
        &self,
        session: &mut ValidationSession,
        state: Submission,
        submission: &SubmitToken,
        now: Timestamp,
    ) -> Result<(), ValidationError> {
        let rules = self.settings.rules;
        let attempt = match state {
            Submission::AlreadyValidated => 0,
            Submission::Pending => self
                .sessions
                .count_token_attempt(&submission.sid)
                .await?
                .ok_or(ValidationError::NoValidSession)?,
        };
        session
            .accept_token(&submission.token, attempt, now, &rules)
            .map_err(session_error)?;
        if state == Submission::Pending {
            self.start_remote_sms(session).await?;
            let recorded = self
                .sessions
                .mark_validated(session.id(), &submission.token, now, session.remote())
                .await?;
            if recorded == Change::Stale {
                // A concurrent submission validated it first: answer from what it stored.
                *session = self.validated_meanwhile(&submission.sid).await?;
            } else {
                tracing::info!(sid = %session.id(), medium = %session.threepid().medium(), "3PID validated");
            }
        }
        Ok(())
    }

    /// The session a concurrent submission validated while this one was being checked; a session
    /// gone or not validated (its token changed) refuses this submission.
    async fn validated_meanwhile(
        &self,
        sid: &SessionId,
    ) -> Result<ValidationSession, ValidationError> {
        let stored = self
            .sessions
            .find(sid)
            .await?
            .ok_or(ValidationError::NoValidSession)?;
        if stored.is_validated() {
            Ok(stored)
        } else {
            Err(ValidationError::TokenIncorrect)
        }
    }
}
