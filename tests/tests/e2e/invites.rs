//! 3PID room invites end to end, as Synapse and Element drive them: store-invite (the invite
//! email through the real SMTP peer), validate and bind the address, and the fake homeserver
//! receives `3pid/onbind` with invites whose signatures check out against `/pubkey` (checked with
//! ed25519-dalek directly, not with Verity's code); sign-ed25519 with the key from the email;
//! M_THREEPID_IN_USE; a restart while the homeserver fails still delivers.
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use pretty_assertions::assert_eq;
use serde_json::Value;
use verity_tests::client::{Client, Error, types};
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

const WAIT: Duration = Duration::from_secs(10);
/// The server signs as `server.name`, which defaults to `matrix.domain`.
const SERVER_NAME: &str = "example.org";
const INVITEE: &str = "ginger@example.org";

async fn start(backend: Backend, extra: &str) -> (TestApp, Peers) {
    let peers = Peers::start().await;
    let app = spawn_app_with(backend, &format!("{}{extra}", peers.yaml())).await;
    (app, peers)
}

pub(crate) fn invite_request(address: &str) -> types::StoreInviteRequest {
    types::StoreInviteRequest {
        medium: "email".into(),
        address: address.into(),
        room_id: "!room:example.org".into(),
        sender: "@inviter:example.org".into(),
        room_alias: None,
        room_avatar_url: None,
        room_join_rules: None,
        room_name: Some("Tea & <Cake>".into()),
        room_type: None,
        sender_display_name: Some("Inviter".into()),
        sender_avatar_url: None,
        guest_user_id: None,
        guest_access_token: None,
        org_matrix_web_client_location: None,
    }
}

/// `key` (unpadded standard or URL-safe base64) as a verifying key.
fn verifying_key(key: &str) -> VerifyingKey {
    let bytes = STANDARD_NO_PAD
        .decode(key)
        .or_else(|_| URL_SAFE_NO_PAD.decode(key))
        .unwrap();
    VerifyingKey::from_bytes(&bytes.try_into().unwrap()).unwrap()
}

/// Checks the ed25519 signature of `signed` by `entity` with `key_id` against `key`, over the
/// canonical JSON of the object without `signatures` (serde_json sorts keys, writes no spaces).
fn assert_signature(signed: &Value, entity: &str, key_id: &str, key: &VerifyingKey) {
    let signature = signed["signatures"][entity][key_id]
        .as_str()
        .unwrap_or_else(|| panic!("no {entity} {key_id} signature: {signed}"));
    let bytes: [u8; 64] = STANDARD_NO_PAD
        .decode(signature)
        .unwrap()
        .try_into()
        .unwrap();
    let mut covered = signed.as_object().unwrap().clone();
    covered.remove("signatures");
    covered.remove("unsigned");
    let canonical = serde_json::to_string(&Value::Object(covered)).unwrap();
    key.verify(canonical.as_bytes(), &Signature::from_bytes(&bytes))
        .unwrap_or_else(|e| panic!("the signature does not verify: {e}\n{canonical}"));
}

/// The server's signing key id and public key, from `/pubkey`.
async fn server_key(client: &Client, signed: &Value) -> (String, VerifyingKey) {
    let key_id = signed["signatures"][SERVER_NAME]
        .as_object()
        .and_then(|keys| keys.keys().next().cloned())
        .unwrap_or_else(|| panic!("no signature by {SERVER_NAME}: {signed}"));
    let public = client
        .get_pub_key_v2(&key_id)
        .await
        .unwrap()
        .into_inner()
        .public_key;
    (key_id, verifying_key(&public))
}

/// Validates [`INVITEE`] by its emailed link and binds it to the caller; returns the association.
async fn validate_and_bind(app: &TestApp, peers: &Peers, user: &Client, mxid: &str) -> Value {
    validate_and_bind_address(app, peers, user, INVITEE, mxid).await
}

