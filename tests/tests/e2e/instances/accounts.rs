//! Logout and limits across instances, as docs/configuration.md says: a logout is refused at once
//! by the instance that served it and by the others once their copy of the account runs out
//! (`accountConfig.cacheLifetime`); each limit counts per instance, so n instances let a client
//! have n times the burst.
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;

use super::{INSTANCES, cluster, cluster_with, register, status, within};
use crate::crash_safety::WAIT;

#[tokio::test]
async fn a_logout_through_one_instance_is_refused_by_the_others_once_their_cached_account_runs_out()
{
    const CACHE: Duration = Duration::from_secs(2);
    let Some((cluster, peers)) = cluster("accountConfig:\n  cacheLifetime: 2s\n").await else {
        return;
    };
    let token = register(cluster.next().1, &peers, "alice").await;
    // Every instance has read the account, and keeps it.
    for (index, verity) in cluster.running() {
        let answer = verity.client_as(&token).get_account().await;
        assert_eq!(status(answer), 200, "instance {index}");
    }
    let (logged_out_on, verity) = cluster.next();
    verity.client_as(&token).logout().await.expect("logout");
    assert_eq!(status(verity.client_as(&token).get_account().await), 401);
    for (index, verity) in cluster.running() {
        let client = verity.client_as(&token);
        let took = within(CACHE + Duration::from_secs(8), "the logout", || async {
            status(client.get_account().await) == 401
        })
        .await;
        eprintln!(
            "instance {index} refused the token logged out on {logged_out_on} after {took:?}"
        );
    }
}

#[tokio::test]
async fn each_instance_counts_its_own_limits_so_a_client_gets_the_burst_once_per_instance() {
    let limits = "ratelimit:\n  email:\n    requester:\n      burst: 1\n      perSeconds: 3600\n";
    let Some((cluster, peers)) = cluster_with(limits, "").await else {
        return;
    };
    let request = |n: usize| json!({"email": format!("c{n}@example.org"), "client_secret": "secret", "send_attempt": 1});
    let path = "/_matrix/identity/api/v1/validate/email/requestToken";
    let mut answers = Vec::new();
    for n in 0..2 * INSTANCES {
        let (index, verity) = cluster.next();
        let response = verity
            .http()
            .post(verity.url(path))
            .json(&request(n))
            .send()
            .await
            .expect("requestToken");
        answers.push((index, response.status().as_u16()));
    }
    // The first round: each instance's own burst of one, on every instance. The second: each
    // refuses.
    let statuses: Vec<u16> = answers.iter().map(|(_, status)| *status).collect();
    assert_eq!(statuses, [[200; INSTANCES], [429; INSTANCES]].concat());
    let mut first_round: Vec<usize> = answers[..INSTANCES].iter().map(|(i, _)| *i).collect();
    first_round.sort_unstable();
    assert_eq!(first_round, (0..INSTANCES).collect::<Vec<_>>());
    for _ in 0..INSTANCES {
        peers.smtp.wait_for_mail(WAIT).await.expect("a mail");
    }
    assert_eq!(
        peers.smtp.received().len(),
        INSTANCES,
        "a mail per accepted request, none for refused ones"
    );
}
