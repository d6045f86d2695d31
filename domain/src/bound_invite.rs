//! A 3PID invite once its address is bound: the entry a bind answers in its `invites` and the
//! homeserver receives in `3pid/onbind` (`{medium, address, mxid, room_id, sender, signed}`),
//! kept as its exact JSON; the onbind body that lists them; and the object a bind signs when it
//! carries them.
use serde_json::{Map, Value};

use crate::association::Association;
use crate::invite::{Invite, InviteToken};
use crate::matrix_ids::UserId;
use crate::signed_json::{JsonObject, SignedJson};
use crate::signing::SigningError;
use crate::threepid::ThreePid;

/// One invite of a bound address as the bind's `invites` and the onbind `invites` list it:
/// `{medium, address, mxid, room_id, sender, signed}`, `signed` being `{mxid, token}` as the
/// identity server signed it (Server-Server API, `3pid/onbind`). Kept as its JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundInvite {
    token: InviteToken,
    object: JsonObject,
}

impl BoundInvite {
    /// The entry of `invite` bound to `mxid`, with `signed` as its `signed` member.
    fn new(invite: &Invite, mxid: &UserId, signed: &SignedJson) -> Self {
        let mut members = Map::new();
        members.insert(
            "medium".to_owned(),
            invite.threepid.medium().as_str().into(),
        );
        members.insert("address".to_owned(), invite.threepid.address().into());
        members.insert("mxid".to_owned(), mxid.as_str().into());
        members.insert("room_id".to_owned(), invite.room_id.as_str().into());
        members.insert("sender".to_owned(), invite.sender.as_str().into());
        members.insert("signed".to_owned(), signed.to_value());
        Self {
            token: invite.token.clone(),
            object: JsonObject::from_map(members),
        }
    }

    /// The invite's token.
    pub fn token(&self) -> &InviteToken {
        &self.token
    }

    /// The entry's JSON text.
    pub fn as_str(&self) -> &str {
        self.object.as_str()
    }

    /// The entry as a JSON object.
    pub fn to_object(&self) -> JsonObject {
        self.object.clone()
    }

    /// The entry as a tree.
    pub fn to_value(&self) -> Value {
        self.object.to_value()
    }
}

impl Invite {
    /// One entry of the onbind `invites` array (and of the bind's `invites`): `{medium, address,
    /// mxid, room_id, sender, signed}`, `signed` being the object [`signed_object`] made and the
    /// server signed.
    ///
    /// [`signed_object`]: Self::signed_object
    pub fn onbind_entry(&self, mxid: &UserId, signed: &SignedJson) -> BoundInvite {
        BoundInvite::new(self, mxid, signed)
    }

    /// The entry of this invite as its recorded delivery names it, once its address is bound.
    pub fn bound_entry(&self) -> Option<BoundInvite> {
        let delivery = self.delivery.as_ref()?;
        Some(self.onbind_entry(&delivery.mxid, &delivery.signed))
    }

    /// What a signer made of [`signed_object`](Self::signed_object) for `mxid`: checked to
    /// vouch for exactly this invite's token and `mxid`, so a signer can add signatures but
    /// never change what is vouched for.
    ///
    /// # Errors
    /// [`SigningError::Altered`] when it names another user or token, or none.
    pub fn signed_by(&self, mxid: &UserId, signed: SignedJson) -> Result<SignedJson, SigningError> {
        let value = signed.to_value();
        let names = |member: &str, expected: &str| {
            value.get(member).and_then(Value::as_str) == Some(expected)
        };
        if names("mxid", mxid.as_str()) && names("token", self.token.as_str()) {
            Ok(signed)
        } else {
            Err(SigningError::Altered)
        }
    }
}

/// The list `invites` as both the bind and onbind write it.
fn invites_member(invites: &[BoundInvite]) -> Value {
    Value::Array(invites.iter().map(BoundInvite::to_value).collect())
}

/// The body of `POST /_matrix/federation/v1/3pid/onbind`: `{medium, address, mxid, invites}`.
pub fn onbind_body(threepid: &ThreePid, mxid: &UserId, invites: &[BoundInvite]) -> JsonObject {
    let mut members = Map::new();
    members.insert("medium".to_owned(), threepid.medium().as_str().into());
    members.insert("address".to_owned(), threepid.address().into());
    members.insert("mxid".to_owned(), mxid.as_str().into());
    members.insert("invites".to_owned(), invites_member(invites));
    JsonObject::from_map(members)
}

/// The object a bind signs: the association, with the pending invites of its 3PID as `invites`
/// when there are any (sydent's shape; no `invites` member when there are none).
pub fn bind_object(association: &Association, invites: &[BoundInvite]) -> JsonObject {
    let object = association.to_object();
    if invites.is_empty() {
        object
    } else {
        object.with_member("invites", invites_member(invites))
    }
}

#[cfg(test)]
#[path = "bound_invite_tests.rs"]
mod tests;
