//! Client- and server-chosen secrets and identifiers of validation sessions.
//!
//! Every secret here prints as a redacted marker in `Debug`, so it cannot reach a log through a
//! `{:?}`, and compares in constant time, so response timing tells nothing about how much of a
//! guess was right.
use std::fmt;

/// The spec's charset for `client_secret`, `sid` and invite tokens: `[0-9a-zA-Z.=_-]`.
fn is_opaque_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b".=_-".contains(&b)
}

/// 1 to 255 characters of `[0-9a-zA-Z.=_-]`.
fn is_opaque_id(value: &str) -> bool {
    (1..=255).contains(&value.len()) && value.bytes().all(is_opaque_char)
}

/// ASCII letters, upper then lower case.
const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// ASCII letters and digits: the alphabet of generated sids, access tokens and peppers.
const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Letters, digits, `-` and `_`: safe in a URL without escaping.
const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const DIGITS: &[u8] = b"0123456789";

/// Length of a generated session id: 24 alphanumerics, about 143 bits.
pub const SESSION_ID_LENGTH: usize = 24;

/// The longest value any generated secret may have (every secret type accepts 1 to 255).
const MAX_GENERATED_LENGTH: usize = 255;

/// `length` characters of `alphabet`, each chosen by `pick(alphabet.len())`, which the caller's
/// random generator must answer with a uniformly drawn index below its argument. The domain owns
/// the alphabets, so what it builds is valid by construction and no constructor of a generated
/// secret can fail (a fallible one invites a constant fallback: Sydent's CVE-2019-11842 was a
/// predictable token). An index out of range, which a correct generator never gives, wraps rather
/// than panics.
pub(crate) fn random_string(
    alphabet: &[u8],
    length: usize,
    pick: &mut impl FnMut(usize) -> usize,
) -> String {
    (0..length)
        .filter_map(|_| {
            let index = pick(alphabet.len()).checked_rem(alphabet.len())?;
            alphabet.get(index).copied().map(char::from)
        })
        .collect()
}

/// `pick`'s string of `alphabet`, of a length clamped to 1..=255.
pub(crate) fn random_bounded(
    alphabet: &[u8],
    length: usize,
    pick: &mut impl FnMut(usize) -> usize,
) -> String {
    random_string(alphabet, length.clamp(1, MAX_GENERATED_LENGTH), pick)
}

/// Letters of `length`, for invite tokens.
pub(crate) fn random_letters(length: usize, pick: &mut impl FnMut(usize) -> usize) -> String {
    random_bounded(LETTERS, length, pick)
}

/// Letters and digits of `length`, for access tokens and peppers.
pub(crate) fn random_alphanumeric(length: usize, pick: &mut impl FnMut(usize) -> usize) -> String {
    random_bounded(ALPHANUMERIC, length, pick)
}

/// Compares without an early exit, so the time taken does not depend on where inputs differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a secret or session identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSecret {
    /// A `client_secret` outside the spec's charset or length.
    #[error("client_secret must be 1 to 255 characters of [0-9a-zA-Z.=_-]")]
    ClientSecret,
    /// A `sid` outside the spec's charset or length.
    #[error("sid must be 1 to 255 characters of [0-9a-zA-Z.=_-]")]
    SessionId,
    /// A validation token that is empty, too long or not printable ASCII.
    #[error("the token must be 1 to 255 printable ASCII characters")]
    Token,
    /// A `send_attempt` that is not a non-negative integer.
    #[error("send_attempt must be a non-negative integer")]
    SendAttempt,
}

