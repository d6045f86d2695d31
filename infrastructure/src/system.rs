//! The operating system's clock and random generator, as ports.
use std::time::{SystemTime, UNIX_EPOCH};

use rand::distr::{Alphanumeric, SampleString};
use rand::rngs::SysRng;
use rand::{Rng as _, RngExt as _, TryRng as _};
use verity_application::ports::driven::{Clock, SecretGenerator};
use verity_domain::{
    AccessToken, INVITE_TOKEN_LENGTH, InviteToken, MAX_PEPPER_LENGTH, Pepper, SessionId, Timestamp,
    TokenKind, ValidationToken,
};

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        // A clock before 1970 is a broken host; 0 keeps everything expired rather than panicking.
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        Timestamp::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
    }
}

/// Secrets from the operating system's CSPRNG (through `rand::rng()`, a ChaCha generator seeded
/// and periodically reseeded from the OS).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsSecretGenerator;

/// Length of a session id: 24 alphanumerics, about 143 bits.
const SESSION_ID_LENGTH: usize = 24;
const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl SecretGenerator for OsSecretGenerator {
    fn session_id(&self) -> SessionId {
        let raw = Alphanumeric.sample_string(&mut rand::rng(), SESSION_ID_LENGTH);
        // Alphanumerics are always a valid sid; the fallback is unreachable but not a panic.
        SessionId::parse(&raw).unwrap_or_else(|_| fallback_session_id())
    }

    fn validation_token(&self, kind: TokenKind) -> ValidationToken {
        let mut rng = rand::rng();
        let raw: String = match kind {
            TokenKind::Link { length } => (0..length)
                .map(|_| char::from(URL_SAFE[rng.random_range(0..URL_SAFE.len())]))
                .collect(),
            TokenKind::Digits { length } => (0..length)
                .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                .collect(),
        };
        ValidationToken::parse(&raw).unwrap_or_else(|_| fallback_token())
    }

    fn access_token(&self) -> AccessToken {
        let raw = Alphanumeric.sample_string(&mut rand::rng(), ACCESS_TOKEN_LENGTH);
        AccessToken::parse(&raw).unwrap_or_else(|_| fallback_access_token())
    }

    fn key_seed(&self) -> [u8; 32] {
        let mut seed = [0u8; 32];
        // Straight from the operating system (getrandom), not through the thread-local generator:
        // a signing key outlives any process. Should the system generator fail, the thread-local
        // one (seeded from it earlier, and itself a CSPRNG) is the fallback.
        if let Err(error) = SysRng.try_fill_bytes(&mut seed) {
            tracing::warn!(error = %error, "the system random generator failed; using the thread-local CSPRNG");
            rand::rng().fill_bytes(&mut seed);
        }
        seed
    }

    fn pepper(&self, length: usize) -> Pepper {
        let length = length.clamp(1, MAX_PEPPER_LENGTH);
        let raw = Alphanumeric.sample_string(&mut rand::rng(), length);
        // Alphanumerics of a valid length are always a pepper; the fallback is unreachable.
        Pepper::parse(&raw).unwrap_or_else(|_| fallback_pepper())
    }

    fn invite_token(&self) -> InviteToken {
        const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut rng = rand::rng();
        let raw: String = (0..INVITE_TOKEN_LENGTH)
            .map(|_| char::from(LETTERS[rng.random_range(0..LETTERS.len())]))
            .collect();
        // Letters of a valid length are always a token; the fallback is unreachable.
        InviteToken::parse(&raw).unwrap_or_else(|_| fallback_invite_token())
    }
}

/// Length of an access token: 64 alphanumerics (about 380 bits), as sydent.
const ACCESS_TOKEN_LENGTH: usize = 64;

#[allow(clippy::expect_used)] // Constant input that the unit tests prove valid.
fn fallback_access_token() -> AccessToken {
    AccessToken::parse("x").expect("constant token is valid")
}

#[allow(clippy::expect_used)] // Constant input that the unit tests prove valid.
fn fallback_pepper() -> Pepper {
    Pepper::parse("x").expect("constant pepper is valid")
}

#[allow(clippy::expect_used)] // Constant input that the unit tests prove valid.
fn fallback_session_id() -> SessionId {
    SessionId::parse("x").expect("constant sid is valid")
}

