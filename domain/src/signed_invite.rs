//! What `/sign-ed25519` answers: `{mxid, sender, token}` signed with a 3PID invite's ephemeral
//! key, for clients that cannot sign themselves (Identity Service API, "Ephemeral invitation
//! signing"). Signed here with the key the caller proved to hold; the server's long-term key
//! signs through the `Signer` port instead.
use crate::signed_json::SignedJson;
use crate::signing::SigningError;
use crate::{InviteToken, SigningKey, UserId, ephemeral_signed_object};

/// `{mxid, sender, token}` signed with an invite's ephemeral key, kept as its exact JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInvite {
    token: InviteToken,
    signed: SignedJson,
}

impl SignedInvite {
    /// `{mxid, sender, token}` signed as `server` with the invite's ephemeral `key`.
    ///
    /// # Errors
    /// [`SigningError`] (only for an object without canonical JSON, which these three strings
    /// always have).
    pub fn sign(
        mxid: &UserId,
        sender: &UserId,
        token: &InviteToken,
        server: &str,
        key: &SigningKey,
    ) -> Result<Self, SigningError> {
        let object = ephemeral_signed_object(mxid, sender, token);
        Ok(Self {
            token: token.clone(),
            signed: SignedJson::sign(&object, server, key)?,
        })
    }

    /// The invite's token.
    pub fn token(&self) -> &InviteToken {
        &self.token
    }

    /// The signed JSON.
    pub fn signed(&self) -> &SignedJson {
        &self.signed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyId;

    #[test]
    fn the_three_fields_are_signed_and_verify_with_the_ephemeral_key() {
        let key = SigningKey::from_seed(KeyId::ephemeral(), &[5; 32]);
        let token = InviteToken::parse("tok").unwrap();
        let signed = SignedInvite::sign(
            &UserId::parse("@ginger:example.com").unwrap(),
            &UserId::parse("@inviter:example.org").unwrap(),
            &token,
            "id.example.org",
            &key,
        )
        .unwrap();
        assert_eq!(signed.signed().signed_keys(), ["mxid", "sender", "token"]);
        signed
            .signed()
            .verify("id.example.org", key.id(), &key.public_key())
            .unwrap();
        assert_eq!(signed.token(), &token);
    }
}
