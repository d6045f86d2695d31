//! The 3PID validation session state machine.
//!
//! ```text
//!   create ──► pending ──accept_token(ok)──► validated
//!                │  ▲                           │
//!    each submission counted (store)       lifetime passes
//!                │  │                           ▼
//!                └──┘ … cap passed ──► locked    expired
//! ```
//! A session is "modified" when it is created and when it is validated; it may be used only within
//! `lifetime` of its last modification (Identity Service API, "Session lifetime").
use std::time::Duration;

use crate::{
    ClientSecret, RemoteSession, SendAttempt, ServerLabel, SessionId, ThreePid, Timestamp,
    TokenKind, UserId, ValidationDecision, ValidationToken,
};

/// Limits every session obeys, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRules {
    /// How long a session stays usable after its last modification (default 24 h).
    pub lifetime: Duration,
    /// Token submissions allowed while the session is pending (default 5); the next one finds
    /// the session locked.
    pub max_failed_attempts: u32,
}

impl Default for SessionRules {
    fn default() -> Self {
        Self {
            lifetime: Duration::from_secs(24 * 60 * 60),
            max_failed_attempts: 5,
        }
    }
}

/// Where the session's 3PID is validated, fixed by the policy when the session is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionMode {
    /// Validated here only.
    Local,
    /// Validated here; the user is then offered to also publish on the labelled server.
    LocalOfferRemote(ServerLabel),
    /// Must be completed on the labelled server; the local token only starts that flow.
    RemotePending(ServerLabel),
}

impl SessionMode {
    /// The mode a policy decision implies, or `None` when the decision is a refusal.
    pub fn from_decision(decision: &ValidationDecision) -> Option<Self> {
        match decision {
            ValidationDecision::Refused(_) => None,
            ValidationDecision::Local => Some(Self::Local),
            ValidationDecision::LocalOfferRemote(label) => {
                Some(Self::LocalOfferRemote(label.clone()))
            }
            ValidationDecision::RemoteForced(label) => Some(Self::RemotePending(label.clone())),
        }
    }
}

/// What a new session starts from: what the client asked for, with the id and token drawn for
/// it. Not the same thing as [`SessionParts`], the state a session is stored as: that one also
/// carries what happens to the session later (validation, counted attempts, the remote session,
/// the bound user), which [`ValidationSession::start`] sets empty, and its `send_attempt` is the
/// highest one a message went out for rather than the one asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRequest {
    /// The session identifier (random, from the secret generator).
    pub id: SessionId,
    /// The client's secret.
    pub client_secret: ClientSecret,
    /// The canonical 3PID being validated.
    pub threepid: ThreePid,
    /// The token sent to the 3PID.
    pub token: ValidationToken,
    /// The client's `send_attempt`.
    pub send_attempt: SendAttempt,
    /// Where the GET submitToken page may redirect after success (checked by the caller).
    pub next_link: Option<String>,
    /// Where the 3PID is validated.
    pub mode: SessionMode,
}

/// Everything a session is made of. Stores persist it as is and rebuild the session with
/// [`ValidationSession::from_parts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionParts {
    /// The session identifier (random, from the secret generator).
    pub id: SessionId,
    /// The client's secret.
    pub client_secret: ClientSecret,
    /// The canonical 3PID being validated.
    pub threepid: ThreePid,
    /// The token sent to the 3PID.
    pub token: ValidationToken,
    /// The highest `send_attempt` a message was sent for.
    pub send_attempt: SendAttempt,
    /// Where the GET submitToken page may redirect after success (checked by the caller).
    pub next_link: Option<String>,
    /// Where the 3PID is validated.
    pub mode: SessionMode,
    /// Creation time.
    pub created_at: Timestamp,
    /// Validation time, once validated.
    pub validated_at: Option<Timestamp>,
    /// Tokens submitted while the session was pending. Counted by the store, atomically, before
    /// the token is compared, so concurrent guesses cannot exceed the cap.
    pub token_attempts: u32,
    /// The session opened on a remote identity server, once started (see
    /// [`crate::RemoteSession`]).
    pub remote: Option<RemoteSession>,
    /// The Matrix ID the session was last bound to here: an offered remote step completed after
    /// that bind is bound on the remote server to the same user (see
    /// [`ValidationSession::remote_bind_owed`]).
    pub bound_to: Option<UserId>,
}

