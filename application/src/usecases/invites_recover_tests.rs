//! Queueing, at start, the pending invites of addresses that are bound already (a bind cut short
//! between storing its binding and queueing its invites).
use std::sync::atomic::Ordering;

use pretty_assertions::assert_eq;
use verity_domain::Invite;

use crate::ports::driven::InviteStore as _;

use super::*;

/// An invite for `address` with its own token, as an earlier store-invite left it.
fn pending(n: usize, address: &str) -> Invite {
    Invite {
        token: InviteToken::parse(&format!("tok{n:05}")).unwrap(),
        threepid: email(address),
        room_id: "!room:example.org".into(),
        sender: user("@inviter:example.org"),
        ephemeral_key: Some(ephemeral().public_key()),
        created_at: Timestamp::from_millis(NOW),
        expires_at: None,
        delivery: None,
    }
}

#[tokio::test]
async fn a_pending_invite_of_an_address_bound_before_a_crash_is_queued_for_the_bound_user() {
    let world = World::new();
    world
        .backend
        .set(&binding("ginger@example.com", "@ginger:example.com"));
    let (service, store, _, wakes) = world.service();
    let invite = pending(1, "ginger@example.com");
    store.insert(&invite).await.unwrap();

    assert_eq!(service.queue_invites_of_bound_addresses().await.unwrap(), 1);
    let delivery = store.get(&invite.token).unwrap().delivery.unwrap();
    assert_eq!(delivery.mxid, user("@ginger:example.com"));
    assert_eq!(delivery.state, DeliveryState::Due);
    assert_eq!(delivery.signed.to_value()["token"], invite.token.as_str());
    assert_eq!(delivery.signed.to_value()["mxid"], "@ginger:example.com");
    assert_eq!(wakes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn invites_of_unbound_addresses_and_invites_already_queued_are_left_as_they_are() {
    let world = World::new();
    world
        .backend
        .set(&binding("ginger@example.com", "@ginger:example.com"));
    let (service, store, _, wakes) = world.service();
    let unbound = pending(1, "nobody@example.com");
    let queued = pending(2, "ginger@example.com");
    store.insert(&unbound).await.unwrap();
    store.insert(&queued).await.unwrap();
    service
        .on_bind(&queued.threepid, &user("@ginger:example.com"))
        .await
        .unwrap();
    let before = store.get(&queued.token).unwrap().delivery;

    assert_eq!(service.queue_invites_of_bound_addresses().await.unwrap(), 0);
    assert_eq!(store.get(&unbound.token).unwrap().delivery, None);
    assert_eq!(store.get(&queued.token).unwrap().delivery, before);
    // Woken once, by the bind; not by the walk, which queued nothing.
    assert_eq!(wakes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn every_page_of_pending_invites_is_walked_and_each_invite_queued_once() {
    let world = World::new();
    let count = 250;
    for n in 0..count {
        world.backend.set(&binding(
            &format!("a{}@example.com", n % 120),
            "@ginger:example.com",
        ));
    }
    let (service, store, _, _) = world.service();
    for n in 0..count {
        store
            .insert(&pending(n, &format!("a{}@example.com", n % 120)))
            .await
            .unwrap();
    }

    assert_eq!(
        service.queue_invites_of_bound_addresses().await.unwrap(),
        count
    );
    assert!(store.all().iter().all(|invite| invite.delivery.is_some()));
    assert_eq!(service.queue_invites_of_bound_addresses().await.unwrap(), 0);
}
