//! A fake REST identity backend on `127.0.0.1:0` (poem), serving ma1sd's contract: `POST`s to
//! any path ending in `identity/single`, `identity/bulk` or `identity/all` (Verity's feed), so
//! both the ma1sd (`/_ma1sd/backend/api/v1/...`) and the mxisd (`/_mxisd/...`) prefixes work.
//!
//! It holds bindings as a real backend would (addresses as written, ids of any type), matches
//! emails ignoring case and phone numbers by their digits, records every request, and can be told
//! to misbehave: a status, a raw body, a delay, an oversized body, a redirect.
//!
//! It also holds accounts ([`Account`]): `auth/login` checks their passwords and answers
//! ma1sd's login contract, and `profile/displayName`, `profile/threepids` and `profile/roles`
//! answer their profiles (404 for a user it does not hold).
//!
//! It also holds a directory of people ([`Person`]) that `directory/user/search` searches.
//!
//! ```no_run
//! # async fn demo() {
//! use verity_testkit::rest_backend::{FakeRestBackend, Misbehave};
//! let backend = FakeRestBackend::start().await;
//! backend.add("email", "Alice@Example.org", "localpart", "alice");
//! // ... rest.host: backend.url() ...
//! backend.misbehave(Misbehave::Status(500));
//! # }
//! ```
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poem::http::StatusCode;
use poem::web::{Data, Json, Path};
use poem::{Body, EndpointExt, Request, Response, Route, handler, post};
use serde_json::{Value, json};

use crate::serve::{self, Running};

#[path = "rest_directory.rs"]
mod directory;
pub use directory::Person;

/// One binding the fake holds: a 3PID as written and the `id` it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The medium.
    pub medium: String,
    /// The address as the backend stores it.
    pub address: String,
    /// `id.type` as answered (`localpart`, `mxid`, or anything a test wants).
    pub id_type: String,
    /// `id.value`.
    pub id_value: String,
}

/// How the fake misbehaves, on every endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misbehave {
    /// It answers by the contract.
    No,
    /// This status and an empty JSON object.
    Status(u16),
    /// 200 with this body as is.
    Body(String),
    /// The contract's answer, after this long.
    Slow(Duration),
    /// 200 with a JSON body of this many bytes, streamed without a length.
    Oversized(usize),
    /// 302 to this location.
    Redirect(String),
}

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The path.
    pub path: String,
    /// The JSON body.
    pub body: Value,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
}

/// An account the fake logs in and describes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// The localpart it is asked by (and answers as `{"type": "localpart", "value": ...}`).
    pub localpart: String,
    /// Its password.
    pub password: String,
    /// `display_name`, if any.
    pub display_name: Option<String>,
    /// Its 3PIDs (medium, address as written).
    pub threepids: Vec<(String, String)>,
    /// Its roles.
    pub roles: Vec<String>,
}

struct State {
    held: Mutex<Vec<Held>>,
    accounts: Mutex<Vec<Account>>,
    people: Mutex<Vec<Person>>,
    misbehave: Mutex<Misbehave>,
    received: Mutex<Vec<Received>>,
}

/// The running fake; stops when dropped.
pub struct FakeRestBackend {
    addr: SocketAddr,
    state: Arc<State>,
    running: Running,
}

impl FakeRestBackend {
    /// Starts a fake holding nothing.
    pub async fn start() -> Self {
        let state = Arc::new(State {
            held: Mutex::new(Vec::new()),
            accounts: Mutex::new(Vec::new()),
            people: Mutex::new(Vec::new()),
            misbehave: Mutex::new(Misbehave::No),
            received: Mutex::new(Vec::new()),
        });
        let (acceptor, addr) = serve::bind("fake REST backend").await;
        let app = Route::new()
            .at("/*path", post(endpoint))
            .data(state.clone());
        let running = Running::serve(acceptor, app);
        Self {
            addr,
            state,
            running,
        }
    }

    /// The base URL, for `rest.host`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Holds `address` of `medium` for the id `{"type": id_type, "value": id_value}`.
    pub fn add(&self, medium: &str, address: &str, id_type: &str, id_value: &str) {
        serve::lock(&self.state.held).push(Held {
            medium: medium.to_owned(),
            address: address.to_owned(),
            id_type: id_type.to_owned(),
            id_value: id_value.to_owned(),
        });
    }

    /// Holds `account` for logins and profiles.
    pub fn add_account(&self, account: Account) {
        serve::lock(&self.state.accounts).push(account);
    }

    /// Holds `person` in the directory `directory/user/search` searches.
    pub fn add_person(&self, person: Person) {
        serve::lock(&self.state.people).push(person);
    }

    /// Makes every endpoint misbehave so (or behave again with [`Misbehave::No`]).
    pub fn misbehave(&self, how: Misbehave) {
        *serve::lock(&self.state.misbehave) = how;
    }

    /// The requests received so far.
    pub fn received(&self) -> Vec<Received> {
        serve::lock(&self.state.received).clone()
    }

    /// Stops accepting connections (the port is closed).
    pub fn stop(&self) {
        self.running.abort();
    }
}