/// A 3PID validation session. Its fields change only through the transitions below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationSession(SessionParts);

/// The result of a repeated `requestToken` for an existing session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    /// `send_attempt` grew: send the (same) token again.
    SendAgain,
    /// Same or lower `send_attempt`: answer with the same sid, send nothing.
    NothingToSend,
}

/// Where a token submission stands before the token is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submission {
    /// The session waits for its token: count the attempt, then compare.
    Pending,
    /// The session is already validated: compare without counting.
    AlreadyValidated,
}

/// A validated 3PID, as `getValidated3pid` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedThreePid {
    /// The 3PID.
    pub threepid: ThreePid,
    /// When it was validated.
    pub validated_at: Timestamp,
}

/// Why a session transition was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The client secret does not match; reported like an unknown sid so a guess learns nothing.
    #[error("no session matches this sid and client_secret")]
    NoValidSession,
    /// The session's lifetime has passed.
    #[error("the validation session has expired")]
    Expired,
    /// The token is wrong; `remaining` more wrong tokens are accepted before the session locks.
    #[error("the token is incorrect")]
    TokenIncorrect {
        /// Wrong tokens still accepted before the lock.
        remaining: u32,
    },
    /// Too many wrong tokens: the session can no longer be validated.
    #[error("too many incorrect tokens: request a new validation session")]
    Locked,
    /// The session has not been validated yet.
    #[error("the 3PID has not been validated in this session")]
    NotValidated,
}

impl ValidationSession {
    /// Starts a session. The token must have the shape the 3PID's medium requires
    /// ([`token_kind_for`]); the caller draws it from its secret generator.
    pub fn start(request: SessionRequest, now: Timestamp) -> Self {
        let SessionRequest {
            id,
            client_secret,
            threepid,
            token,
            send_attempt,
            next_link,
            mode,
        } = request;
        Self(SessionParts {
            id,
            client_secret,
            threepid,
            token,
            send_attempt,
            next_link,
            mode,
            created_at: now,
            validated_at: None,
            token_attempts: 0,
            remote: None,
            bound_to: None,
        })
    }

    /// Rebuilds a stored session.
    pub fn from_parts(parts: SessionParts) -> Self {
        Self(parts)
    }

    /// The stored form of this session.
    pub fn parts(&self) -> &SessionParts {
        &self.0
    }

    /// For the remote transitions (`remote_session.rs`).
    pub(crate) fn parts_mut(&mut self) -> &mut SessionParts {
        &mut self.0
    }

    /// The session identifier.
    pub fn id(&self) -> &SessionId {
        &self.0.id
    }

    /// The 3PID being validated.
    pub fn threepid(&self) -> &ThreePid {
        &self.0.threepid
    }

    /// The token to send.
    pub fn token(&self) -> &ValidationToken {
        &self.0.token
    }

    /// Where the 3PID is validated.
    pub fn mode(&self) -> &SessionMode {
        &self.0.mode
    }

    /// The `next_link` the client gave.
    pub fn next_link(&self) -> Option<&str> {
        self.0.next_link.as_deref()
    }

    /// Whether the token was accepted.
    pub fn is_validated(&self) -> bool {
        self.0.validated_at.is_some()
    }

    /// The instant after which the session can no longer be used.
    pub fn expires_at(&self, rules: &SessionRules) -> Timestamp {
        self.0
            .validated_at
            .unwrap_or(self.0.created_at)
            .saturating_add(rules.lifetime)
    }

    /// Whether the session's lifetime has passed at `now`.
    pub fn is_expired(&self, now: Timestamp, rules: &SessionRules) -> bool {
        now > self.expires_at(rules)
    }

    /// Whether the session used up its code submissions before it was done: not validated here,
    /// or validated here but still waiting for the remote server's code, which counts against the
    /// same cap (see [`ValidationSession::awaits_remote_code`]).
    pub fn is_locked(&self, rules: &SessionRules) -> bool {
        let done = self.is_validated() && !self.awaits_remote_code();
        !done && self.0.token_attempts >= rules.max_failed_attempts
    }

