//! Sydent's internal API end to end (`server.internal.bindApi`): a bind on the internal listener
//! is signed with the published key, found by a v2 hashed lookup, delivers the pending invites
//! of the address to the homeserver, and is undone by the internal unbind; the public listener
//! never serves these paths, and without the key neither does the internal one.
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use verity_tests::client::{Client, Error, types};
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

use crate::invites::invite_request;

const WAIT: Duration = Duration::from_secs(10);
const BIND_API: &str = "server: {internal: {bindApi: true}}\n";

fn ginger() -> Value {
    json!({"medium": "email", "address": "Ginger@Example.org", "mxid": "@ginger:example.org"})
}

async fn post(app: &TestApp, url: String, body: &Value) -> (u16, Value) {
    let response = app.http.post(url).json(body).send().await.expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

/// What a v2 hashed lookup of `address` answers, once the table is built (a 503 before).
pub(crate) async fn hashed_lookup(client: &Client, address: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let pepper = client
            .get_hash_details()
            .await
            .expect("hash_details")
            .into_inner()
            .lookup_pepper;
        let hash = URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{address} email {pepper}")));
        let asked = types::LookupBody {
            algorithm: "sha256".into(),
            pepper,
            addresses: vec![hash.clone()],
        };
        match client.lookup_users(&asked).await {
            Ok(answer) => {
                return serde_json::to_value(&answer.into_inner().mappings).unwrap()[&hash].clone();
            }
            Err(Error::ErrorResponse(e)) if e.status().as_u16() == 503 => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the table was never built"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(other) => panic!("lookup: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_bind_through_the_internal_api_is_signed_found_by_hashed_lookups_and_delivers_invites() {
    let peers = Peers::start().await;
    let app = spawn_app_with(Backend::Sqlite, &format!("{}{BIND_API}", peers.yaml())).await;
    let inviter = peers.register(&app, "inviter").await;
    inviter
        .store_invite_v2(&invite_request("ginger@example.org"))
        .await
        .expect("store-invite");
    let ginger_client = peers.register(&app, "ginger").await;

    let (status, association) = post(
        &app,
        app.internal_url("/_matrix/identity/internal/bind"),
        &ginger(),
    )
    .await;

    assert_eq!(status, 200, "{association}");
    assert_eq!(
        (
            &association["medium"],
            &association["address"],
            &association["mxid"]
        ),
        (
            &json!("email"),
            &json!("ginger@example.org"),
            &json!("@ginger:example.org")
        )
    );
    let key_id = association["signatures"]["example.org"]
        .as_object()
        .and_then(|signatures| signatures.keys().next().cloned())
        .expect("signed by the server");
    app.client
        .get_pub_key_v2(&key_id)
        .await
        .expect("the signing key is published");
    assert_eq!(association["invites"].as_array().map(Vec::len), Some(1));
    let delivered = peers.homeserver.wait_for_onbind(1, WAIT).await;
    assert_eq!(delivered[0]["mxid"], "@ginger:example.org");
    assert_eq!(delivered[0]["invites"][0], association["invites"][0]);
    assert_eq!(
        hashed_lookup(&ginger_client, "ginger@example.org").await,
        "@ginger:example.org"
    );

    let (status, answer) = post(
        &app,
        app.internal_url("/_matrix/identity/internal/unbind"),
        &ginger(),
    )
    .await;

    assert_eq!((status, answer), (200, json!({})));
    assert_eq!(
        hashed_lookup(&ginger_client, "ginger@example.org").await,
        Value::Null
    );
}

#[tokio::test]
async fn the_public_listener_never_serves_the_internal_api() {
    let app = spawn_app_with(Backend::Sqlite, BIND_API).await;
    for path in [
        "/_matrix/identity/internal/bind",
        "/_matrix/identity/internal/unbind",
    ] {
        let (status, answer) = post(&app, app.url(path), &ginger()).await;
        assert_eq!(
            (status, &answer["errcode"]),
            (404, &json!("M_UNRECOGNIZED")),
            "{path}"
        );
    }
    let found = app
        .client
        .lookup_v1("ginger@example.org", "email")
        .await
        .unwrap();
    assert_eq!(serde_json::to_value(found.into_inner()).unwrap(), json!({}));
}

#[tokio::test]
async fn without_bind_api_the_internal_listener_does_not_serve_it_either() {
    // The listener started for another reason: a store that checks passwords.
    let app = spawn_app_with(Backend::Sqlite, "server: {internal: {enabled: true}}\n").await;
    let (status, _) = post(
        &app,
        app.internal_url("/_matrix/identity/internal/bind"),
        &ginger(),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_internal_bind_on_postgresql_is_found_by_the_v1_lookup() {
    let app = spawn_app_with(Backend::Postgres, BIND_API).await;
    let (status, _) = post(
        &app,
        app.internal_url("/_matrix/identity/internal/bind"),
        &ginger(),
    )
    .await;
    assert_eq!(status, 200);
    let found = app
        .client
        .lookup_v1("ginger@example.org", "email")
        .await
        .expect("v1 lookup")
        .into_inner();
    assert_eq!(
        serde_json::to_value(found).unwrap()["mxid"],
        "@ginger:example.org"
    );
}
