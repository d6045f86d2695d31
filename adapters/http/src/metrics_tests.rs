//! The metrics listener serves the source's text at `/metrics` and nothing else.
use std::sync::Arc;

use async_trait::async_trait;
use poem::http::StatusCode;
use poem::test::TestClient;

use super::*;

struct Fixed;

#[async_trait]
impl MetricsSource for Fixed {
    fn content_type(&self) -> &'static str {
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    }

    async fn render(&self) -> Result<String, std::fmt::Error> {
        Ok("verity_up 1\n# EOF\n".to_owned())
    }
}

#[tokio::test]
async fn the_metrics_path_answers_the_source_s_text_with_its_content_type() {
    let client = TestClient::new(metrics_app(Arc::new(Fixed)));
    let response = client.get("/metrics").send().await;
    response.assert_status_is_ok();
    response.assert_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8");
    response.assert_text("verity_up 1\n# EOF\n").await;
}

#[tokio::test]
async fn the_metrics_listener_serves_nothing_else() {
    let client = TestClient::new(metrics_app(Arc::new(Fixed)));
    for path in ["/", "/_matrix/identity/v2", "/status"] {
        client
            .get(path)
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
}
