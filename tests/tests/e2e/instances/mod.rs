//! Three `verity` processes on one PostgreSQL database behind the tests' own round-robin client
//! ([`Cluster`]), as docs/instances.md sets them up: every flow crosses instances, one instance
//! is killed (SIGKILL) mid-flow, and what the page promises must still hold: a session made
//! through one instance validates and binds through the others, each pending invite is delivered
//! once however many instances retry, a bind is in every instance's hashed lookups within the
//! stated bound under one pepper, and logout and limits behave as documented.
//!
//! PostgreSQL only (the deployment the page is about): with `VERITY_TEST_POSTGRES_URL` unset
//! the tests pass with a note, unless `CI` is set; set but unreachable, they fail.
use std::time::{Duration, Instant};

use verity_tests::client::types;
use verity_tests::{Backend, Cluster, Deployment, Peers, Verity};

use crate::crash_safety::{WAIT, next_mailed_link, open, registered_token as register};

mod accounts;
mod invites;
mod sessions;

/// How many instances run.
const INSTANCES: usize = 3;

/// What every cluster runs with: a short homeserver timeout, so that a killed instance's claim
/// on an invite delivery (four times the timeout) runs out within a test.
const BASE: &str = "federation:\n  timeout: 2s\n";

/// Limits off: the tests send bursts from one address (the limits test sets its own).
const NO_LIMITS: &str = "ratelimit:\n  enabled: false\n";

/// The lease a claim on a delivery gets with [`BASE`]: four times `federation.timeout`.
const LEASE: Duration = Duration::from_secs(8);

/// The peers and `INSTANCES` instances without limits on a fresh PostgreSQL database, or `None`
/// when PostgreSQL is not configured (outside CI).
async fn cluster(extra_yaml: &str) -> Option<(Cluster, Peers)> {
    cluster_with(NO_LIMITS, extra_yaml).await
}

/// [`cluster`] with `limits` (a `ratelimit` section) instead of none.
async fn cluster_with(limits: &str, extra_yaml: &str) -> Option<(Cluster, Peers)> {
    verity_tests::postgres_url()?;
    let peers = Peers::start().await;
    let yaml = format!("{}{BASE}{limits}{extra_yaml}", peers.yaml());
    let deployment = Deployment::new(Backend::Postgres, &yaml).await;
    Some((Cluster::start(deployment, INSTANCES).await, peers))
}

/// `requestToken` (v1, no account) through `verity`; the sid.
async fn request_token(verity: &Verity, email: &str, secret: &str) -> String {
    crate::crash_safety::request_token(verity.client(), email, secret, 1)
        .await
        .unwrap_or_else(|error| panic!("requestToken through {}: {error}", verity.base_url))
}

/// The token of the next emailed validation link, checked to be `sid`'s.
async fn mailed_token(peers: &Peers, sid: &str) -> String {
    let mailed = next_mailed_link(peers).await;
    assert_eq!(mailed.sid, sid, "the link is the session's");
    mailed.token
}

/// `submitToken` (v1 POST) through `verity`.
async fn submit_token(verity: &Verity, sid: &str, secret: &str, token: &str) {
    let answer = verity
        .client()
        .email_submit_token_post_v1(&types::TokenSubmission {
            sid: sid.into(),
            client_secret: secret.into(),
            token: token.into(),
        })
        .await
        .unwrap_or_else(|error| panic!("submitToken through {}: {error}", verity.base_url))
        .into_inner();
    assert!(answer.success, "submitToken through {}", verity.base_url);
}

/// A validated session of `email`: requested through one instance, its link opened through
/// the next, as a user whose browser reaches another instance than their client did.
async fn validated(cluster: &Cluster, peers: &Peers, email: &str, secret: &str) -> String {
    let sid = request_token(cluster.next().1, email, secret).await;
    let mailed = next_mailed_link(peers).await;
    assert_eq!(mailed.sid, sid);
    assert_eq!(open(cluster.next().1, &mailed.link).await, 200);
    sid
}

/// `bind` (v1) through `verity`.
async fn bind(verity: &Verity, sid: &str, secret: &str, mxid: &str) {
    verity
        .client()
        .bind_v1(&types::BindRequest {
            sid: sid.into(),
            client_secret: secret.into(),
            mxid: mxid.into(),
        })
        .await
        .unwrap_or_else(|error| panic!("bind through {}: {error}", verity.base_url));
}

/// The HTTP status of a generated client's answer (200 for any success).
fn status<T, E>(answer: Result<T, verity_tests::client::Error<E>>) -> u16 {
    match answer {
        Ok(_) => 200,
        Err(error) => error.status().map_or(0, |s| s.as_u16()),
    }
}

/// Polls `check` every 50 ms until it holds; how long that took. Panics with `what` after
/// `deadline`.
async fn within<F, Fut>(deadline: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < deadline,
            "{what} not within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `mxid` of `verity`'s v1 lookup of the email address (`null` when unbound).
async fn v1_mxid(verity: &Verity, address: &str) -> serde_json::Value {
    let answer = verity
        .client()
        .lookup_v1(address, "email")
        .await
        .expect("v1 lookup")
        .into_inner();
    serde_json::to_value(answer).expect("JSON")["mxid"].clone()
}

/// Waits for an email (an invite's, here) and drops it.
async fn skip_mail(peers: &Peers) {
    peers.smtp.wait_for_mail(WAIT).await.expect("an email");
}
