//! The remote part of a validation session: the session Verity opens on another identity server
//! on the user's behalf (mxisd's "remote session"), and the rules for binding it.
//!
//! ```text
//!   locally validated ──start_remote──► remote started ──record_remote_validation──► remote validated
//!   (LocalOfferRemote or RemotePending)     │  ▲
//!                                           └──┘ started again: same secret, next send_attempt
//! ```
//! Each transition is applied only after the remote server accepted the call, so a stored session
//! never claims a remote state the remote server does not have.
use crate::{
    ClientSecret, SendAttempt, ServerLabel, SessionError, SessionId, SessionMode, SessionRules,
    ThreePid, Timestamp, UserId, ValidationSession,
};

/// The session Verity opened on a remote identity server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSession {
    /// The label of `matrix.identity.servers` the session was opened under.
    pub server: ServerLabel,
    /// The base URL the label resolved to when the session was opened: every later call (check,
    /// SMS code, bind) goes to this same server, which alone knows the session.
    pub base_url: String,
    /// The remote server's sid.
    pub sid: SessionId,
    /// Verity's own client secret for the remote session (never the user's local one).
    pub client_secret: ClientSecret,
    /// The highest `send_attempt` Verity sent the remote server.
    pub send_attempt: SendAttempt,
    /// When the remote server was seen to have validated the 3PID.
    pub validated_at: Option<Timestamp>,
}

impl RemoteSession {
    /// The server as users know it (see [`server_host`]).
    pub fn host(&self) -> String {
        server_host(&self.base_url)
    }
}

/// The identity server a base URL names, as users know it: its host (`matrix.org`), with the
/// port when it is not the scheme's default (`id.example:8090`). Operators' labels
/// (`matrix.identity.servers`) are internal names and never shown to users.
pub fn server_host(base_url: &str) -> String {
    let lower = base_url.to_ascii_lowercase();
    let (rest, default_port) = if let Some(rest) = lower.strip_prefix("https://") {
        (rest, Some(":443"))
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (rest, Some(":80"))
    } else {
        (lower.as_str(), None)
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Credentials in a URL are never shown (nor expected in a base URL).
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    default_port
        .and_then(|port| authority.strip_suffix(port))
        .unwrap_or(authority)
        .to_owned()
}

/// What the next remote `requestToken` must send: the secret and `send_attempt` to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRequest {
    /// Where the session goes.
    pub server: ServerLabel,
    /// The existing remote secret, or the fresh one offered by the caller.
    pub client_secret: ClientSecret,
    /// One more than the last attempt, so the remote server sends its message again.
    pub send_attempt: SendAttempt,
    /// The base URL of an already started remote session (the request must go there again).
    pub base_url: Option<String>,
}

/// Why a remote step is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RemoteStepError {
    /// The client secret does not match; reported like an unknown sid.
    #[error("no session matches this sid and client_secret")]
    NoValidSession,
    /// The session's lifetime has passed.
    #[error("the validation session has expired")]
    Expired,
    /// The 3PID must first be validated here (the remote step continues a local validation).
    #[error("the 3PID has not been validated in this session")]
    NotValidated,
    /// The policy keeps this session's 3PID on this server.
    #[error("this server's policy does not publish this 3PID on another identity server")]
    NotOffered,
    /// The remote session has not been started yet.
    #[error("the remote validation has not been started")]
    NotStarted,
}

/// Where a bind of a validated session goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindRoute {
    /// Bind here only.
    Local,
    /// Forward the bind to the remote server and return its association; nothing is stored here
    /// (remote forced).
    RemoteOnly(RemoteSession),
    /// Forward the bind to the remote server first, then bind here (local, with the offered
    /// remote step done).
    RemoteThenLocal(RemoteSession),
    /// The policy requires a remote validation that is not recorded as done; `Some` when a remote
    /// session was started (asking the remote server may still find it validated).
    RemoteNotValidated(Option<RemoteSession>),
}

impl SessionMode {
    /// The server this mode may publish on: the offered or forced remote server.
    pub fn remote_label(&self) -> Option<&ServerLabel> {
        match self {
            Self::Local => None,
            Self::LocalOfferRemote(label) | Self::RemotePending(label) => Some(label),
        }
    }
}

impl ValidationSession {
    /// The remote session, once started.
    pub fn remote(&self) -> Option<&RemoteSession> {
        self.parts().remote.as_ref()
    }

    /// Whether the remote server validated the 3PID.
    pub fn is_remotely_validated(&self) -> bool {
        self.remote().is_some_and(|r| r.validated_at.is_some())
    }

    /// A remote step may be taken: the secret matches, the session is alive, validated here and
    /// its mode names a remote server. Returns that server.
    ///
    /// # Errors
    /// Each [`RemoteStepError`] but `NotStarted`.
    pub fn check_remote_step(
        &self,
        client_secret: &ClientSecret,
        now: Timestamp,
        rules: &SessionRules,
    ) -> Result<&ServerLabel, RemoteStepError> {
        if !self.owned_by(client_secret) {
            return Err(RemoteStepError::NoValidSession);
        }
        if self.is_expired(now, rules) {
            return Err(RemoteStepError::Expired);
        }
        if !self.is_validated() {
            return Err(RemoteStepError::NotValidated);
        }
        self.mode()
            .remote_label()
            .ok_or(RemoteStepError::NotOffered)
    }

