//! A fake remote identity server on `127.0.0.1:0` (plain HTTP), speaking the v1 API Verity uses
//! for remote sessions and recursive lookups:
//!
//! - `GET /_matrix/identity/api/v1` (the usability probe): `{}`, or 404 once made
//!   [`unusable`](FakeIdentityServerBuilder::unusable);
//! - `POST /_matrix/identity/api/v1/bulk_lookup` and `GET /_matrix/identity/api/v1/lookup`:
//!   answered from a table of bindings ([`binding`](FakeIdentityServerBuilder::binding));
//! - `GET /.well-known/matrix/client`, when configured;
//! - any `(method, path)` answered with a scripted status and JSON body
//!   ([`respond`](FakeIdentityServer::respond)), which wins over the routes above — this is how
//!   `requestToken`, `submitToken`, `getValidated3pid` and `bind` are scripted, step by step;
//! - an oversized answer on any path ([`oversized`](FakeIdentityServer::oversized)).
//!
//! Every request is recorded with its query and JSON body, so a test can check what Verity sent
//! (the client secret included: this is a fake, never a log).
//!
//! ```no_run
//! # async fn demo() {
//! use verity_testkit::identity_server::FakeIdentityServer;
//! let is = FakeIdentityServer::builder()
//!     .binding("email", "alice@example.org", "@alice:example.org")
//!     .start()
//!     .await;
//! is.respond("POST", "/_matrix/identity/api/v1/validate/email/requestToken", 200,
//!     r#"{"sid":"remote-sid"}"#);
//! assert_eq!(is.count("/_matrix/identity/api/v1/bulk_lookup"), 0);
//! # }
//! ```
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use poem::{Request, Response};
use serde_json::{Value, json};

use crate::serve::{self, Running, json, json_ok, unrecognized};

/// The probe path.
pub const PROBE_PATH: &str = "/_matrix/identity/api/v1";
/// The v1 bulk lookup path.
pub const BULK_LOOKUP_PATH: &str = "/_matrix/identity/api/v1/bulk_lookup";
/// The v1 single lookup path.
pub const LOOKUP_PATH: &str = "/_matrix/identity/api/v1/lookup";
/// The client discovery document.
pub const WELL_KNOWN_CLIENT_PATH: &str = "/.well-known/matrix/client";

/// A request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The body, when it was JSON.
    pub body: Option<Value>,
}

#[derive(Debug, Clone)]
enum Reply {
    Json { status: u16, body: String },
    Oversized { bytes: usize, with_length: bool },
}

#[derive(Debug, Default)]
struct State {
    usable: bool,
    /// `(medium, address)` -> mxid.
    bindings: HashMap<(String, String), String>,
    well_known: Option<String>,
    scripted: HashMap<(String, String), Reply>,
    requests: Vec<IdentityRequest>,
}

/// Configures a [`FakeIdentityServer`] before it starts.
#[derive(Debug)]
pub struct FakeIdentityServerBuilder {
    state: State,
}

impl Default for FakeIdentityServerBuilder {
    fn default() -> Self {
        Self {
            state: State {
                usable: true,
                ..State::default()
            },
        }
    }
}

impl FakeIdentityServerBuilder {
    /// The lookups answer `mxid` for `(medium, address)`.
    pub fn binding(mut self, medium: &str, address: &str, mxid: &str) -> Self {
        self.state
            .bindings
            .insert((medium.to_owned(), address.to_owned()), mxid.to_owned());
        self
    }

    /// The probe answers 404 `M_UNRECOGNIZED`: this is not an identity server.
    pub fn unusable(mut self) -> Self {
        self.state.usable = false;
        self
    }

    /// `/.well-known/matrix/client` answers 200 with `body`.
    pub fn well_known_client(mut self, body: &str) -> Self {
        self.state.well_known = Some(body.to_owned());
        self
    }

    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(self) -> FakeIdentityServer {
        let (tcp, addr) = serve::bind("fake identity server").await;
        let state = Arc::new(Mutex::new(self.state));
        let app = {
            let state = Arc::clone(&state);
            poem::endpoint::make(move |req: Request| {
                let state = Arc::clone(&state);
                async move { handle(&state, req).await }
            })
        };
        let running = Running::serve(tcp, app);
        FakeIdentityServer {
            addr,
            state,
            running,
        }
    }
}

/// A running fake identity server; stops when dropped.
#[derive(Debug)]
pub struct FakeIdentityServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    running: Running,
}