#[allow(clippy::expect_used)] // Constant input that the unit tests prove valid.
fn fallback_invite_token() -> InviteToken {
    InviteToken::parse("x").expect("constant token is valid")
}

#[allow(clippy::expect_used)] // Constant input that the unit tests prove valid.
fn fallback_token() -> ValidationToken {
    ValidationToken::parse("x").expect("constant token is valid")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn session_ids_are_long_unique_and_in_the_spec_charset() {
        let ids: HashSet<String> = (0..1000)
            .map(|_| OsSecretGenerator.session_id().as_str().to_owned())
            .collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| id.len() == SESSION_ID_LENGTH));
    }

    #[test]
    fn invite_tokens_are_128_letters_and_do_not_repeat() {
        let tokens: HashSet<String> = (0..200)
            .map(|_| OsSecretGenerator.invite_token().as_str().to_owned())
            .collect();
        assert_eq!(tokens.len(), 200);
        assert!(tokens.iter().all(|t| InviteToken::is_generated_shape(t)));
        assert!(InviteToken::parse(fallback_invite_token().as_str()).is_ok());
    }

    #[test]
    fn tokens_have_the_shape_their_kind_requires_and_do_not_repeat() {
        for kind in [TokenKind::EMAIL, TokenKind::SMS] {
            let tokens: Vec<String> = (0..200)
                .map(|_| OsSecretGenerator.validation_token(kind).expose().to_owned())
                .collect();
            assert!(tokens.iter().all(|t| kind.accepts(t)), "{kind:?}");
            let distinct: HashSet<&String> = tokens.iter().collect();
            // 6 digits: 200 draws from 10^6 collide rarely; links never.
            assert!(
                distinct.len() > 190,
                "{kind:?}: {} distinct",
                distinct.len()
            );
        }
    }

    #[test]
    fn every_digit_and_url_safe_character_is_used() {
        let digits: HashSet<char> = (0..200)
            .flat_map(|_| {
                OsSecretGenerator
                    .validation_token(TokenKind::SMS)
                    .expose()
                    .to_owned()
                    .chars()
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(digits.len(), 10);
        let link: HashSet<char> = (0..100)
            .flat_map(|_| {
                OsSecretGenerator
                    .validation_token(TokenKind::EMAIL)
                    .expose()
                    .chars()
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(link.len(), 64);
    }

    #[test]
    fn the_fallbacks_are_valid() {
        assert_eq!(fallback_session_id().as_str(), "x");
        assert_eq!(fallback_token().expose(), "x");
        assert_eq!(fallback_access_token().expose(), "x");
        assert_eq!(fallback_pepper().as_str(), "x");
    }

    #[test]
    fn peppers_are_alphanumerics_of_the_asked_length_and_unique() {
        let peppers: HashSet<String> = (0..500)
            .map(|_| OsSecretGenerator.pepper(20).as_str().to_owned())
            .collect();
        assert_eq!(peppers.len(), 500);
        assert!(
            peppers
                .iter()
                .all(|p| p.len() == 20 && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        );
        // Lengths outside 1..=255 are clamped rather than refused.
        assert_eq!(OsSecretGenerator.pepper(0).as_str().len(), 1);
        assert_eq!(OsSecretGenerator.pepper(10_000).as_str().len(), 255);
    }

    #[test]
    fn access_tokens_are_64_alphanumerics_and_unique() {
        let tokens: HashSet<String> = (0..500)
            .map(|_| OsSecretGenerator.access_token().expose().to_owned())
            .collect();
        assert_eq!(tokens.len(), 500);
        assert!(
            tokens
                .iter()
                .all(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_alphanumeric()))
        );
    }

    #[test]
    fn key_seeds_are_32_fresh_bytes() {
        let seeds: HashSet<[u8; 32]> = (0..100).map(|_| OsSecretGenerator.key_seed()).collect();
        assert_eq!(seeds.len(), 100);
        assert!(seeds.iter().all(|seed| seed.iter().any(|b| *b != 0)));
    }

    #[test]
    fn the_clock_reads_a_time_after_2020() {
        assert!(SystemClock.now().as_millis() > 1_577_836_800_000);
    }
}
