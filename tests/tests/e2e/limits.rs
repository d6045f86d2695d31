//! The abuse limits through the real HTTP service: the 429 answer (body and `Retry-After`), and
//! that a refused request sends nothing; v1 counted by client address, behind trusted proxies
//! only; per destination whoever asks; SMS per country and the hourly budget.
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

pub(crate) const WAIT: Duration = Duration::from_secs(10);
const EMAIL: &str = "/_matrix/identity/api/v1/validate/email/requestToken";
const MSISDN: &str = "/_matrix/identity/api/v1/validate/msisdn/requestToken";

async fn app(limits: &str) -> (TestApp, Peers) {
    let peers = Peers::start().await;
    let app = spawn_app_with(Backend::Sqlite, &format!("{}{limits}", peers.yaml())).await;
    (app, peers)
}

async fn post(app: &TestApp, path: &str, body: Value, client: Option<&str>) -> reqwest::Response {
    let mut request = app.http.post(app.url(path)).json(&body);
    if let Some(client) = client {
        request = request.header("x-forwarded-for", client);
    }
    request.send().await.unwrap()
}

async fn email(app: &TestApp, address: &str, client: Option<&str>) -> reqwest::Response {
    let body = json!({"email": address, "client_secret": "secret", "send_attempt": 1});
    post(app, EMAIL, body, client).await
}

async fn sms(app: &TestApp, number: &str) -> reqwest::Response {
    let body = json!({"country": "GB", "phone_number": number, "client_secret": "secret", "send_attempt": 1});
    post(app, MSISDN, body, None).await
}

/// Asserts a 429 `M_LIMIT_EXCEEDED` whose header and body agree on the wait (also used by
/// limits_endpoints.rs).
pub(crate) async fn assert_refused(response: reqwest::Response) {
    assert_eq!(response.status(), 429);
    let header: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errcode"], "M_LIMIT_EXCEEDED");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    let millis = body["retry_after_ms"].as_u64().unwrap();
    assert!(millis > 0);
    assert_eq!(header, millis.div_ceil(1000));
}

pub(crate) async fn mails(peers: &Peers, count: usize) {
    for _ in 0..count {
        peers.smtp.wait_for_mail(WAIT).await.expect("a mail");
    }
}

#[tokio::test]
async fn a_v1_client_past_its_email_allowance_gets_429_and_no_mail() {
    let (app, peers) = app("ratelimit: {email: {requester: {burst: 2, perSeconds: 3600}}}\n").await;
    assert_eq!(email(&app, "a@example.org", None).await.status(), 200);
    assert_eq!(email(&app, "b@example.org", None).await.status(), 200);
    mails(&peers, 2).await;

    assert_refused(email(&app, "c@example.org", None).await).await;
    // The peer is no trusted proxy: a claimed X-Forwarded-For changes nothing.
    assert_refused(email(&app, "c@example.org", Some("198.51.100.7")).await).await;

    assert_eq!(
        peers.smtp.received().len(),
        2,
        "no mail for refused requests"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let (app, peers) = app("server: {trustedProxies: ['127.0.0.1']}\n\
         ratelimit: {email: {requester: {burst: 1, perSeconds: 3600}}}\n")
    .await;
    let first = Some("198.51.100.7");
    let second = Some("203.0.113.9");
    assert_eq!(email(&app, "a@example.org", first).await.status(), 200);
    assert_refused(email(&app, "b@example.org", first).await).await;
    assert_eq!(email(&app, "b@example.org", second).await.status(), 200);
    mails(&peers, 2).await;
    assert_eq!(peers.smtp.received().len(), 2);
}

#[tokio::test]
async fn one_address_is_protected_whoever_asks() {
    let (app, peers) = app("server: {trustedProxies: ['127.0.0.1']}\n\
         ratelimit: {email: {destination: {burst: 1, perSeconds: 3600}}}\n")
    .await;
    let victim = "victim@example.org";
    assert_eq!(
        email(&app, victim, Some("198.51.100.7")).await.status(),
        200
    );
    mails(&peers, 1).await;
    assert_refused(email(&app, victim, Some("203.0.113.9")).await).await;
    assert_refused(email(&app, "Victim@example.org", Some("192.0.2.1")).await).await;
    assert_eq!(peers.smtp.received().len(), 1);
}

#[tokio::test]
async fn sms_past_the_country_allowance_is_refused_and_not_sent() {
    let (app, peers) = app("ratelimit: {msisdn: {country: {burst: 1, perSeconds: 3600}}}\n").await;
    assert_eq!(sms(&app, "7911123456").await.status(), 200);
    assert_refused(sms(&app, "7911123457").await).await;
    assert_eq!(peers.twilio.messages().len(), 1);
}

#[tokio::test]
async fn the_hourly_sms_budget_refuses_new_sms_sessions_once_spent() {
    let (app, peers) = app("ratelimit: {msisdn: {hourlyBudget: 2}}\n").await;
    assert_eq!(sms(&app, "7911123456").await.status(), 200);
    assert_eq!(sms(&app, "7911123457").await.status(), 200);
    assert_refused(sms(&app, "7911123458").await).await;
    assert_eq!(peers.twilio.messages().len(), 2);
}

#[tokio::test]
async fn limits_are_off_only_when_the_operator_says_so() {
    let (app, peers) =
        app("ratelimit: {enabled: false, email: {requester: {burst: 1, perSeconds: 3600}}}\n")
            .await;
    for address in ["a@example.org", "b@example.org", "c@example.org"] {
        assert_eq!(email(&app, address, None).await.status(), 200);
    }
    mails(&peers, 3).await;
}
