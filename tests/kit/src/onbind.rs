//! The fake homeserver's `POST /_matrix/federation/v1/3pid/onbind`: it records every body and
//! answers 200 `{}`, or fails on request (a status for the next N calls, or for every call until
//! told otherwise) so that retries can be tested.
use std::sync::Mutex;
use std::time::{Duration, Instant};

use poem::{Request, Response};

use super::{FakeHomeserver, State, received};
use crate::serve::{self, json};

/// The path Verity posts invites to once their address is bound.
pub(super) const ONBIND_PATH: &str = "/_matrix/federation/v1/3pid/onbind";

/// What the onbind endpoint has seen and how it answers.
#[derive(Debug, Default)]
pub(super) struct OnbindState {
    /// Every body received (failed calls included), in order.
    received: Vec<serde_json::Value>,
    /// Calls still to fail, and with which status.
    failing: usize,
    status: u16,
}

/// Records the call and answers it.
pub(super) async fn handle(state: &Mutex<State>, mut req: Request) -> Response {
    let method = req.method().to_string();
    let body = req.take_body().into_vec().await.unwrap_or_default();
    let mut state = serve::lock(state);
    state.requests.push(received(&req, ONBIND_PATH));
    if method != "POST" {
        return json(
            405,
            r#"{"errcode":"M_UNRECOGNIZED","error":"POST only"}"#.to_owned(),
        );
    }
    let value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let onbind = &mut state.onbind;
    onbind.received.push(value);
    if onbind.failing > 0 {
        onbind.failing -= 1;
        return json(
            onbind.status,
            r#"{"errcode":"M_UNKNOWN","error":"failing on purpose"}"#.to_owned(),
        );
    }
    json(200, "{}".to_owned())
}

impl FakeHomeserver {
    /// The next `calls` onbind calls answer `status` (then 200 again).
    pub fn fail_onbind(&self, calls: usize, status: u16) {
        let mut state = self.lock();
        state.onbind.failing = calls;
        state.onbind.status = status;
    }

    /// Every onbind body received so far (failed calls included), in order.
    pub fn onbind_calls(&self) -> Vec<serde_json::Value> {
        self.lock().onbind.received.clone()
    }

    /// Waits until at least `count` onbind calls arrived, polling; panics after `timeout`.
    pub async fn wait_for_onbind(&self, count: usize, timeout: Duration) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let calls = self.onbind_calls();
            if calls.len() >= count {
                return calls;
            }
            assert!(
                Instant::now() < deadline,
                "{count} onbind call(s) expected within {timeout:?}, got {}: {calls:?}",
                calls.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
