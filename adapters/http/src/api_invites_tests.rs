//! The invite endpoints in process, with the use cases mocked: parsing at the edge, the v2 token,
//! the response shape and the error mapping.
use std::sync::Arc;

use poem::http::StatusCode;
use poem::test::TestClient;
use serde_json::{Value, json};
use verity_application::ports::driving::{InviteError, InviteStored, MockAccounts, MockInvites};
use verity_domain::{InviteToken, KeyId, SigningKey, UserId};

use crate::test_support::{self, mocked_deps};
use crate::{AppEndpoint, HttpDeps};

fn client(invites: MockInvites) -> TestClient<AppEndpoint> {
    let mut accounts = MockAccounts::new();
    accounts
        .expect_authenticate()
        .returning(|token, _| match token.as_deref() {
            Some("good") => Ok(UserId::parse("@inviter:example.org").unwrap()),
            _ => Err(verity_application::ports::driving::AuthError::Unauthorized),
        });
    let deps = HttpDeps {
        accounts: Arc::new(accounts),
        invites: Arc::new(invites),
        ..mocked_deps()
    };
    test_support::client(&deps, true)
}

fn request() -> Value {
    json!({
        "medium": "email",
        "address": "Ginger@Example.com",
        "room_id": "$wrong-sigil:example.org",
        "sender": "@inviter:example.org",
        "room_name": "Tea",
        "guest_access_token": "ignored",
    })
}

async fn body(resp: poem::test::TestResponse) -> Value {
    resp.0.into_body().into_json().await.unwrap()
}

#[tokio::test]
async fn store_invite_answers_the_token_both_keys_and_the_legacy_public_key() {
    let server = SigningKey::from_seed(KeyId::ephemeral(), &[1; 32]).public_key();
    let ephemeral = SigningKey::from_seed(KeyId::ephemeral(), &[2; 32]).public_key();
    let mut invites = MockInvites::new();
    invites
        .expect_store_invite()
        .withf(|r| {
            r.threepid.address() == "ginger@example.com"
                && r.room_id == "$wrong-sigil:example.org"
                && r.requester.as_ref().map(UserId::as_str) == Some("@inviter:example.org")
                && r.details.room_name.as_deref() == Some("Tea")
        })
        .times(1)
        .returning(move |_| {
            Ok(InviteStored {
                token: InviteToken::parse("tok").unwrap(),
                display_name: "gin...@exa...".into(),
                server_key: server,
                server_key_validity_url: "https://id/v2/pubkey/isvalid".into(),
                ephemeral_key: ephemeral,
                ephemeral_key_validity_url: "https://id/v2/pubkey/ephemeral/isvalid".into(),
            })
        });
    let resp = client(invites)
        .post("/_matrix/identity/v2/store-invite")
        .header("authorization", "Bearer good")
        .body_json(&request())
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(
        body(resp).await,
        json!({
            "token": "tok",
            "public_keys": [
                {"public_key": server.to_base64(), "key_validity_url": "https://id/v2/pubkey/isvalid"},
                {"public_key": ephemeral.to_base64(), "key_validity_url": "https://id/v2/pubkey/ephemeral/isvalid"},
            ],
            "public_key": server.to_base64(),
            "display_name": "gin...@exa...",
        })
    );
}

#[tokio::test]
async fn store_invite_refuses_bad_input_before_the_use_case() {
    let mut invites = MockInvites::new();
    invites.expect_store_invite().never();
    let cli = client(invites);
    let unauthenticated = cli
        .post("/_matrix/identity/v2/store-invite")
        .body_json(&request())
        .send()
        .await;
    unauthenticated.assert_status(StatusCode::UNAUTHORIZED);
    for (change, status, errcode) in [
        (
            json!({"medium": "msisdn", "address": "447700900000"}),
            400,
            "M_UNRECOGNIZED",
        ),
        (json!({"address": "not an email"}), 400, "M_INVALID_EMAIL"),
        (json!({"sender": "inviter"}), 400, "M_INVALID_PARAM"),
        (json!({"room_id": ""}), 400, "M_INVALID_PARAM"),
        (
            json!({"room_name": "x".repeat(3000)}),
            400,
            "M_INVALID_PARAM",
        ),
        // Control and direction-override characters would reach the mail's text part.
        (
            json!({"sender_display_name": "Bob\u{1b}[2J"}),
            400,
            "M_INVALID_PARAM",
        ),
        (json!({"room_name": "Tea\u{7}"}), 400, "M_INVALID_PARAM"),
        (json!({"room_name": "one\ntwo"}), 400, "M_INVALID_PARAM"),
        (
            json!({"sender_display_name": "\u{202e}evil"}),
            400,
            "M_INVALID_PARAM",
        ),
        (json!({"room_id": "!a\u{85}b:x"}), 400, "M_INVALID_PARAM"),
    ] {
        let mut body_json = request();
        for (key, value) in change.as_object().unwrap() {
            body_json[key] = value.clone();
        }
        let resp = cli
            .post("/_matrix/identity/v2/store-invite")
            .header("authorization", "Bearer good")
            .body_json(&body_json)
            .send()
            .await;
        resp.assert_status(StatusCode::from_u16(status).unwrap());
        assert_eq!(body(resp).await["errcode"], errcode, "{change}");
    }
}

