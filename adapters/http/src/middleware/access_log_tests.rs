//! The access log says why a request was refused, and at WARN when a server was refused.
use std::io::Write;
use std::sync::{Arc, Mutex};

use poem::http::StatusCode;
use poem::test::TestClient;
use poem::{EndpointExt as _, handler};
use serde_json::json;
use tracing_subscriber::util::SubscriberInitExt as _;

use super::AccessLog;
use crate::error::{ErrCode, MatrixError};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn capture() -> (Captured, tracing::dispatcher::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let guard = tracing_subscriber::fmt()
        .with_env_filter("verity=trace")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish()
        .set_default();
    (captured, guard)
}

#[handler]
fn refuse() -> poem::Response {
    MatrixError::new(
        ErrCode::Forbidden,
        "the request was signed for another destination",
    )
    .into_response_with(StatusCode::FORBIDDEN)
}

#[handler]
fn fine() -> &'static str {
    "{}"
}

fn client() -> TestClient<impl poem::Endpoint> {
    TestClient::new(
        poem::Route::new()
            .at("/_matrix/identity/v2/3pid/unbind", poem::post(refuse))
            .at("/ok", poem::get(fine))
            .with(AccessLog),
    )
}

#[tokio::test(flavor = "current_thread")]
async fn a_homeserver_signed_call_that_is_refused_is_logged_at_warn_with_its_reason() {
    let (logs, _guard) = capture();
    let resp = client()
        .post("/_matrix/identity/v2/3pid/unbind?access_token=secret123")
        .header(
            "Authorization",
            r#"X-Matrix origin="hs",key="ed25519:a",sig="c2ln""#,
        )
        .send()
        .await;
    resp.assert_status(StatusCode::FORBIDDEN);
    // The caller still gets the whole error body.
    resp.assert_json(json!({
        "errcode": "M_FORBIDDEN", "error": "the request was signed for another destination"
    }))
    .await;
    let text = logs.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains("refused a server's request"), "{text}");
    assert!(text.contains("M_FORBIDDEN"), "{text}");
    assert!(text.contains("signed for another destination"), "{text}");
    assert!(!text.contains("secret123"), "the query was logged: {text}");
    assert!(!text.contains("c2ln"), "the signature was logged: {text}");
}

#[tokio::test(flavor = "current_thread")]
async fn synapse_by_its_user_agent_is_a_server_and_a_browser_is_not() {
    let (logs, _guard) = capture();
    client()
        .post("/_matrix/identity/v2/3pid/unbind")
        .header("User-Agent", "Synapse/1.163.2")
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let text = logs.text();
    assert!(
        text.contains("WARN") && text.contains("Synapse/1.163.2"),
        "{text}"
    );

    let (logs, _guard) = capture();
    client()
        .post("/_matrix/identity/v2/3pid/unbind")
        .header("User-Agent", "Mozilla/5.0")
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let text = logs.text();
    assert!(!text.contains("WARN"), "{text}");
    assert!(
        text.contains("INFO") && text.contains("M_FORBIDDEN"),
        "{text}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_success_is_one_info_line_without_an_error() {
    let (logs, _guard) = capture();
    client()
        .get("/ok")
        .header("User-Agent", "Synapse/1.163.2")
        .send()
        .await
        .assert_status_is_ok();
    let text = logs.text();
    assert!(
        text.contains("INFO") && text.contains("status=200"),
        "{text}"
    );
    assert!(!text.contains("errcode"), "{text}");
}

#[handler]
fn big_page() -> poem::Response {
    poem::Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .content_type("text/html; charset=utf-8")
        .body("<p>x</p>".repeat(10_000))
}

/// An operator's failure page may be far larger than any Matrix error: it reaches the user whole.
#[tokio::test(flavor = "current_thread")]
async fn a_large_error_page_reaches_the_client_whole() {
    let (_logs, _guard) = capture();
    let resp = TestClient::new(
        poem::Route::new()
            .at("/page", poem::get(big_page))
            .with(AccessLog),
    )
    .get("/page")
    .send()
    .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    resp.assert_text("<p>x</p>".repeat(10_000)).await;
}
