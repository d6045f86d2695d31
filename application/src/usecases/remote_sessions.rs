//! The remote step of validation sessions: Verity opens a session on another identity server on
//! the user's behalf (its own client secret and `send_attempt`), then asks that server whether the
//! user completed it. Remote state is stored only after the remote server accepted the call, so a
//! failure leaves the session exactly as it was.
use std::sync::Arc;

use async_trait::async_trait;
use verity_domain::{
    ClientSecret, RemoteRequest, RemoteSession, RemoteStepError, ServerLabel, SessionId,
    SessionMode, SessionRules, ValidationSession, server_host,
};

use crate::ports::driven::{
    BindingStore, Change, Clock, RemoteError, RemoteIdentityServers, RemoteServer,
    RemoteTokenRequest, SecretGenerator, SessionStore, StoreError,
};
use crate::ports::driving::{RemoteFailure, RemoteOverview, RemoteSessionError, RemoteSessions};

/// The remote-session use case.
pub struct RemoteSessionService {
    sessions: Arc<dyn SessionStore>,
    remote: Arc<dyn RemoteIdentityServers>,
    clock: Arc<dyn Clock>,
    secrets: Arc<dyn SecretGenerator>,
    rules: SessionRules,
    /// Verity's binding store, when on: an offered step taken after the bind here is forwarded
    /// only while the 3PID is still bound here to the same user.
    bindings: Option<Arc<dyn BindingStore>>,
}

impl RemoteSessionService {
    /// Wires the use case.
    pub fn new(
        sessions: Arc<dyn SessionStore>,
        remote: Arc<dyn RemoteIdentityServers>,
        clock: Arc<dyn Clock>,
        secrets: Arc<dyn SecretGenerator>,
        rules: SessionRules,
    ) -> Self {
        Self {
            sessions,
            remote,
            clock,
            secrets,
            rules,
            bindings: None,
        }
    }

    /// Checks Verity's binding store before forwarding a bind owed to the remote server, so an
    /// address unbound here since is not published there on the user's behalf.
    #[must_use]
    pub fn with_bindings(mut self, bindings: Arc<dyn BindingStore>) -> Self {
        self.bindings = Some(bindings);
        self
    }

    /// Forgets the session's bind here when the binding store no longer has it (unbound by the
    /// user or their homeserver since, or bound to someone else).
    async fn drop_stale_bind(
        &self,
        session: &mut ValidationSession,
    ) -> Result<(), RemoteSessionError> {
        let (Some(user), Some(bindings)) = (session.remote_bind_owed(), &self.bindings) else {
            return Ok(());
        };
        if bindings.find(session.threepid()).await?.as_ref() != Some(user) {
            tracing::info!(sid = %session.id(), "3PID no longer bound here: not published on the remote identity server");
            // Only that bind is forgotten: a bind to someone else recorded meanwhile stays (and
            // is not forwarded by this request either).
            let _stale_or_not = self.sessions.forget_local_bind(session.id(), user).await?;
            session.forget_local_bind();
        }
        Ok(())
    }

    /// The session, checked for a remote step: right secret, alive, validated here, remote mode.
    async fn session(
        &self,
        sid: &SessionId,
        client_secret: &ClientSecret,
    ) -> Result<ValidationSession, RemoteSessionError> {
        let session = self
            .sessions
            .find(sid)
            .await?
            .ok_or(RemoteSessionError::NoValidSession)?;
        session
            .check_remote_step(client_secret, self.clock.now(), &self.rules)
            .map_err(step_error)?;
        Ok(session)
    }

    /// The homeserver already bound `session` here (an offered step taken after returning to the
    /// client): no later bind will reach the remote server, so Verity forwards that bind now,
    /// for the same Matrix ID, with its own remote secret.
    async fn bind_owed(&self, session: &ValidationSession) -> Result<(), RemoteSessionError> {
        let (Some(user), Some(target)) = (session.remote_bind_owed(), session.remote()) else {
            return Ok(());
        };
        self.remote
            .bind(&server_of(target), &target.sid, &target.client_secret, user)
            .await
            .map_err(|error| RemoteSessionError::Remote(remote_failure(&target.server, error)))?;
        tracing::info!(sid = %session.id(), server = %target.server, "3PID bound here bound on the remote identity server too");
        Ok(())
    }
}

