//! Concurrent requests on one session, through the real service: resends racing wrong codes must
//! never give a guesser more than the attempt cap (issue 13, "Atomic session state").
use pretty_assertions::assert_eq;
use verity_tests::client::{Client, types};
use verity_tests::{Backend, Peers, spawn_app_with};

/// The remote scenarios' secret, so their bind helper works on these sessions too.
use crate::remote_sessions::SECRET;

/// Phone numbers validated here, with a small cap so the race has room on both sides of it.
const CAP: usize = 3;
const CONFIG: &str = "
session:
  maxFailedAttempts: 3
  policy:
    validation:
      forRemote:
        toLocal: true
        toRemote:
          enabled: false
";
/// Wrong codes in flight at once; four resends (send_attempt 2 to 5) race them, few enough to
/// stay within a per-number SMS limit.
const GUESSES: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Accepted,
    Incorrect,
    Locked,
}

async fn request(client: &Client, attempt: u64) -> String {
    client
        .msisdn_request_token_v1(&types::MsisdnTokenRequest {
            client_secret: SECRET.into(),
            country: "GB".into(),
            phone_number: "07911123456".into(),
            send_attempt: attempt.to_string(),
            next_link: None,
        })
        .await
        .expect("requestToken")
        .into_inner()
        .sid
}

/// v1 answers every refused code with 200 `success: false` and `M_TOKEN_INCORRECT`; only the
/// message tells a lock from a wrong code.
async fn submit(client: &Client, sid: &str, token: &str) -> Answer {
    let body = types::TokenSubmission {
        sid: sid.into(),
        client_secret: SECRET.into(),
        token: token.into(),
    };
    let result = client
        .msisdn_submit_token_post_v1(&body)
        .await
        .expect("a v1 submission answers 200")
        .into_inner();
    if result.success {
        return Answer::Accepted;
    }
    assert_eq!(result.errcode.as_deref(), Some("M_TOKEN_INCORRECT"));
    match result.error.as_deref() {
        Some(message) if message.starts_with("Too many") => Answer::Locked,
        _ => Answer::Incorrect,
    }
}

fn code_of(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

async fn the_cap_holds_while_resends_race_wrong_codes(backend: Backend) {
    let peers = Peers::start().await;
    let app = spawn_app_with(backend, &format!("{}{CONFIG}", peers.yaml())).await;
    let sid = request(&app.client, 1).await;
    let code = code_of(&peers.twilio.messages()[0].body);
    let wrong = if code == "000000" { "111111" } else { "000000" };

    // Interleaved so resends start while guesses are in flight. A resend that comes after the
    // lock starts a fresh session (a locked one is not resumed): that is allowed.
    let mut guesses = tokio::task::JoinSet::new();
    let mut resends = tokio::task::JoinSet::new();
    for n in 0..GUESSES {
        let (client, sid) = (app.client.clone(), sid.clone());
        guesses.spawn(async move { submit(&client, &sid, wrong).await });
        if n % (GUESSES / 4) == 0 && resends.len() < 4 {
            let client = app.client.clone();
            let attempt = 2 + resends.len() as u64;
            resends.spawn(async move { request(&client, attempt).await });
        }
    }
    let answers = guesses.join_all().await;
    resends.join_all().await;

    let incorrect = answers.iter().filter(|a| **a == Answer::Incorrect).count();
    assert_eq!(
        (incorrect, answers.len() - incorrect),
        (CAP, GUESSES - CAP),
        "exactly the cap of wrong codes is compared, the rest find the session locked: {answers:?}"
    );
    // The right code, after the race: the session stayed locked.
    assert_eq!(submit(&app.client, &sid, &code).await, Answer::Locked);
}

#[tokio::test]
async fn the_attempt_cap_holds_while_resends_race_wrong_codes() {
    the_cap_holds_while_resends_race_wrong_codes(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_attempt_cap_holds_while_resends_race_wrong_codes_on_postgresql() {
    if verity_tests::postgres_url().is_some() {
        the_cap_holds_while_resends_race_wrong_codes(Backend::Postgres).await;
    }
}

/// The right code submitted more times at once than the cap allows (a link clicked again and
/// again, a client retrying): the first to be counted validates, and every other one, counted or
/// not, is answered as a submission to the validated session. Nothing locks it, and the
/// validation time is the first one.
async fn clicks_of_the_right_code_at_once_all_succeed(backend: Backend) {
    const CLICKS: usize = 8;
    let peers = Peers::start().await;
    let app = spawn_app_with(backend, &format!("{}{CONFIG}", peers.yaml())).await;
    let sid = request(&app.client, 1).await;
    let code = code_of(&peers.twilio.messages()[0].body);
    let mut clicks = tokio::task::JoinSet::new();
    for _ in 0..CLICKS {
        let (client, sid, code) = (app.client.clone(), sid.clone(), code.clone());
        clicks.spawn(async move { submit(&client, &sid, &code).await });
    }
    let answers = clicks.join_all().await;
    assert_eq!(
        answers,
        vec![Answer::Accepted; CLICKS],
        "more clicks than the cap of {CAP}"
    );
    let validated = || async {
        app.client
            .get_validated3pid_v1(&SECRET.to_owned(), &sid)
            .await
            .expect("getValidated3pid")
            .into_inner()
            .validated_at
    };
    let first = validated().await;
    assert_eq!(submit(&app.client, &sid, &code).await, Answer::Accepted);
    assert_eq!(validated().await, first, "validated once");
}

#[tokio::test]
async fn clicks_of_the_right_code_beyond_the_cap_at_once_all_succeed() {
    clicks_of_the_right_code_at_once_all_succeed(Backend::Sqlite).await;
}

#[tokio::test]
async fn clicks_of_the_right_code_beyond_the_cap_at_once_all_succeed_on_postgresql() {
    if verity_tests::postgres_url().is_some() {
        clicks_of_the_right_code_at_once_all_succeed(Backend::Postgres).await;
    }
}

/// The second code of a phone number forced to another server (mxisd's two codes) counts against
/// the same cap as the first: with a cap of 2, the first code and one wrong second code use it
/// up, and the right second code is no longer forwarded.
#[tokio::test]
async fn the_second_sms_code_counts_against_the_same_attempt_cap() {
    let w = crate::remote_sessions::world("session:\n  maxFailedAttempts: 2\n").await;
    let client = &w.local.client;
    let sid = request(client, 1).await;
    let code = |peers: &Peers| code_of(&peers.twilio.messages().pop().expect("a text").body);
    let first = code(&w.peers);
    let moved_on = client
        .msisdn_submit_token_post_v1(&types::TokenSubmission {
            sid: sid.clone(),
            client_secret: SECRET.into(),
            token: first.clone(),
        })
        .await
        .expect("the first code")
        .into_inner();
    assert_eq!(moved_on.errcode.as_deref(), Some("M_MESSAGE_FOR_CLIENT"));
    let second = code(&w.central_peers);
    let wrong = ["000000", "111111", "222222"]
        .into_iter()
        .find(|c| *c != first && *c != second)
        .expect("a wrong code");
    assert_eq!(submit(client, &sid, wrong).await, Answer::Incorrect);
    assert_eq!(submit(client, &sid, &second).await, Answer::Locked);
    assert_eq!(
        crate::remote_sessions::bind(&w.local, &sid, "@dan:example.org")
            .await
            .expect_err("not validated on central")
            .1,
        "M_SESSION_NOT_VALIDATED"
    );
}
