//! The operating system's clock and random generator, as ports.
use std::time::{SystemTime, UNIX_EPOCH};

use rand::rngs::SysRng;
use rand::{Rng as _, RngExt as _, TryRng as _};
use verity_application::ports::driven::{Clock, SecretGenerator};
use verity_domain::{
    AccessToken, InviteToken, Pepper, SessionId, Timestamp, TokenKind, ValidationToken,
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

/// A uniform index below `n` from the thread-local CSPRNG: what the domain's constructors of
/// generated secrets ask for, so they build values valid by construction (no fallible parse and
/// no constant fallback, whose predictable token was Sydent's CVE-2019-11842).
fn pick(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    rand::rng().random_range(0..n)
}

impl SecretGenerator for OsSecretGenerator {
    fn session_id(&self) -> SessionId {
        SessionId::generate(pick)
    }

    fn validation_token(&self, kind: TokenKind) -> ValidationToken {
        ValidationToken::generate(kind, pick)
    }

    fn access_token(&self) -> AccessToken {
        AccessToken::generate(pick)
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
        Pepper::generate(length, pick)
    }

    fn invite_token(&self) -> InviteToken {
        InviteToken::generate(pick)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use verity_domain::{ACCESS_TOKEN_LENGTH, SESSION_ID_LENGTH};

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
        assert!(tokens.iter().all(
            |t| t.len() == ACCESS_TOKEN_LENGTH && t.bytes().all(|b| b.is_ascii_alphanumeric())
        ));
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