#[tokio::test]
async fn a_bound_address_is_400_threepid_in_use_with_its_mxid_and_a_foreign_sender_403() {
    let mut invites = MockInvites::new();
    invites.expect_store_invite().times(1).returning(|_| {
        Err(InviteError::AlreadyBound(
            UserId::parse("@ginger:example.com").unwrap(),
        ))
    });
    invites
        .expect_store_invite()
        .times(1)
        .returning(|_| Err(InviteError::NotTheSender));
    let cli = client(invites);
    let resp = cli
        .post("/_matrix/identity/api/v1/store-invite")
        .body_json(&request())
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    let error = body(resp).await;
    assert_eq!(error["errcode"], "M_THREEPID_IN_USE");
    assert_eq!(error["mxid"], "@ginger:example.com");
    let resp = cli
        .post("/_matrix/identity/api/v1/store-invite")
        .body_json(&request())
        .send()
        .await;
    resp.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(body(resp).await["errcode"], "M_UNAUTHORIZED");
}

#[tokio::test]
async fn a_blocklisted_invite_is_403_m_unauthorized_invite_not_allowed_as_sydent() {
    let mut invites = MockInvites::new();
    invites
        .expect_store_invite()
        .times(1)
        .returning(|_| Err(InviteError::NotAllowed));
    let resp = client(invites)
        .post("/_matrix/identity/api/v1/store-invite")
        .body_json(&request())
        .send()
        .await;
    resp.assert_status(StatusCode::FORBIDDEN);
    let error = body(resp).await;
    assert_eq!(error["errcode"], "M_UNAUTHORIZED");
    assert_eq!(error["error"], "Invite not allowed");
}

#[tokio::test]
async fn sign_ed25519_maps_unknown_tokens_bad_keys_and_other_keys() {
    let mut invites = MockInvites::new();
    for error in [
        InviteError::UnknownToken,
        InviteError::InvalidPrivateKey,
        InviteError::WrongPrivateKey,
    ] {
        let error = std::sync::Mutex::new(Some(error));
        invites
            .expect_sign_ed25519()
            .times(1)
            .returning(move |_| Err(error.lock().unwrap().take().unwrap()));
    }
    let cli = client(invites);
    for (status, errcode) in [
        (404, "M_UNRECOGNIZED"),
        (400, "M_INVALID_PARAM"),
        (403, "M_FORBIDDEN"),
    ] {
        let resp = cli
            .post("/_matrix/identity/api/v1/sign-ed25519")
            .body_json(&json!({"mxid": "@g:example.com", "token": "tok", "private_key": "k"}))
            .send()
            .await;
        resp.assert_status(StatusCode::from_u16(status).unwrap());
        assert_eq!(body(resp).await["errcode"], errcode);
    }
}

#[tokio::test]
async fn a_form_encoded_v1_store_invite_is_read_as_json_as_mxisd_accepted() {
    let mut invites = MockInvites::new();
    invites
        .expect_store_invite()
        .withf(|r| {
            r.requester.is_none()
                && r.threepid.address() == "ginger@example.com"
                && r.room_id == "!room:example.org"
                && r.sender.as_str() == "@inviter:example.org"
        })
        .times(1)
        .returning(|_| Err(InviteError::UnsupportedMedium(verity_domain::Medium::Email)));
    let resp = client(invites)
        .post("/_matrix/identity/api/v1/store-invite")
        .content_type("application/x-www-form-urlencoded")
        .body(
            "medium=email&address=ginger%40example.com&room_id=%21room%3Aexample.org\
             &sender=%40inviter%3Aexample.org&guest_user_id=%40g%3Aexample.org",
        )
        .send()
        .await;
    // The mocked refusal proves the parsed request reached the use case.
    resp.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(body(resp).await["errcode"], "M_UNRECOGNIZED");
}