    /// What the next remote `requestToken` sends: a started session keeps its secret and server
    /// and sends the next attempt (the remote server then sends its message again); a new one
    /// uses `fresh_secret` and attempt 1.
    ///
    /// # Errors
    /// As [`check_remote_step`](Self::check_remote_step).
    pub fn next_remote_request(
        &self,
        client_secret: &ClientSecret,
        fresh_secret: ClientSecret,
        now: Timestamp,
        rules: &SessionRules,
    ) -> Result<RemoteRequest, RemoteStepError> {
        let server = self.check_remote_step(client_secret, now, rules)?.clone();
        Ok(match self.remote() {
            Some(started) => RemoteRequest {
                server,
                client_secret: started.client_secret.clone(),
                send_attempt: SendAttempt::new(started.send_attempt.value().saturating_add(1)),
                base_url: Some(started.base_url.clone()),
            },
            None => RemoteRequest {
                server,
                client_secret: fresh_secret,
                send_attempt: SendAttempt::new(1),
                base_url: None,
            },
        })
    }

    /// Records the remote session the remote server accepted. A session the remote server
    /// already validated stays validated.
    pub fn record_remote_start(
        &mut self,
        request: RemoteRequest,
        base_url: String,
        remote_sid: SessionId,
    ) {
        let validated_at = self.remote().and_then(|r| r.validated_at);
        self.parts_mut().remote = Some(RemoteSession {
            server: request.server,
            base_url,
            sid: remote_sid,
            client_secret: request.client_secret,
            send_attempt: request.send_attempt,
            validated_at,
        });
    }

    /// Whether the next code submitted to this session is the remote server's (mxisd's second SMS
    /// code): an SMS session forced to a remote server, validated here, whose remote session is
    /// started and not yet validated there.
    pub fn awaits_remote_code(&self) -> bool {
        matches!(self.threepid(), ThreePid::Msisdn(_))
            && matches!(self.mode(), SessionMode::RemotePending(_))
            && self.is_validated()
            && self.remote().is_some_and(|r| r.validated_at.is_none())
    }

    /// A code submitted for the remote server: `attempt` is its number, counted by the store
    /// atomically with the local codes' (one counter, one cap per session), before the code is
    /// forwarded. Beyond the cap it is refused without being forwarded.
    ///
    /// # Errors
    /// [`SessionError::Locked`] beyond the cap.
    pub fn count_remote_code(
        &mut self,
        attempt: u32,
        rules: &SessionRules,
    ) -> Result<(), SessionError> {
        self.parts_mut().token_attempts = self.parts().token_attempts.max(attempt);
        if attempt > rules.max_failed_attempts {
            return Err(SessionError::Locked);
        }
        Ok(())
    }

    /// Records that the remote server validated `threepid`, which must be this session's 3PID.
    /// Returns whether it was recorded (the first time); a validation already recorded is kept.
    ///
    /// # Errors
    /// [`RemoteStepError::NotStarted`] without a remote session; [`RemoteStepError::NotValidated`]
    /// when the remote server validated another 3PID than this session's.
    pub fn record_remote_validation(
        &mut self,
        threepid: &ThreePid,
        now: Timestamp,
    ) -> Result<bool, RemoteStepError> {
        if threepid != self.threepid() {
            return Err(RemoteStepError::NotValidated);
        }
        let remote = self
            .parts_mut()
            .remote
            .as_mut()
            .ok_or(RemoteStepError::NotStarted)?;
        if remote.validated_at.is_some() {
            return Ok(false);
        }
        remote.validated_at = Some(now);
        Ok(true)
    }

    /// The Matrix ID this session was last bound to here.
    pub fn bound_to(&self) -> Option<&UserId> {
        self.parts().bound_to.as_ref()
    }

    /// Records that the session was bound here to `user` (after the bind succeeded).
    pub fn record_local_bind(&mut self, user: UserId) {
        self.parts_mut().bound_to = Some(user);
    }

    /// Forgets the bind here: the 3PID was unbound (or bound to someone else) since, so an
    /// offered remote step taken now must not publish it on the user's behalf.
    pub fn forget_local_bind(&mut self) {
        self.parts_mut().bound_to = None;
    }

    /// The user an offered remote step, once validated there, must be bound to on the remote
    /// server right away: the homeserver already bound the session here, so no later bind will
    /// carry it there. `None` for forced remote sessions (their bind always goes remote) and
    /// sessions not bound here yet (their bind will be forwarded).
    pub fn remote_bind_owed(&self) -> Option<&UserId> {
        match self.mode() {
            SessionMode::LocalOfferRemote(_) => self.bound_to(),
            SessionMode::Local | SessionMode::RemotePending(_) => None,
        }
    }

    /// Whether the 3PID is bound on the remote server through the offered step: validated there
    /// and bound here. A validation is stored for a session bound here only once the remote bind
    /// was accepted (the check forwards it first), and a bind here after the remote validation
    /// is forwarded before it is recorded, so both together mean the remote server has it.
    pub fn is_published_remotely(&self) -> bool {
        self.is_remotely_validated() && self.remote_bind_owed().is_some()
    }

    /// Where a bind of this (locally validated) session goes, by its mode and remote state.
    pub fn bind_route(&self) -> BindRoute {
        let remote = self.remote().cloned();
        match (self.mode(), remote) {
            (SessionMode::Local, _) => BindRoute::Local,
            (SessionMode::LocalOfferRemote(_), Some(r)) if r.validated_at.is_some() => {
                BindRoute::RemoteThenLocal(r)
            }
            // The offer was not taken up (or not finished): the local binding stands alone.
            (SessionMode::LocalOfferRemote(_), _) => BindRoute::Local,
            (SessionMode::RemotePending(_), Some(r)) if r.validated_at.is_some() => {
                BindRoute::RemoteOnly(r)
            }
            (SessionMode::RemotePending(_), started) => BindRoute::RemoteNotValidated(started),
        }
    }
}

#[cfg(test)]
#[path = "remote_session_tests.rs"]
mod tests;
