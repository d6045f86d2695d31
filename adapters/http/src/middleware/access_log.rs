//! One structured log line per request. Only the path is logged, never the query string: it
//! carries `access_token`, `client_secret` and validation tokens.
use std::time::Instant;

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

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

impl<E: Endpoint> Endpoint for AccessLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let response = match self.inner.call(req).await {
            Ok(response) => response.into_response(),
            Err(err) => err.into_response(),
        };
        tracing::info!(
            target: "verity::access",
            %method,
            path,
            status = response.status().as_u16(),
            elapsed_ms = %format_args!("{:.3}", started.elapsed().as_secs_f64() * 1000.0),
            "request"
        );
        Ok(response)
    }
}
