//! The association between a 3PID and a Matrix user that the identity server vouches for (Identity
//! Service API, "Association lookup" / the object `/3pid/bind` returns), before it is signed.
use std::time::Duration;

use serde_json::{Map, Value};

use crate::{JsonObject, ThreePid, Timestamp, UserId};

/// How long an association stays valid: 100 years (of 365 days), as sydent.
pub const ASSOCIATION_LIFETIME: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// An association of `threepid` with `user_id`, valid from `not_before` to `not_after`, vouched
/// for at `ts` (all in milliseconds, as the specification writes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Association {
    /// The canonical 3PID.
    pub threepid: ThreePid,
    /// The Matrix user.
    pub user_id: UserId,
    /// When the server vouched for it.
    pub ts: Timestamp,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
}

impl Association {
    /// The association vouched for at `now`, with sydent's window: valid from `now` for
    /// [`ASSOCIATION_LIFETIME`] (mxisd's five minutes made signatures that homeservers stored go
    /// stale almost at once).
    pub fn vouched_at(threepid: ThreePid, user_id: UserId, now: Timestamp) -> Self {
        Self {
            threepid,
            user_id,
            ts: now,
            not_before: now,
            not_after: now.saturating_add(ASSOCIATION_LIFETIME),
        }
    }

    /// The object to sign: `address`, `medium`, `mxid`, `not_before`, `not_after` and `ts`.
    pub fn to_json(&self) -> Value {
        Value::Object(self.members())
    }

    /// [`to_json`](Self::to_json) as the object a signer signs.
    pub fn to_object(&self) -> JsonObject {
        JsonObject::from_map(self.members())
    }

    fn members(&self) -> Map<String, Value> {
        let mut members = Map::new();
        members.insert("address".to_owned(), self.threepid.address().into());
        members.insert("medium".to_owned(), self.threepid.medium().as_str().into());
        members.insert("mxid".to_owned(), self.user_id.as_str().into());
        members.insert("not_before".to_owned(), self.not_before.as_millis().into());
        members.insert("not_after".to_owned(), self.not_after.as_millis().into());
        members.insert("ts".to_owned(), self.ts.as_millis().into());
        members
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;
    use crate::{Medium, SigningKey, sign_json, verify_json};

    const NOW: u64 = 1_700_000_000_000;
    /// 100 × 365 × 24 × 3600 × 1000.
    const HUNDRED_YEARS_MS: u64 = 3_153_600_000_000;

    fn association() -> Association {
        Association::vouched_at(
            ThreePid::parse(Medium::Email, "Alice@Example.org").unwrap(),
            UserId::parse("@alice:example.org").unwrap(),
            Timestamp::from_millis(NOW),
        )
    }

    #[test]
    fn the_window_starts_now_and_lasts_a_hundred_years() {
        let association = association();
        assert_eq!(association.ts.as_millis(), NOW);
        assert_eq!(association.not_before.as_millis(), NOW);
        assert_eq!(association.not_after.as_millis(), NOW + HUNDRED_YEARS_MS);
    }

    #[test]
    fn the_json_has_exactly_the_fields_of_the_specification() {
        assert_eq!(
            association().to_json(),
            json!({
                "address": "alice@example.org",
                "medium": "email",
                "mxid": "@alice:example.org",
                "not_before": NOW,
                "not_after": NOW + HUNDRED_YEARS_MS,
                "ts": NOW,
            })
        );
    }

    #[test]
    fn the_json_can_be_signed_and_verified() {
        let key = SigningKey::generate(&[7; 32], Timestamp::from_millis(NOW));
        let mut signed = association().to_json();
        sign_json(&mut signed, "id.example.org", &key).unwrap();
        verify_json(&signed, "id.example.org", key.id(), &key.public_key()).unwrap();
    }
}