/// Validates `address` by its emailed link and binds it to the caller; returns the association.
async fn validate_and_bind_address(
    app: &TestApp,
    peers: &Peers,
    user: &Client,
    address: &str,
    mxid: &str,
) -> Value {
    let sid = user
        .email_request_token_v2(&types::EmailTokenRequest {
            client_secret: "secret".into(),
            email: address.into(),
            send_attempt: "1".into(),
            next_link: None,
        })
        .await
        .expect("requestToken")
        .into_inner()
        .sid;
    assert_eq!(peers.open_emailed_link(app).await, 200);
    let bound = user
        .bind_v2(&types::BindRequest {
            sid,
            client_secret: "secret".into(),
            mxid: mxid.into(),
        })
        .await
        .expect("bind")
        .into_inner();
    serde_json::to_value(bound).unwrap()
}

/// The query parameter `name` of the sign link in the invite email.
fn from_sign_link(text: &str, name: &str) -> String {
    let start = text.find("sign-ed25519?").expect("a sign link");
    let query = text[start..].split_whitespace().next().unwrap();
    let query = query.split_once('?').unwrap().1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {query}"))
        .to_owned()
}

/// An operator's invite template gets every string field the homeserver sent to store-invite
/// (as sydent hands them all to its templates), HTML-escaped, and empty ones for the rest.
#[tokio::test]
async fn an_operators_invite_template_renders_every_field_synapse_sends() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("invite-template.eml");
    std::fs::write(
        &template,
        "Subject: %SENDER_NAME_OR_ID% invited you\nContent-Type: text/html; charset=UTF-8\n\n\
         <img src=\"%ROOM_AVATAR_URL%\"><img src=\"%SENDER_AVATAR_URL%\">\
         <p>%ROOM_NAME% %ROOM_ALIAS% %ROOM_JOIN_RULES% %ROOM_TYPE% %WEB_CLIENT_LOCATION%|\
         %GUEST_USER_ID%|</p>\n",
    )
    .unwrap();
    let peers = Peers::start().await;
    let yaml = peers.yaml().replace(
        "      connector: smtp\n",
        &format!(
            "      connector: smtp\n      generators:\n        template:\n          invite: '{}'\n",
            template.display()
        ),
    );
    let app = spawn_app_with(Backend::Sqlite, &yaml).await;
    let inviter = peers.register(&app, "inviter").await;
    // The fields Synapse 1.163 sends (handlers/identity.py, ask_id_server_for_third_party_invite).
    inviter
        .store_invite_v2(&types::StoreInviteRequest {
            room_alias: Some("#tea:example.org".into()),
            room_avatar_url: Some("mxc://example.org/room\"><script>".into()),
            room_join_rules: Some("public".into()),
            room_name: Some("Tea".into()),
            room_type: Some("m.space".into()),
            sender_avatar_url: Some("mxc://example.org/inviter".into()),
            org_matrix_web_client_location: Some("https://app.element.io".into()),
            ..invite_request(INVITEE)
        })
        .await
        .expect("store-invite");
    let mail = peers.smtp.wait_for_mail(WAIT).await.expect("invite email");
    let html = mail.parse().html.expect("an HTML body");
    assert!(
        html.contains(
            "<img src=\"mxc://example.org/room&quot;&gt;&lt;script&gt;\">\
             <img src=\"mxc://example.org/inviter\">\
             <p>Tea #tea:example.org public m.space https://app.element.io||</p>"
        ),
        "{html}"
    );
}