/// A fresh secret for a remote session. Session ids are drawn from the same charset as client
/// secrets (`[0-9a-zA-Z.=_-]`) by a CSPRNG, so one serves as an unguessable secret.
pub(crate) fn fresh_secret(secrets: &dyn SecretGenerator) -> Result<ClientSecret, StoreError> {
    ClientSecret::parse(secrets.session_id().as_str()).map_err(|_| {
        StoreError::Corrupt("the secret generator made an invalid client secret".to_owned())
    })
}

/// Sends `request`, the next remote `requestToken` of `session` (a new remote session goes to
/// the first usable server of its label, a started one to the server that has it), and records
/// the remote session in `session` only: the caller stores it in one conditional change.
///
/// # Errors
/// [`RemoteFailure`] when no server of the label is usable or the remote server refuses;
/// `session` is then unchanged.
pub(crate) async fn request_remote_token(
    remote: &dyn RemoteIdentityServers,
    session: &mut ValidationSession,
    request: RemoteRequest,
) -> Result<(), RemoteFailure> {
    let label = request.server.clone();
    let failed = |error| remote_failure(&label, error);
    let server = match &request.base_url {
        Some(base_url) => RemoteServer {
            label: label.clone(),
            base_url: base_url.clone(),
        },
        None => remote.resolve(&label).await.map_err(failed)?,
    };
    let remote_sid = remote
        .request_token(
            &server,
            &RemoteTokenRequest {
                threepid: session.threepid().clone(),
                client_secret: request.client_secret.clone(),
                send_attempt: request.send_attempt,
            },
        )
        .await
        .map_err(failed)?;
    session.record_remote_start(request, server.base_url, remote_sid);
    Ok(())
}

/// What the pages show for `session` (which passed the remote-step checks), once its remote
/// session is started: the server is the one that has it.
fn overview(session: &ValidationSession) -> Result<RemoteOverview, RemoteSessionError> {
    let base_url = session
        .remote()
        .map(|r| r.base_url.clone())
        .ok_or(RemoteSessionError::NotStarted)?;
    overview_on(session, &base_url)
}

/// What the pages show for `session`, whose remote step goes (or went) to `base_url`.
fn overview_on(
    session: &ValidationSession,
    base_url: &str,
) -> Result<RemoteOverview, RemoteSessionError> {
    let server = session
        .mode()
        .remote_label()
        .cloned()
        .ok_or(RemoteSessionError::NotOffered)?;
    Ok(RemoteOverview {
        threepid: session.threepid().clone(),
        server,
        host: server_host(base_url),
        forced: matches!(session.mode(), SessionMode::RemotePending(_)),
        started: session.remote().is_some(),
        validated: session.is_remotely_validated(),
        published: session.is_published_remotely(),
    })
}

fn step_error(error: RemoteStepError) -> RemoteSessionError {
    match error {
        RemoteStepError::NoValidSession => RemoteSessionError::NoValidSession,
        RemoteStepError::Expired => RemoteSessionError::SessionExpired,
        RemoteStepError::NotValidated => RemoteSessionError::NotValidated,
        RemoteStepError::NotOffered => RemoteSessionError::NotOffered,
        RemoteStepError::NotStarted => RemoteSessionError::NotStarted,
    }
}

/// The failure users and clients are told about; the remote's own words go to the log only
/// when they are not a Matrix error (which is safe to repeat).
pub(crate) fn remote_failure(server: &ServerLabel, error: RemoteError) -> RemoteFailure {
    tracing::warn!(%server, error = %error, source = ?std::error::Error::source(&error), "remote identity server failed");
    match error {
        RemoteError::NoUsableServer(_) | RemoteError::Unreachable(_) => {
            RemoteFailure::Unavailable(server.clone())
        }
        // Repeated to users and clients: bounded, whatever the remote server sent.
        RemoteError::Refused { errcode, error } => RemoteFailure::Refused {
            server: server.clone(),
            errcode: bounded(&errcode, 64),
            error: bounded(&error, 200),
        },
        RemoteError::InvalidResponse(_) => RemoteFailure::Invalid(server.clone()),
    }
}

