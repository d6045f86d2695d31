use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;

fn key() -> SigningKey {
    SigningKey::from_seed(KeyId::parse("ed25519:a").unwrap(), &[4; 32])
}

#[test]
fn an_object_is_kept_as_the_exact_text_it_was_read_from() {
    let text = "{ \"b\": 1,\n \"a\": [true] }";
    let object = JsonObject::parse(text).unwrap();
    assert_eq!(object.as_str(), text);
    assert_eq!(object.keys(), ["a", "b"]);
    assert_eq!(object.to_value(), json!({"a": [true], "b": 1}));
    for bad in ["[]", "\"x\"", "{", ""] {
        assert!(JsonObject::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_signed_object_says_what_is_signed_by_whom_with_which_key() {
    let object = JsonObject::parse(r#"{"mxid":"@a:b.c","extra":{"n":1},"unsigned":{"x":1}}"#);
    let signed = SignedJson::sign(&object.unwrap(), "id.example.org", &key()).unwrap();
    assert_eq!(signed.signed_keys(), ["extra", "mxid"]);
    assert_eq!(
        signed.signatures(),
        [SignatureRef {
            server: "id.example.org".to_owned(),
            key_id: "ed25519:a".to_owned(),
        }]
    );
    signed
        .verify("id.example.org", key().id(), &key().public_key())
        .unwrap();
    // Read back from its text, it is the same object, byte for byte.
    assert_eq!(SignedJson::parse(signed.as_str()).unwrap(), signed);
}

#[test]
fn countersigning_keeps_the_signatures_already_there() {
    let first =
        SignedJson::parse(r#"{"a":1,"signatures":{"old.example":{"ed25519:0":"c2ln"}}}"#).unwrap();
    let both = SignedJson::sign(&first.to_object(), "new.example", &key()).unwrap();
    assert_eq!(both.signers(), ["new.example", "old.example"]);
    assert!(both.is_signed_by("old.example"));
    assert_eq!(
        both.to_value()["signatures"]["old.example"]["ed25519:0"],
        "c2ln"
    );
    both.verify("new.example", key().id(), &key().public_key())
        .unwrap();
}

#[test]
fn a_text_without_signatures_is_not_signed_json() {
    for bad in [
        "{}",
        r#"{"a":1}"#,
        r#"{"a":1,"signatures":{}}"#,
        r#"{"a":1,"signatures":"x"}"#,
        "[]",
        "{",
    ] {
        assert!(SignedJson::parse(bad).is_err(), "{bad}");
    }
}