async fn the_invite_flow(backend: Backend) {
    let (app, peers) = start(backend, "").await;
    let inviter = peers.register(&app, "inviter").await;
    let stored = inviter
        .store_invite_v2(&invite_request("Ginger@Example.org"))
        .await
        .expect("store-invite")
        .into_inner();
    assert_eq!(stored.token.len(), 128);
    assert_eq!(stored.display_name, "gin...@exa...");
    assert_eq!(stored.public_keys.len(), 2);
    assert_eq!(stored.public_key, stored.public_keys[0].public_key);
    assert_eq!(
        stored.public_keys[0].key_validity_url,
        "http://localhost/_matrix/identity/v2/pubkey/isvalid"
    );
    assert_eq!(
        stored.public_keys[1].key_validity_url,
        "http://localhost/_matrix/identity/v2/pubkey/ephemeral/isvalid"
    );
    let ephemeral = stored.public_keys[1].public_key.clone();
    let valid = app
        .client
        .ephemeral_pub_key_is_valid_v2(&ephemeral)
        .await
        .unwrap()
        .into_inner();
    assert!(valid.valid);

    // The invite email: placeholders filled, HTML escaped, the sign link with the private key.
    let mail = peers.smtp.wait_for_mail(WAIT).await.expect("invite email");
    assert_eq!(mail.to, [INVITEE]);
    let parsed = mail.parse();
    let text = parsed.text.unwrap();
    let html = parsed.html.unwrap();
    assert!(
        text.contains("Inviter invited you to the Matrix room [Tea & <Cake>]"),
        "{text}"
    );
    assert!(html.contains("[Tea &amp; &lt;Cake&gt;]"), "{html}");
    assert!(!html.contains("<Cake>"), "{html}");
    assert!(!text.contains('%'), "an unreplaced placeholder: {text}");
    assert_eq!(from_sign_link(&text, "token"), stored.token);
    let private_key = from_sign_link(&text, "private_key");

    // sign-ed25519 with the emailed key: signed by the ephemeral key under the server name.
    let signed = app
        .client
        .sign_ed25519_v1(&types::SignEd25519Request {
            mxid: "@ginger:example.org".into(),
            token: stored.token.clone(),
            private_key: private_key.clone(),
        })
        .await
        .expect("sign-ed25519")
        .into_inner();
    assert_eq!(signed.sender, "@inviter:example.org");
    let signed = serde_json::to_value(signed).unwrap();
    assert_signature(
        &signed,
        SERVER_NAME,
        "ed25519:0",
        &verifying_key(&ephemeral),
    );

    // Bind: the association carries the signed invite, and the homeserver gets it.
    let ginger = peers.register(&app, "ginger").await;
    let association = validate_and_bind(&app, &peers, &ginger, "@ginger:example.org").await;
    let (key_id, key) = server_key(&app.client, &association).await;
    assert_signature(&association, SERVER_NAME, &key_id, &key);
    let invites = association["invites"]
        .as_array()
        .expect("the bind's invites");
    assert_eq!(invites.len(), 1);
    let calls = peers.homeserver.wait_for_onbind(1, WAIT).await;
    let body = &calls[0];
    assert_eq!(body["medium"], "email");
    assert_eq!(body["address"], INVITEE);
    assert_eq!(body["mxid"], "@ginger:example.org");
    let invite = &body["invites"][0];
    assert_eq!(invite, &invites[0]);
    assert_eq!(invite["room_id"], "!room:example.org");
    assert_eq!(invite["sender"], "@inviter:example.org");
    assert_eq!(invite["signed"]["mxid"], "@ginger:example.org");
    assert_eq!(invite["signed"]["token"], stored.token.as_str());
    assert_signature(&invite["signed"], SERVER_NAME, &key_id, &key);
    let onbind = peers
        .homeserver
        .requests()
        .into_iter()
        .find(|r| r.path == "/_matrix/federation/v1/3pid/onbind")
        .unwrap();
    assert_eq!(onbind.method, "POST");

    // Now bound: a second invite is refused with the user it is bound to.
    match inviter.store_invite_v2(&invite_request(INVITEE)).await {
        Err(Error::ErrorResponse(e)) => {
            assert_eq!(e.status().as_u16(), 400);
            let body = e.into_inner();
            assert_eq!(body.errcode, "M_THREEPID_IN_USE");
            assert_eq!(body.mxid.as_deref(), Some("@ginger:example.org"));
        }
        other => panic!("expected M_THREEPID_IN_USE, got {other:?}"),
    }
    // One delivery only.
    assert_no_delivery_repeated(&app, &peers, &inviter, 1).await;
}

/// An address that sorts after [`INVITEE`]: a delivery pass sends its invite after `INVITEE`'s.
const LATER: &str = "zoe@example.org";

/// Shows that none of the `delivered` onbind calls made so far is made again, by waiting for an
/// event instead of for time: invites [`LATER`], binds it (which wakes the delivery worker) and
/// waits for its onbind call. A pass delivers the due invites one at a time in address order, so
/// an invite still due (delivered, but not recorded as such) would reach the homeserver again in
/// that same pass, before `LATER`'s.
async fn assert_no_delivery_repeated(
    app: &TestApp,
    peers: &Peers,
    inviter: &Client,
    delivered: usize,
) {
    inviter
        .store_invite_v2(&invite_request(LATER))
        .await
        .expect("store-invite");
    peers.smtp.wait_for_mail(WAIT).await.expect("invite email");
    let zoe = peers.register(app, "zoe").await;
    validate_and_bind_address(app, peers, &zoe, LATER, "@zoe:example.org").await;
    let calls = peers.homeserver.wait_for_onbind(delivered + 1, WAIT).await;
    assert_eq!(calls.len(), delivered + 1, "{calls:#?}");
    assert_eq!(calls[delivered]["address"], LATER, "{calls:#?}");
}

