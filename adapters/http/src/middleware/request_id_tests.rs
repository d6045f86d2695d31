//! Request ids: taken from the caller when safe, else made; echoed; on every log line.
use std::io::Write;
use std::sync::{Arc, Mutex};

use poem::test::TestClient;
use poem::{EndpointExt as _, handler};
use tracing_subscriber::util::SubscriberInitExt as _;

use super::{REQUEST_ID, RequestId};
use crate::middleware::AccessLog;

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

#[handler]
fn work() -> &'static str {
    tracing::info!(target: "verity::work", "the handler's own line");
    "{}"
}

fn client() -> TestClient<impl poem::Endpoint> {
    TestClient::new(work.with(AccessLog).with(RequestId))
}

async fn id_of(header: Option<&str>) -> String {
    let client = client();
    let mut request = client.get("/");
    if let Some(value) = header {
        request = request.header(REQUEST_ID, value);
    }
    let response = request.send().await;
    response.assert_status_is_ok();
    response
        .0
        .headers()
        .get(REQUEST_ID)
        .expect("the id is echoed")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_safe_request_id_is_echoed_and_carried_by_every_log_line_of_the_request() {
    let captured = Captured::default();
    let writer = captured.clone();
    let _guard = tracing_subscriber::fmt()
        .with_env_filter("verity=info")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish()
        .set_default();
    assert_eq!(id_of(Some("req-42.a_B")).await, "req-42.a_B");
    let text = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for line in lines {
        assert!(line.contains("request_id=req-42.a_B"), "{line}");
    }
}

#[tokio::test]
async fn an_unsafe_or_long_request_id_is_replaced_by_one_made_here() {
    for unsafe_id in ["a b", "x\"}{", "é", &"a".repeat(65), ""] {
        let id = id_of(Some(unsafe_id)).await;
        assert_ne!(id, unsafe_id);
        assert_eq!(id.len(), 16, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    }
    assert_eq!(id_of(Some(&"a".repeat(64))).await, "a".repeat(64));
}

#[tokio::test]
async fn requests_without_an_id_each_get_their_own() {
    let first = id_of(None).await;
    let second = id_of(None).await;
    assert_ne!(first, second);
}
