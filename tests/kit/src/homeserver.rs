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
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use verity_domain::{KeyId, SigningKey, sign_json};

use poem::http::StatusCode;
use poem::http::uri::Scheme;
use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Body, Request, Response, Server};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::rustls;

#[path = "onbind.rs"]
mod onbind;

const USERINFO_PATH: &str = "/_matrix/federation/v1/openid/userinfo";
const KEYS_PATH: &str = "/_matrix/key/v2/server";

/// The fake's signing key: a fixed seed, so tests are reproducible.
fn fake_signing_key() -> SigningKey {
    SigningKey::from_seed(KeyId::parse("ed25519:fake").expect("key id"), &[7u8; 32])
}

/// A key document as a homeserver publishes it: valid for a day, self-signed.
fn key_document(name: &str, key: &SigningKey) -> serde_json::Value {
    let valid_until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
        + 86_400_000;
    let mut document = serde_json::json!({
        "server_name": name,
        "valid_until_ts": valid_until,
        "verify_keys": { key.id().as_str(): { "key": key.public_key().to_base64() } },
        "old_verify_keys": {},
    });
    sign_json(&mut document, name, key).expect("sign the key document");
    document
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
        let tcp = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind the fake homeserver");
        let addr = *tcp
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr())
            .expect("a socket address");
        let state = Arc::new(Mutex::new(self.state));
        let app = {
            let state = Arc::clone(&state);
            poem::endpoint::make(move |req: Request| {
                let state = Arc::clone(&state);
                async move {
                    if req.uri().path() == onbind::ONBIND_PATH {
                        return onbind::handle(&state, req).await;
                    }
                    handle(&state, req)
                }
            })
        };
        let (shutdown, stopped) = oneshot::channel::<()>();
        let signal = async move {
            let _ = stopped.await;
        };
        let grace = Some(Duration::from_secs(1));
        let (task, certificate_der) = if self.tls {
            let (acceptor, der) = TlsAcceptor::new(tcp);
            let server = Server::new_with_acceptor(acceptor);
            let task = tokio::spawn(async move {
                let _ = server.run_with_graceful_shutdown(app, signal, grace).await;
            });
            (task, Some(der))
        } else {
            let server = Server::new_with_acceptor(tcp);
            let task = tokio::spawn(async move {
                let _ = server.run_with_graceful_shutdown(app, signal, grace).await;
            });
            (task, None)
        };
        FakeHomeserver {
            addr,
            state,
            certificate_der,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }
}

/// A running fake homeserver; stops when dropped.
#[derive(Debug)]
pub struct FakeHomeserver {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    certificate_der: Option<Vec<u8>>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
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
            "method": method, "uri": uri, "origin": origin, "destination": destination,
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

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.lock().requests.clone()
    }

    /// Stops serving and waits until the port is closed.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for FakeHomeserver {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Records the request and answers it by path.
fn handle(state: &Mutex<State>, req: Request) -> Response {
    let mut state = state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    state.requests.push(ReceivedRequest {
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
        host: req
            .headers()
            .get("host")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    });
    match req.uri().path() {
        KEYS_PATH => match &state.signing {
            Some((name, key)) => json(200, key_document(name, key).to_string()),
            None => unrecognized(),
        },
        USERINFO_PATH => {
            state.userinfo_calls += 1;
            let query: HashMap<String, String> = req.params().unwrap_or_default();
            userinfo(&state, query.get("access_token").map(String::as_str))
        }
        WELL_KNOWN_PATH => match &state.well_known {
            Some(WellKnownReply::Answer {
                status,
                body,
                cache_control,
            }) => {
                let mut response = Response::builder()
                    .status(status_code(*status))
                    .header("content-type", "application/json");
                if let Some(value) = cache_control {
                    response = response.header("cache-control", value.as_str());
                }
                response.body(body.clone())
            }
            Some(WellKnownReply::Redirect(location)) => Response::builder()
                .status(StatusCode::FOUND)
                .header("location", location.as_str())
                .finish(),
            None => unrecognized(),
        },
        _ => unrecognized(),
    }
}

fn userinfo(state: &State, token: Option<&str>) -> Response {
    match &state.userinfo {
        UserinfoReply::Tokens => match token.and_then(|token| state.tokens.get(token)) {
            Some(sub) => json(200, serde_json::json!({ "sub": sub }).to_string()),
            None => json(
                401,
                r#"{"errcode":"M_UNKNOWN_TOKEN","error":"Access Token unknown or expired"}"#
                    .to_owned(),
            ),
        },
        UserinfoReply::Oversized { bytes, with_length } => {
            let padding = "x".repeat(bytes.saturating_sub(30));
            let body = format!(r#"{{"sub":"@a:b.c","pad":"{padding}"}}"#);
            let response = Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json");
            if *with_length {
                response.body(body)
            } else {
                response.body(Body::from_async_read(io::Cursor::new(body.into_bytes())))
            }
        }
        UserinfoReply::Fixed { status, body } => json(*status, body.clone()),
    }
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn json(status: u16, body: String) -> Response {
    Response::builder()
        .status(status_code(status))
        .header("content-type", "application/json")
        .body(body)
}

fn unrecognized() -> Response {
    json(
        404,
        r#"{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}"#.to_owned(),
    )
}

/// TLS over poem's TCP acceptor, with a self-signed certificate. Handshakes happen in
/// `accept`, one at a time (enough for tests); a failed one (a client refusing the
/// certificate) is skipped.
struct TlsAcceptor {
    tcp: TcpAcceptor,
    tls: tokio_rustls::TlsAcceptor,
}

impl TlsAcceptor {
    fn new(tcp: TcpAcceptor) -> (Self, Vec<u8>) {
        let certified = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .expect("generate a self-signed certificate");
        let der = certified.cert.der().to_vec();
        let key =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .expect("a usable certificate");
        let tls = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        (Self { tcp, tls }, der)
    }
}

impl Acceptor for TlsAcceptor {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.tcp.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        loop {
            let (stream, local, remote, _) = self.tcp.accept().await?;
            let handshake = tokio::time::timeout(Duration::from_secs(5), self.tls.accept(stream));
            if let Ok(Ok(io)) = handshake.await {
                return Ok((io, local, remote, Scheme::HTTPS));
            }
        }
    }
}
