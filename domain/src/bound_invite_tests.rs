use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;
use crate::{KeyId, Medium, SigningKey, Timestamp};

fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

fn invite() -> Invite {
    Invite {
        token: InviteToken::parse("tok").unwrap(),
        threepid: ThreePid::parse(Medium::Email, "Ginger@Example.com").unwrap(),
        room_id: "!room:example.org".into(),
        sender: user("@inviter:example.org"),
        ephemeral_key: None,
        created_at: Timestamp::from_millis(1_000),
        expires_at: None,
        delivery: None,
    }
}

/// `{mxid, token}` with a signature, written with its members out of order.
fn signed() -> SignedJson {
    SignedJson::parse(
        r#"{"token":"tok","signatures":{"id.example.org":{"ed25519:0":"c2ln"}},"mxid":"@ginger:example.com"}"#,
    )
    .unwrap()
}

const ENTRY: &str = r#"{"address":"ginger@example.com","medium":"email","mxid":"@ginger:example.com","room_id":"!room:example.org","sender":"@inviter:example.org","signed":{"mxid":"@ginger:example.com","signatures":{"id.example.org":{"ed25519:0":"c2ln"}},"token":"tok"}}"#;

#[test]
fn an_entry_has_the_spec_fields_written_compactly_with_sorted_members() {
    let entry = invite().onbind_entry(&user("@ginger:example.com"), &signed());
    assert_eq!(entry.as_str(), ENTRY);
    assert_eq!(entry.token().as_str(), "tok");
    assert_eq!(entry.to_object().as_str(), ENTRY);
}

#[test]
fn the_onbind_body_lists_the_entries_as_synapse_reads_them() {
    let mxid = user("@ginger:example.com");
    let entry = invite().onbind_entry(&mxid, &signed());
    let body = onbind_body(&invite().threepid, &mxid, &[entry.clone(), entry]);
    assert_eq!(
        body.as_str(),
        format!(
            r#"{{"address":"ginger@example.com","invites":[{ENTRY},{ENTRY}],"medium":"email","mxid":"@ginger:example.com"}}"#
        )
    );
    let empty = onbind_body(&invite().threepid, &mxid, &[]);
    assert_eq!(empty.to_value()["invites"], json!([]));
}

#[test]
fn an_invite_with_a_delivery_has_the_entry_its_delivery_names() {
    let mut invite = invite();
    assert_eq!(invite.bound_entry(), None);
    invite.delivery = Some(crate::Delivery {
        mxid: user("@ginger:example.com"),
        signed: signed(),
        state: crate::DeliveryState::Due,
        attempts: 0,
        next_attempt: Timestamp::from_millis(1),
    });
    assert_eq!(invite.bound_entry().unwrap().as_str(), ENTRY);
}

#[test]
fn a_bind_object_carries_invites_only_when_there_are_some() {
    let mxid = user("@ginger:example.com");
    let association =
        Association::vouched_at(invite().threepid, mxid.clone(), Timestamp::from_millis(7));
    assert_eq!(bind_object(&association, &[]), association.to_object());
    let entry = invite().onbind_entry(&mxid, &signed());
    let object = bind_object(&association, &[entry]);
    assert_eq!(
        object.as_str(),
        association
            .to_object()
            .with_member(
                "invites",
                json!([serde_json::from_str::<serde_json::Value>(ENTRY).unwrap()])
            )
            .as_str()
    );
    assert!(object.as_str().contains(&format!(r#""invites":[{ENTRY}]"#)));
}

#[test]
fn a_signer_may_sign_the_invite_token_but_not_change_whom_or_what_it_names() {
    let key = SigningKey::from_seed(KeyId::parse("ed25519:0").unwrap(), &[4; 32]);
    let invite = invite();
    let mxid = user("@ginger:example.com");
    let good = SignedJson::sign(&invite.signed_object(&mxid), "id.example.org", &key).unwrap();
    assert_eq!(invite.signed_by(&mxid, good.clone()), Ok(good));
    for other in [
        invite.signed_object(&user("@mallory:example.com")),
        JsonObject::parse(r#"{"mxid":"@ginger:example.com","token":"other"}"#).unwrap(),
        JsonObject::parse(r#"{"token":"tok"}"#).unwrap(),
    ] {
        let altered = SignedJson::sign(&other, "id.example.org", &key).unwrap();
        assert_eq!(invite.signed_by(&mxid, altered), Err(SigningError::Altered));
    }
}
