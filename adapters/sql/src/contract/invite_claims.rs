//! Claims on invite deliveries: of several instances on one database, exactly one delivers each
//! due invite, and a claim its holder never finished (a crash) runs out by itself. The tasks
//! share a pool of several connections, so on PostgreSQL they are separate sessions racing each
//! other, as separate processes would. Generic because each task needs its own (cloned) handle.
use std::collections::BTreeMap;
use std::sync::Arc;

use pretty_assertions::assert_eq;
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use verity_application::ports::driven::InviteStore;
use verity_domain::{DeliveryState, Invite, InviteToken, Timestamp};

use super::invites::{delivery, invite};

/// Claimers racing for the same invites; more than the pool's connections, so some wait.
const CLAIMERS: usize = 8;
const INVITES: usize = 24;
/// What the delivery worker gives a claim by default: 40 s.
const LEASE: u64 = 40_000;

fn at(millis: u64) -> Timestamp {
    Timestamp::from_millis(millis)
}

fn token(raw: &str) -> InviteToken {
    InviteToken::parse(raw).unwrap()
}

/// Stores an invite of `address` bound to `@a:example.org` and due at `next`.
async fn due_invite(store: &dyn InviteStore, name: &str, address: &str, next: u64) {
    store
        .insert(&invite(name, address, 1_000, None))
        .await
        .unwrap();
    assert!(
        store
            .record_bind(&token(name), &delivery("@a:example.org", next))
            .await
            .unwrap()
    );
}

fn next_attempt(invite: &Invite) -> Timestamp {
    invite.delivery.as_ref().unwrap().next_attempt
}

pub(crate) async fn a_claim_holds_the_invite_until_it_runs_out_and_then_another_may_take_it<S>(
    store: &S,
) where
    S: InviteStore + Clone + 'static,
{
    due_invite(store, "tok", "a@example.org", 2_000).await;
    // Claimed at 3 s until 43 s: gone from `due` and from every other claim meanwhile.
    assert!(
        store
            .claim(&token("tok"), at(2_000), at(43_000))
            .await
            .unwrap()
    );
    assert!(store.due(at(3_000), 10).await.unwrap().is_empty());
    assert!(
        !store
            .claim(&token("tok"), at(2_000), at(44_000))
            .await
            .unwrap()
    );
    assert!(store.due(at(42_999), 10).await.unwrap().is_empty());
    // Its holder never recorded the attempt (a crash): due again when the claim ends, with
    // nothing else changed, and another claimer takes it from the value it now reads.
    let due = store.due(at(43_000), 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(next_attempt(&due[0]), at(43_000));
    let stored = due[0].delivery.as_ref().unwrap();
    assert_eq!((stored.state, stored.attempts), (DeliveryState::Due, 0));
    assert!(
        !store
            .claim(&token("tok"), at(2_000), at(90_000))
            .await
            .unwrap()
    );
    assert!(
        store
            .claim(&token("tok"), at(43_000), at(83_000))
            .await
            .unwrap()
    );
    // A delivered invite, an unbound one and a missing one cannot be claimed.
    store
        .update_delivery(&token("tok"), DeliveryState::Delivered, 0, at(83_000))
        .await
        .unwrap();
    assert!(
        !store
            .claim(&token("tok"), at(83_000), at(99_000))
            .await
            .unwrap()
    );
    store
        .insert(&invite("unbound", "b@example.org", 1_000, None))
        .await
        .unwrap();
    assert!(
        !store
            .claim(&token("unbound"), at(0), at(99_000))
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim(&token("missing"), at(0), at(99_000))
            .await
            .unwrap()
    );
}

pub(crate) async fn concurrent_claims_of_one_invite_let_exactly_one_through<S>(store: &S)
where
    S: InviteStore + Clone + 'static,
{
    due_invite(store, "tok", "a@example.org", 2_000).await;
    let start = Arc::new(Barrier::new(CLAIMERS));
    let mut tasks = JoinSet::new();
    for n in 0..CLAIMERS {
        let (store, start) = (store.clone(), start.clone());
        // Each claimer's clock is a little different, as on different machines.
        let until = at(3_000 + LEASE + n as u64);
        tasks.spawn(async move {
            start.wait().await;
            store.claim(&token("tok"), at(2_000), until).await.unwrap()
        });
    }
    let won = tasks
        .join_all()
        .await
        .into_iter()
        .filter(|won| *won)
        .count();
    assert_eq!(won, 1, "claims that went through");
}

/// One delivery pass of one instance: reads what is due, claims each invite and records each
/// claimed one as delivered; the tokens it delivered.
async fn pass<S: InviteStore>(store: &S, now: u64) -> Vec<String> {
    let mut delivered = Vec::new();
    for invite in store.due(at(now), 100).await.unwrap() {
        let claimed = store
            .claim(&invite.token, next_attempt(&invite), at(now + LEASE))
            .await
            .unwrap();
        if claimed {
            store
                .update_delivery(&invite.token, DeliveryState::Delivered, 0, at(now))
                .await
                .unwrap();
            delivered.push(invite.token.as_str().to_owned());
        }
    }
    delivered
}

pub(crate) async fn concurrent_delivery_passes_deliver_each_due_invite_exactly_once<S>(store: &S)
where
    S: InviteStore + Clone + 'static,
{
    for n in 0..INVITES {
        // Several invites per address and some due later than others.
        let address = format!("user{}@example.org", n % 5);
        due_invite(
            store,
            &format!("tok{n:02}"),
            &address,
            2_000 + (n as u64 % 3),
        )
        .await;
    }
    let start = Arc::new(Barrier::new(CLAIMERS));
    let mut tasks = JoinSet::new();
    for _ in 0..CLAIMERS {
        let (store, start) = (store.clone(), start.clone());
        tasks.spawn(async move {
            start.wait().await;
            pass(&store, 5_000).await
        });
    }
    let mut times: BTreeMap<String, usize> = BTreeMap::new();
    for delivered in tasks.join_all().await {
        for name in delivered {
            *times.entry(name).or_default() += 1;
        }
    }
    let expected: BTreeMap<String, usize> =
        (0..INVITES).map(|n| (format!("tok{n:02}"), 1)).collect();
    assert_eq!(times, expected, "deliveries per invite");
    assert!(store.due(at(10_000_000), 100).await.unwrap().is_empty());
}
