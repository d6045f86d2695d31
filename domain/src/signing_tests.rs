use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;

/// The appendix's test key: this seed, entity `domain`, key `ed25519:1`.
const SPEC_SEED: &str = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";
const SIGNATURE_OF_EMPTY: &str =
    "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ";
const SIGNATURE_OF_ONE_TWO: &str =
    "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw";

fn spec_key() -> SigningKey {
    SigningKey::from_base64_seed(KeyId::parse("ed25519:1").unwrap(), SPEC_SEED).unwrap()
}

fn signed(mut value: Value) -> Value {
    sign_json(&mut value, "domain", &spec_key()).unwrap();
    value
}

fn verify(value: &Value) -> Result<(), VerificationError> {
    let key = spec_key();
    verify_json(value, "domain", key.id(), &key.public_key())
}

#[test]
fn signing_the_empty_object_gives_the_spec_signature() {
    assert_eq!(
        signed(json!({})),
        json!({"signatures": {"domain": {"ed25519:1": SIGNATURE_OF_EMPTY}}})
    );
}

#[test]
fn signing_one_two_gives_the_spec_signature() {
    assert_eq!(
        signed(json!({"one": 1, "two": "Two"})),
        json!({
            "one": 1,
            "two": "Two",
            "signatures": {"domain": {"ed25519:1": SIGNATURE_OF_ONE_TWO}}
        })
    );
}

#[test]
fn signatures_and_unsigned_are_not_covered_and_are_kept() {
    let value = signed(json!({
        "one": 1,
        "two": "Two",
        "unsigned": {"age_ts": 922_834_800_000_i64},
        "signatures": {
            "other.example": {"ed25519:x": "c2ln"},
            "domain": {"ed25519:0": "b2xk"}
        }
    }));
    assert_eq!(
        value,
        json!({
            "one": 1,
            "two": "Two",
            "unsigned": {"age_ts": 922_834_800_000_i64},
            "signatures": {
                "other.example": {"ed25519:x": "c2ln"},
                "domain": {"ed25519:0": "b2xk", "ed25519:1": SIGNATURE_OF_ONE_TWO}
            }
        })
    );
    assert_eq!(verify(&value), Ok(()));
}

#[test]
fn a_signed_object_verifies_and_any_tampering_fails() {
    let value = signed(json!({"address": "alice@example.org", "medium": "email", "ts": 1}));
    assert_eq!(verify(&value), Ok(()));

    let mut changed = value.clone();
    changed["ts"] = json!(2);
    assert_eq!(verify(&changed), Err(VerificationError::Mismatch));

    let mut added = value.clone();
    added["mxid"] = json!("@mallory:example.org");
    assert_eq!(verify(&added), Err(VerificationError::Mismatch));

    let mut flipped = value.clone();
    flipped["signatures"]["domain"]["ed25519:1"] = json!(SIGNATURE_OF_EMPTY);
    assert_eq!(verify(&flipped), Err(VerificationError::Mismatch));

    let mut garbage = value.clone();
    garbage["signatures"]["domain"]["ed25519:1"] = json!("not base64!");
    assert_eq!(verify(&garbage), Err(VerificationError::Mismatch));

    // Unsigned data may be added in transit.
    let mut annotated = value;
    annotated["unsigned"] = json!({"note": "added later"});
    assert_eq!(verify(&annotated), Ok(()));
}

#[test]
fn another_key_or_entity_does_not_verify() {
    let value = signed(json!({"a": 1}));
    let other = SigningKey::from_seed(KeyId::parse("ed25519:1").unwrap(), &[9; 32]);
    assert_eq!(
        verify_json(&value, "domain", other.id(), &other.public_key()),
        Err(VerificationError::Mismatch)
    );
    assert!(matches!(
        verify_json(
            &value,
            "elsewhere",
            spec_key().id(),
            &spec_key().public_key()
        ),
        Err(VerificationError::Missing { .. })
    ));
    assert!(matches!(
        verify_json(
            &value,
            "domain",
            &KeyId::parse("ed25519:2").unwrap(),
            &spec_key().public_key()
        ),
        Err(VerificationError::Missing { .. })
    ));
}

#[test]
fn what_cannot_be_signed_is_refused_and_left_unchanged() {
    let key = spec_key();
    let cases = [
        (json!([1]), SigningError::NotAnObject),
        (json!("text"), SigningError::NotAnObject),
        (json!({"signatures": []}), SigningError::MalformedSignatures),
        (
            json!({"signatures": {"domain": "x"}}),
            SigningError::MalformedSignatures,
        ),
        (
            json!({"ratio": 0.5}),
            SigningError::Canonical(CanonicalJsonError::NotAnInteger("0.5".into())),
        ),
        (
            json!({"n": 9_007_199_254_740_992_i64}),
            SigningError::Canonical(CanonicalJsonError::OutOfRange("9007199254740992".into())),
        ),
    ];
    for (value, expected) in cases {
        let mut attempt = value.clone();
        assert_eq!(
            sign_json(&mut attempt, "domain", &key),
            Err(expected),
            "{value}"
        );
        assert_eq!(attempt, value);
    }
}

#[test]
fn a_float_in_unsigned_does_not_prevent_signing() {
    let value = signed(json!({"a": 1, "unsigned": {"ratio": 0.5}}));
    assert_eq!(verify(&value), Ok(()));
}
