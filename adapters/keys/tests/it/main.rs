//! The key stores against real temporary directories: the port's contract on both stores,
//! directories written by hand as mxisd/ma1sd writes them, the legacy single-file migration,
//! broken files and permissions.

// Test helpers outside #[test] functions are not "tests" to clippy; panicking is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod contract;
mod corrupt;
mod legacy;
mod mxisd;
mod permissions;

use verity_application::ports::driven::StoredKey;
use verity_domain::{KeyId, SigningKey};

/// The specification's test seed, and the public key it derives.
pub const SPEC_SEED: &str = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";
pub const SPEC_PUBLIC_KEY: &str = "XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI";

pub fn key(identifier: &str, seed: u8, valid: bool) -> StoredKey {
    StoredKey {
        key: SigningKey::from_seed(KeyId::from_identifier(identifier).unwrap(), &[seed; 32]),
        valid,
    }
}

pub fn id(identifier: &str) -> KeyId {
    KeyId::from_identifier(identifier).unwrap()
}

/// (identifier, seed, validity) of stored keys, to compare without the secret.
pub fn summary(keys: &[StoredKey]) -> Vec<(String, String, bool)> {
    keys.iter()
        .map(|k| {
            (
                k.key.id().as_str().to_owned(),
                k.key.public_key().to_base64(),
                k.valid,
            )
        })
        .collect()
}
