//! Recursive lookups end to end: two real Verity instances. "Central" holds a binding made by
//! the normal v1 validate + bind flow; the local one knows nothing and forwards lookups to
//! central (label `central`, `forward.servers`) — only for requesters inside
//! `lookup.recursive.allowedCidr`, judged behind `lookup.recursive.trustedProxies`.
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_tests::client::{Client, types};
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

const CENTRAL_NAME: &str = "central.example";
/// The local server signs as `matrix.domain`.
const LOCAL_NAME: &str = "example.org";

/// Central, with dave@example.org bound to @dave:example.org through its own v1 flow.
async fn central_with_dave(peers: &Peers) -> TestApp {
    let central = spawn_app_with(
        Backend::Sqlite,
        &format!("{}server: {{name: {CENTRAL_NAME}}}\n", peers.yaml()),
    )
    .await;
    let sid = central
        .client
        .email_request_token_v1(&types::EmailTokenRequest {
            client_secret: "secretDave".into(),
            email: "dave@example.org".into(),
            send_attempt: "1".into(),
            next_link: None,
        })
        .await
        .expect("requestToken at central")
        .into_inner()
        .sid;
    assert_eq!(peers.open_emailed_link(&central).await, 200);
    central
        .client
        .bind_v1(&types::BindRequest {
            sid,
            client_secret: "secretDave".into(),
            mxid: "@dave:example.org".into(),
        })
        .await
        .expect("bind at central");
    central
}

/// The local server, forwarding to `central`, with `recursive` as `lookup.recursive`.
async fn local(peers: &Peers, central: &TestApp, recursive: &str) -> TestApp {
    let yaml = format!(
        "{}matrix:\n  identity:\n    servers:\n      central: ['{}']\n\
         forward:\n  servers: [central]\n\
         lookup:\n  recursive: {recursive}\n",
        peers.yaml(),
        central.base_url
    );
    spawn_app_with(Backend::Sqlite, &yaml).await
}

/// `POST /_matrix/identity/api/v1/bulk_lookup` with optional `X-Forwarded-For`.
async fn bulk_lookup(app: &TestApp, forwarded_for: Option<&str>) -> Value {
    let mut request = app
        .http
        .post(app.url("/_matrix/identity/api/v1/bulk_lookup"))
        .json(&json!({"threepids": [
            ["email", "dave@example.org"], ["email", "nobody@example.org"]
        ]}));
    if let Some(value) = forwarded_for {
        request = request.header("X-Forwarded-For", value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json::<Value>().await.unwrap()["threepids"].clone()
}

/// A v2 `none` lookup of dave and nobody, through the generated client.
async fn none_lookup(client: &Client) -> Value {
    let pepper = client
        .get_hash_details()
        .await
        .expect("hash_details")
        .into_inner()
        .lookup_pepper;
    let answer = client
        .lookup_users(&types::LookupBody {
            algorithm: "none".into(),
            pepper,
            addresses: vec![
                "dave@example.org email".into(),
                "nobody@example.org email".into(),
            ],
        })
        .await
        .expect("lookup")
        .into_inner();
    serde_json::to_value(answer.mappings).unwrap()
}

#[tokio::test]
async fn a_local_requester_gets_the_central_servers_answers_signed_by_this_server() {
    let peers = Peers::start().await;
    let central = central_with_dave(&peers).await;
    // Default allowedCidr: loopback and private ranges; the test client is on 127.0.0.1.
    let local = local(&peers, &central, "{enabled: true}").await;

    assert_eq!(
        bulk_lookup(&local, None).await,
        json!([["email", "dave@example.org", "@dave:example.org"]])
    );

    let single = local
        .client
        .lookup_v1("dave@example.org", "email")
        .await
        .expect("v1 lookup")
        .into_inner();
    let single = serde_json::to_value(single).unwrap();
    assert_eq!(single["mxid"], "@dave:example.org");
    let signers: Vec<&String> = single["signatures"].as_object().unwrap().keys().collect();
    assert_eq!(signers, [LOCAL_NAME], "{single}");

    let bob = peers.register(&local, "bob").await;
    assert_eq!(
        none_lookup(&bob).await,
        json!({"dave@example.org email": "@dave:example.org"})
    );

    // Central answers for itself alone: it forwards nothing (no forward.servers).
    assert_eq!(
        bulk_lookup(&central, None).await,
        json!([["email", "dave@example.org", "@dave:example.org"]])
    );
}

#[tokio::test]
async fn a_requester_outside_the_allowed_networks_gets_only_local_answers() {
    let peers = Peers::start().await;
    let central = central_with_dave(&peers).await;
    let local = local(&peers, &central, "{allowedCidr: ['10.0.0.0/8']}").await;

    assert_eq!(bulk_lookup(&local, None).await, json!([]));
    // Without a trusted proxy, X-Forwarded-For is not believed.
    assert_eq!(bulk_lookup(&local, Some("10.1.2.3")).await, json!([]));
    let empty = local
        .client
        .lookup_v1("dave@example.org", "email")
        .await
        .expect("v1 lookup")
        .into_inner();
    assert_eq!(serde_json::to_value(empty).unwrap(), json!({}));
    let bob = peers.register(&local, "bob").await;
    assert_eq!(none_lookup(&bob).await, json!({}));
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_address_decides() {
    let peers = Peers::start().await;
    let central = central_with_dave(&peers).await;
    let local = local(
        &peers,
        &central,
        "{allowedCidr: ['10.0.0.0/8'], trustedProxies: ['127.0.0.1']}",
    )
    .await;

    assert_eq!(
        bulk_lookup(&local, Some("10.1.2.3")).await,
        json!([["email", "dave@example.org", "@dave:example.org"]])
    );
    // The right-most untrusted hop is the client: a spoofed inside address on the left does not
    // help an outside client.
    assert_eq!(
        bulk_lookup(&local, Some("10.1.2.3, 203.0.113.9")).await,
        json!([])
    );
    // The proxy itself (no header) is not inside the allowed networks.
    assert_eq!(bulk_lookup(&local, None).await, json!([]));
}

#[tokio::test]
async fn an_unreachable_central_server_leaves_the_local_answer_intact() {
    let peers = Peers::start().await;
    let local = spawn_app_with(
        Backend::Sqlite,
        &format!(
            "{}matrix:\n  identity:\n    servers:\n      central: ['http://127.0.0.1:1']\n\
             forward:\n  servers: [central]\n\
             memory:\n  enabled: true\n  identities:\n    - username: memo\n      threepids:\n\
             \x20       - medium: email\n          address: dave@example.org\n",
            peers.yaml()
        ),
    )
    .await;
    assert_eq!(
        bulk_lookup(&local, None).await,
        json!([["email", "dave@example.org", "@memo:example.org"]])
    );
}
