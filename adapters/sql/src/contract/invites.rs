//! What every [`InviteStore`] must do.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{InviteStore, StoreError};
use verity_domain::{
    Delivery, DeliveryState, Invite, InviteToken, KeyId, SignedJson, SigningKey, Timestamp,
};

use super::accounts::user;
use super::sessions::threepid;

fn at(millis: u64) -> Timestamp {
    Timestamp::from_millis(millis)
}

fn token(raw: &str) -> InviteToken {
    InviteToken::parse(raw).unwrap()
}

/// An invite of `address` made at `created`, expiring at `expires` (ms), key from `seed`.
pub(crate) fn invite(raw_token: &str, address: &str, created: u64, expires: Option<u64>) -> Invite {
    Invite {
        token: token(raw_token),
        threepid: threepid("email", address),
        room_id: "$not-a-room-sigil:example.org".into(),
        sender: user("@inviter:example.org"),
        ephemeral_key: Some(
            SigningKey::from_seed(KeyId::ephemeral(), &[raw_token.len() as u8; 32]).public_key(),
        ),
        created_at: at(created),
        expires_at: expires.map(at),
        delivery: None,
    }
}

pub(crate) fn delivery(mxid: &str, next: u64) -> Delivery {
    Delivery {
        mxid: user(mxid),
        // Members out of order: the store keeps the exact text.
        signed: SignedJson::parse(&format!(
            r#"{{"token":"t","mxid":"{mxid}","signatures":{{"id.example.org":{{"ed25519:0":"c2ln"}}}}}}"#
        ))
        .unwrap(),
        state: DeliveryState::Due,
        attempts: 0,
        next_attempt: at(next),
    }
}

/// A bound invite's delivery, for the operator's cases (`admin.rs`).
pub(crate) fn delivery_for_admin(mxid: &str) -> Option<Delivery> {
    Some(delivery(mxid, 9_000))
}

pub(crate) async fn an_invite_round_trips_with_and_without_expiry_and_delivery(
    store: &dyn InviteStore,
) {
    let mut bound = invite("bound", "b@example.org", 1_000, None);
    bound.delivery = Some(Delivery {
        attempts: 3,
        state: DeliveryState::Abandoned,
        ..delivery("@b:example.org", 9_000)
    });
    let invites = [invite("plain", "a@example.org", 1_000, Some(2_000)), bound];
    for i in &invites {
        store.insert(i).await.unwrap();
    }
    for i in &invites {
        assert_eq!(store.find(&i.token).await.unwrap().as_ref(), Some(i));
    }
    assert_eq!(store.find(&token("missing")).await.unwrap(), None);
}