/// The secret a client chooses for a validation session, proving it owns the session.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Checks the spec's charset `[0-9a-zA-Z.=_-]` and length 1 to 255.
    ///
    /// # Errors
    /// [`InvalidSecret::ClientSecret`].
    pub fn parse(raw: &str) -> Result<Self, InvalidSecret> {
        if is_opaque_id(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidSecret::ClientSecret)
        }
    }

    /// The secret, for storage and for comparing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison.
    pub fn matches(&self, other: &ClientSecret) -> bool {
        constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

/// A validation session's identifier (`sid`): random, opaque, and not secret on its own (it is
/// always paired with the client secret).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(String);

impl SessionId {
    /// Checks the spec's charset `[0-9a-zA-Z.=_-]` and length 1 to 255.
    ///
    /// # Errors
    /// [`InvalidSecret::SessionId`].
    pub fn parse(raw: &str) -> Result<Self, InvalidSecret> {
        if is_opaque_id(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidSecret::SessionId)
        }
    }

    /// A fresh sid of [`SESSION_ID_LENGTH`] alphanumerics, each picked by `pick(n)`, a uniform
    /// random index below `n` from the caller's CSPRNG. Valid by construction: it cannot fail.
    pub fn generate(mut pick: impl FnMut(usize) -> usize) -> Self {
        Self(random_string(ALPHANUMERIC, SESSION_ID_LENGTH, &mut pick))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a fresh validation token must look like, which depends on how the user will enter it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Carried in a link: long, URL-safe (`[A-Za-z0-9_-]`), `length` characters.
    Link {
        /// Number of characters.
        length: usize,
    },
    /// Typed by a person from an SMS: `length` decimal digits.
    Digits {
        /// Number of digits.
        length: usize,
    },
}

impl TokenKind {
    /// The kind used for email: 32 URL-safe characters (about 190 bits).
    pub const EMAIL: Self = Self::Link { length: 32 };
    /// The kind used for SMS: 6 digits, guessable only within the wrong-attempt cap.
    pub const SMS: Self = Self::Digits { length: 6 };

    /// Whether `value` has this kind's shape (used to check what a [secret
    /// generator](TokenKind) produced).
    pub fn accepts(self, value: &str) -> bool {
        match self {
            Self::Link { length } => {
                value.len() == length
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }
            Self::Digits { length } => {
                value.len() == length && value.bytes().all(|b| b.is_ascii_digit())
            }
        }
    }
}

/// The secret sent to the 3PID, which the user gives back to prove they received it.
#[derive(Clone, PartialEq, Eq)]
pub struct ValidationToken(String);

impl ValidationToken {
    /// Wraps a token; 1 to 255 printable ASCII characters. Surrounding white space, which people
    /// copy along with a code, is trimmed.
    ///
    /// # Errors
    /// [`InvalidSecret::Token`].
    pub fn parse(raw: &str) -> Result<Self, InvalidSecret> {
        let token = raw.trim();
        if (1..=255).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(token.to_owned()))
        } else {
            Err(InvalidSecret::Token)
        }
    }

    /// A fresh token of `kind` (its length clamped to 1..=255), each character picked by
    /// `pick(n)`, a uniform random index below `n` from the caller's CSPRNG. Valid by
    /// construction: it cannot fail.
    pub fn generate(kind: TokenKind, mut pick: impl FnMut(usize) -> usize) -> Self {
        Self(match kind {
            TokenKind::Link { length } => random_bounded(URL_SAFE, length, &mut pick),
            TokenKind::Digits { length } => random_bounded(DIGITS, length, &mut pick),
        })
    }

    /// The token, for sending and for storage.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison.
    pub fn matches(&self, other: &ValidationToken) -> bool {
        constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl fmt::Debug for ValidationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ValidationToken(<redacted>)")
    }
}

/// The client's `send_attempt` counter: a message is sent again only when it grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SendAttempt(u64);

impl SendAttempt {
    /// Wraps a counter value.
    pub const fn new(value: u64) -> Self {
        Self(value)
    }

    /// Parses the wire value, which Element sends as a string (`"1"`) and others as a number.
    ///
    /// # Errors
    /// [`InvalidSecret::SendAttempt`] unless it is a non-negative integer.
    pub fn parse(raw: &str) -> Result<Self, InvalidSecret> {
        raw.trim()
            .parse()
            .map(Self)
            .map_err(|_| InvalidSecret::SendAttempt)
    }

