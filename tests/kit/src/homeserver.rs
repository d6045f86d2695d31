//! A fake homeserver on `127.0.0.1:0`, plain HTTP or HTTPS with a self-signed certificate for
//! `127.0.0.1`. It answers the federation endpoints Verity calls:
//!
//! - `GET /_matrix/federation/v1/openid/userinfo?access_token=…`: `{"sub": …}` for a known
//!   token, 401 `M_UNKNOWN_TOKEN` for any other, or an oversized body or a fixed status on
//!   request;
//! - `GET /.well-known/matrix/server`, when configured (a JSON answer, any status, or a
//!   redirect); 404 otherwise.
//!
//! It records every request it receives (method, path, `Host`), so a test can check that a
//! blocked destination saw nothing. The state lives behind one `Arc<Mutex<_>>` and requests are
//! dispatched by path in [`handle`]: a new endpoint (server keys, `3pid/onbind` capture) is one
//! more state field, builder method and match arm.
//!
//! ```no_run
//! # async fn demo() {
//! use verity_testkit::homeserver::FakeHomeserver;
//! let hs = FakeHomeserver::builder().user("tok", "@alice:127.0.0.1").start().await;
//! assert_eq!(hs.userinfo_calls(), 0);
//! # }
//! ```
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use poem::Request;
use verity_domain::{KeyId, SigningKey, sign_json};

use crate::gate::Gate;
use crate::serve::{self, Running};
use crate::tls::TlsAcceptor;

#[path = "homeserver_handle.rs"]
mod handle;
#[path = "onbind.rs"]
mod onbind;

use handle::{handle, received};

const USERINFO_PATH: &str = "/_matrix/federation/v1/openid/userinfo";
const KEYS_PATH: &str = "/_matrix/key/v2/server";

/// The fake's signing key: a fixed seed, so tests are reproducible.
fn fake_signing_key() -> SigningKey {
    SigningKey::from_seed(KeyId::parse("ed25519:fake").expect("key id"), &[7u8; 32])
}

const WELL_KNOWN_PATH: &str = "/.well-known/matrix/server";

/// A request the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query (which may hold a token).
    pub path: String,
    /// The `Host` header as sent.
    pub host: Option<String>,
}

#[derive(Debug, Clone)]
enum UserinfoReply {
    /// `{"sub"}` from the token map, or 401 `M_UNKNOWN_TOKEN`.
    Tokens,
    /// A valid JSON object padded to `bytes`; `with_length` sends a `Content-Length`.
    Oversized { bytes: usize, with_length: bool },
    /// This status and body whatever the token.
    Fixed { status: u16, body: String },
}

#[derive(Debug, Clone)]
enum WellKnownReply {
    Answer {
        status: u16,
        body: String,
        cache_control: Option<String>,
    },
    Redirect(String),
}

#[derive(Debug)]
struct State {
    /// The server name and key the fake signs as (`/_matrix/key/v2/server`, X-Matrix requests).
    signing: Option<(String, SigningKey)>,
    tokens: HashMap<String, String>,
    userinfo: UserinfoReply,
    userinfo_calls: usize,
    /// Holds userinfo answers (see [`FakeHomeserver::hold_userinfo`]).
    userinfo_gate: Arc<Gate>,
    /// How many times `/_matrix/key/v2/server` was asked for.
    key_fetches: usize,
    /// The `valid_until_ts` published; `None`: a day from each request.
    keys_valid_until: Option<u64>,
    well_known: Option<WellKnownReply>,
    requests: Vec<ReceivedRequest>,
    /// `3pid/onbind` calls (see `onbind.rs`).
    onbind: onbind::OnbindState,
}

impl Default for State {
    fn default() -> Self {
        Self {
            signing: None,
            tokens: HashMap::new(),
            userinfo: UserinfoReply::Tokens,
            userinfo_calls: 0,
            userinfo_gate: Arc::default(),
            key_fetches: 0,
            keys_valid_until: None,
            well_known: None,
            requests: Vec::new(),
            onbind: onbind::OnbindState::default(),
        }
    }
}

/// Configures a [`FakeHomeserver`] before it starts.
#[derive(Debug, Default)]
pub struct FakeHomeserverBuilder {
    state: State,
    tls: bool,
}

impl FakeHomeserverBuilder {
    /// Userinfo answers `{"sub": sub}` for `token` (`sub` may be anything, to test bad ones).
    pub fn user(mut self, token: &str, sub: &str) -> Self {
        self.state.tokens.insert(token.to_owned(), sub.to_owned());
        self
    }

    /// Userinfo answers a JSON object of about `bytes` bytes, with a `Content-Length`.
    pub fn oversized_userinfo(mut self, bytes: usize) -> Self {
        self.state.userinfo = UserinfoReply::Oversized {
            bytes,
            with_length: true,
        };
        self
    }

    /// Userinfo answers a JSON object of about `bytes` bytes, streamed without a length.
    pub fn oversized_userinfo_streamed(mut self, bytes: usize) -> Self {
        self.state.userinfo = UserinfoReply::Oversized {
            bytes,
            with_length: false,
        };
        self
    }

    /// Userinfo answers `status` with `body` (JSON) whatever the token.
    pub fn userinfo_status(mut self, status: u16, body: &str) -> Self {
        self.state.userinfo = UserinfoReply::Fixed {
            status,
            body: body.to_owned(),
        };
        self
    }

    /// `/.well-known/matrix/server` answers `{"m.server": m_server}`.
    pub fn well_known_server(self, m_server: &str) -> Self {
        let body = serde_json::json!({ "m.server": m_server }).to_string();
        self.well_known_response(200, &body, None)
    }

