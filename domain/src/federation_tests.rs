use serde_json::json;

use super::*;
use crate::keys::SigningKey;
use crate::signing::sign_json;

const SEED: &str = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";

fn key() -> SigningKey {
    SigningKey::from_base64_seed(KeyId::parse("ed25519:abc").unwrap(), SEED).unwrap()
}

fn origin() -> ServerName {
    ServerName::parse("hs.example.org").unwrap()
}

/// What Synapse sends an identity server: the header for `method uri` to `destination` with
/// `content`, the destination signed as `destination_is`.
fn signed_header(method: &str, uri: &str, destination: &str, content: Option<Value>) -> String {
    signed_header_as("destination_is", method, uri, destination, content)
}

/// The header with the destination signed under `destination_key`.
fn signed_header_as(
    destination_key: &str,
    method: &str,
    uri: &str,
    destination: &str,
    content: Option<Value>,
) -> String {
    let mut request = json!({"method": method, "uri": uri, "origin": "hs.example.org"});
    request[destination_key] = json!(destination);
    if let Some(content) = content {
        request["content"] = content;
    }
    sign_json(&mut request, "hs.example.org", &key()).unwrap();
    let sig = request["signatures"]["hs.example.org"]["ed25519:abc"]
        .as_str()
        .unwrap()
        .to_owned();
    format!(
        r#"X-Matrix origin=hs.example.org,destination="{destination}",key="ed25519:abc",sig="{sig}""#
    )
}

fn keys() -> Vec<(KeyId, PublicKey)> {
    vec![(KeyId::parse("ed25519:abc").unwrap(), key().public_key())]
}

#[test]
fn a_request_signed_by_the_origin_verifies() {
    let body = json!({"mxid": "@alice:hs.example.org", "threepid": {"medium": "email", "address": "a@b.c"}});
    let header = signed_header(
        "POST",
        "/_matrix/identity/v2/3pid/unbind",
        "id.example.org",
        Some(body.clone()),
    );
    let auth = XMatrixAuth::parse(&header).unwrap();
    assert_eq!(auth.origin, origin());
    auth.verify(
        "POST",
        "/_matrix/identity/v2/3pid/unbind",
        "id.example.org",
        Some(&body),
        &keys(),
    )
    .unwrap();
}

#[test]
fn a_request_signed_with_the_server_server_destination_key_verifies_too() {
    let body = json!({"mxid": "@alice:hs.example.org"});
    let header = signed_header_as(
        "destination",
        "POST",
        "/u",
        "id.example.org",
        Some(body.clone()),
    );
    let auth = XMatrixAuth::parse(&header).unwrap();
    auth.verify("POST", "/u", "id.example.org", Some(&body), &keys())
        .unwrap();
}

