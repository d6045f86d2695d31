//! A signed association (the object `/3pid/bind` and the v1 lookup answer), kept as its exact
//! signed JSON: the association it vouches for, read from it, and the text the signers signed,
//! which is what is handed out. An association another server signed (sydent's `sgAssoc`, a
//! remote server's bind answer) thus keeps verifying after it passed through here, whatever
//! fields it carries beyond the association's own.
use serde_json::Value;

use crate::signed_json::{InvalidSignedJson, SignatureRef, SignedJson};
use crate::signing::SigningError;
use crate::{Association, Medium, ThreePid, Timestamp, UserId};

/// Why a signed association was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a signed association: {0}")]
pub struct InvalidSignedAssociation(pub String);

impl From<InvalidSignedJson> for InvalidSignedAssociation {
    fn from(error: InvalidSignedJson) -> Self {
        Self(error.0)
    }
}

/// A signed association JSON object: the association's fields (and any others the signing server
/// added, such as `invites`) with a `signatures` object, kept as it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAssociation {
    association: Association,
    signed: SignedJson,
}

impl SignedAssociation {
    /// Parses `json`: an object with `medium`, `address`, `mxid`, `ts`, `not_before`,
    /// `not_after` and a non-empty `signatures` object.
    ///
    /// # Errors
    /// [`InvalidSignedAssociation`] naming what is missing or malformed.
    pub fn parse(json: &str) -> Result<Self, InvalidSignedAssociation> {
        Self::from_signed_json(SignedJson::parse(json)?)
    }

