//! The bind hook (signing and queueing pending invites) and the onbind delivery with its
//! backoff.
use std::sync::Arc;
use std::sync::atomic::Ordering;

use pretty_assertions::assert_eq;
use serde_json::json;
use verity_domain::Timestamp;

use super::*;

#[tokio::test]
async fn a_bind_signs_each_pending_invite_records_it_and_wakes_the_worker() {
    let (service, store, _, wakes) = World::new().sending().service();
    stored_invite(&service).await;
    // Another address's invite, left waiting.
    let other = InviteToken::parse("other").unwrap();
    let mut waiting = store.get(&token()).unwrap();
    waiting.token = other.clone();
    waiting.threepid = email("someone@example.com");
    store.invites.lock().unwrap().insert(other.clone(), waiting);
    let mxid = user("@ginger:example.com");
    let entries = service
        .on_bind(&email("ginger@example.com"), &mxid)
        .await
        .unwrap();
    let signed = json!({
        "mxid": "@ginger:example.com",
        "token": token().as_str(),
        "signatures": {"id.example.org": {"ed25519:0": "sig"}},
    });
    assert_eq!(
        entries
            .iter()
            .map(BoundInvite::to_value)
            .collect::<Vec<_>>(),
        vec![json!({
            "medium": "email",
            "address": "ginger@example.com",
            "mxid": "@ginger:example.com",
            "room_id": "!room:example.org",
            "sender": "@inviter:example.org",
            "signed": signed,
        })]
    );
    let delivery = store.get(&token()).unwrap().delivery.unwrap();
    assert_eq!(delivery.mxid, mxid);
    assert_eq!(delivery.signed.to_value(), signed);
    assert_eq!(delivery.state, DeliveryState::Due);
    assert_eq!(delivery.next_attempt, Timestamp::from_millis(NOW));
    assert_eq!(wakes.load(Ordering::SeqCst), 1);
    assert_eq!(store.get(&other).unwrap().delivery, None);
    // A second bind finds nothing left to queue, and does not wake anyone.
    let again = service
        .on_bind(&email("ginger@example.com"), &mxid)
        .await
        .unwrap();
    assert!(again.is_empty());
    assert_eq!(wakes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_signature_that_names_another_user_is_refused_and_nothing_is_queued() {
    let mut world = World::new().sending();
    world.signer = MockSigner::new();
    world.signer.expect_sign().returning(|object| {
        let altered = object
            .with_member("mxid", json!("@mallory:example.com"))
            .with_member(
                "signatures",
                json!({"id.example.org": {"ed25519:0": "sig"}}),
            );
        Ok(verity_domain::SignedJson::parse(altered.as_str()).unwrap())
    });
    let (service, store, _, wakes) = world.service();
    stored_invite(&service).await;
    let error = service
        .on_bind(&email("ginger@example.com"), &user("@ginger:example.com"))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        InviteError::Signing(verity_domain::SigningError::Altered)
    ));
    assert_eq!(store.get(&token()).unwrap().delivery, None);
    assert_eq!(wakes.load(Ordering::SeqCst), 0);
}

/// The onbind calls a fake homeserver received: (server, body).
type Calls = Arc<std::sync::Mutex<Vec<(String, verity_domain::JsonObject)>>>;

/// A world whose homeserver answers with `answers`, in order, recording every call.
fn delivering(answers: Vec<Result<(), HomeserverError>>) -> (World, Calls) {
    let mut world = World::new().sending();
    let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = calls.clone();
    let answers = std::sync::Mutex::new(answers.into_iter());
    world
        .homeserver
        .expect_onbind()
        .returning(move |server, body| {
            recorded
                .lock()
                .unwrap()
                .push((server.to_string(), body.clone()));
            answers.lock().unwrap().next().unwrap_or(Ok(()))
        });
    (world, calls)
}

#[tokio::test]
async fn due_invites_go_to_the_bound_users_homeserver_in_one_onbind_call_and_are_then_delivered() {
    let (world, calls) = delivering(vec![Ok(())]);
    let (service, store, _, _) = world.service();
    stored_invite(&service).await;
    let mxid = user("@ginger:example.com");
    let entries = service
        .on_bind(&email("ginger@example.com"), &mxid)
        .await
        .unwrap();
    let report = service.deliver_due().await.unwrap();
    assert_eq!(
        report,
        DeliveryReport {
            delivered: 1,
            failed: 0,
            abandoned: 0,
            claimed_elsewhere: 0,
        }
    );
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "example.com");
    assert_eq!(
        calls[0].1.to_value(),
        json!({
            "medium": "email",
            "address": "ginger@example.com",
            "mxid": "@ginger:example.com",
            "invites": entries.iter().map(BoundInvite::to_value).collect::<Vec<_>>(),
        })
    );
    let delivery = store.get(&token()).unwrap().delivery.unwrap();
    assert_eq!(delivery.state, DeliveryState::Delivered);
    assert_eq!(
        service.deliver_due().await.unwrap(),
        DeliveryReport::default()
    );
}

