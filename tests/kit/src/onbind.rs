//! The fake homeserver's `POST /_matrix/federation/v1/3pid/onbind`: it records every body and
//! answers 200 `{}`, or fails on request (a status for the next N calls, or for every call until
//! told otherwise) so that retries can be tested, or holds its answer (the call is recorded, the
//! caller waits) so that a test can act while a delivery is in flight.
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::{Request, Response};

use super::{FakeHomeserver, State, received};
use crate::gate::Gate;
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
    /// Holds answers while closed (see [`FakeHomeserver::hold_onbind`]).
    gate: Arc<Gate>,
    /// How long each answer takes (see [`FakeHomeserver::slow_onbind`]).
    delay: Duration,
}

/// Records the call and answers it, once the gate lets it.
pub(super) async fn handle(state: &Mutex<State>, mut req: Request) -> Response {
    let method = req.method().to_string();
    let body = req.take_body().into_vec().await.unwrap_or_default();
    let (answer, gate, delay) = record(state, &req, &method, &body);
    if let Some(gate) = gate {
        tokio::time::sleep(delay).await;
        gate.pass().await;
    }
    answer
}

/// Records the call; the answer, and the gate it waits for (none for a refused method).
fn record(
    state: &Mutex<State>,
    req: &Request,
    method: &str,
    body: &[u8],
) -> (Response, Option<Arc<Gate>>, Duration) {
    let mut state = serve::lock(state);
    state.requests.push(received(req, ONBIND_PATH));
    if method != "POST" {
        let refused = json(
            405,
            r#"{"errcode":"M_UNRECOGNIZED","error":"POST only"}"#.to_owned(),
        );
        return (refused, None, Duration::ZERO);
    }
    let value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
    let onbind = &mut state.onbind;
    onbind.received.push(value);
    let answer = if onbind.failing > 0 {
        onbind.failing -= 1;
        json(
            onbind.status,
            r#"{"errcode":"M_UNKNOWN","error":"failing on purpose"}"#.to_owned(),
        )
    } else {
        json(200, "{}".to_owned())
    };
    (answer, Some(Arc::clone(&onbind.gate)), onbind.delay)
}

impl FakeHomeserver {
    /// The next `calls` onbind calls answer `status` (then 200 again).
    pub fn fail_onbind(&self, calls: usize, status: u16) {
        let mut state = self.lock();
        state.onbind.failing = calls;
        state.onbind.status = status;
    }

    /// From now on, each onbind call is recorded at once and answered after `delay`: a delivery
    /// stays in flight that long, long enough for other instances to try the same invite.
    pub fn slow_onbind(&self, delay: Duration) {
        self.lock().onbind.delay = delay;
    }

    /// From now on, an onbind call is recorded but its answer waits until
    /// [`release_onbind`](Self::release_onbind): the caller cannot know whether it was taken.
    pub fn hold_onbind(&self) {
        self.lock().onbind.gate.close();
    }

    /// Answers the held onbind calls and every later one at once.
    pub fn release_onbind(&self) {
        self.lock().onbind.gate.open();
    }

    /// Waits until at least `count` onbind calls wait for their answer; panics after `timeout`.
    pub async fn wait_for_held_onbind(&self, count: usize, timeout: Duration) {
        let gate = Arc::clone(&self.lock().onbind.gate);
        gate.wait_for_held(count, timeout).await;
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
