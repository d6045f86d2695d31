use verity_domain::{JsonObject, SignedJson, SigningError};

/// Signing as this server: its name (`server.name`) and current long-term key. What comes back
/// is the signed object as its exact JSON; the use cases read it into the signed type they hand
/// out (`SignedAssociation::signed_by` checks that only signatures were added).
///
/// Implementations MUST keep every member of `object`, and every signature it already carries
/// (signing a signed object countersigns it).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Signer: Send + Sync {
    /// `object` signed by this server with its current key.
    ///
    /// # Errors
    /// [`SigningError`] when `object` has no canonical JSON (a float, an integer beyond
    /// ±(2^53−1)) or a malformed `signatures`.
    fn sign(&self, object: &JsonObject) -> Result<SignedJson, SigningError>;
}
