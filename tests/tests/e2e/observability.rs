//! Observability through the real binary: the metrics listener's scrape after a session and
//! lookups (counters moved, routes named by their template, no address in it), the health
//! probes (ready answers 503 while PostgreSQL refuses the store, and 200 again after), and
//! request ids echoed and carried by the JSON log lines of their request.
use std::time::Duration;

use sea_orm::{ConnectionTrait as _, Database};
use serde_json::Value;
use verity_tests::{Backend, Deployment, Peers, Verity, postgres_url};

use crate::crash_safety::validate;

const WAIT: Duration = Duration::from_secs(10);
const EMAIL: &str = "observed@example.org";

/// `http://<metrics listener>/metrics`, from the line the server logged.
async fn metrics_url(verity: &Verity) -> String {
    let line = verity
        .wait_for_log("the metrics listener is listening", WAIT)
        .await;
    format!(
        "http://{}/metrics",
        line["address"].as_str().expect("an address")
    )
}

async fn scrape(url: &str) -> String {
    let response = reqwest::get(url).await.expect("the scrape");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    response.text().await.unwrap()
}

/// The value of the sample written exactly as `series` (name and labels), 0 when absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.parse().expect("a number"))
}

async fn get(verity: &Verity, path: &str) -> reqwest::Response {
    verity
        .http()
        .get(verity.url(path))
        .send()
        .await
        .expect("the request")
}

#[tokio::test]
async fn the_scrape_counts_a_session_and_lookups_under_their_route_templates_and_names_no_address()
{
    let peers = Peers::start().await;
    let deployment = Deployment::new(Backend::Sqlite, &peers.yaml()).await;
    let verity = deployment.start().await;
    let url = metrics_url(&verity).await;
    let before = scrape(&url).await;
    let lookup = "GET\",route=\"/_matrix/identity/api/v1/lookup\",status=\"200\"}";
    let lookups = format!("verity_http_requests_total{{method=\"{lookup}");

    let sid = validate(&verity, &peers, EMAIL, "secretObserved1").await;
    for _ in 0..2 {
        let path = format!("/_matrix/identity/api/v1/lookup?medium=email&address={EMAIL}");
        assert_eq!(get(&verity, &path).await.status(), 200);
    }
    // An unknown key: the label is the route's template, never the key id asked for.
    assert_eq!(
        get(&verity, "/_matrix/identity/v2/pubkey/ed25519:nope")
            .await
            .status(),
        404
    );

    let after = scrape(&url).await;
    let created = "verity_sessions_created_total{medium=\"email\"}";
    assert_eq!(
        value(&after, created) - value(&before, created),
        1.0,
        "{after}"
    );
    let validated = "verity_sessions_validated_total";
    assert_eq!(value(&after, validated) - value(&before, validated), 1.0);
    let sent = "verity_notifications_sent_total{medium=\"email\",connector=\"smtp\"}";
    assert_eq!(value(&after, sent) - value(&before, sent), 1.0);
    assert_eq!(value(&after, &lookups) - value(&before, &lookups), 2.0);
    let pubkey = "verity_http_requests_total{method=\"GET\",route=\"/_matrix/identity/v2/pubkey/{keyId}\",status=\"404\"}";
    assert_eq!(value(&after, pubkey), 1.0, "{after}");
    assert_eq!(value(&after, "verity_backend_up{backend=\"store\"}"), 1.0);
    assert!(value(&after, "verity_hash_table_rebuilds_total") >= 1.0);
    for secret in [
        EMAIL,
        "observed%40example.org",
        sid.as_str(),
        "ed25519:nope",
        "secretObserved1",
    ] {
        assert!(!after.contains(secret), "{secret} in the scrape:\n{after}");
    }
}

#[tokio::test]
async fn a_request_id_is_echoed_and_carried_by_the_json_log_lines_of_its_request() {
    let deployment = Deployment::new(Backend::Sqlite, "").await;
    let verity = deployment.start().await;
    let ask = |id: &'static str| {
        verity
            .http()
            .get(verity.url("/_matrix/identity/v2"))
            .header("X-Request-Id", id)
            .send()
    };
    let response = ask("e2e-request.1").await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "e2e-request.1");
    let line = verity.wait_for_log("request", WAIT).await;
    assert_eq!(line["span"]["request_id"], "e2e-request.1", "{line}");
    assert_eq!(line["path"], "/_matrix/identity/v2");

    // Not safe in a log line or a header: replaced by one made by the server.
    let response = ask("bad id\"}").await.unwrap();
    let made = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(made.len(), 16, "{made}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let carried: Vec<Value> = verity
        .logs_after(0)
        .into_iter()
        .filter(|line| line["span"]["request_id"] == made.as_str())
        .collect();
    assert_eq!(carried.len(), 1, "{}", verity.logs());
    assert!(!verity.logs().contains("bad id"), "{}", verity.logs());
}

#[tokio::test]
async fn ready_answers_503_while_postgresql_refuses_the_store_and_200_once_it_is_back() {
    if postgres_url().is_none() {
        eprintln!("VERITY_TEST_POSTGRES_URL is unset: skipped");
        return;
    }
    let deployment = Deployment::new(Backend::Postgres, "").await;
    let verity = deployment.start().await;
    assert_eq!(get(&verity, "/_verity/health/live").await.status(), 200);
    assert_eq!(get(&verity, "/_verity/health/ready").await.status(), 200);

    let database = deployment
        .database_url()
        .rsplit('/')
        .next()
        .and_then(|rest| rest.split('?').next())
        .expect("a database name")
        .to_owned();
    let admin = Database::connect(postgres_url().unwrap()).await.unwrap();
    let refuse =
        |allow: bool| format!("ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS {allow}");
    admin.execute_unprepared(&refuse(false)).await.unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
        ))
        .await
        .unwrap();

    let response = get(&verity, "/_verity/health/ready").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errcode"], "M_UNKNOWN");
    assert_eq!(body["error"], "Not ready: store failed");
    // The process still serves: an orchestrator must not kill it for its database.
    assert_eq!(get(&verity, "/_verity/health/live").await.status(), 200);

    admin.execute_unprepared(&refuse(true)).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let status = get(&verity, "/_verity/health/ready").await.status();
        if status == 200 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