/// At most `max` characters of `text`, marked when cut.
fn bounded(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The server a started remote session lives on.
pub(crate) fn server_of(remote: &RemoteSession) -> RemoteServer {
    RemoteServer {
        label: remote.server.clone(),
        base_url: remote.base_url.clone(),
    }
}

/// Asks the remote server whether the started remote session of `session` is validated, and
/// records it in `session` (not in the store). Returns whether it is validated now.
pub(crate) async fn confirm_remote_validation(
    remote: &dyn RemoteIdentityServers,
    session: &mut ValidationSession,
    now: verity_domain::Timestamp,
) -> Result<bool, RemoteFailure> {
    let Some(started) = session.remote().cloned() else {
        return Ok(false);
    };
    if started.validated_at.is_some() {
        return Ok(true);
    }
    let found = remote
        .validated_3pid(&server_of(&started), &started.sid, &started.client_secret)
        .await
        .map_err(|error| remote_failure(&started.server, error))?;
    let Some(threepid) = found else {
        return Ok(false);
    };
    // The remote validated another 3PID than this session's: never publish on its word.
    session
        .record_remote_validation(&threepid, now)
        .map_err(|_| {
            tracing::warn!(server = %started.server, "remote session validated another 3PID");
            RemoteFailure::Invalid(started.server.clone())
        })?;
    Ok(true)
}

#[async_trait]
impl RemoteSessions for RemoteSessionService {
    async fn explain(
        &self,
        sid: &SessionId,
        client_secret: &ClientSecret,
    ) -> Result<RemoteOverview, RemoteSessionError> {
        let session = self.session(sid, client_secret).await?;
        if session.remote().is_some() {
            return overview(&session);
        }
        // Not started: name the server the label resolves to now (the adapter caches it, and
        // resolving stores nothing here, so this GET still changes nothing). A label that
        // resolves to no server fails the page rather than showing the operator's label.
        let label = session
            .mode()
            .remote_label()
            .cloned()
            .ok_or(RemoteSessionError::NotOffered)?;
        let server = self
            .remote
            .resolve(&label)
            .await
            .map_err(|error| RemoteSessionError::Remote(remote_failure(&label, error)))?;
        overview_on(&session, &server.base_url)
    }

    async fn start(
        &self,
        sid: &SessionId,
        client_secret: &ClientSecret,
    ) -> Result<RemoteOverview, RemoteSessionError> {
        let mut session = self.session(sid, client_secret).await?;
        // Validated there already: nothing more to send (a reload of the POSTed page).
        if session.is_remotely_validated() {
            return overview(&session);
        }
        let previous = session.remote().map(|r| r.send_attempt);
        let now = self.clock.now();
        let fresh = fresh_secret(self.secrets.as_ref())?;
        let request = session
            .next_remote_request(client_secret, fresh, now, &self.rules)
            .map_err(step_error)?;
        let label = request.server.clone();
        request_remote_token(self.remote.as_ref(), &mut session, request)
            .await
            .map_err(RemoteSessionError::Remote)?;
        let Some(started) = session.remote() else {
            return Err(RemoteSessionError::NotStarted);
        };
        match self
            .sessions
            .record_remote_start(sid, previous, started)
            .await?
        {
            Change::Applied => {
                tracing::info!(%sid, server = %label, "remote validation session started");
                overview(&session)
            }
            // A concurrent request started it first: the page shows the session it recorded.
            Change::Stale => overview(&self.session(sid, client_secret).await?),
        }
    }

    async fn check(
        &self,
        sid: &SessionId,
        client_secret: &ClientSecret,
    ) -> Result<RemoteOverview, RemoteSessionError> {
        let mut session = self.session(sid, client_secret).await?;
        if session.remote().is_none() {
            return Err(RemoteSessionError::NotStarted);
        }
        let was = session.is_remotely_validated();
        let now = self.clock.now();
        confirm_remote_validation(self.remote.as_ref(), &mut session, now)
            .await
            .map_err(RemoteSessionError::Remote)?;
        if !was && session.is_remotely_validated() {
            self.drop_stale_bind(&mut session).await?;
            self.bind_owed(&session).await?;
            // Stored only now: had the remote bind failed, the next check confirms the
            // validation and binds again.
            let remote_sid = session.remote().map(|r| r.sid.clone());
            let Some(remote_sid) = remote_sid else {
                return Err(RemoteSessionError::NotStarted);
            };
            match self
                .sessions
                .mark_remote_validated(sid, &remote_sid, now)
                .await?
            {
                Change::Applied => {
                    tracing::info!(%sid, "3PID validated on the remote identity server");
                }
                // Recorded by a concurrent check, or the remote session was opened again
                // meanwhile: the page shows what is stored.
                Change::Stale => return overview(&self.session(sid, client_secret).await?),
            }
        }
        overview(&session)
    }
}

#[cfg(test)]
#[path = "remote_sessions_tests.rs"]
mod tests;

/// A session store double the remote-step tests share (here and in the association).
#[cfg(test)]
#[path = "session_store_fake.rs"]
pub(crate) mod session_store_fake;
