//! The key endpoints in process, with the keys use case mocked: routing (v2 and v1), parsing of
//! the key id and the public key, and the `M_NOT_FOUND` answer.
use std::sync::Arc;

use poem::http::StatusCode;
use poem::test::TestClient;
use serde_json::{Value, json};
use verity_application::ports::driving::{MockInvites, MockKeys};
use verity_domain::{KeyId, PublicKey, SigningKey};

use crate::test_support::{self, mocked_deps};
use crate::{AppEndpoint, HttpDeps};

const PREFIXES: [&str; 2] = ["/_matrix/identity/v2", "/_matrix/identity/api/v1"];

fn client_with(keys: MockKeys, v1: bool) -> TestClient<AppEndpoint> {
    client_with_invites(keys, MockInvites::new(), v1)
}

fn client_with_invites(keys: MockKeys, invites: MockInvites, v1: bool) -> TestClient<AppEndpoint> {
    let deps = HttpDeps {
        keys: Arc::new(keys),
        invites: Arc::new(invites),
        ..mocked_deps()
    };
    test_support::client(&deps, v1)
}

fn client(keys: MockKeys) -> TestClient<AppEndpoint> {
    client_with(keys, true)
}

/// A public key whose standard base64 has a `+` (to check query decoding).
fn key_with_plus() -> PublicKey {
    (0u8..=255)
        .map(|i| SigningKey::from_seed(KeyId::parse("ed25519:0").unwrap(), &[i; 32]).public_key())
        .find(|k| k.to_base64().contains('+'))
        .unwrap()
}

async fn body(resp: poem::test::TestResponse) -> Value {
    resp.0.into_body().into_json().await.unwrap()
}

#[tokio::test]
async fn a_known_key_id_answers_its_public_key_on_v2_and_v1() {
    let key = key_with_plus();
    let mut keys = MockKeys::new();
    keys.expect_public_key()
        .withf(|id| id.as_str() == "ed25519:0")
        .times(4)
        .returning(move |_| Some(key));
    let cli = client(keys);
    for prefix in PREFIXES {
        // Clients send the colon as is or percent-encoded.
        for path in ["ed25519:0", "ed25519%3A0"] {
            let resp = cli.get(format!("{prefix}/pubkey/{path}")).send().await;
            resp.assert_status_is_ok();
            assert_eq!(body(resp).await, json!({"public_key": key.to_base64()}));
        }
    }
}

#[tokio::test]
async fn an_unknown_or_malformed_key_id_is_404_m_not_found() {
    let mut keys = MockKeys::new();
    keys.expect_public_key()
        .withf(|id| id.as_str() == "ed25519:nope")
        .times(2)
        .returning(|_| None);
    let cli = client(keys);
    for prefix in PREFIXES {
        for path in ["ed25519:nope", "curve25519:0", "ed25519:a.b", "nope"] {
            let resp = cli.get(format!("{prefix}/pubkey/{path}")).send().await;
            resp.assert_status(StatusCode::NOT_FOUND);
            assert_eq!(body(resp).await["errcode"], "M_NOT_FOUND", "{path}");
        }
    }
}

#[tokio::test]
async fn isvalid_passes_the_exact_string_and_answers_valid() {
    let key = key_with_plus();
    let standard = key.to_base64();
    let mut keys = MockKeys::new();
    let expected = standard.clone();
    keys.expect_is_valid()
        .returning(move |presented| presented == expected);
    let cli = client(keys);
    let encoded = standard.replace('+', "%2B").replace('/', "%2F");
    for prefix in PREFIXES {
        for (query, valid) in [
            (encoded.clone(), true),
            // A `+` sent unencoded arrives as a space; it is put back, as ma1sd does.
            (standard.clone(), true),
            ("AAAA".to_owned(), false),
        ] {
            let resp = cli
                .get(format!("{prefix}/pubkey/isvalid?public_key={query}"))
                .send()
                .await;
            resp.assert_status_is_ok();
            assert_eq!(body(resp).await, json!({"valid": valid}), "{query}");
        }
    }
}

#[tokio::test]
async fn ephemeral_isvalid_asks_about_ephemeral_keys() {
    let mut keys = MockKeys::new();
    keys.expect_is_valid().never();
    keys.expect_is_valid_ephemeral()
        .withf(|presented| presented == "eph_key-1")
        .times(2)
        .returning(|_| true);
    let cli = client(keys);
    for prefix in PREFIXES {
        let resp = cli
            .get(format!(
                "{prefix}/pubkey/ephemeral/isvalid?public_key=eph_key-1"
            ))
            .send()
            .await;
        resp.assert_status_is_ok();
        assert_eq!(body(resp).await, json!({"valid": true}));
    }
}

#[tokio::test]
async fn ephemeral_isvalid_also_asks_the_pending_invites_with_the_plus_restored() {
    let key = key_with_plus().to_base64();
    let mut keys = MockKeys::new();
    keys.expect_is_valid_ephemeral().returning(|_| false);
    let mut invites = MockInvites::new();
    let expected = key.clone();
    invites
        .expect_is_valid_ephemeral()
        .returning(move |presented| Ok(presented == expected));
    let cli = client_with_invites(keys, invites, true);
    for prefix in PREFIXES {
        for (query, valid) in [
            (key.replace('+', "%2B"), true),
            (key.clone(), true),
            ("other".into(), false),
        ] {
            let resp = cli
                .get(format!(
                    "{prefix}/pubkey/ephemeral/isvalid?public_key={query}"
                ))
                .send()
                .await;
            resp.assert_status_is_ok();
            assert_eq!(body(resp).await, json!({"valid": valid}), "{query}");
        }
    }
}

#[tokio::test]
async fn isvalid_without_a_public_key_is_400_m_missing_params() {
    let cli = client(MockKeys::new());
    for path in ["/pubkey/isvalid", "/pubkey/ephemeral/isvalid"] {
        let resp = cli.get(format!("{}{path}", PREFIXES[0])).send().await;
        resp.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(body(resp).await["errcode"], "M_MISSING_PARAMS", "{path}");
    }
}

#[tokio::test]
async fn the_v1_key_endpoints_go_away_with_matrix_v1() {
    let mut keys = MockKeys::new();
    keys.expect_public_key().never();
    let cli = client_with(keys, false);
    let resp = cli
        .get("/_matrix/identity/api/v1/pubkey/ed25519:0")
        .send()
        .await;
    resp.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(body(resp).await["errcode"], "M_UNRECOGNIZED");
}
