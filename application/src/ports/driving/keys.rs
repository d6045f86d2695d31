use verity_domain::{KeyId, PublicKey};

/// The server's keys as the Identity Service API exposes them (§Key management). Signing with the
/// current one is the driven [`Signer`](crate::ports::driven::Signer) port.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Keys: Send + Sync {
    /// The public half of the long-term key `id`, valid or not; `None` for an unknown key.
    fn public_key(&self, id: &KeyId) -> Option<PublicKey>;

    /// Whether `public_key` is exactly the unpadded standard or URL-safe base64 (spec v1.15) of
    /// one of the server's valid long-term keys.
    fn is_valid(&self, public_key: &str) -> bool;

    /// Whether `public_key` is exactly the unpadded standard or URL-safe base64 of a valid
    /// ephemeral key (one a 3PID invite made and that is still honoured).
    fn is_valid_ephemeral(&self, public_key: &str) -> bool;
}
