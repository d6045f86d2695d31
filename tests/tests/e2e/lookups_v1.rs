//! A v1 bind (no account, as Synapse's older flows do), removed by an unbind signed by the user's
//! homeserver, and a v1 bind and the pepper surviving a restart of the server.
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_tests::client::{Client, types};
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

use super::{hash, lookup, v1_lookup};

const UNBIND_PATH: &str = "/_matrix/identity/v2/3pid/unbind";

#[tokio::test]
async fn an_unbind_signed_by_the_users_homeserver_removes_the_binding_as_synapse_sends_it() {
    let peers = Peers::start().await;
    let app = spawn_app_with(Backend::Sqlite, &peers.yaml()).await;
    bind_dave_v1(&app, &peers).await;
    assert_eq!(
        v1_lookup(&app.client, "email", "dave@example.org").await["mxid"],
        "@dave:example.org"
    );

    // What Synapse sends when Dave removes the address: no session, the homeserver's signature,
    // addressed to the identity server by the name it was given (the public URL's host here).
    peers.homeserver.sign_as("example.org");
    let body = json!({"mxid": "@dave:example.org", "threepid": {"medium": "email", "address": "dave@example.org"}});
    let header = peers
        .homeserver
        .sign_request("POST", UNBIND_PATH, "localhost", Some(&body));
    let unbound = unbind(&app, &header, &body).await;
    assert_eq!(
        unbound.status().as_u16(),
        200,
        "{}",
        unbound.text().await.unwrap()
    );
    assert_eq!(
        v1_lookup(&app.client, "email", "dave@example.org").await,
        json!({})
    );

    // The same signature replayed for another user of that homeserver does not verify.
    let mallory = json!({"mxid": "@mallory:example.org", "threepid": {"medium": "email", "address": "dave@example.org"}});
    let replay = peers
        .homeserver
        .sign_request("POST", UNBIND_PATH, "localhost", Some(&body));
    let refused = unbind(&app, &replay, &mallory).await;
    assert_eq!(refused.status().as_u16(), 403);
}

#[tokio::test]
async fn the_pepper_and_the_bindings_survive_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("verity.db");
    let peers = Peers::start().await;
    let app = spawn_app_with(Backend::SqliteAt(db.clone()), &peers.yaml()).await;
    bind_dave_v1(&app, &peers).await;
    let (pepper, _) = pepper_of(&app, &peers).await;
    app.stop().await.unwrap();

    let again = spawn_app_with(Backend::SqliteAt(db), &peers.yaml()).await;
    let (after, dave) = pepper_of(&again, &peers).await;
    assert_eq!(after, pepper, "no rotation unless configured");
    let dave_hash = hash("dave@example.org", "email", &pepper);
    assert_eq!(
        lookup(&dave, "sha256", &pepper, std::slice::from_ref(&dave_hash)).await,
        json!({&dave_hash: "@dave:example.org"})
    );
    assert_eq!(
        v1_lookup(&again.client, "email", "dave@example.org").await["mxid"],
        "@dave:example.org"
    );
}

/// sydent hands out the association made at bind time; Verity used to stamp a new `ts` (and so
/// a new signature) on every lookup.
#[tokio::test]
async fn the_v1_lookup_hands_out_the_association_the_bind_answered_unchanged() {
    let peers = Peers::start().await;
    let app = spawn_app_with(Backend::Sqlite, &peers.yaml()).await;
    let sid = validate_v1(&app, &peers).await;
    let bound: Value = app
        .http
        .post(app.url("/_matrix/identity/api/v1/3pid/bind"))
        .json(&json!({"sid": sid, "client_secret": "secretV1", "mxid": "@dave:example.org"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bound["mxid"], "@dave:example.org", "{bound}");
    // Long enough for a re-stamped association to differ by its milliseconds.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let looked_up = v1_lookup(&app.client, "email", "dave@example.org").await;
    for key in [
        "address",
        "medium",
        "mxid",
        "not_before",
        "not_after",
        "ts",
        "signatures",
    ] {
        assert_eq!(looked_up[key], bound[key], "{key}: {looked_up} vs {bound}");
    }
}

/// Validates dave@example.org over v1 (no account) and binds it to @dave:example.org.
async fn bind_dave_v1(app: &TestApp, peers: &Peers) {
    let sid = validate_v1(app, peers).await;
    app.client
        .bind_v1(&types::BindRequest {
            sid,
            client_secret: "secretV1".into(),
            mxid: "@dave:example.org".into(),
        })
        .await
        .expect("v1 bind");
}

/// `POST /3pid/unbind` with `authorization` (a homeserver's X-Matrix signature) and `body`.
async fn unbind(app: &TestApp, authorization: &str, body: &Value) -> reqwest::Response {
    app.http
        .post(app.url(UNBIND_PATH))
        .header("Authorization", authorization)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Validates dave@example.org over v1 (no account) and returns the sid.
async fn validate_v1(app: &TestApp, peers: &Peers) -> String {
    let sid = app
        .client
        .email_request_token_v1(&types::EmailTokenRequest {
            client_secret: "secretV1".into(),
            email: "dave@example.org".into(),
            send_attempt: "1".into(),
            next_link: None,
        })
        .await
        .expect("requestToken")
        .into_inner()
        .sid;
    peers.open_emailed_link(app).await;
    sid
}

/// The pepper, and a client with an account of the test's own (hash_details needs a token).
async fn pepper_of(app: &TestApp, peers: &Peers) -> (String, Client) {
    // Terms are not configured here, so a registration is enough.
    let client = peers.register(app, "dave").await;
    let pepper = client
        .get_hash_details()
        .await
        .expect("hash_details")
        .into_inner()
        .lookup_pepper;
    (pepper, client)
}