pub(crate) async fn inserting_an_existing_token_is_a_conflict_and_keeps_the_original(
    store: &dyn InviteStore,
) {
    let original = invite("same", "a@example.org", 1_000, None);
    store.insert(&original).await.unwrap();
    let other = invite("same", "other@example.org", 5_000, None);
    assert!(matches!(
        store.insert(&other).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(store.find(&original.token).await.unwrap(), Some(original));
}

pub(crate) async fn unbound_lists_the_live_unbound_invites_of_the_3pid_oldest_first(
    store: &dyn InviteStore,
) {
    store
        .insert(&invite("newer", "a@example.org", 2_000, None))
        .await
        .unwrap();
    store
        .insert(&invite("older", "a@example.org", 1_000, Some(10_000)))
        .await
        .unwrap();
    store
        .insert(&invite("expired", "a@example.org", 500, Some(3_000)))
        .await
        .unwrap();
    store
        .insert(&invite("elsewhere", "b@example.org", 1_000, None))
        .await
        .unwrap();
    store
        .insert(&invite("bound", "a@example.org", 1_000, None))
        .await
        .unwrap();
    assert!(
        store
            .record_bind(&token("bound"), &delivery("@a:example.org", 1))
            .await
            .unwrap()
    );
    let found: Vec<String> = store
        .unbound(&threepid("email", "a@example.org"), at(3_000))
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.token.as_str().to_owned())
        .collect();
    assert_eq!(found, ["older", "newer"]);
}

pub(crate) async fn record_bind_sets_the_delivery_once(store: &dyn InviteStore) {
    store
        .insert(&invite("tok", "a@example.org", 1_000, None))
        .await
        .unwrap();
    let first = delivery("@a:example.org", 4_000);
    assert!(store.record_bind(&token("tok"), &first).await.unwrap());
    assert!(
        !store
            .record_bind(&token("tok"), &delivery("@b:example.org", 5_000))
            .await
            .unwrap()
    );
    assert!(!store.record_bind(&token("missing"), &first).await.unwrap());
    let stored = store.find(&token("tok")).await.unwrap().unwrap();
    assert_eq!(stored.delivery, Some(first));
}

pub(crate) async fn due_returns_live_due_invites_whose_time_has_come_most_overdue_first(
    store: &dyn InviteStore,
) {
    for (name, next) in [
        ("later", 9_000),
        ("second", 3_000),
        ("first", 2_000),
        ("done", 1_000),
    ] {
        store
            .insert(&invite(name, "a@example.org", 1_000, None))
            .await
            .unwrap();
        store
            .record_bind(&token(name), &delivery("@a:example.org", next))
            .await
            .unwrap();
    }
    store
        .insert(&invite("expired", "a@example.org", 1_000, Some(4_000)))
        .await
        .unwrap();
    store
        .record_bind(&token("expired"), &delivery("@a:example.org", 1_000))
        .await
        .unwrap();
    store
        .insert(&invite("unbound", "a@example.org", 1_000, None))
        .await
        .unwrap();
    store
        .update_delivery(&token("done"), DeliveryState::Delivered, 0, at(1_000))
        .await
        .unwrap();
    let names = |invites: Vec<Invite>| -> Vec<String> {
        invites
            .into_iter()
            .map(|i| i.token.as_str().to_owned())
            .collect()
    };
    assert_eq!(
        names(store.due(at(5_000), 10).await.unwrap()),
        ["first", "second"]
    );
    assert_eq!(names(store.due(at(5_000), 1).await.unwrap()), ["first"]);
    assert_eq!(
        names(store.due(at(3_500), 10).await.unwrap()),
        ["expired", "first", "second"]
    );
}

pub(crate) async fn update_delivery_records_attempts_and_the_next_time(store: &dyn InviteStore) {
    store
        .insert(&invite("tok", "a@example.org", 1_000, None))
        .await
        .unwrap();
    store
        .record_bind(&token("tok"), &delivery("@a:example.org", 1_000))
        .await
        .unwrap();
    store
        .update_delivery(&token("tok"), DeliveryState::Due, 4, at(17_000))
        .await
        .unwrap();
    let d = store
        .find(&token("tok"))
        .await
        .unwrap()
        .unwrap()
        .delivery
        .unwrap();
    assert_eq!(
        (d.state, d.attempts, d.next_attempt),
        (DeliveryState::Due, 4, at(17_000))
    );
    // Unbound or missing invites are left alone, without an error.
    store
        .insert(&invite("unbound", "a@example.org", 1_000, None))
        .await
        .unwrap();
    store
        .update_delivery(&token("unbound"), DeliveryState::Delivered, 1, at(1))
        .await
        .unwrap();
    assert_eq!(
        store
            .find(&token("unbound"))
            .await
            .unwrap()
            .unwrap()
            .delivery,
        None
    );
    store
        .update_delivery(&token("missing"), DeliveryState::Delivered, 1, at(1))
        .await
        .unwrap();
}

pub(crate) async fn an_ephemeral_key_is_in_use_while_its_invite_lives(store: &dyn InviteStore) {
    let live = invite("live", "a@example.org", 1_000, Some(5_000));
    store.insert(&live).await.unwrap();
    let other = invite("other-key", "a@example.org", 1_000, None);
    assert!(
        store
            .ephemeral_key_in_use(&live.ephemeral_key.unwrap(), at(4_999))
            .await
            .unwrap()
    );
    assert!(
        !store
            .ephemeral_key_in_use(&live.ephemeral_key.unwrap(), at(5_000))
            .await
            .unwrap()
    );
    assert!(
        !store
            .ephemeral_key_in_use(&other.ephemeral_key.unwrap(), at(1))
            .await
            .unwrap()
    );
}

pub(crate) async fn purge_deletes_exactly_the_expired_invites_and_delete_removes_one(
    store: &dyn InviteStore,
) {
    store
        .insert(&invite("expired", "a@example.org", 1_000, Some(2_000)))
        .await
        .unwrap();
    store
        .insert(&invite("live", "a@example.org", 1_000, Some(2_001)))
        .await
        .unwrap();
    store
        .insert(&invite("forever", "a@example.org", 1_000, None))
        .await
        .unwrap();
    assert_eq!(store.purge_expired(at(2_000)).await.unwrap(), 1);
    assert_eq!(store.find(&token("expired")).await.unwrap(), None);
    assert!(store.find(&token("live")).await.unwrap().is_some());
    store.delete(&token("live")).await.unwrap();
    store.delete(&token("live")).await.unwrap();
    assert_eq!(store.find(&token("live")).await.unwrap(), None);
    assert!(store.find(&token("forever")).await.unwrap().is_some());
}

pub(crate) async fn concurrent_binds_of_one_invite_record_exactly_one(
    store: &crate::SeaOrmInviteStore,
) {
    store
        .insert(&invite("tok", "a@example.org", 1_000, None))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .record_bind(&token("tok"), &delivery(&format!("@u{n}:example.org"), 1))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut recorded = 0;
    for task in tasks {
        if task.await.unwrap() {
            recorded += 1;
        }
    }
    assert_eq!(recorded, 1);
}

pub(crate) async fn unbound_pages_walk_every_live_unbound_invite_of_every_address_once(
    store: &dyn InviteStore,
) {
    for (raw, address, expires) in [
        ("p05", "b@example.org", None),
        ("p01", "a@example.org", Some(10_000)),
        ("p03", "c@example.org", None),
        ("p02", "a@example.org", Some(3_000)),
        ("p04", "a@example.org", None),
        ("p06", "d@example.org", None),
    ] {
        store
            .insert(&invite(raw, address, 1_000, expires))
            .await
            .unwrap();
    }
    assert!(
        store
            .record_bind(&token("p04"), &delivery("@a:example.org", 1))
            .await
            .unwrap()
    );
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = store.unbound_page(at(3_000), after, 2).await.unwrap();
        assert!(page.len() <= 2, "{page:?}");
        let Some(last) = page.last().map(|i| i.token.clone()) else {
            break;
        };
        walked.extend(page.into_iter().map(|i| i.token.as_str().to_owned()));
        after = Some(last);
    }
    // p02 expired at 3 000, p04 is bound.
    assert_eq!(walked, ["p01", "p03", "p05", "p06"]);
}