#[tokio::test]
async fn a_failed_delivery_waits_twice_as_long_after_each_failure_then_succeeds() {
    let unreachable = || HomeserverError::Unreachable("down".into());
    let (world, calls) = delivering(vec![Err(unreachable()), Err(unreachable()), Ok(())]);
    let (service, store, clock, _) = world.service();
    stored_invite(&service).await;
    service
        .on_bind(&email("ginger@example.com"), &user("@ginger:example.com"))
        .await
        .unwrap();
    assert_eq!(service.deliver_due().await.unwrap().failed, 1);
    let delivery = store.get(&token()).unwrap().delivery.unwrap();
    assert_eq!(
        (delivery.attempts, delivery.next_attempt.as_millis()),
        (1, NOW + 1_000)
    );
    // Not due yet: nothing is sent.
    assert_eq!(
        service.deliver_due().await.unwrap(),
        DeliveryReport::default()
    );
    clock.advance(1_000);
    assert_eq!(service.deliver_due().await.unwrap().failed, 1);
    let delivery = store.get(&token()).unwrap().delivery.unwrap();
    assert_eq!(
        (delivery.attempts, delivery.next_attempt.as_millis()),
        (2, NOW + 3_000)
    );
    clock.advance(2_000);
    assert_eq!(service.deliver_due().await.unwrap().delivered, 1);
    assert_eq!(calls.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn an_expired_invite_is_no_longer_delivered_and_is_purged() {
    let (world, calls) = delivering(vec![Err(HomeserverError::Unreachable("down".into()))]);
    let (service, store, clock, _) = world.service();
    stored_invite(&service).await;
    service
        .on_bind(&email("ginger@example.com"), &user("@ginger:example.com"))
        .await
        .unwrap();
    service.deliver_due().await.unwrap();
    clock.advance(3_600_000);
    assert_eq!(
        service.deliver_due().await.unwrap(),
        DeliveryReport::default()
    );
    assert_eq!(calls.lock().unwrap().len(), 1);
    assert_eq!(service.purge_expired().await.unwrap(), 1);
    assert!(store.all().is_empty());
}

#[tokio::test]
async fn each_invite_is_claimed_for_the_lease_before_its_onbind_call() {
    let mut world = World::new().sending();
    let store = world.store.clone();
    let during_call = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = during_call.clone();
    world.homeserver.expect_onbind().returning(move |_, _| {
        let delivery = store.get(&token()).unwrap().delivery.unwrap();
        seen.lock()
            .unwrap()
            .push((delivery.state, delivery.next_attempt));
        Ok(())
    });
    let (service, store, _, _) = world.service();
    let service = service.with_delivery_lease(std::time::Duration::from_secs(25));
    stored_invite(&service).await;
    service
        .on_bind(&email("ginger@example.com"), &user("@ginger:example.com"))
        .await
        .unwrap();
    assert_eq!(service.deliver_due().await.unwrap().delivered, 1);
    assert_eq!(
        *during_call.lock().unwrap(),
        [(DeliveryState::Due, Timestamp::from_millis(NOW + 25_000))]
    );
    let delivery = store.get(&token()).unwrap().delivery.unwrap();
    assert_eq!(delivery.state, DeliveryState::Delivered);
}

#[tokio::test]
async fn an_invite_another_instance_claimed_after_it_was_read_is_left_to_it_until_its_claim_runs_out()
 {
    let (world, calls) = delivering(vec![Ok(())]);
    let (service, store, clock, _) = world.service();
    stored_invite(&service).await;
    service
        .on_bind(&email("ginger@example.com"), &user("@ginger:example.com"))
        .await
        .unwrap();
    let rival_until = NOW + 40_000;
    *store.rival_claims_until.lock().unwrap() = Some(Timestamp::from_millis(rival_until));
    assert_eq!(
        service.deliver_due().await.unwrap(),
        DeliveryReport {
            claimed_elsewhere: 1,
            ..DeliveryReport::default()
        }
    );
    assert!(calls.lock().unwrap().is_empty());
    // The rival stopped without recording anything: once its claim ran out, this one delivers.
    *store.rival_claims_until.lock().unwrap() = None;
    clock.advance(39_999);
    assert_eq!(
        service.deliver_due().await.unwrap(),
        DeliveryReport::default()
    );
    clock.advance(1);
    assert_eq!(service.deliver_due().await.unwrap().delivered, 1);
    assert_eq!(calls.lock().unwrap().len(), 1);
}
