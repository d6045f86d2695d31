//! A fake homeserver's client-server API on `127.0.0.1:0`, for Verity's user directory search:
//!
//! - `GET /_matrix/client/{r0,v3}/account/whoami`: `{"user_id", "is_guest"}` for a known bearer
//!   token, 401 `M_UNKNOWN_TOKEN` for any other (or a fixed answer on request);
//! - `POST /_matrix/client/{r0,v3}/user_directory/search`: the people it holds whose user ID or
//!   display name contains the term (ignoring case), at most `limit` (default 10), `limited` when
//!   more matched; 401 for an unknown token (or a fixed answer on request);
//! - `GET /.well-known/matrix/client`, when configured.
//!
//! It records every request (method, path, whether a token came in the header or the query, and
//! the body), so a test can check what Verity sent and what it did not.
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use poem::web::{Data, Json};
use poem::{EndpointExt, Request, Response, Route, get, handler, post};
use serde_json::{Value, json};

use crate::serve::{self, Running};

/// A request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The bearer token of the `Authorization` header, if any.
    pub bearer: Option<String>,
    /// Whether the query string carried an `access_token`.
    pub token_in_query: bool,
    /// The JSON body (`null` for none).
    pub body: Value,
    /// Its `X-Forwarded-For` header, if any.
    pub forwarded_for: Option<String>,
}

/// How an endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// As a homeserver does, from what the fake holds.
    Normal,
    /// This status and body, whatever was asked.
    Fixed {
        /// The status.
        status: u16,
        /// The body (sent as JSON).
        body: String,
    },
}

