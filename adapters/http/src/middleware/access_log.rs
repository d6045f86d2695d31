//! One structured log line per request. Only the path is logged, never the query string: it
//! carries `access_token`, `client_secret` and validation tokens.
//!
//! An error answer's line also carries its `errcode` and `error` (the text the caller was given,
//! which never holds a secret), and a refused call from another server (a homeserver's signed
//! request, or Synapse or another identity server by its User-Agent) is logged at WARN: the
//! homeserver logs no body either, so without this line a refusal leaves no trace but a status.
use std::time::Instant;

use poem::http::{HeaderMap, header};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response, Result};

/// Error bodies are small Matrix errors; a larger one is passed on unread.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// User-Agents of the servers that call an identity server (their own product names).
const SERVER_AGENTS: [&str; 5] = ["Synapse/", "Verity/", "Sydent", "mxisd", "ma1sd"];

pub(crate) struct AccessLog;

impl<E: Endpoint> Middleware<E> for AccessLog {
    type Output = AccessLogEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AccessLogEndpoint { inner }
    }
}

pub(crate) struct AccessLogEndpoint<E> {
    inner: E,
}

/// Who called, as far as the headers say: a server's refused call is worth a WARN.
fn server_caller(headers: &HeaderMap) -> Option<String> {
    let signed = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("X-Matrix"));
    if signed {
        return Some("X-Matrix".to_owned());
    }
    let agent = headers.get(header::USER_AGENT)?.to_str().ok()?;
    SERVER_AGENTS
        .iter()
        .any(|server| agent.starts_with(server))
        .then(|| agent.chars().take(64).collect())
}

/// The `errcode` and `error` of a JSON error body, and the response with its body restored.
async fn error_of(response: Response) -> (Response, String, String) {
    // Only a small JSON body is read: an error page (an operator's `view.*` file may be large)
    // goes to the client untouched.
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    // Matrix errors carry no length yet here (the server adds it): those are read, bounded.
    let small = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok())
        .is_none_or(|length| length <= MAX_ERROR_BODY);
    if !(json && small) {
        return (response, "-".into(), "-".into());
    }
    let (parts, body) = response.into_parts();
    let bytes = match body.into_bytes_limit(MAX_ERROR_BODY).await {
        Ok(bytes) => bytes,
        // The length said otherwise: nothing can be given back, say so in the log.
        Err(error) => {
            tracing::warn!(%error, "an error body could not be read for the access log");
            return (
                Response::from_parts(parts, Body::empty()),
                "-".into(),
                "-".into(),
            );
        }
    };
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|value| value.get(name))
            .and_then(serde_json::Value::as_str)
            .unwrap_or("-")
            .chars()
            .take(300)
            .collect::<String>()
    };
    let (errcode, error) = (field("errcode"), field("error"));
    (
        Response::from_parts(parts, Body::from(bytes)),
        errcode,
        error,
    )
}

impl<E: Endpoint> Endpoint for AccessLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let server = server_caller(req.headers());
        let response = match self.inner.call(req).await {
            Ok(response) => response.into_response(),
            Err(err) => err.into_response(),
        };
        let status = response.status();
        let elapsed_ms = format!("{:.3}", started.elapsed().as_secs_f64() * 1000.0);
        if !(status.is_client_error() || status.is_server_error()) {
            tracing::info!(
                target: "verity::access",
                %method, path, status = status.as_u16(), elapsed_ms = %elapsed_ms, "request"
            );
            return Ok(response);
        }
        let (response, errcode, error) = error_of(response).await;
        let status = status.as_u16();
        match server {
            Some(caller) => {
                tracing::warn!(
                    target: "verity::access",
                    %method, path, status, errcode, error, caller, elapsed_ms = %elapsed_ms,
                    "refused a server's request"
                );
            }
            _ => tracing::info!(
                target: "verity::access",
                %method, path, status, errcode, error, elapsed_ms = %elapsed_ms, "request"
            ),
        }
        Ok(response)
    }
}

#[cfg(test)]
#[path = "access_log_tests.rs"]
mod tests;
