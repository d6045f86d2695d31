//! Signed associations reach the client byte for byte: a bind the policy forwards to another
//! identity server answers that server's signed association exactly as it came, fields this
//! server does not know included, with its signature still valid; a remote answer that is not a
//! signed association is a clear 502 and nothing is bound. The remote is a fake identity server
//! on `127.0.0.1:0` whose association is signed with a known key.
use serde_json::{Value, json};
use verity_domain::{JsonObject, KeyId, SignedJson, SigningKey};
use verity_testkit::identity_server::FakeIdentityServer;
use verity_tests::TestApp;

use crate::remote_sessions::{
    SECRET, World, check, explanation, follow_mail, get, post, request, world_with,
};

const REMOTE_NAME: &str = "remote.example";
const V1: &str = "/_matrix/identity/api/v1";

fn remote_key() -> SigningKey {
    SigningKey::from_seed(KeyId::parse("ed25519:r1").unwrap(), &[42; 32])
}

/// The remote's association for bob, with a field of its own, signed by the remote: written
/// with spaces and in its own member order, which must survive too.
fn remote_association(mxid: &str) -> String {
    let object = JsonObject::from_value(json!({
        "mxid": mxid,
        "address": "bob@gmail.com",
        "medium": "email",
        "ts": 1_767_225_600_000_u64,
        "not_before": 1_767_225_600_000_u64,
        "not_after": 4_920_825_600_000_u64,
        "org.example.provenance": {"checked_by": "a human", "level": 3},
    }))
    .unwrap();
    let signed = SignedJson::sign(&object, REMOTE_NAME, &remote_key()).unwrap();
    let value = signed.to_value();
    // Pretty-printed: what a server written in another language might send.
    let mut text = serde_json::to_string_pretty(&value).unwrap();
    text.push('\n');
    text
}

/// A fake remote that starts a session, says it is validated and answers the bind with `bind`.
async fn remote(status: u16, bind: &str) -> FakeIdentityServer {
    let remote = FakeIdentityServer::start().await;
    remote.respond(
        "POST",
        &format!("{V1}/validate/email/requestToken"),
        200,
        r#"{"sid":"remote-sid"}"#,
    );
    remote.respond(
        "GET",
        &format!("{V1}/3pid/getValidated3pid"),
        200,
        r#"{"medium":"email","address":"bob@gmail.com","validated_at":1}"#,
    );
    remote.respond("POST", &format!("{V1}/3pid/bind"), status, bind);
    remote
}

/// bob's session at the local server, validated on the remote one (as the pages do it).
async fn validated_remotely(w: &World) -> String {
    let sid = request(&w.local, "bob@gmail.com").await.expect("a session");
    follow_mail(&w.local, &w.peers, "bob@gmail.com").await;
    let started = post(&w.local, &explanation(&sid)).await;
    assert_eq!(started.status, 200, "{}", started.html);
    let checked = get(&w.local, &check(&sid)).await;
    assert!(
        checked.html.contains("confirmed your email address"),
        "{}",
        checked.html
    );
    sid
}

/// The homeserver's v1 bind, read as raw text (a generated client would keep only the fields
/// it knows).
async fn bind_raw(app: &TestApp, sid: &str) -> (u16, String) {
    let response = app
        .http
        .post(app.url(&format!("{V1}/3pid/bind")))
        .json(&json!({"sid": sid, "client_secret": SECRET, "mxid": "@bob:example.org"}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn local_owner(app: &TestApp) -> Value {
    let response = app
        .http
        .get(app.url(&format!("{V1}/lookup?medium=email&address=bob%40gmail.com")))
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_remote_servers_association_reaches_the_client_byte_for_byte_with_its_signature_valid() {
    let sent = remote_association("@bob:example.org");
    let remote = remote(200, &sent).await;
    let w = world_with("", Some(&remote.base_url())).await;
    let sid = validated_remotely(&w).await;

    let (status, body) = bind_raw(&w.local, &sid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, sent);
    let received = SignedJson::parse(&body).unwrap();
    assert_eq!(
        received.to_value()["org.example.provenance"],
        json!({"checked_by": "a human", "level": 3})
    );
    assert!(
        received
            .signed_keys()
            .contains(&"org.example.provenance".to_owned())
    );
    received
        .verify(REMOTE_NAME, remote_key().id(), &remote_key().public_key())
        .unwrap();
    // Published on the remote only, as the policy says.
    assert_eq!(local_owner(&w.local).await, json!({}));
}

#[tokio::test]
async fn a_remote_answer_that_is_not_a_signed_association_is_a_502_and_nothing_is_bound() {
    let mut unsigned: Value =
        serde_json::from_str(&remote_association("@bob:example.org")).unwrap();
    unsigned.as_object_mut().unwrap().remove("signatures");
    let remote = remote(200, &unsigned.to_string()).await;
    let w = world_with("", Some(&remote.base_url())).await;
    let sid = validated_remotely(&w).await;

    let (status, body) = bind_raw(&w.local, &sid).await;
    assert_eq!(status, 502, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["errcode"], "M_REMOTE_IS_ERROR", "{body}");
    assert_eq!(
        error["error"], "The other identity server gave an invalid answer.",
        "{body}"
    );
    assert_eq!(local_owner(&w.local).await, json!({}));
}
