//! The `rest` identity backend against the testkit's fake REST service (a real HTTP server on
//! loopback, in ma1sd's contract): v1 single and bulk lookups and v2 hashed lookups answered from
//! it and from Verity's own bindings together, 3PIDs that look like injections sent as JSON data
//! and finding nobody, and a server that starts and answers from its other backends while the
//! service is down or slow, with `/status` naming it.
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use serde_json::json;
use verity_testkit::rest_backend::{FakeRestBackend, Misbehave};
use verity_tests::{Backend, Peers, spawn_app_with};

use crate::sessions::{app_with_peers, register_alice};
use crate::store_lookups::{bind_alice, bulk_sorted, hashed_eventually, status, v1_lookup};

/// The `rest` section for the fake at `url`: ma1sd's default single endpoint, the bulk one at
/// mxisd's older prefix (a backend written for mxisd), and Verity's `identity.all` feed read
/// every second.
pub(crate) fn rest_yaml(url: &str, timeout: &str) -> String {
    format!(
        "
rest:
  enabled: true
  host: '{url}'
  timeout: {timeout}
  endpoints:
    identity:
      bulk: '/_mxisd/backend/api/v1/identity/bulk'
      all: '/_ma1sd/backend/api/v1/identity/all'
  identity:
    refresh: 1s
"
    )
}

#[tokio::test]
async fn lookups_are_answered_from_the_rest_store_together_with_verity_s_own_bindings() {
    let fake = FakeRestBackend::start().await;
    fake.add("email", "Bob@Example.org", "localpart", "bob");
    fake.add("msisdn", "+1 (202) 555-0143", "mxid", "@carol:example.org");
    let (app, peers) = app_with_peers(Backend::Sqlite, &rest_yaml(&fake.url(), "5s")).await;
    let token = register_alice(&app, &peers).await;
    bind_alice(&app, &peers, &token, "alice@example.org").await;

    // v1 single: the rest store (any case, a phone stored with punctuation) and a binding.
    for (medium, address, user) in [
        ("email", "bob@example.org", "@bob:example.org"),
        ("email", "BOB@example.org", "@bob:example.org"),
        ("msisdn", "12025550143", "@carol:example.org"),
        ("email", "alice@example.org", "@alice:example.org"),
    ] {
        let found = v1_lookup(&app.client, medium, address).await;
        assert_eq!(found["mxid"], user, "{medium} {address}: {found}");
    }
    assert_eq!(
        v1_lookup(&app.client, "email", "nobody@example.org").await,
        json!({})
    );
    let single = fake.received();
    assert!(
        single
            .iter()
            .any(|r| r.path == "_ma1sd/backend/api/v1/identity/single"
                && r.body == json!({"lookup": {"medium": "email", "address": "bob@example.org"}})),
        "{single:?}"
    );

    // Bulk: one request to the rest store for what the bindings did not answer.
    let bulk = bulk_sorted(
        &app.client,
        &[
            ("email", "bob@example.org"),
            ("msisdn", "12025550143"),
            ("email", "alice@example.org"),
            ("email", "nobody@example.org"),
        ],
    )
    .await;
    assert_eq!(
        bulk,
        [
            ["email", "alice@example.org", "@alice:example.org"],
            ["email", "bob@example.org", "@bob:example.org"],
            ["msisdn", "12025550143", "@carol:example.org"],
        ]
        .map(|row| row.map(str::to_owned).to_vec())
    );
    let asked_in_bulk = fake.received();
    let bulk_request = asked_in_bulk
        .iter()
        .rfind(|r| r.path == "_mxisd/backend/api/v1/identity/bulk")
        .expect("a bulk request at the mxisd path");
    assert!(
        !bulk_request.body.to_string().contains("alice@example.org"),
        "the binding's 3PID was passed down: {}",
        bulk_request.body
    );

    // v2: the hash table fed from `identity.all` and the bindings.
    hashed_eventually(
        &app.client_as(&token),
        &[
            ("bob@example.org", "email"),
            ("12025550143", "msisdn"),
            ("alice@example.org", "email"),
            ("nobody@example.org", "email"),
        ],
        json!([
            "@alice:example.org",
            "@bob:example.org",
            "@carol:example.org"
        ]),
    )
    .await;
    // An address added to the service is hashed within `rest.identity.refresh` (1 s).
    fake.add("email", "dave@example.org", "localpart", "dave");
    hashed_eventually(
        &app.client_as(&token),
        &[("dave@example.org", "email")],
        json!(["@dave:example.org"]),
    )
    .await;

    let (code, body) = status(&app).await;
    assert_eq!(
        (code, &body["checks"]["rest"]),
        (200, &json!("OK")),
        "{body}"
    );
}

