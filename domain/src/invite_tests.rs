use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;

use super::*;
use crate::{KeyId, Medium, SigningKey, sign_json, verify_json};

fn email(address: &str) -> ThreePid {
    ThreePid::parse(Medium::Email, address).unwrap()
}

fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

fn invite() -> Invite {
    let key = SigningKey::from_seed(KeyId::parse("ed25519:0").unwrap(), &[9; 32]);
    Invite {
        token: InviteToken::parse("tok").unwrap(),
        threepid: email("Ginger@Example.com"),
        room_id: "!room:example.org".into(),
        sender: user("@inviter:example.org"),
        ephemeral_key: Some(key.public_key()),
        created_at: Timestamp::from_millis(1_000),
        expires_at: Some(Timestamp::from_millis(5_000)),
        delivery: None,
    }
}

#[test]
fn a_generated_invite_token_has_the_generated_shape_even_from_a_broken_generator() {
    for pick in [|_| 0, |_| usize::MAX, |n: usize| n - 1] {
        let token = InviteToken::generate(pick);
        assert!(InviteToken::is_generated_shape(token.as_str()));
        assert_eq!(InviteToken::parse(token.as_str()), Ok(token));
    }
}

#[test]
fn invite_tokens_follow_the_spec_charset_and_length() {
    for good in ["a", "AbC.0=_-", &"z".repeat(255)] {
        assert_eq!(InviteToken::parse(good).unwrap().as_str(), good);
    }
    for bad in ["", "a b", "slash/", "é", "new\nline", &"a".repeat(256)] {
        assert_eq!(InviteToken::parse(bad), Err(InvalidInviteToken), "{bad:?}");
    }
}

#[test]
fn generated_tokens_are_128_letters() {
    assert!(InviteToken::is_generated_shape(&"aB".repeat(64)));
    assert!(!InviteToken::is_generated_shape(&"a".repeat(127)));
    assert!(!InviteToken::is_generated_shape(&format!(
        "{}1",
        "a".repeat(127)
    )));
}

#[test]
fn the_display_name_keeps_three_characters_of_each_part_as_sydent() {
    assert_eq!(
        invite_display_name(&email("ginger@example.com"), false),
        "gin...@exa..."
    );
    assert_eq!(invite_display_name(&email("ab@c.de"), false), "a...@c.d...");
    assert_eq!(invite_display_name(&email("a@bcd.io"), false), "...@bcd...");
    assert_eq!(
        invite_display_name(&email("abcd@xyz.io"), false),
        "abc...@xyz..."
    );
    let shown = invite_display_name(&email("alice.secret@private.example"), false);
    assert!(
        !shown.contains("secret") && !shown.contains("private"),
        "{shown}"
    );
}

#[test]
fn the_full_display_name_keeps_the_address_whole_as_mxisd_can() {
    assert_eq!(
        invite_display_name(&email("Ginger@Example.com"), true),
        "ginger@example.com"
    );
}

#[test]
fn long_display_strings_are_cut_with_an_ellipsis() {
    assert_eq!(truncate_display("short", 20), "short");
    assert_eq!(truncate_display(&"é".repeat(20), 20), "é".repeat(20));
    assert_eq!(
        truncate_display(&"x".repeat(31), 30),
        format!("{}...", "x".repeat(30))
    );
}

#[test]
fn the_signed_object_is_the_users_id_and_the_token() {
    let signed = invite().signed_object(&user("@ginger:example.com"));
    assert_eq!(
        signed.as_str(),
        r#"{"mxid":"@ginger:example.com","token":"tok"}"#
    );
}

#[test]
fn the_ephemeral_object_signs_and_verifies_with_the_invite_key() {
    let key = SigningKey::from_seed(KeyId::parse("ed25519:0").unwrap(), &[9; 32]);
    let invite = invite();
    let object =
        ephemeral_signed_object(&user("@ginger:example.com"), &invite.sender, &invite.token);
    assert_eq!(
        object.to_value(),
        json!({"mxid": "@ginger:example.com", "sender": "@inviter:example.org", "token": "tok"})
    );
    let mut object = object.to_value();
    sign_json(&mut object, "id.example.org", &key).unwrap();
    verify_json(&object, "id.example.org", key.id(), &key.public_key()).unwrap();
}

#[test]
fn an_invite_expires_at_its_expiry_and_never_without_one() {
    let mut invite = invite();
    assert!(!invite.is_expired(Timestamp::from_millis(4_999)));
    assert!(invite.is_expired(Timestamp::from_millis(5_000)));
    invite.expires_at = None;
    assert!(!invite.is_expired(Timestamp::from_millis(u64::MAX)));
    assert_eq!(
        invite_expiry(Timestamp::from_millis(1_000), Some(Duration::from_secs(60))),
        Some(Timestamp::from_millis(61_000))
    );
    assert_eq!(invite_expiry(Timestamp::from_millis(1_000), None), None);
}

#[test]
fn retries_wait_twice_as_long_after_each_failure_up_to_an_hour() {
    let waits: Vec<u64> = (1..=5).map(|n| retry_delay(n).as_secs()).collect();
    assert_eq!(waits, [1, 2, 4, 8, 16]);
    assert_eq!(retry_delay(0), FIRST_RETRY_DELAY);
    assert_eq!(retry_delay(13), MAX_RETRY_DELAY);
    assert_eq!(retry_delay(u32::MAX), MAX_RETRY_DELAY);
}

#[test]
fn delivery_states_round_trip_through_their_stored_names() {
    for state in [
        DeliveryState::Due,
        DeliveryState::Delivered,
        DeliveryState::Abandoned,
    ] {
        assert_eq!(DeliveryState::parse(state.as_str()), Some(state));
    }
    assert_eq!(DeliveryState::parse("sent"), None);
}
