//! An association as the server that made it signed it at bind time (sydent's `sgAssoc`), kept
//! verbatim: the v1 lookup hands out exactly what that server signed, so signatures that
//! homeservers stored keep verifying after a migration.
use serde_json::{Map, Value};

use crate::{Association, Medium, ThreePid, Timestamp, UserId};

/// Why a stored signed association was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a signed association: {0}")]
pub struct InvalidSignedAssociation(pub String);

/// A signed association JSON object: the association's fields (and any others the signing server
/// added) with a `signatures` object, kept as it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAssociation {
    association: Association,
    json: String,
}

impl SignedAssociation {
    /// Parses `json`: an object with `medium`, `address`, `mxid`, `ts`, `not_before`,
    /// `not_after` and a non-empty `signatures` object.
    ///
    /// # Errors
    /// [`InvalidSignedAssociation`] naming what is missing or malformed.
    pub fn parse(json: &str) -> Result<Self, InvalidSignedAssociation> {
        let invalid = |what: &str| InvalidSignedAssociation(what.to_owned());
        let value: Value = serde_json::from_str(json).map_err(|_| invalid("not JSON"))?;
        let object = value
            .as_object()
            .ok_or_else(|| invalid("not a JSON object"))?;
        let text = |name: &str| {
            object
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| InvalidSignedAssociation(format!("no string `{name}`")))
        };
        let millis = |name: &str| {
            object
                .get(name)
                .and_then(Value::as_u64)
                .map(Timestamp::from_millis)
                .ok_or_else(|| InvalidSignedAssociation(format!("no integer `{name}`")))
        };
        let medium = Medium::parse(text("medium")?).map_err(|_| invalid("unknown medium"))?;
        let threepid =
            ThreePid::parse(medium, text("address")?).map_err(|_| invalid("invalid address"))?;
        let user_id = UserId::parse(text("mxid")?).map_err(|_| invalid("invalid mxid"))?;
        let signed = object
            .get("signatures")
            .and_then(Value::as_object)
            .is_some_and(|signatures| !signatures.is_empty());
        if !signed {
            return Err(invalid("no signatures"));
        }
        Ok(Self {
            association: Association {
                threepid,
                user_id,
                ts: millis("ts")?,
                not_before: millis("not_before")?,
                not_after: millis("not_after")?,
            },
            json: json.to_owned(),
        })
    }

    /// The association it vouches for.
    pub fn association(&self) -> &Association {
        &self.association
    }

    /// The JSON as it was stored.
    pub fn as_str(&self) -> &str {
        &self.json
    }

    /// The JSON object (parsed again: it was checked to be one).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&self.json).unwrap_or_else(|_| Value::Object(Map::new()))
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
        let mut extra: Vec<String> = self
            .to_value()
            .as_object()
            .map(|object| {
                object
                    .keys()
                    .filter(|key| !OWN.contains(&key.as_str()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        extra.sort();
        extra
    }

    /// Whether `server` is among the signers.
    pub fn is_signed_by(&self, server: &str) -> bool {
        self.to_value()
            .get("signatures")
            .and_then(|signatures| signatures.get(server))
            .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn fields_beyond_the_associations_own_are_named() {
        let with_invites = SYDENT.replacen('{', r#"{"invites":[{"token":"t"}],"#, 1);
        let signed = SignedAssociation::parse(&with_invites).unwrap();
        assert_eq!(signed.extra_fields(), ["invites"]);
    }

    #[test]
    fn an_object_without_signatures_or_fields_is_refused() {
        for bad in [
            "[]",
            "{",
            r#"{"address":"a@b.c","medium":"email","mxid":"@a:b.c","ts":1,"not_before":1,"not_after":2}"#,
            r#"{"address":"a@b.c","medium":"email","mxid":"@a:b.c","ts":1,"not_before":1,"signatures":{"s":{}}}"#,
            r#"{"address":"a@b.c","medium":"email","mxid":"alice","ts":1,"not_before":1,"not_after":2,"signatures":{"s":{}}}"#,
        ] {
            assert!(SignedAssociation::parse(bad).is_err(), "{bad}");
        }
    }
}
