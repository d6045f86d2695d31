//! mxisd/ma1sd's key store layout and file formats, read and written byte for byte as they are.
//!
//! ```text
//! <key.path>/current                      {"type":"Regular","algo":"ed25519","serial":"<id>"}
//! <key.path>/regular/ed25519/<id>         {"version":"0","isValid":true,"key":"<base64 seed>"}
//! <key.path>/ephemeral/ed25519/<id>       (same as regular)
//! ```
//!
//! `<id>` is the key identifier without `ed25519:` (mxisd's "serial"). mxisd wrote these files
//! with Gson, compact, in this field order; Verity writes the same bytes so that either server can
//! read the other's store.
use std::path::{Path, PathBuf};

use serde::Deserialize;
use verity_domain::{ED25519, KeyId, KeyKind, SigningKey};

/// The file naming the key that signs.
pub(crate) const CURRENT: &str = "current";

/// mxisd's name for the type of the current key (Java's `KeyType.Regular.name()`).
const REGULAR_TYPE: &str = "Regular";

/// The directory holding the keys of `kind`: `<root>/regular/ed25519` or
/// `<root>/ephemeral/ed25519`.
pub(crate) fn kind_dir(root: &Path, kind: KeyKind) -> PathBuf {
    let kind = match kind {
        KeyKind::Regular => "regular",
        KeyKind::Ephemeral => "ephemeral",
    };
    root.join(kind).join(ED25519)
}

/// A key file: `{"version":"0","isValid":true,"key":"<base64 seed>"}`.
#[derive(Debug, Deserialize)]
struct KeyFile {
    /// Always `"0"` when mxisd wrote it; optional, and not checked.
    #[serde(default, rename = "version")]
    _version: Option<serde_json::Value>,
    #[serde(rename = "isValid")]
    is_valid: bool,
    key: String,
}

/// The `current` file: `{"type":"Regular","algo":"ed25519","serial":"<id>"}`.
#[derive(Debug, Deserialize)]
struct CurrentFile {
    #[serde(rename = "type")]
    kind: String,
    algo: String,
    serial: String,
}

/// What is wrong with a file, without quoting its content: serde_json's messages quote string
/// values of the wrong type, which in a key file may be the seed.
fn describe(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let at = format!("line {} column {}", error.line(), error.column());
    match error.classify() {
        serde_json::error::Category::Data if message.starts_with("missing field") => message,
        serde_json::error::Category::Data => format!("a field has the wrong type or value at {at}"),
        serde_json::error::Category::Eof => "the file is empty or cut short".to_owned(),
        _ => format!("not JSON at {at}"),
    }
}

/// Parses a key file named `identifier`. `Err` is a reason for the operator (the caller adds the
/// path); the seed never appears in it.
pub(crate) fn parse_key(identifier: &str, bytes: &[u8]) -> Result<(SigningKey, bool), String> {
    let id = KeyId::from_identifier(identifier).map_err(|e| e.to_string())?;
    let file: KeyFile = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "not an mxisd key file ({{\"isValid\": bool, \"key\": base64 seed}}): {}",
            describe(&e)
        )
    })?;
    let key = SigningKey::from_base64_seed(id, &file.key)
        .map_err(|_| "`key` is not the base64 encoding of a 32-byte ed25519 seed".to_owned())?;
    Ok((key, file.is_valid))
}

/// The bytes of a key file, as mxisd writes them. Written by hand: base64 needs no escaping,
/// and formatting cannot fail.
pub(crate) fn key_bytes(key: &SigningKey, valid: bool) -> Vec<u8> {
    format!(
        r#"{{"version":"0","isValid":{valid},"key":"{}"}}"#,
        key.seed_base64()
    )
    .into_bytes()
}

