use verity_domain::{AccessToken, InviteToken, Pepper, SessionId, TokenKind, ValidationToken};

/// Fresh unguessable values.
///
/// Implementations MUST draw from a cryptographically secure generator (CVE-2019-11842: sydent's
/// predictable tokens) and MUST return values of the requested shape.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait SecretGenerator: Send + Sync {
    /// A new session identifier: random, never sequential, in the spec's `[0-9a-zA-Z.=_-]` charset.
    fn session_id(&self) -> SessionId;

    /// A new validation token of the given kind (see [`TokenKind::accepts`]).
    fn validation_token(&self, kind: TokenKind) -> ValidationToken;

    /// A new access token for an identity-server account (long, alphanumeric).
    fn access_token(&self) -> AccessToken;

    /// 32 fresh bytes for the seed of a new ed25519 signing key. Implementations MUST take them
    /// from the operating system's CSPRNG: whoever predicts them can sign as this server.
    fn key_seed(&self) -> [u8; 32];

    /// A new lookup pepper of `length` ASCII letters and digits (`length` is between 1 and
    /// [`verity_domain::MAX_PEPPER_LENGTH`]; implementations clamp anything else).
    fn pepper(&self, length: usize) -> Pepper;

    /// A new 3PID invite token: [`verity_domain::INVITE_TOKEN_LENGTH`] random ASCII letters, as
    /// sydent (see [`InviteToken::is_generated_shape`]).
    fn invite_token(&self) -> InviteToken;
}
