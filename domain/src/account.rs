//! Identity-server accounts (v2 authentication) and terms of service.
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use sha2::{Digest, Sha256};

use crate::{Timestamp, UserId};

/// A bearer token Verity issued to a user. Only its [fingerprint](AccessToken::fingerprint) is
/// stored, so a copy of the database does not hand out working tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

/// Length of a generated access token.
pub const ACCESS_TOKEN_LENGTH: usize = 64;

/// Why a presented access token was refused before any lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed access token")]
pub struct InvalidAccessToken;

impl AccessToken {
    /// Wraps a presented or generated token: 1 to 255 printable ASCII characters.
    ///
    /// # Errors
    /// [`InvalidAccessToken`].
    pub fn parse(raw: &str) -> Result<Self, InvalidAccessToken> {
        if (1..=255).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidAccessToken)
        }
    }

    /// A fresh token of [`ACCESS_TOKEN_LENGTH`] alphanumerics (about 380 bits, as sydent), each
    /// picked by `pick(n)`, a uniform random index below `n` from the caller's CSPRNG. Valid by
    /// construction: it cannot fail.
    pub fn generate(mut pick: impl FnMut(usize) -> usize) -> Self {
        Self(crate::secrets::random_alphanumeric(
            ACCESS_TOKEN_LENGTH,
            &mut pick,
        ))
    }

    /// The token, to hand to the client once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the token, hex: what stores keep and look up by.
    pub fn fingerprint(&self) -> TokenFingerprint {
        TokenFingerprint::of(&self.0)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// The stored form of an [`AccessToken`]: 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenFingerprint(String);

impl TokenFingerprint {
    /// SHA-256 of `secret`, hex: the fingerprint of any bearer token (Verity's own, or a
    /// homeserver's that is cached by it), never the token itself.
    pub(crate) fn of(secret: &str) -> Self {
        let digest = Sha256::digest(secret.as_bytes());
        // Two digits a byte into one string: `format!` a byte made 32 strings a request.
        let mut hex = String::with_capacity(64);
        for byte in digest {
            for nibble in [byte >> 4, byte & 0x0f] {
                hex.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
            }
        }
        Self(hex)
    }

    /// Rebuilds a stored fingerprint.
    ///
    /// # Errors
    /// [`InvalidAccessToken`] unless it is 64 lower-case hex digits.
    pub fn parse(raw: &str) -> Result<Self, InvalidAccessToken> {
        if raw.len() == 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidAccessToken)
        }
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An account: a user who registered with Verity through their homeserver's OpenID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Fingerprint of the access token that authenticates as this account.
    pub token: TokenFingerprint,
    /// The Matrix user the homeserver vouched for.
    pub user_id: UserId,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it stops working, if it expires.
    pub expires_at: Option<Timestamp>,
}

impl Account {
    /// Whether the token still works at `now`.
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        self.expires_at.is_none_or(|expiry| now < expiry)
    }
}

/// One policy document (`policy.policies.<name>`), in one version, in several languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsPolicy {
    /// The policy's name (the key in the `policies` object).
    pub name: String,
    /// Its current version.
    pub version: String,
    /// Language code -> (document name, URL).
    pub translations: BTreeMap<String, PolicyDocument>,
}

/// A policy document in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    /// Human-readable name.
    pub name: String,
    /// Where to read it; accepting it means sending this URL back.
    pub url: String,
}

/// The policies a user has not yet accepted: a policy counts as accepted when the user accepted
/// the URL of any of its translations of the **current** version (a new version has new URLs, so
/// publishing one asks everybody again).
pub fn unsigned_policies<'a>(
    policies: &'a [TermsPolicy],
    accepted_urls: &BTreeSet<String>,
) -> Vec<&'a TermsPolicy> {
    policies
        .iter()
        .filter(|policy| {
            !policy
                .translations
                .values()
                .any(|doc| accepted_urls.contains(&doc.url))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_access_token_is_64_alphanumerics_even_from_a_broken_generator() {
        for pick in [|_| 0, |_| usize::MAX, |n: usize| n - 1] {
            let token = AccessToken::generate(pick);
            assert_eq!(token.expose().len(), ACCESS_TOKEN_LENGTH);
            assert!(token.expose().bytes().all(|b| b.is_ascii_alphanumeric()));
            assert_eq!(AccessToken::parse(token.expose()), Ok(token));
        }
    }

    fn policy(name: &str, urls: &[&str]) -> TermsPolicy {
        TermsPolicy {
            name: name.into(),
            version: "1.0".into(),
            translations: urls
                .iter()
                .enumerate()
                .map(|(i, url)| {
                    (
                        format!("l{i}"),
                        PolicyDocument {
                            name: name.into(),
                            url: (*url).into(),
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn fingerprints_are_sha256_hex_and_hide_the_token() {
        let token = AccessToken::parse("abc").unwrap();
        assert_eq!(
            token.fingerprint().as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(!format!("{token:?}").contains("abc"));
        assert!(TokenFingerprint::parse(token.fingerprint().as_str()).is_ok());
        assert!(TokenFingerprint::parse("ABC").is_err());
    }

    #[test]
    fn malformed_presented_tokens_are_refused() {
        for bad in ["", "has space", "tab\t", &"x".repeat(256)] {
            assert!(AccessToken::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn accounts_expire_at_their_expiry_and_not_before() {
        let account = Account {
            token: AccessToken::parse("t").unwrap().fingerprint(),
            user_id: UserId::parse("@a:example.org").unwrap(),
            created_at: Timestamp::from_millis(0),
            expires_at: Some(Timestamp::from_millis(100)),
        };
        assert!(account.is_valid_at(Timestamp::from_millis(99)));
        assert!(!account.is_valid_at(Timestamp::from_millis(100)));
        let forever = Account {
            expires_at: None,
            ..account
        };
        assert!(forever.is_valid_at(Timestamp::from_millis(u64::MAX)));
    }

    #[test]
    fn a_policy_is_signed_by_accepting_any_of_its_translations() {
        let policies = [
            policy("privacy", &["https://x/en", "https://x/fr"]),
            policy("tos", &["https://x/tos"]),
        ];
        let accepted: BTreeSet<String> = ["https://x/fr".to_owned()].into();
        let unsigned: Vec<&str> = unsigned_policies(&policies, &accepted)
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(unsigned, vec!["tos"]);
    }

    #[test]
    fn accepting_an_old_versions_url_does_not_sign_the_new_version() {
        let policies = [policy("tos", &["https://x/tos-v2"])];
        let accepted: BTreeSet<String> = ["https://x/tos-v1".to_owned()].into();
        assert_eq!(unsigned_policies(&policies, &accepted).len(), 1);
    }
}
