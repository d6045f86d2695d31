//! SIGKILL while `requestToken` calls wait for the SMTP server's answer to their message.
use pretty_assertions::assert_eq;

use super::{MailedLink, Store, WAIT, deployment, next_mailed_link, open, request_token, validate};
use verity_tests::Backend;
use verity_tests::client::{Error, types};

/// Sessions answered before the kill.
const ANSWERED: usize = 3;
/// `requestToken` calls in flight when the kill comes, each in the middle of its SMTP exchange.
const IN_FLIGHT: usize = 6;

fn answered_email(i: usize) -> String {
    format!("answered{i}@example.org")
}

fn cut_email(i: usize) -> String {
    format!("cut{i}@example.org")
}

async fn request_token_killed_mid_send(backend: Backend) {
    let (deployment, peers) = deployment(backend).await;
    let verity = deployment.start().await;
    let mut answered = Vec::new();
    for i in 0..ANSWERED {
        let secret = format!("secretAnswered{i}");
        let sid = request_token(verity.client(), &answered_email(i), &secret, 1)
            .await
            .expect("requestToken");
        let mailed = next_mailed_link(&peers).await;
        assert_eq!(mailed.sid, sid);
        answered.push((secret, mailed));
    }

    // Many requests, each held by the SMTP server after it took the message, before its 250.
    peers.smtp.hold_replies_to_data();
    let calls: Vec<_> = (0..IN_FLIGHT)
        .map(|i| {
            let client = verity.client().clone();
            tokio::spawn(async move {
                request_token(&client, &cut_email(i), &format!("secretCut{i}"), 1).await
            })
        })
        .collect();
    peers.smtp.wait_for_held_data(IN_FLIGHT, WAIT).await;
    verity.kill();
    for call in calls {
        let answer = call.await.expect("the call's task");
        assert!(answer.is_err(), "answered after the kill: {answer:?}");
    }
    peers.smtp.release_replies_to_data();
    // The messages the SMTP server took: their links name sessions nobody was told about.
    let mut cut = Vec::new();
    for _ in 0..IN_FLIGHT {
        cut.push(next_mailed_link(&peers).await);
    }

    let verity = deployment.start().await;
    let store = Store::open(&deployment).await;
    store.assert_intact().await;
    assert_eq!(
        store
            .count("SELECT COUNT(*) AS n FROM verity_session")
            .await,
        ANSWERED as i64,
        "only the answered sessions were stored"
    );

    for (i, (secret, mailed)) in answered.iter().enumerate() {
        // The same secret and send_attempt resume the session: same sid, no second message.
        let sent = peers.smtp.received().len();
        let sid = request_token(verity.client(), &answered_email(i), secret, 1)
            .await
            .expect("requestToken again");
        assert_eq!(sid, mailed.sid);
        assert_eq!(peers.smtp.received().len(), sent, "nothing sent again");
        // The token mailed before the kill validates the session.
        assert_eq!(open(&verity, &mailed.link).await, 200);
        let validated = verity
            .client()
            .get_validated3pid_v1(secret, &mailed.sid)
            .await
            .expect("the session is validated")
            .into_inner();
        assert_eq!(validated.address, answered_email(i));
    }

    for (i, mailed) in cut.iter().enumerate() {
        let MailedLink { sid, token, .. } = mailed;
        let secret = format!("secretCut{i}");
        // The mail went out but its session was never stored: its link finds none.
        let body = types::TokenSubmission {
            sid: sid.clone(),
            client_secret: secret.clone(),
            token: token.clone(),
        };
        // v1 answers a refusal with 200 `success: false` (as sydent) or with an error status.
        let errcode = match verity.client().email_submit_token_post_v1(&body).await {
            Ok(answer) => answer.into_inner().errcode,
            Err(Error::ErrorResponse(error)) => Some(error.into_inner().errcode),
            Err(other) => panic!("{other}"),
        };
        assert_eq!(errcode.as_deref(), Some("M_NO_VALID_SESSION"));
        // The client's retry (same secret and send_attempt) starts afresh: a new session and
        // one new message, which validates it.
        let retried = validate(&verity, &peers, &cut_email(i), &secret).await;
        assert_ne!(&retried, sid);
    }

    // One session per (address, secret): nothing doubled by the crash or the retries.
    assert_eq!(
        store
            .count(
                "SELECT COUNT(*) AS n FROM (SELECT medium, address, client_secret FROM \
                 verity_session GROUP BY medium, address, client_secret HAVING COUNT(*) > 1) d"
            )
            .await,
        0
    );
    assert_eq!(
        store
            .count("SELECT COUNT(*) AS n FROM verity_session")
            .await,
        (ANSWERED + IN_FLIGHT) as i64
    );
    verity.kill();
}

#[tokio::test]
async fn sigkill_during_request_token_keeps_every_answered_session_and_stores_no_unanswered_one() {
    request_token_killed_mid_send(Backend::Sqlite).await;
}

#[tokio::test]
async fn sigkill_during_request_token_on_postgresql_keeps_every_answered_session() {
    if verity_tests::postgres_url().is_none() {
        return;
    }
    request_token_killed_mid_send(Backend::Postgres).await;
}
