//! Pending invites delivered by three instances that all retry: each exactly once, and an
//! instance killed while its delivery is failing leaves the invite to the others once its claim
//! runs out.
use std::collections::BTreeMap;
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::Value;
use verity_tests::Cluster;

use super::{LEASE, bind, cluster, skip_mail, validated, within};
use crate::crash_safety::{Store, WAIT};
use crate::invites::invite_request;

/// Long enough for every instance to poll (each once a second) a few times.
const QUIET: Duration = Duration::from_secs(3);

/// The invite tokens of an onbind call.
fn tokens(call: &Value) -> Vec<String> {
    call["invites"]
        .as_array()
        .expect("invites")
        .iter()
        .map(|invite| {
            invite["signed"]["token"]
                .as_str()
                .expect("token")
                .to_owned()
        })
        .collect()
}

/// Stores an invite for `address` through the next instance; its token.
async fn invite(cluster: &Cluster, peers: &verity_tests::Peers, address: &str) -> String {
    let stored = cluster
        .next()
        .1
        .client()
        .store_invite_v1(&invite_request(address))
        .await
        .expect("store-invite")
        .into_inner();
    skip_mail(peers).await;
    stored.token
}

/// Waits until the store has `count` invites in state `delivered`.
async fn delivered(store: &Store, count: usize, deadline: Duration) {
    let sql = "SELECT COUNT(*) AS n FROM verity_invite WHERE delivery_state = 'delivered'";
    let took = within(deadline, "every invite recorded as delivered", || async {
        store.count(sql).await == count as i64
    })
    .await;
    eprintln!("{count} invite(s) recorded as delivered after {took:?}");
}

#[tokio::test]
async fn each_pending_invite_is_delivered_exactly_once_while_every_instance_retries() {
    const INVITES: usize = 6;
    let Some((cluster, peers)) = cluster("").await else {
        return;
    };
    let store = Store::open(cluster.deployment()).await;
    let mut expected = BTreeMap::new();
    for n in 0..INVITES {
        expected.insert(
            invite(&cluster, &peers, &format!("guest{n}@example.org")).await,
            1,
        );
    }
    // Each first attempt fails, so the retries come due while all three instances poll; each
    // answer takes a while, so an instance that did not claim the invite would send it too.
    peers.homeserver.fail_onbind(INVITES, 500);
    peers.homeserver.slow_onbind(Duration::from_millis(400));
    for n in 0..INVITES {
        let address = format!("guest{n}@example.org");
        let sid = validated(&cluster, &peers, &address, "secretGuest").await;
        bind(
            cluster.next().1,
            &sid,
            "secretGuest",
            &format!("@guest{n}:example.org"),
        )
        .await;
    }
    delivered(&store, INVITES, WAIT * 3).await;
    tokio::time::sleep(QUIET).await;

    // The first INVITES calls failed; after them, each invite in exactly one call.
    let calls = peers.homeserver.onbind_calls();
    let mut times = BTreeMap::new();
    for call in &calls[INVITES.min(calls.len())..] {
        for token in tokens(call) {
            *times.entry(token).or_insert(0) += 1;
        }
    }
    assert_eq!(times, expected, "successful deliveries per invite");
    assert_eq!(calls.len(), 2 * INVITES, "every call, failed ones included");
}

#[tokio::test]
async fn an_instance_killed_while_its_delivery_fails_leaves_the_invite_to_the_others() {
    let Some((mut cluster, peers)) = cluster("").await else {
        return;
    };
    let store = Store::open(cluster.deployment()).await;
    let token = invite(&cluster, &peers, "ginger@example.org").await;
    // The homeserver is down: every instance that claims the invite fails and backs off.
    peers.homeserver.fail_onbind(usize::MAX, 500);
    let sid = validated(&cluster, &peers, "ginger@example.org", "secretGinger").await;
    bind(
        cluster.next().1,
        &sid,
        "secretGinger",
        "@ginger:example.org",
    )
    .await;
    peers.homeserver.wait_for_onbind(2, WAIT).await;

    // The next attempt is held at the homeserver: its instance has the claim; kill it there.
    let claims = |cluster: &Cluster| -> Vec<(usize, usize)> {
        cluster
            .running()
            .map(|(index, verity)| (index, verity.count_logs("invites claimed for delivery")))
            .collect()
    };
    let before = claims(&cluster);
    peers.homeserver.hold_onbind();
    peers.homeserver.wait_for_held_onbind(1, WAIT).await;
    let mut claimer = None;
    within(WAIT, "the claimer's log line", || {
        let now = claims(&cluster);
        claimer = now
            .iter()
            .zip(&before)
            .find(|((_, after), (_, earlier))| after > earlier)
            .map(|((index, _), _)| *index);
        std::future::ready(claimer.is_some())
    })
    .await;
    let claimer = claimer.expect("an instance claimed the held delivery");
    cluster.kill(claimer);
    let failed = peers.homeserver.onbind_calls().len();

    // The homeserver is back. The dead instance's claim holds the invite until it runs out;
    // then one of the others delivers it, once.
    peers.homeserver.fail_onbind(0, 500);
    peers.homeserver.release_onbind();
    delivered(&store, 1, LEASE + WAIT * 2).await;
    tokio::time::sleep(QUIET).await;
    let calls = peers.homeserver.onbind_calls();
    assert_eq!(
        calls.len(),
        failed + 1,
        "one successful call after the kill"
    );
    assert_eq!(tokens(&calls[failed]), [token]);
    let survivors: Vec<usize> = cluster.running().map(|(index, _)| index).collect();
    assert!(!survivors.contains(&claimer));
}
