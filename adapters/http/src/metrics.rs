//! The metrics listener's application: `GET /metrics` in the text format the metrics adapter
//! writes, nothing else. Neither the API nor its middleware is served there.
use std::sync::Arc;

use async_trait::async_trait;
use poem::http::StatusCode;
use poem::web::Data;
use poem::{EndpointExt as _, Response, Route, get, handler};

use crate::AppEndpoint;

/// Where Prometheus scrapes.
pub const METRICS_PATH: &str = "/metrics";

/// What the metrics listener serves: the current metrics as text.
#[async_trait]
pub trait MetricsSource: Send + Sync {
    /// The `Content-Type` of [`render`](Self::render)'s text.
    fn content_type(&self) -> &'static str;

    /// Every metric, as Prometheus reads it.
    ///
    /// # Errors
    /// The text could not be written (logged; the scrape gets a 500).
    async fn render(&self) -> Result<String, std::fmt::Error>;
}

#[handler]
async fn scrape(source: Data<&Arc<dyn MetricsSource>>) -> Response {
    match source.render().await {
        Ok(text) => Response::builder()
            .content_type(source.content_type())
            .body(text),
        Err(error) => {
            tracing::warn!(%error, "the metrics could not be written");
            StatusCode::INTERNAL_SERVER_ERROR.into()
        }
    }
}

/// The metrics listener's application over `source`.
pub fn metrics_app(source: Arc<dyn MetricsSource>) -> AppEndpoint {
    Route::new()
        .at(METRICS_PATH, get(scrape).data(source))
        .map_to_response()
        .boxed()
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