    /// Whether `client_secret` is this session's secret.
    pub fn owned_by(&self, client_secret: &ClientSecret) -> bool {
        self.0.client_secret.matches(client_secret)
    }

    /// A repeated `requestToken` with the same medium, address and client secret: send again only
    /// when `attempt` is greater than the highest attempt seen, and remember it. Only
    /// `send_attempt` changes: the token and the submissions counted so far stay, so a resend
    /// never gives a guesser more attempts (the cap is per session).
    pub fn request_again(&mut self, attempt: SendAttempt) -> RequestOutcome {
        if attempt > self.0.send_attempt {
            self.0.send_attempt = attempt;
            RequestOutcome::SendAgain
        } else {
            RequestOutcome::NothingToSend
        }
    }

    /// First step of a token submission, before the attempt is counted: the client secret must
    /// match and the session must not have expired.
    ///
    /// # Errors
    /// [`SessionError::NoValidSession`] for another client secret, [`SessionError::Expired`].
    pub fn check_submission(
        &self,
        client_secret: &ClientSecret,
        now: Timestamp,
        rules: &SessionRules,
    ) -> Result<Submission, SessionError> {
        if !self.owned_by(client_secret) {
            return Err(SessionError::NoValidSession);
        }
        if self.is_expired(now, rules) {
            return Err(SessionError::Expired);
        }
        Ok(if self.is_validated() {
            Submission::AlreadyValidated
        } else {
            Submission::Pending
        })
    }

    /// Second step: compares the token. `attempt` is this submission's number, which the store
    /// counted atomically after [`check_submission`](Self::check_submission); an attempt beyond
    /// the cap is refused without comparing, so the cap holds even for concurrent guesses.
    ///
    /// A correct token on an already validated session succeeds again without changing it (links
    /// get clicked twice); such submissions need no attempt number (pass 0).
    ///
    /// # Errors
    /// [`SessionError::Locked`] beyond the cap, [`SessionError::TokenIncorrect`] for a wrong
    /// token.
    pub fn accept_token(
        &mut self,
        token: &ValidationToken,
        attempt: u32,
        now: Timestamp,
        rules: &SessionRules,
    ) -> Result<(), SessionError> {
        if self.is_validated() {
            return if self.0.token.matches(token) {
                Ok(())
            } else {
                Err(SessionError::TokenIncorrect { remaining: 0 })
            };
        }
        self.0.token_attempts = self.0.token_attempts.max(attempt);
        if attempt > rules.max_failed_attempts {
            return Err(SessionError::Locked);
        }
        if !self.0.token.matches(token) {
            let remaining = rules.max_failed_attempts.saturating_sub(attempt);
            return Err(SessionError::TokenIncorrect { remaining });
        }
        self.0.validated_at = Some(now);
        Ok(())
    }

    /// The validated 3PID, for `getValidated3pid` and bind.
    ///
    /// # Errors
    /// [`SessionError::NoValidSession`] for another client secret, [`SessionError::NotValidated`],
    /// or [`SessionError::Expired`].
    pub fn validated(
        &self,
        client_secret: &ClientSecret,
        now: Timestamp,
        rules: &SessionRules,
    ) -> Result<ValidatedThreePid, SessionError> {
        if !self.owned_by(client_secret) {
            return Err(SessionError::NoValidSession);
        }
        let Some(validated_at) = self.0.validated_at else {
            return Err(SessionError::NotValidated);
        };
        if self.is_expired(now, rules) {
            return Err(SessionError::Expired);
        }
        Ok(ValidatedThreePid {
            threepid: self.0.threepid.clone(),
            validated_at,
        })
    }
}

/// The token shape for a 3PID: SMS codes are typed by people, everything else travels in a link.
pub fn token_kind_for(threepid: &ThreePid) -> TokenKind {
    match threepid {
        ThreePid::Msisdn(_) => TokenKind::SMS,
        _ => TokenKind::EMAIL,
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