#[tokio::test]
async fn three_pids_that_look_like_injections_are_sent_as_json_data_and_find_nobody() {
    let fake = FakeRestBackend::start().await;
    fake.add("email", "bob@example.org", "localpart", "bob");
    let peers = Peers::start().await;
    let app = spawn_app_with(
        Backend::Sqlite,
        &format!("{}{}", peers.yaml(), rest_yaml(&fake.url(), "5s")),
    )
    .await;
    for injection in [
        "*@example.org",
        "bob@example.org'||'1'='1",
        "\"},\"id\":{\"type\":\"mxid\",\"value\":\"@eve:example.org\"}}",
        "bob@example.org\u{0}",
    ] {
        let found = app.client.lookup_v1(injection, "email").await;
        let found = found.map(|answer| serde_json::to_value(answer.into_inner()).expect("JSON"));
        assert!(
            matches!(&found, Ok(value) if *value == json!({})) || found.is_err(),
            "{injection}: {found:?}"
        );
    }
    // What reached the service was each address as a JSON string, nothing more.
    let singles = fake.received();
    let singles: Vec<_> = singles
        .iter()
        .filter(|r| r.path.ends_with("identity/single"))
        .collect();
    assert!(!singles.is_empty());
    for request in singles {
        let address = &request.body["lookup"]["address"];
        assert!(address.is_string(), "{:?}", request.body);
        assert_eq!(
            request.body["lookup"].as_object().map(|o| o.len()),
            Some(2),
            "{:?}",
            request.body
        );
    }
    // A custom medium takes any text: still one JSON string.
    let custom = "\"},\"id\":{\"type\":\"mxid\",\"value\":\"@eve:example.org\"}}";
    let found = app.client.lookup_v1(custom, "m.handle").await;
    let found = found.map(|answer| serde_json::to_value(answer.into_inner()).expect("JSON"));
    assert!(
        matches!(&found, Ok(value) if *value == json!({})) || found.is_err(),
        "{found:?}"
    );
    if found.is_ok() {
        let last = fake.received().pop().expect("the custom medium was asked");
        assert_eq!(
            last.body,
            json!({"lookup": {"medium": "m.handle", "address": custom}})
        );
    }
}

#[tokio::test]
async fn with_the_service_down_or_slow_verity_starts_and_answers_from_its_other_backends() {
    let memory = "
memory:
  enabled: true
  identities:
    - username: memo
      threepids:
        - {medium: email, address: memo@example.org}
";
    // A service that was there and went away: its port is closed.
    let fake = FakeRestBackend::start().await;
    fake.add("email", "bob@example.org", "localpart", "bob");
    let down = fake.url();
    fake.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let peers = Peers::start().await;
    let app = spawn_app_with(
        Backend::Sqlite,
        &format!("{}{}{memory}", peers.yaml(), rest_yaml(&down, "2s")),
    )
    .await;
    let found = v1_lookup(&app.client, "email", "memo@example.org").await;
    assert_eq!(found["mxid"], "@memo:example.org", "{found}");
    assert_eq!(
        v1_lookup(&app.client, "email", "bob@example.org").await,
        json!({})
    );
    let eve = peers.register(&app, "eve").await;
    hashed_eventually(
        &eve,
        &[("memo@example.org", "email")],
        json!(["@memo:example.org"]),
    )
    .await;
    let (code, body) = status(&app).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["health"], "OK", "{body}");
    assert_eq!(body["checks"]["rest"], "UNHEALTHY", "{body}");

    // A slow service: lookups wait at most `rest.timeout` (1 s) for it, then the others answer.
    let slow = FakeRestBackend::start().await;
    slow.misbehave(Misbehave::Slow(Duration::from_secs(30)));
    let peers = Peers::start().await;
    let began = Instant::now();
    let app = spawn_app_with(
        Backend::Sqlite,
        &format!("{}{}{memory}", peers.yaml(), rest_yaml(&slow.url(), "1s")),
    )
    .await;
    let found = v1_lookup(&app.client, "email", "memo@example.org").await;
    assert_eq!(found["mxid"], "@memo:example.org", "{found}");
    let asked = Instant::now();
    assert_eq!(
        v1_lookup(&app.client, "email", "bob@example.org").await,
        json!({})
    );
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "{:?}",
        asked.elapsed()
    );
    assert!(
        began.elapsed() < Duration::from_secs(60),
        "{:?}",
        began.elapsed()
    );
    let (code, body) = status(&app).await;
    assert_eq!(
        (code, &body["checks"]["rest"]),
        (200, &json!("UNHEALTHY")),
        "{body}"
    );
}
