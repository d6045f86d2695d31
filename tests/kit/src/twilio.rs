//! A fake Twilio Messages API on `127.0.0.1:0` (poem).
//!
//! `POST /2010-04-01/Accounts/{sid}/Messages.json` checks HTTP Basic credentials against the
//! configured account SID and auth token (401 with Twilio's error 20003 otherwise), records the
//! form fields, and answers 201 like Twilio, or a Twilio 400 error for numbers it was told to
//! refuse.
//!
//! ```no_run
//! # async fn demo() {
//! let twilio = verity_testkit::twilio::FakeTwilio::start("AC123", "secret").await;
//! twilio.refuse_number("+15005550001", 21211);
//! // ... configure the connector with api_url = twilio.url() ...
//! let sent = twilio.messages();
//! # }
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{EndpointExt, Request, Response, Route, handler, post};

use crate::serve::{self, Running};

/// One request the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    /// The account SID in the path.
    pub account_sid: String,
    /// `To`.
    pub to: String,
    /// `From`.
    pub from: String,
    /// `Body`.
    pub body: String,
    /// Every form field, in order.
    pub fields: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    account_sid: String,
    auth_token: String,
    refused: Mutex<HashMap<String, u32>>,
    sent: Mutex<Vec<SentSms>>,
    unauthorized: Mutex<usize>,
}

/// The running fake; stops when dropped.
pub struct FakeTwilio {
    addr: SocketAddr,
    state: Arc<State>,
    running: Running,
}

impl FakeTwilio {
    /// Starts a fake that accepts these credentials.
    pub async fn start(account_sid: &str, auth_token: &str) -> Self {
        let state = Arc::new(State {
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            ..State::default()
        });
        let (acceptor, addr) = serve::bind("fake Twilio").await;
        let app = Route::new()
            .at("/2010-04-01/Accounts/:sid/Messages.json", post(messages))
            .data(state.clone());
        let running = Running::serve(acceptor, app);
        Self {
            addr,
            state,
            running,
        }
    }

    /// The base URL, for the connector's `api_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Makes the fake answer 400 with Twilio error `code` when `To` is `to` (as sent, with `+`).
    pub fn refuse_number(&self, to: &str, code: u32) {
        serve::lock(&self.state.refused).insert(to.to_owned(), code);
    }

    /// The messages accepted so far.
    pub fn messages(&self) -> Vec<SentSms> {
        serve::lock(&self.state.sent).clone()
    }

    /// How many requests were refused for bad or missing credentials.
    pub fn unauthorized_requests(&self) -> usize {
        *serve::lock(&self.state.unauthorized)
    }

    /// Stops accepting connections.
    pub fn stop(&self) {
        self.running.abort();
    }
}

fn json(status: StatusCode, value: serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(value.to_string())
}

fn authorised(req: &Request, state: &State) -> bool {
    let Some(encoded) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .unwrap_or_default();
    String::from_utf8_lossy(&decoded) == format!("{}:{}", state.account_sid, state.auth_token)
}

#[handler]
fn messages(
    req: &Request,
    Path(sid): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
    Data(state): Data<&Arc<State>>,
) -> Response {
    if !authorised(req, state) || sid != state.account_sid {
        *serve::lock(&state.unauthorized) += 1;
        return json(
            StatusCode::UNAUTHORIZED,
            serde_json::json!({"code": 20003, "message": "Authenticate", "status": 401}),
        );
    }
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let to = field("To");
    if let Some(code) = serve::lock(&state.refused).get(&to) {
        return json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({
                "code": code,
                "message": format!("The 'To' number {to} is not a valid phone number."),
                "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
                "status": 400,
            }),
        );
    }
    let sms = SentSms {
        account_sid: sid,
        to: to.clone(),
        from: field("From"),
        body: field("Body"),
        fields: fields.clone(),
    };
    let index = {
        let mut sent = serve::lock(&state.sent);
        sent.push(sms.clone());
        sent.len()
    };
    json(
        StatusCode::CREATED,
        serde_json::json!({
            "sid": format!("SM{index:032}"),
            "status": "queued",
            "to": sms.to,
            "from": sms.from,
            "body": sms.body,
        }),
    )
}
