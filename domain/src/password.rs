//! A user's password, as the homeserver hands it over for a login (`check_credentials`): a secret
//! that never prints, refused before any identity store is asked when it cannot be a password.
use std::fmt;

use sha2::{Digest, Sha256};

use crate::secrets::constant_time_eq;

/// The longest password accepted, in characters: Synapse refuses to set a longer one (its
/// `register` and password-change endpoints answer "Password too long" above 512), so a longer
/// one cannot be a user's password, only a way to make the stores work harder.
pub const MAX_PASSWORD_CHARS: usize = 512;

/// Why a password is refused before any store is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPassword {
    /// Empty. An LDAP simple bind with a DN and an empty password is an *unauthenticated* bind
    /// (RFC 4513 section 5.1.2), which many directories accept: it must never count as a login.
    #[error("the password is empty")]
    Empty,
    /// Longer than [`MAX_PASSWORD_CHARS`].
    #[error("the password is longer than {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    /// Holds a NUL character, which no program argument and no C string can carry (an `exec`
    /// store would be handed a different password than the one typed).
    #[error("the password holds a NUL character")]
    Nul,
}

/// A password to check. `Debug` prints `Password(<redacted>)`; the only way to the text is
/// [`expose`](Self::expose), for the store that checks it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// A password as typed: any text of 1 to [`MAX_PASSWORD_CHARS`] characters without NUL
    /// (spaces are kept: they may be part of it).
    ///
    /// # Errors
    /// [`InvalidPassword`].
    pub fn parse(raw: impl Into<String>) -> Result<Self, InvalidPassword> {
        let raw = raw.into();
        if raw.is_empty() {
            return Err(InvalidPassword::Empty);
        }
        if raw.chars().count() > MAX_PASSWORD_CHARS {
            return Err(InvalidPassword::TooLong);
        }
        if raw.contains('\0') {
            return Err(InvalidPassword::Nul);
        }
        Ok(Self(raw))
    }

    /// The password itself, for the store that checks it (a bind request, a program's input).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `stored` (a password kept in clear, as `memory.identities[].password`) is this
    /// one. The SHA-256 digests of both are compared in constant time, so the time taken tells
    /// neither how much of a guess was right nor the stored password's length.
    pub fn matches(&self, stored: &str) -> bool {
        let typed = Sha256::digest(self.0.as_bytes());
        let stored = Sha256::digest(stored.as_bytes());
        constant_time_eq(&typed, &stored)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_password_is_refused() {
        assert_eq!(Password::parse(""), Err(InvalidPassword::Empty));
    }

    #[test]
    fn a_password_of_spaces_is_a_password() {
        assert_eq!(Password::parse("   ").map(|p| p.expose().len()), Ok(3));
    }

    #[test]
    fn a_password_longer_than_synapse_allows_is_refused() {
        let longest = "é".repeat(MAX_PASSWORD_CHARS);
        assert!(Password::parse(longest.clone()).is_ok());
        assert_eq!(
            Password::parse(format!("{longest}x")),
            Err(InvalidPassword::TooLong)
        );
    }

    #[test]
    fn a_nul_character_is_refused() {
        assert_eq!(Password::parse("a\0b"), Err(InvalidPassword::Nul));
    }

    #[test]
    fn the_password_never_prints() {
        let password = Password::parse("hunter2").unwrap();
        let printed = format!("{password:?} {:?}", Some(&password));
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("<redacted>"));
    }

    #[test]
    fn a_stored_password_matches_only_itself() {
        let password = Password::parse("correct horse").unwrap();
        assert!(password.matches("correct horse"));
        assert!(!password.matches("correct hors"));
        assert!(!password.matches("Correct horse"));
        assert!(!password.matches(""));
    }
}