    /// The association `signed` vouches for.
    ///
    /// # Errors
    /// [`InvalidSignedAssociation`] naming what is missing or malformed.
    pub fn from_signed_json(signed: SignedJson) -> Result<Self, InvalidSignedAssociation> {
        let value = signed.to_value();
        let text = |name: &str| {
            value
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| InvalidSignedAssociation(format!("no string `{name}`")))
        };
        let millis = |name: &str| {
            value
                .get(name)
                .and_then(Value::as_u64)
                .map(Timestamp::from_millis)
                .ok_or_else(|| InvalidSignedAssociation(format!("no integer `{name}`")))
        };
        let invalid = |what: &str| InvalidSignedAssociation(what.to_owned());
        let medium = Medium::parse(text("medium")?).map_err(|_| invalid("unknown medium"))?;
        let threepid =
            ThreePid::parse(medium, text("address")?).map_err(|_| invalid("invalid address"))?;
        let user_id = UserId::parse(text("mxid")?).map_err(|_| invalid("invalid mxid"))?;
        Ok(Self {
            association: Association {
                threepid,
                user_id,
                ts: millis("ts")?,
                not_before: millis("not_before")?,
                not_after: millis("not_after")?,
            },
            signed,
        })
    }

    /// What a signer made of `association`'s object: checked to vouch for exactly
    /// `association`, so a signer can add signatures but never change what is vouched for.
    ///
    /// # Errors
    /// [`SigningError::Altered`] when it vouches for something else, or for nothing.
    pub fn signed_by(association: &Association, signed: SignedJson) -> Result<Self, SigningError> {
        match Self::from_signed_json(signed) {
            Ok(made) if made.association == *association => Ok(made),
            _ => Err(SigningError::Altered),
        }
    }

    /// The association it vouches for.
    pub fn association(&self) -> &Association {
        &self.association
    }

    /// The signed JSON.
    pub fn signed(&self) -> &SignedJson {
        &self.signed
    }

    /// The JSON as it was signed (or stored, or received).
    pub fn as_str(&self) -> &str {
        self.signed.as_str()
    }

    /// The JSON object (parsed again: it was checked to be one).
    pub fn to_value(&self) -> Value {
        self.signed.to_value()
    }

    /// The member names the signatures cover, sorted.
    pub fn signed_keys(&self) -> Vec<String> {
        self.signed.signed_keys()
    }

    /// Who signed it, with which key.
    pub fn signatures(&self) -> Vec<SignatureRef> {
        self.signed.signatures()
    }

    /// The fields beyond the association's own and `signatures`, sorted (sydent 2.6.1 signed a
    /// stale `invites` list, other users' invite tokens included, into later associations).
    pub fn extra_fields(&self) -> Vec<String> {
        const OWN: [&str; 7] = [
            "address",
            "medium",
            "mxid",
            "not_after",
            "not_before",
            "signatures",
            "ts",
        ];
        self.signed
            .to_object()
            .keys()
            .into_iter()
            .filter(|key| !OWN.contains(&key.as_str()))
            .collect()
    }

    /// Whether `server` is among the signers.
    pub fn is_signed_by(&self, server: &str) -> bool {
        self.signed.is_signed_by(server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{JsonObject, KeyId, SigningKey};

    const SYDENT: &str = r#"{"address":"alice@example.org","medium":"email","mxid":"@alice:example.org","not_after":4920825600000,"not_before":1767225600000,"signatures":{"id.example.org":{"ed25519:0":"c2ln"}},"ts":1767225600000}"#;

    #[test]
    fn sydents_sg_assoc_parses_and_is_kept_verbatim() {
        let signed = SignedAssociation::parse(SYDENT).unwrap();
        assert_eq!(signed.as_str(), SYDENT);
        assert_eq!(signed.association().ts.as_millis(), 1_767_225_600_000);
        assert_eq!(signed.association().user_id.as_str(), "@alice:example.org");
        assert!(signed.is_signed_by("id.example.org"));
        assert!(!signed.is_signed_by("other.example.org"));
        assert!(signed.extra_fields().is_empty());
        assert_eq!(
            signed.signatures(),
            [SignatureRef {
                server: "id.example.org".to_owned(),
                key_id: "ed25519:0".to_owned()
            }]
        );
    }

    #[test]
    fn fields_beyond_the_associations_own_are_named_and_signed() {
        let with_invites = SYDENT.replacen('{', r#"{"invites":[{"token":"t"}],"#, 1);
        let signed = SignedAssociation::parse(&with_invites).unwrap();
        assert_eq!(signed.extra_fields(), ["invites"]);
        assert!(signed.signed_keys().contains(&"invites".to_owned()));
        assert_eq!(signed.as_str(), with_invites);
    }

    #[test]
    fn an_object_without_signatures_or_fields_is_refused() {
        for bad in [
            "[]",
            "{",
            r#"{"address":"a@b.c","medium":"email","mxid":"@a:b.c","ts":1,"not_before":1,"not_after":2}"#,
            r#"{"address":"a@b.c","medium":"email","mxid":"@a:b.c","ts":1,"not_before":1,"not_after":2,"signatures":{}}"#,
            r#"{"address":"a@b.c","medium":"email","mxid":"@a:b.c","ts":1,"not_before":1,"signatures":{"s":{}}}"#,
            r#"{"address":"a@b.c","medium":"email","mxid":"alice","ts":1,"not_before":1,"not_after":2,"signatures":{"s":{}}}"#,
        ] {
            assert!(SignedAssociation::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_signer_may_add_its_signature_but_not_change_the_association() {
        let stored = SignedAssociation::parse(SYDENT).unwrap();
        let key = SigningKey::from_seed(KeyId::parse("ed25519:1").unwrap(), &[3; 32]);
        let countersigned =
            SignedJson::sign(&stored.signed().to_object(), "new.example.org", &key).unwrap();
        let made = SignedAssociation::signed_by(stored.association(), countersigned).unwrap();
        assert!(made.is_signed_by("id.example.org") && made.is_signed_by("new.example.org"));

        let other = SYDENT.replace("@alice:", "@mallory:");
        let altered = SignedJson::sign(&JsonObject::parse(&other).unwrap(), "s", &key).unwrap();
        assert_eq!(
            SignedAssociation::signed_by(stored.association(), altered),
            Err(SigningError::Altered)
        );
    }
}