/// Parses the `current` file.
pub(crate) fn parse_current(bytes: &[u8]) -> Result<KeyId, String> {
    let file: CurrentFile = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "not an mxisd current-key file ({{\"type\", \"algo\", \"serial\"}}): {}",
            describe(&e)
        )
    })?;
    if file.kind != REGULAR_TYPE {
        return Err(format!(
            "the current key must be of type {REGULAR_TYPE:?}, found {:?}",
            file.kind
        ));
    }
    if file.algo != ED25519 {
        return Err(format!(
            "the current key must be an {ED25519} key, found {:?}",
            file.algo
        ));
    }
    KeyId::from_identifier(&file.serial).map_err(|e| e.to_string())
}

/// The bytes of the `current` file, as mxisd writes them (identifiers need no escaping).
pub(crate) fn current_bytes(id: &KeyId) -> Vec<u8> {
    format!(
        r#"{{"type":"{REGULAR_TYPE}","algo":"{ED25519}","serial":"{}"}}"#,
        id.identifier()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn files_are_written_exactly_as_mxisd_writes_them() {
        let key = SigningKey::from_seed(KeyId::parse("ed25519:0").unwrap(), &[0; 32]);
        assert_eq!(
            String::from_utf8(key_bytes(&key, true)).unwrap(),
            r#"{"version":"0","isValid":true,"key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#
        );
        assert_eq!(
            String::from_utf8(current_bytes(key.id())).unwrap(),
            r#"{"type":"Regular","algo":"ed25519","serial":"0"}"#
        );
    }

    #[test]
    fn key_files_round_trip_and_version_is_optional() {
        let key = SigningKey::from_seed(KeyId::parse("ed25519:abc").unwrap(), &[5; 32]);
        let (again, valid) = parse_key("abc", &key_bytes(&key, false)).unwrap();
        assert_eq!((again.public_key(), valid), (key.public_key(), false));
        let seed = key.seed_base64();
        let without_version = format!(r#"{{"isValid":true,"key":"{seed}","extra":1}}"#);
        let (again, valid) = parse_key("abc", without_version.as_bytes()).unwrap();
        assert_eq!((again.public_key(), valid), (key.public_key(), true));
    }

    #[test]
    fn broken_key_files_are_explained_without_the_seed() {
        let seed = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        for (bytes, hint) in [
            (String::new(), "not an mxisd key file"),
            (format!(r#"{{"key":"{seed}"}}"#), "isValid"),
            (r#"{"isValid":true}"#.to_owned(), "key"),
            (r#"{"isValid":"yes","key":"x"}"#.to_owned(), "wrong type"),
            (format!(r#"{{"isValid":"{seed}","key":"x"}}"#), "wrong type"),
            (r#"{"isValid":true,"key":"c2hvcnQ"}"#.to_owned(), "32-byte"),
        ] {
            let error = parse_key("0", bytes.as_bytes()).unwrap_err();
            assert!(error.contains(hint), "{bytes}: {error}");
            assert!(!error.contains(seed), "{error}");
        }
        assert!(parse_key("a.b", b"{}").unwrap_err().contains("a.b"));
    }

    #[test]
    fn the_current_file_must_name_a_regular_ed25519_key() {
        assert_eq!(
            parse_current(br#"{"type":"Regular","algo":"ed25519","serial":"AAAAOx-q1Zk"}"#)
                .unwrap(),
            KeyId::parse("ed25519:AAAAOx-q1Zk").unwrap()
        );
        for (bytes, hint) in [
            (
                &br#"{"type":"Ephemeral","algo":"ed25519","serial":"0"}"#[..],
                "Regular",
            ),
            (
                br#"{"type":"Regular","algo":"curve25519","serial":"0"}"#,
                "ed25519",
            ),
            (
                br#"{"type":"Regular","algo":"ed25519","serial":"../x"}"#,
                "../x",
            ),
            (br#"{"type":"Regular"}"#, "algo"),
            (b"garbage", "not an mxisd current-key file"),
        ] {
            let error = parse_current(bytes).unwrap_err();
            assert!(error.contains(hint), "{error}");
        }
    }
}