/// Whether `held` is the 3PID asked: same medium; emails ignoring case, phone numbers by their
/// digits, other media exactly.
fn matches(held: &Held, medium: &str, address: &str) -> bool {
    if held.medium != medium {
        return false;
    }
    match medium {
        "email" => held.address.to_lowercase() == address.to_lowercase(),
        "msisdn" => {
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            digits(&held.address) == digits(address)
        }
        _ => held.address == address,
    }
}

fn answer_of(held: &Held) -> Value {
    json!({
        "medium": held.medium,
        "address": held.address,
        "id": {"type": held.id_type, "value": held.id_value},
    })
}

fn asked(entry: &Value) -> (String, String) {
    let field = |name: &str| entry[name].as_str().unwrap_or_default().to_owned();
    (field("medium"), field("address"))
}

fn threepids_of(account: &Account) -> Vec<Value> {
    account
        .threepids
        .iter()
        .map(|(medium, address)| json!({"medium": medium, "address": address}))
        .collect()
}

/// The answer to a login or a profile request, `None` for another path; `Some(None)`: 404.
fn accounts(state: &State, path: &str, body: &Value) -> Option<Option<Value>> {
    let accounts = serve::lock(&state.accounts).clone();
    let find = |asked: &Value| {
        let localpart = asked["localpart"].as_str().unwrap_or_default().to_owned();
        accounts.iter().find(|a| a.localpart == localpart).cloned()
    };
    if path.ends_with("auth/login") {
        let asked = &body["auth"];
        let password = asked["password"].as_str().unwrap_or_default();
        let answer = match find(asked) {
            Some(account) if account.password == password => json!({"auth": {
                "success": true,
                "id": {"type": "localpart", "value": account.localpart},
                "profile": {"display_name": account.display_name, "three_pids": threepids_of(&account)},
            }}),
            _ => json!({"auth": {"success": false}}),
        };
        return Some(Some(answer));
    }
    let part = ["displayName", "threepids", "roles"]
        .into_iter()
        .find(|part| path.ends_with(&format!("profile/{part}")))?;
    Some(find(body).map(|account| {
        let profile = match part {
            "displayName" => json!({"display_name": account.display_name}),
            "threepids" => json!({"threepids": threepids_of(&account)}),
            _ => json!({"roles": account.roles}),
        };
        json!({ "profile": profile })
    }))
}

/// The contract's answer to `body` at `path`, or `None` for a path it does not serve.
fn contract(state: &State, path: &str, body: &Value) -> Option<Value> {
    let held = serve::lock(&state.held).clone();
    if path.ends_with("identity/single") {
        let (medium, address) = asked(&body["lookup"]);
        let found = held.iter().find(|h| matches(h, &medium, &address));
        // ma1sd's answer for a hit names the 3PID asked; none is `{}`.
        return Some(found.map_or_else(
            || json!({}),
            |h| {
                let mut answer = answer_of(h);
                answer["medium"] = json!(medium);
                answer["address"] = json!(address);
                json!({"lookup": answer})
            },
        ));
    }
    if path.ends_with("identity/bulk") {
        let list = body["lookup"].as_array().cloned().unwrap_or_default();
        let found: Vec<Value> = list
            .iter()
            .filter_map(|entry| {
                let (medium, address) = asked(entry);
                held.iter()
                    .find(|h| matches(h, &medium, &address))
                    .map(|h| {
                        let mut answer = answer_of(h);
                        answer["address"] = json!(address);
                        answer
                    })
            })
            .collect();
        return Some(json!({"lookup": found}));
    }
    if path.ends_with("identity/all") {
        let all: Vec<Value> = held.iter().map(answer_of).collect();
        return Some(json!({"lookup": all}));
    }
    None
}

#[handler]
async fn endpoint(
    req: &Request,
    Path(path): Path<String>,
    Json(body): Json<Value>,
    Data(state): Data<&Arc<State>>,
) -> Response {
    serve::lock(&state.received).push(Received {
        path: path.clone(),
        body: body.clone(),
        authorization: req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
    let how = serve::lock(&state.misbehave).clone();
    match how {
        Misbehave::No => {}
        Misbehave::Status(status) => return serve::json(status, "{}".to_owned()),
        Misbehave::Body(body) => return serve::json(200, body),
        Misbehave::Slow(delay) => tokio::time::sleep(delay).await,
        Misbehave::Oversized(size) => {
            let body = format!("{{\"lookup\":[],\"padding\":\"{}\"}}", "x".repeat(size));
            return Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .body(Body::from_async_read(std::io::Cursor::new(
                    body.into_bytes(),
                )));
        }
        Misbehave::Redirect(location) => {
            return Response::builder()
                .status(StatusCode::FOUND)
                .header("location", location)
                .body(());
        }
    }
    if let Some(answer) = accounts(state, &path, &body) {
        return match answer {
            Some(answer) => serve::json(200, answer.to_string()),
            None => serve::json(404, "{}".to_owned()),
        };
    }
    if path.ends_with("directory/user/search") {
        let people = serve::lock(&state.people).clone();
        return serve::json(200, directory::answer(&people, &body).to_string());
    }
    match contract(state, &path, &body) {
        Some(answer) => serve::json(200, answer.to_string()),
        None => serve::json(404, "{}".to_owned()),
    }
}