impl FakeIdentityServer {
    /// A builder, for anything but the defaults.
    pub fn builder() -> FakeIdentityServerBuilder {
        FakeIdentityServerBuilder::default()
    }

    /// A usable fake that knows no binding.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// From now on, `method path` answers `status` with the JSON `body` (whatever was asked).
    pub fn respond(&self, method: &str, path: &str, status: u16, body: &str) {
        self.lock().scripted.insert(
            (method.to_ascii_uppercase(), path.to_owned()),
            Reply::Json {
                status,
                body: body.to_owned(),
            },
        );
    }

    /// From now on, `method path` answers a JSON object of about `bytes` bytes; with
    /// `with_length` false it is streamed without a `Content-Length`.
    pub fn oversized(&self, method: &str, path: &str, bytes: usize, with_length: bool) {
        self.lock().scripted.insert(
            (method.to_ascii_uppercase(), path.to_owned()),
            Reply::Oversized { bytes, with_length },
        );
    }

    /// From now on, the lookups answer `mxid` for `(medium, address)`.
    pub fn add_binding(&self, medium: &str, address: &str, mxid: &str) {
        self.lock()
            .bindings
            .insert((medium.to_owned(), address.to_owned()), mxid.to_owned());
    }

    /// Makes the probe succeed (`true`) or answer 404 (`false`) from now on.
    pub fn set_usable(&self, usable: bool) {
        self.lock().usable = usable;
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<IdentityRequest> {
        self.lock().requests.clone()
    }

    /// How many requests arrived on `path`.
    pub fn count(&self, path: &str) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|request| request.path == path)
            .count()
    }

    /// Stops serving and waits until the port is closed.
    pub async fn stop(mut self) {
        self.running.stop().await;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        serve::lock(&self.state)
    }
}

/// Records the request and answers it: scripted first, then by path.
async fn handle(state: &Mutex<State>, req: Request) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let params: HashMap<String, String> = req.params().unwrap_or_default();
    let bytes = req.into_body().into_vec().await.unwrap_or_default();
    let body = serde_json::from_slice::<Value>(&bytes).ok();
    let mut state = serve::lock(state);
    state.requests.push(IdentityRequest {
        method: method.clone(),
        path: path.clone(),
        query,
        body: body.clone(),
    });
    if let Some(reply) = state.scripted.get(&(method.clone(), path.clone())) {
        return match reply.clone() {
            Reply::Json { status, body } => json(status, body),
            Reply::Oversized { bytes, with_length } => oversized(bytes, with_length),
        };
    }
    match (method.as_str(), path.as_str()) {
        ("GET", PROBE_PATH) if state.usable => json(200, "{}".to_owned()),
        ("POST", BULK_LOOKUP_PATH) => bulk_lookup(&state, body.as_ref()),
        ("GET", LOOKUP_PATH) => {
            let key = (
                params.get("medium").cloned().unwrap_or_default(),
                params.get("address").cloned().unwrap_or_default(),
            );
            match state.bindings.get(&key) {
                Some(mxid) => json(
                    200,
                    json!({
                        "medium": key.0, "address": key.1, "mxid": mxid,
                        "not_before": 0, "not_after": 4_102_444_800_000_u64, "ts": 0,
                        "signatures": {},
                    })
                    .to_string(),
                ),
                None => json(200, "{}".to_owned()),
            }
        }
        ("GET", WELL_KNOWN_CLIENT_PATH) => match &state.well_known {
            Some(body) => json(200, body.clone()),
            None => unrecognized(),
        },
        _ => unrecognized(),
    }
}

fn bulk_lookup(state: &State, body: Option<&Value>) -> Response {
    let Some(asked) = body
        .and_then(|body| body.get("threepids"))
        .and_then(Value::as_array)
    else {
        return json(
            400,
            r#"{"errcode":"M_BAD_JSON","error":"threepids is missing"}"#.to_owned(),
        );
    };
    let found: Vec<Value> = asked
        .iter()
        .filter_map(|pair| {
            let medium = pair.get(0)?.as_str()?;
            let address = pair.get(1)?.as_str()?;
            let mxid = state
                .bindings
                .get(&(medium.to_owned(), address.to_owned()))?;
            Some(json!([medium, address, mxid]))
        })
        .collect();
    json(200, json!({ "threepids": found }).to_string())
}

fn oversized(bytes: usize, with_length: bool) -> Response {
    let padding = "x".repeat(bytes.saturating_sub(20));
    let body = format!(r#"{{"pad":"{padding}"}}"#);
    json_ok(body, with_length)
}