    /// The counter value.
    pub const fn value(self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A "generator" that walks through every index in turn, so every alphabet entry is reached.
    fn counting() -> impl FnMut(usize) -> usize {
        let mut next = 0;
        move |n| {
            next += 1;
            (next - 1) % n
        }
    }

    #[test]
    fn generated_secrets_parse_whatever_the_generator_answers() {
        // Even a broken generator (always 0, always huge) yields valid values of the right length.
        for mut pick in [
            Box::new(counting()) as Box<dyn FnMut(usize) -> usize>,
            Box::new(|_| 0),
            Box::new(|_| usize::MAX),
        ] {
            let sid = SessionId::generate(&mut pick);
            assert_eq!(SessionId::parse(sid.as_str()), Ok(sid.clone()));
            assert_eq!(sid.as_str().len(), SESSION_ID_LENGTH);
            for kind in [TokenKind::EMAIL, TokenKind::SMS] {
                let token = ValidationToken::generate(kind, &mut pick);
                assert!(kind.accepts(token.expose()), "{kind:?}");
                assert!(ValidationToken::parse(token.expose()).is_ok());
            }
        }
    }

    #[test]
    fn generated_tokens_use_their_whole_alphabet() {
        let link = ValidationToken::generate(TokenKind::Link { length: 64 }, counting());
        assert_eq!(
            link.expose(),
            std::str::from_utf8(URL_SAFE).unwrap_or_default()
        );
        let digits = ValidationToken::generate(TokenKind::Digits { length: 10 }, counting());
        assert_eq!(digits.expose(), "0123456789");
    }

    #[test]
    fn generated_token_lengths_are_clamped_to_what_parse_accepts() {
        let empty = ValidationToken::generate(TokenKind::Link { length: 0 }, counting());
        assert_eq!(empty.expose().len(), 1);
        let long = ValidationToken::generate(TokenKind::Digits { length: 10_000 }, counting());
        assert_eq!(long.expose().len(), 255);
        assert!(ValidationToken::parse(long.expose()).is_ok());
    }

    #[test]
    fn client_secrets_follow_the_spec_charset_and_length() {
        assert!(ClientSecret::parse("AbC.0=_-").is_ok());
        assert!(ClientSecret::parse(&"a".repeat(255)).is_ok());
        for bad in [
            "",
            "has space",
            "slash/",
            "ümlaut",
            "new\nline",
            &"a".repeat(256),
        ] {
            assert_eq!(
                ClientSecret::parse(bad),
                Err(InvalidSecret::ClientSecret),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn session_ids_follow_the_same_rules() {
        assert!(SessionId::parse("xYz-1").is_ok());
        assert_eq!(SessionId::parse("a b"), Err(InvalidSecret::SessionId));
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secret = ClientSecret::parse("supersecret").unwrap();
        let token = ValidationToken::parse("123456").unwrap();
        let shown = format!("{secret:?} {token:?}");
        assert!(
            !shown.contains("supersecret") && !shown.contains("123456"),
            "{shown}"
        );
    }

    #[test]
    fn secrets_match_only_when_identical() {
        let a = ClientSecret::parse("abc").unwrap();
        assert!(a.matches(&ClientSecret::parse("abc").unwrap()));
        assert!(!a.matches(&ClientSecret::parse("abd").unwrap()));
        assert!(!a.matches(&ClientSecret::parse("abcd").unwrap()));
    }

    #[test]
    fn tokens_are_trimmed_and_must_be_printable_ascii() {
        let token = ValidationToken::parse(" 123456\n").unwrap();
        assert!(token.matches(&ValidationToken::parse("123456").unwrap()));
        for bad in ["", "   ", "12 34", "jeton\u{e9}", &"x".repeat(256)] {
            assert_eq!(
                ValidationToken::parse(bad),
                Err(InvalidSecret::Token),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn token_kinds_check_the_shape_of_generated_values() {
        assert!(TokenKind::SMS.accepts("012345"));
        assert!(!TokenKind::SMS.accepts("01234a"));
        assert!(!TokenKind::SMS.accepts("01234"));
        assert!(TokenKind::EMAIL.accepts(&"aZ_-".repeat(8)));
        assert!(!TokenKind::EMAIL.accepts(&"a.".repeat(16)));
    }

    #[test]
    fn send_attempt_accepts_strings_of_digits_as_element_sends_them() {
        assert_eq!(SendAttempt::parse("1"), Ok(SendAttempt::new(1)));
        assert_eq!(SendAttempt::parse(" 42 "), Ok(SendAttempt::new(42)));
        for bad in ["", "-1", "1.5", "one"] {
            assert_eq!(
                SendAttempt::parse(bad),
                Err(InvalidSecret::SendAttempt),
                "{bad:?}"
            );
        }
    }
}