impl Reply {
    /// `status` with a Matrix error.
    pub fn error(status: u16, errcode: &str) -> Self {
        Self::Fixed {
            status,
            body: json!({"errcode": errcode, "error": "from the fake"}).to_string(),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    /// Token -> (user ID, guest).
    tokens: Vec<(String, String, bool)>,
    /// (user ID, display name, avatar URL).
    people: Vec<(String, Option<String>, Option<String>)>,
    whoami: Option<Reply>,
    directory: Option<Reply>,
    register: Option<Reply>,
    well_known: Option<String>,
    /// Where `/.well-known/matrix/client` redirects to (302), instead of answering.
    well_known_redirect: Option<String>,
    requests: Vec<ClientRequest>,
}

/// The running fake; stops when dropped.
pub struct FakeClientApi {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    _running: Running,
}

impl FakeClientApi {
    /// Starts a fake that knows no token and no one.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let (acceptor, addr) = serve::bind("fake client API").await;
        let app = Route::new()
            .at("/_matrix/client/:version/account/whoami", get(whoami))
            .at(
                "/_matrix/client/:version/user_directory/search",
                post(search),
            )
            .at(
                "/_matrix/client/:version/register/:medium/requestToken",
                post(register),
            )
            .at("/_matrix/client/:version/rooms/:room/invite", post(invite))
            .at("/.well-known/matrix/client", get(well_known))
            .data(state.clone());
        Self {
            addr,
            state,
            _running: Running::serve(acceptor, app),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `token` belongs to `user_id`.
    pub fn user(&self, token: &str, user_id: &str) -> &Self {
        self.token(token, user_id, false)
    }

    /// `token` belongs to the guest `user_id`.
    pub fn guest(&self, token: &str, user_id: &str) -> &Self {
        self.token(token, user_id, true)
    }

    fn token(&self, token: &str, user_id: &str, guest: bool) -> &Self {
        serve::lock(&self.state)
            .tokens
            .push((token.to_owned(), user_id.to_owned(), guest));
        self
    }

    /// The homeserver's directory holds `user_id`.
    pub fn person(&self, user_id: &str, display_name: Option<&str>, avatar: Option<&str>) -> &Self {
        serve::lock(&self.state).people.push((
            user_id.to_owned(),
            display_name.map(str::to_owned),
            avatar.map(str::to_owned),
        ));
        self
    }

    /// How `whoami` answers from now on.
    pub fn whoami_replies(&self, reply: Reply) {
        serve::lock(&self.state).whoami = Some(reply);
    }

    /// How the directory search answers from now on.
    pub fn directory_replies(&self, reply: Reply) {
        serve::lock(&self.state).directory = Some(reply);
    }

    /// How `register/{medium}/requestToken` answers (normally 200 with a new `sid`).
    pub fn register_replies(&self, reply: Reply) {
        serve::lock(&self.state).register = Some(reply);
    }

    /// Serves `/.well-known/matrix/client` naming `base_url` as the homeserver.
    pub fn well_known(&self, base_url: &str) {
        serve::lock(&self.state).well_known = Some(base_url.to_owned());
    }

    /// Answers `/.well-known/matrix/client` with a 302 to `location`.
    pub fn well_known_redirects_to(&self, location: &str) {
        serve::lock(&self.state).well_known_redirect = Some(location.to_owned());
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<ClientRequest> {
        serve::lock(&self.state).requests.clone()
    }

    /// The requests to paths ending in `suffix`.
    pub fn requests_to(&self, suffix: &str) -> Vec<ClientRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.path.ends_with(suffix))
            .collect()
    }
}

fn record(state: &Mutex<State>, request: &Request, body: Value) -> Option<String> {
    let bearer = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_owned);
    let token_in_query = request
        .uri()
        .query()
        .is_some_and(|query| query.contains("access_token"));
    serve::lock(state).requests.push(ClientRequest {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        bearer: bearer.clone(),
        token_in_query,
        body,
        forwarded_for: request
            .headers()
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    });
    bearer
}

fn fixed(reply: Option<&Reply>) -> Option<Response> {
    match reply {
        Some(Reply::Fixed { status, body }) => Some(serve::json(*status, body.clone())),
        _ => None,
    }
}

fn unknown_token() -> Response {
    serve::json(
        401,
        r#"{"errcode":"M_UNKNOWN_TOKEN","error":"Invalid access token passed."}"#.to_owned(),
    )
}

#[handler]
fn whoami(request: &Request, Data(state): Data<&Arc<Mutex<State>>>) -> Response {
    let bearer = record(state, request, Value::Null);
    let held = serve::lock(state);
    if let Some(answer) = fixed(held.whoami.as_ref()) {
        return answer;
    }
    let known = held
        .tokens
        .iter()
        .find(|(token, _, _)| Some(token) == bearer.as_ref());
    match known {
        Some((_, user_id, guest)) => serve::json(
            200,
            json!({"user_id": user_id, "is_guest": guest, "device_id": "FAKE"}).to_string(),
        ),
        None => unknown_token(),
    }
}

#[handler]
fn search(
    request: &Request,
    Json(body): Json<Value>,
    Data(state): Data<&Arc<Mutex<State>>>,
) -> Response {
    let bearer = record(state, request, body.clone());
    let held = serve::lock(state);
    if let Some(answer) = fixed(held.directory.as_ref()) {
        return answer;
    }
    if !held
        .tokens
        .iter()
        .any(|(token, _, _)| Some(token) == bearer.as_ref())
    {
        return unknown_token();
    }
    let term = body["search_term"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    let limit = body["limit"]
        .as_u64()
        .map_or(10, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let matching: Vec<Value> = held
        .people
        .iter()
        .filter(|(id, name, _)| {
            id.to_lowercase().contains(&term)
                || name
                    .as_deref()
                    .is_some_and(|name| name.to_lowercase().contains(&term))
        })
        .map(|(id, name, avatar)| {
            let mut person = json!({"user_id": id});
            if let Some(name) = name {
                person["display_name"] = json!(name);
            }
            if let Some(avatar) = avatar {
                person["avatar_url"] = json!(avatar);
            }
            person
        })
        .collect();
    let limited = matching.len() > limit;
    let results: Vec<Value> = matching.into_iter().take(limit).collect();
    serve::json(
        200,
        json!({"results": results, "limited": limited}).to_string(),
    )
}

/// A room invite: `{}` for a known token (the fake has no rooms: any room will do), 401
/// otherwise. The path is recorded as it came, percent-encoding and all.
#[handler]
fn invite(
    request: &Request,
    Json(body): Json<Value>,
    Data(state): Data<&Arc<Mutex<State>>>,
) -> Response {
    let bearer = record(state, request, body);
    let held = serve::lock(state);
    if held
        .tokens
        .iter()
        .any(|(token, _, _)| Some(token) == bearer.as_ref())
    {
        serve::json(200, "{}".to_owned())
    } else {
        unknown_token()
    }
}

/// A homeserver's registration requestToken: a session ID for any JSON body (the fake sends no
/// email), or the fixed reply.
#[handler]
fn register(
    request: &Request,
    Json(body): Json<Value>,
    Data(state): Data<&Arc<Mutex<State>>>,
) -> Response {
    record(state, request, body);
    let held = serve::lock(state);
    if let Some(answer) = fixed(held.register.as_ref()) {
        return answer;
    }
    let sid = format!("fake-sid-{}", held.requests.len());
    serve::json(200, json!({ "sid": sid }).to_string())
}

#[handler]
fn well_known(request: &Request, Data(state): Data<&Arc<Mutex<State>>>) -> Response {
    record(state, request, Value::Null);
    let held = serve::lock(state);
    if let Some(location) = &held.well_known_redirect {
        return Response::builder()
            .status(serve::status_code(302))
            .header("location", location.as_str())
            .finish();
    }
    match held.well_known.clone() {
        Some(base_url) => serve::json(
            200,
            json!({"m.homeserver": {"base_url": base_url}}).to_string(),
        ),
        None => serve::unrecognized(),
    }
}
