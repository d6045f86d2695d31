//! Request ids: the caller's `X-Request-Id` when it is short and safe, else one made here;
//! echoed in the answer, and the field `request_id` of a span around the request, so that every
//! log line the request causes (the access log's included) carries it.
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use tracing::Instrument as _;

/// The header read and written.
pub(crate) const REQUEST_ID: &str = "x-request-id";

/// The longest id taken from a caller.
const MAX_LEN: usize = 64;

pub(crate) struct RequestId;

impl<E: Endpoint> Middleware<E> for RequestId {
    type Output = RequestIdEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RequestIdEndpoint { inner }
    }
}

pub(crate) struct RequestIdEndpoint<E> {
    inner: E,
}

/// The caller's id, when it is 1 to 64 of `[A-Za-z0-9._-]`: nothing that could forge a log
/// line, a header or a label.
fn accepted(value: Option<&HeaderValue>) -> Option<String> {
    let id = value?.to_str().ok()?;
    let safe = !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    safe.then(|| id.to_owned())
}

/// A new id: 16 hex digits, a counter hashed under a key drawn at start, so ids are unique in
/// the process and tell nothing of the traffic.
fn generated() -> String {
    static KEY: OnceLock<RandomState> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{:016x}", KEY.get_or_init(RandomState::new).hash_one(n))
}

impl<E: Endpoint> Endpoint for RequestIdEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let id = accepted(req.headers().get(REQUEST_ID)).unwrap_or_else(generated);
        let span = tracing::info_span!("request", request_id = %id);
        let mut response = match self.inner.call(req).instrument(span).await {
            Ok(response) => response.into_response(),
            Err(err) => err.into_response(),
        };
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        Ok(response)
    }
}

#[cfg(test)]
#[path = "request_id_tests.rs"]
mod tests;