    /// `/.well-known/matrix/server` answers `status` with `body` and an optional
    /// `Cache-Control`.
    pub fn well_known_response(
        mut self,
        status: u16,
        body: &str,
        cache_control: Option<&str>,
    ) -> Self {
        self.state.well_known = Some(WellKnownReply::Answer {
            status,
            body: body.to_owned(),
            cache_control: cache_control.map(str::to_owned),
        });
        self
    }

    /// `/.well-known/matrix/server` answers 302 to `location`.
    pub fn well_known_redirect(mut self, location: &str) -> Self {
        self.state.well_known = Some(WellKnownReply::Redirect(location.to_owned()));
        self
    }

    /// Serves HTTPS with a fresh self-signed certificate for `127.0.0.1` and `localhost`.
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(self) -> FakeHomeserver {
        let (tcp, addr) = serve::bind("fake homeserver").await;
        let state = Arc::new(Mutex::new(self.state));
        let app = {
            let state = Arc::clone(&state);
            poem::endpoint::make(move |req: Request| {
                let state = Arc::clone(&state);
                async move {
                    if req.uri().path() == onbind::ONBIND_PATH {
                        return onbind::handle(&state, req).await;
                    }
                    if req.uri().path() == USERINFO_PATH {
                        let gate = Arc::clone(&serve::lock(&state).userinfo_gate);
                        gate.pass().await;
                    }
                    handle(&state, req)
                }
            })
        };
        let (running, certificate_der) = if self.tls {
            let (acceptor, der) = TlsAcceptor::new(tcp);
            (Running::serve(acceptor, app), Some(der))
        } else {
            (Running::serve(tcp, app), None)
        };
        FakeHomeserver {
            addr,
            state,
            certificate_der,
            running,
        }
    }
}

/// A running fake homeserver; stops when dropped.
#[derive(Debug)]
pub struct FakeHomeserver {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    certificate_der: Option<Vec<u8>>,
    running: Running,
}

impl FakeHomeserver {
    /// Publishes a signing key as `server_name` at `/_matrix/key/v2/server`, so requests this
    /// fake signs with [`sign_request`](Self::sign_request) can be verified.
    pub fn sign_as(&self, server_name: &str) {
        self.lock().signing = Some((server_name.to_owned(), fake_signing_key()));
    }

    /// The `Authorization: X-Matrix …` header a homeserver sends for `method uri` to
    /// `destination` with `content`, signed with the key published by [`sign_as`](Self::sign_as).
    pub fn sign_request(
        &self,
        method: &str,
        uri: &str,
        destination: &str,
        content: Option<&serde_json::Value>,
    ) -> String {
        let (origin, key) = self.lock().signing.clone().expect("call sign_as first");
        let mut request = serde_json::json!({
            "method": method, "uri": uri, "origin": origin, "destination_is": destination,
        });
        if let Some(content) = content {
            request["content"] = content.clone();
        }
        sign_json(&mut request, &origin, &key).expect("sign the request");
        let sig = request["signatures"][&origin][key.id().as_str()]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        format!(
            r#"X-Matrix origin="{origin}",destination="{destination}",key="{}",sig="{sig}""#,
            key.id().as_str()
        )
    }

    /// A builder, for anything but the defaults.
    pub fn builder() -> FakeHomeserverBuilder {
        FakeHomeserverBuilder::default()
    }

    /// A plain-HTTP fake that knows no token and serves no `.well-known`.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// `http://127.0.0.1:<port>` (or `https://…` with [`FakeHomeserverBuilder::tls`]).
    pub fn base_url(&self) -> String {
        let scheme = if self.certificate_der.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The server name that reaches this fake by IP literal: `127.0.0.1:<port>`.
    pub fn server_name(&self) -> String {
        self.addr.to_string()
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The self-signed certificate (DER) of a TLS fake, for clients that should trust it.
    pub fn certificate_der(&self) -> Option<&[u8]> {
        self.certificate_der.as_deref()
    }

    /// Makes userinfo answer `{"sub": sub}` for `token` from now on.
    pub fn add_user(&self, token: &str, sub: &str) {
        self.lock().tokens.insert(token.to_owned(), sub.to_owned());
    }

    /// How many userinfo requests arrived.
    pub fn userinfo_calls(&self) -> usize {
        self.lock().userinfo_calls
    }

    /// From now on, userinfo requests are received but not answered until
    /// [`release_userinfo`](Self::release_userinfo) (or until the caller hangs up).
    pub fn hold_userinfo(&self) {
        self.lock().userinfo_gate.close();
    }

    /// Answers the held userinfo requests and every later one at once.
    pub fn release_userinfo(&self) {
        self.lock().userinfo_gate.open();
    }

    /// Waits until `count` userinfo requests are held; panics after `timeout`.
    pub async fn wait_for_held_userinfo(&self, count: usize, timeout: std::time::Duration) {
        let gate = Arc::clone(&self.lock().userinfo_gate);
        gate.wait_for_held(count, timeout).await;
    }

    /// How many times the key document (`/_matrix/key/v2/server`) was asked for.
    pub fn key_fetches(&self) -> usize {
        self.lock().key_fetches
    }

    /// Publishes `valid_until_ts` (milliseconds since the epoch) in the key document from now
    /// on, instead of a day from each request.
    pub fn keys_valid_until(&self, millis: u64) {
        self.lock().keys_valid_until = Some(millis);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.lock().requests.clone()
    }

    /// Stops serving and waits until the port is closed.
    pub async fn stop(mut self) {
        self.running.stop().await;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        serve::lock(&self.state)
    }
}