#[test]
fn a_signature_over_another_destination_name_is_refused_even_without_the_header_parameter() {
    let body = json!({"mxid": "@alice:hs.example.org"});
    let header = signed_header("POST", "/u", "other.example.org", Some(body.clone()));
    // An older homeserver's header: no destination parameter, so only the signature can tell.
    let header = header.replace(r#"destination="other.example.org","#, "");
    let auth = XMatrixAuth::parse(&header).unwrap();
    assert_eq!(auth.destination, None);
    assert!(matches!(
        auth.verify("POST", "/u", "id.example.org", Some(&body), &keys()),
        Err(FederationAuthError::Signature(_))
    ));
}

#[test]
fn a_destination_signed_under_any_other_key_is_refused() {
    let body = json!({"mxid": "@alice:hs.example.org"});
    let header = signed_header_as("dest", "POST", "/u", "id.example.org", Some(body.clone()));
    let auth = XMatrixAuth::parse(&header).unwrap();
    assert!(
        auth.verify("POST", "/u", "id.example.org", Some(&body), &keys())
            .is_err()
    );
}

#[test]
fn any_change_to_the_request_breaks_the_signature() {
    let body = json!({"mxid": "@alice:hs.example.org"});
    let auth = XMatrixAuth::parse(&signed_header(
        "POST",
        "/u",
        "id.example.org",
        Some(body.clone()),
    ))
    .unwrap();
    let other_body = json!({"mxid": "@mallory:hs.example.org"});
    assert!(
        auth.verify("POST", "/u", "id.example.org", Some(&other_body), &keys())
            .is_err()
    );
    assert!(
        auth.verify("POST", "/other", "id.example.org", Some(&body), &keys())
            .is_err()
    );
    assert!(
        auth.verify("PUT", "/u", "id.example.org", Some(&body), &keys())
            .is_err()
    );
    assert_eq!(
        auth.verify("POST", "/u", "evil.example.org", Some(&body), &keys()),
        Err(FederationAuthError::WrongDestination)
    );
}

#[test]
fn a_key_the_origin_does_not_publish_is_refused() {
    let auth = XMatrixAuth::parse(&signed_header("POST", "/u", "id.example.org", None)).unwrap();
    let other = vec![(KeyId::parse("ed25519:other").unwrap(), key().public_key())];
    assert!(matches!(
        auth.verify("POST", "/u", "id.example.org", None, &other),
        Err(FederationAuthError::UnknownKey(_))
    ));
}

#[test]
fn header_parameters_may_be_quoted_unquoted_in_any_case_and_order() {
    let auth =
        XMatrixAuth::parse(r#"X-Matrix Sig="c2ln",KEY=ed25519:abc, origin="hs.example.org:8448""#)
            .unwrap();
    assert_eq!(auth.origin.to_string(), "hs.example.org:8448");
    assert_eq!(auth.destination, None);
    assert_eq!(auth.signature, "c2ln");
}

#[test]
fn malformed_headers_are_refused() {
    for bad in [
        "Bearer abc",
        "X-Matrix",
        "X-Matrix key=ed25519:a,sig=x",
        "X-Matrix origin=hs/evil,key=ed25519:a,sig=x",
        "X-Matrix origin=hs,key=rsa:a,sig=x",
        "X-Matrix origin=hs,key=ed25519:a",
        r#"X-Matrix origin="hs,key=ed25519:a,sig=x"#,
        "X-Matrix origin",
    ] {
        assert!(
            matches!(
                XMatrixAuth::parse(bad),
                Err(FederationAuthError::Malformed(_))
            ),
            "{bad}"
        );
    }
}

fn key_document(valid_until: u64) -> Value {
    let mut doc = json!({
        "server_name": "hs.example.org",
        "valid_until_ts": valid_until,
        "verify_keys": {"ed25519:abc": {"key": key().public_key().to_base64()}},
        "old_verify_keys": {},
    });
    sign_json(&mut doc, "hs.example.org", &key()).unwrap();
    doc
}

#[test]
fn a_self_signed_current_key_document_yields_its_keys() {
    let keys = verified_server_keys(
        &key_document(2_000),
        &origin(),
        Timestamp::from_millis(1_000),
    )
    .unwrap();
    assert_eq!(keys, self::keys());
}

#[test]
fn expired_foreign_or_unsigned_key_documents_are_refused() {
    let now = Timestamp::from_millis(1_000);
    assert!(
        verified_server_keys(&key_document(1_000), &origin(), now).is_err(),
        "expired"
    );
    let other = ServerName::parse("other.example.org").unwrap();
    assert!(
        verified_server_keys(&key_document(2_000), &other, now).is_err(),
        "another server"
    );
    let mut unsigned = key_document(2_000);
    unsigned["signatures"] = json!({});
    assert!(
        verified_server_keys(&unsigned, &origin(), now).is_err(),
        "unsigned"
    );
    let mut tampered = key_document(2_000);
    tampered["valid_until_ts"] = json!(9_999_999);
    assert!(
        verified_server_keys(&tampered, &origin(), now).is_err(),
        "tampered"
    );
    let mut text_time = key_document(2_000);
    text_time["valid_until_ts"] = json!("2000");
    assert!(
        verified_server_keys(&text_time, &origin(), now).is_err(),
        "valid_until_ts as text"
    );
}