#[tokio::test]
async fn an_invited_address_gets_its_invite_delivered_to_the_homeserver_once_bound() {
    the_invite_flow(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_invite_flow_works_on_postgresql() {
    if verity_tests::postgres_url().is_none() {
        return;
    }
    the_invite_flow(Backend::Postgres).await;
}

#[tokio::test]
async fn sign_ed25519_refuses_unknown_tokens_and_other_keys_and_v2_checks_the_sender() {
    let (app, peers) = start(Backend::Sqlite, "").await;
    let inviter = peers.register(&app, "inviter").await;
    let mut other = invite_request(INVITEE);
    other.sender = "@someone-else:example.org".into();
    match inviter.store_invite_v2(&other).await {
        Err(Error::ErrorResponse(e)) => {
            assert_eq!(e.status().as_u16(), 403);
            assert_eq!(e.into_inner().errcode, "M_UNAUTHORIZED");
        }
        other => panic!("expected 403, got {other:?}"),
    }
    let stored = inviter
        .store_invite_v2(&invite_request(INVITEE))
        .await
        .unwrap()
        .into_inner();
    for (token, key, status, errcode) in [
        (
            "unknown",
            STANDARD_NO_PAD.encode([1u8; 32]),
            404,
            "M_UNRECOGNIZED",
        ),
        (
            stored.token.as_str(),
            "not base64!".to_owned(),
            400,
            "M_INVALID_PARAM",
        ),
        (
            stored.token.as_str(),
            STANDARD_NO_PAD.encode([1u8; 32]),
            403,
            "M_FORBIDDEN",
        ),
    ] {
        let answer = app
            .client
            .sign_ed25519_v1(&types::SignEd25519Request {
                mxid: "@ginger:example.org".into(),
                token: token.into(),
                private_key: key,
            })
            .await;
        match answer {
            Err(Error::ErrorResponse(e)) => {
                assert_eq!(e.status().as_u16(), status, "{token}");
                assert_eq!(e.into_inner().errcode, errcode);
            }
            other => panic!("expected {errcode}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_restart_while_the_homeserver_fails_still_delivers_the_invite() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("verity.db");
    let keys = format!("key:\n  path: '{}'\n", data.path().join("keys").display());
    let peers = Peers::start().await;
    let yaml = format!("{}{keys}", peers.yaml());
    peers.homeserver.fail_onbind(usize::MAX, 500);
    let app = spawn_app_with(Backend::SqliteAt(db.clone()), &yaml).await;
    let inviter = peers.register(&app, "inviter").await;
    let stored = inviter
        .store_invite_v2(&invite_request(INVITEE))
        .await
        .unwrap()
        .into_inner();
    peers.smtp.wait_for_mail(WAIT).await.expect("invite email");
    let ginger = peers.register(&app, "ginger").await;
    validate_and_bind(&app, &peers, &ginger, "@ginger:example.org").await;
    // The first attempt fails; the server stops before the retry.
    peers.homeserver.wait_for_onbind(1, WAIT).await;
    app.stop().await.unwrap();
    peers.homeserver.fail_onbind(0, 500);

    let restarted = spawn_app_with(Backend::SqliteAt(db), &yaml).await;
    let calls = peers
        .homeserver
        .wait_for_onbind(2, Duration::from_secs(20))
        .await;
    let delivered = calls.last().unwrap();
    assert_eq!(
        delivered["invites"][0]["signed"]["token"],
        stored.token.as_str()
    );
    let (key_id, key) = server_key(&restarted.client, &delivered["invites"][0]["signed"]).await;
    assert_signature(
        &delivered["invites"][0]["signed"],
        SERVER_NAME,
        &key_id,
        &key,
    );
    // Delivered: no further calls.
    let inviter = peers.register(&restarted, "inviter").await;
    assert_no_delivery_repeated(&restarted, &peers, &inviter, calls.len()).await;
}
