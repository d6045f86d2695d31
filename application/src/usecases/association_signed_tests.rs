//! Unbinds signed by the user's homeserver (`Authorization: X-Matrix`, MSC1915).
use verity_domain::{KeyId, PublicKey, SigningKey, XMatrixAuth, sign_json};

use super::*;
use crate::ports::driven::{HomeserverError, MockHomeserverClient};
use crate::ports::driving::SignedRequest;

/// What the mocked homeserver answers for its keys.
type KeysAnswer = Result<Vec<(KeyId, PublicKey)>, HomeserverError>;

const URI: &str = "/_matrix/identity/v2/3pid/unbind";

fn hs_key() -> SigningKey {
    SigningKey::from_seed(KeyId::parse("ed25519:hs").unwrap(), &[9u8; 32])
}

fn hs_keys() -> Vec<(KeyId, PublicKey)> {
    vec![(hs_key().id().clone(), hs_key().public_key())]
}

/// What Synapse sends: the body, signed by `origin` for `destination`.
pub(super) fn request(origin: &str, destination: &str, mxid: &str) -> SignedRequest {
    let content =
        json!({"mxid": mxid, "threepid": {"medium": "email", "address": "alice@example.org"}});
    let mut signed = json!({
        "method": "POST", "uri": URI, "origin": origin, "destination_is": destination,
        "content": content,
    });
    sign_json(&mut signed, origin, &hs_key()).unwrap();
    let sig = signed["signatures"][origin]["ed25519:hs"].as_str().unwrap();
    let header = format!(
        r#"X-Matrix origin={origin},destination="{destination}",key="ed25519:hs",sig="{sig}""#
    );
    SignedRequest {
        auth: XMatrixAuth::parse(&header).unwrap(),
        method: "POST".into(),
        uri: URI.into(),
        content: JsonObject::from_value(content).unwrap(),
    }
}

fn homeserver(answer: fn() -> KeysAnswer) -> Arc<MockHomeserverClient> {
    let mut homeserver = MockHomeserverClient::new();
    homeserver
        .expect_server_keys()
        .returning(move |_, _| answer());
    Arc::new(homeserver)
}

/// The use case with alice@example.org bound to @alice:example.org, accepting homeserver-signed
/// unbinds checked against `homeserver`'s keys; `refreshed` is what the table must be told.
fn service(homeserver: Arc<MockHomeserverClient>, refreshed: &[&str]) -> AssociationService {
    super::service(
        MockSessionStore::new(),
        Some(bindings(Some("@alice:example.org"))),
        refreshes(refreshed),
        settings(),
    )
    .with_homeserver_signatures(
        homeserver,
        vec!["id.example.org".into(), "localhost:8090".into()],
    )
}

#[tokio::test]
async fn an_unbind_signed_by_the_users_homeserver_removes_the_binding() {
    // The binding is removed, so its 3PID is refreshed.
    let service = service(homeserver(|| Ok(hs_keys())), &["alice@example.org"]);
    let proof = UnbindProof::HomeserverSignature(request(
        "example.org",
        "localhost:8090",
        "@alice:example.org",
    ));
    service.unbind(unbind(proof)).await.unwrap();
}

#[tokio::test]
async fn another_homeserver_cannot_unbind_the_user() {
    // The table is not refreshed: nothing was removed.
    let service = service(homeserver(|| Ok(hs_keys())), &[]);
    let proof = UnbindProof::HomeserverSignature(request(
        "evil.example.net",
        "id.example.org",
        "@alice:example.org",
    ));
    let err = service.unbind(unbind(proof)).await.unwrap_err();
    assert!(
        matches!(err, AssociationError::SignatureRejected(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_request_addressed_to_another_identity_server_is_refused() {
    let service = service(homeserver(|| Ok(hs_keys())), &[]);
    let proof =
        UnbindProof::HomeserverSignature(request("example.org", "vector.im", "@alice:example.org"));
    let err = service.unbind(unbind(proof)).await.unwrap_err();
    assert!(
        matches!(err, AssociationError::SignatureRejected(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_tampered_body_or_an_unknown_key_is_refused() {
    // Refused both times: the table is not refreshed.
    let service = service(homeserver(|| Ok(hs_keys())), &[]);
    let mut tampered = request("example.org", "id.example.org", "@alice:example.org");
    tampered.content = tampered
        .content
        .with_member("mxid", json!("@alice:example.org "));
    let err = service
        .unbind(unbind(UnbindProof::HomeserverSignature(tampered)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AssociationError::SignatureRejected(_)),
        "{err:?}"
    );

    let other_key = service_with_keys();
    let proof = UnbindProof::HomeserverSignature(request(
        "example.org",
        "id.example.org",
        "@alice:example.org",
    ));
    let err = other_key.unbind(unbind(proof)).await.unwrap_err();
    assert!(
        matches!(err, AssociationError::SignatureRejected(_)),
        "{err:?}"
    );
}

fn service_with_keys() -> AssociationService {
    service(
        homeserver(|| {
            let other = SigningKey::from_seed(KeyId::parse("ed25519:hs").unwrap(), &[1u8; 32]);
            Ok(vec![(other.id().clone(), other.public_key())])
        }),
        &[],
    )
}

#[tokio::test]
async fn unreachable_origin_keys_are_a_gateway_error_and_untrusted_ones_a_refusal() {
    let proof = || {
        UnbindProof::HomeserverSignature(request(
            "example.org",
            "id.example.org",
            "@alice:example.org",
        ))
    };
    let down = service(
        homeserver(|| Err(HomeserverError::Unreachable("down".into()))),
        &[],
    );
    let err = down.unbind(unbind(proof())).await.unwrap_err();
    assert!(
        matches!(err, AssociationError::HomeserverUnavailable),
        "{err:?}"
    );
    let forged = service(
        homeserver(|| Err(HomeserverError::InvalidResponse("not self-signed".into()))),
        &[],
    );
    let err = forged.unbind(unbind(proof())).await.unwrap_err();
    assert!(
        matches!(err, AssociationError::SignatureRejected(_)),
        "{err:?}"
    );
}
