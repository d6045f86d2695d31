use pretty_assertions::assert_eq;

use super::*;

/// The appendix's test seed (note its non-zero trailing bits).
const SPEC_SEED: &str = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";
const SPEC_PUBLIC_KEY: &str = "XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI";

fn spec_key() -> SigningKey {
    SigningKey::from_base64_seed(KeyId::parse("ed25519:1").unwrap(), SPEC_SEED).unwrap()
}

#[test]
fn the_spec_seed_derives_the_spec_public_key() {
    assert_eq!(spec_key().public_key().to_base64(), SPEC_PUBLIC_KEY);
}

#[test]
fn seeds_decode_from_any_base64_spelling() {
    let expected = spec_key().public_key();
    let seed = spec_key().seed_base64();
    let url_safe = seed.replace('+', "-").replace('/', "_");
    for spelling in [
        seed.clone(),
        format!("{seed}="),
        url_safe,
        format!(" {seed}\n"),
    ] {
        let key =
            SigningKey::from_base64_seed(KeyId::parse("ed25519:0").unwrap(), &spelling).unwrap();
        assert_eq!(key.public_key(), expected, "{spelling:?}");
    }
    for bad in ["", "c2hvcnQ", "not base64!", &"A".repeat(44)] {
        assert_eq!(
            SigningKey::from_base64_seed(KeyId::parse("ed25519:0").unwrap(), bad).unwrap_err(),
            InvalidKey::Encoding,
            "{bad:?}"
        );
    }
}

#[test]
fn the_seed_round_trips_through_its_encoding() {
    let key = SigningKey::from_seed(KeyId::parse("ed25519:a").unwrap(), &[7; 32]);
    let again = SigningKey::from_base64_seed(key.id().clone(), &key.seed_base64()).unwrap();
    assert_eq!(again.public_key(), key.public_key());
    assert_eq!(key.seed_base64(), encode_base64(&[7; 32]));
}

#[test]
fn the_seed_never_shows_in_debug_output() {
    let key = spec_key();
    let shown = format!("{key:?}");
    assert!(!shown.contains(&key.seed_base64()), "{shown}");
    assert!(
        shown.contains("<redacted>") && shown.contains("ed25519:1"),
        "{shown}"
    );
}

#[test]
fn key_ids_are_ed25519_with_an_identifier_of_the_allowed_characters() {
    for good in [
        "ed25519:0",
        "ed25519:abc_XYZ_09",
        "ed25519:AAAAOx-q1Zk",
        "ed25519:a",
    ] {
        assert_eq!(KeyId::parse(good).unwrap().as_str(), good);
    }
    assert_eq!(KeyId::parse("ed25519:0").unwrap().identifier(), "0");
    for bad in [
        "",
        "ed25519:",
        "ed25519",
        "curve25519:0",
        "ed25519:a/b",
        "ed25519:..",
        "ed25519:a.b",
        "ed25519:a b",
        "ed25519:é",
        &format!("ed25519:{}", "a".repeat(256)),
    ] {
        assert!(KeyId::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        KeyId::from_identifier("0").unwrap(),
        KeyId::parse("ed25519:0").unwrap()
    );
}

#[test]
fn generated_ids_follow_mxisd_format_within_the_spec_grammar() {
    let public_key = spec_key().public_key();
    // 2026-01-01T00:00:00Z: 220_928_400_000 ms after mxisd's epoch.
    let id = KeyId::generate(Timestamp::from_millis(1_767_225_600_000), &public_key);
    let identifier = id.identifier();
    assert_eq!(identifier.len(), 12, "{identifier}");
    assert!(identifier.starts_with("AAAAM"), "{identifier}");
    assert!(
        identifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "{identifier}"
    );
    assert_eq!(KeyId::parse(id.as_str()).unwrap(), id);
    // A later time gives another identifier; the same inputs give the same one.
    let later = KeyId::generate(Timestamp::from_millis(1_767_225_600_001), &public_key);
    assert_ne!(later, id);
    assert_eq!(
        KeyId::generate(Timestamp::from_millis(1_767_225_600_000), &public_key),
        id
    );
}

#[test]
fn a_generated_key_is_named_after_the_time_and_its_public_key() {
    let now = Timestamp::from_millis(1_767_225_600_000);
    let key = SigningKey::generate(&[3; 32], now);
    assert_eq!(key.id(), &KeyId::generate(now, &key.public_key()));
    let same_seed = SigningKey::from_seed(key.id().clone(), &[3; 32]);
    assert_eq!(same_seed.public_key(), key.public_key());
}

#[test]
fn public_keys_match_only_their_exact_standard_or_url_safe_encoding() {
    // A key whose encoding has '+' and '/' so that both alphabets differ.
    let key = (0u8..=255)
        .map(|i| SigningKey::from_seed(KeyId::parse("ed25519:0").unwrap(), &[i; 32]))
        .map(|k| k.public_key())
        .find(|k| k.to_base64().contains('+') || k.to_base64().contains('/'))
        .unwrap();
    let standard = key.to_base64();
    let url_safe = key.to_base64_url();
    assert_ne!(standard, url_safe);
    assert!(key.is_encoded_as(&standard));
    assert!(key.is_encoded_as(&url_safe));
    for other in [
        format!("{standard}="),
        standard.to_lowercase(),
        format!(" {standard}"),
        String::new(),
    ] {
        assert!(!key.is_encoded_as(&other), "{other:?}");
    }
    assert_eq!(PublicKey::parse(&url_safe).unwrap(), key);
    assert_eq!(PublicKey::parse(&standard).unwrap(), key);
    assert_eq!(PublicKey::parse("AAAA"), Err(InvalidKey::Encoding));
}
