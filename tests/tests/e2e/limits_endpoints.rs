//! The abuse limits limits.rs does not cover, each through the real HTTP service with a tiny
//! allowance: the refusal (429 and `Retry-After`, checked by [`assert_refused`]) and that it
//! changed nothing: no mail or SMS left, no session, invite or binding stored (the store is
//! counted with SQL), no call to the homeserver, no failed attempt counted.
use pretty_assertions::assert_eq;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use verity_tests::{Backend, HOMESERVER, Peers, TestApp, first_link, spawn_app_with};

use crate::limits::{WAIT, assert_refused, mails};

const V1: &str = "/_matrix/identity/api/v1";
const V2: &str = "/_matrix/identity/v2";
/// Behind this proxy each test picks its client address with `X-Forwarded-For`.
const PROXY: &str = "server: {trustedProxies: ['127.0.0.1']}\n";
const CLIENT_A: &str = "198.51.100.7";
const CLIENT_B: &str = "203.0.113.9";
const CLIENT_C: &str = "192.0.2.1";

async fn app(yaml: &str) -> (TestApp, Peers) {
    let peers = Peers::start().await;
    let app = spawn_app_with(Backend::Sqlite, &format!("{}{yaml}", peers.yaml())).await;
    (app, peers)
}

/// Who sends a request: an account's access token, or a client address (through [`PROXY`]).
#[derive(Clone, Copy)]
enum As<'a> {
    Token(&'a str),
    Client(&'a str),
}

/// The request is built at once, so the future borrows nothing (closures can return it).
fn post(
    app: &TestApp,
    who: As<'_>,
    path: &str,
    body: Value,
) -> impl Future<Output = reqwest::Response> + use<> {
    let request = app.http.post(app.url(path)).json(&body);
    let request = match who {
        As::Token(token) => request.bearer_auth(token),
        As::Client(address) => request.header("x-forwarded-for", address),
    };
    async move { request.send().await.unwrap() }
}

async fn ok(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// Registers `@<localpart>:example.org` through the fake homeserver; the access token, or the
/// refusal.
async fn register(app: &TestApp, peers: &Peers, localpart: &str) -> reqwest::Response {
    let openid = format!("openid-{localpart}");
    peers
        .homeserver
        .add_user(&openid, &format!("@{localpart}:{HOMESERVER}"));
    let body = json!({"access_token": openid, "token_type": "Bearer",
        "matrix_server_name": HOMESERVER, "expires_in": 3600});
    post(
        app,
        As::Client(CLIENT_A),
        &format!("{V2}/account/register"),
        body,
    )
    .await
}

async fn token(app: &TestApp, peers: &Peers, localpart: &str) -> String {
    let body = ok(register(app, peers, localpart).await).await;
    body["token"].as_str().unwrap().to_owned()
}

/// Email `requestToken` (v2 with a token, v1 with a client address).
async fn email(app: &TestApp, who: As<'_>, address: &str) -> reqwest::Response {
    let version = if matches!(who, As::Token(_)) { V2 } else { V1 };
    let body = json!({"email": address, "client_secret": "secret", "send_attempt": 1});
    post(
        app,
        who,
        &format!("{version}/validate/email/requestToken"),
        body,
    )
    .await
}

async fn sms(app: &TestApp, client: &str, number: &str) -> reqwest::Response {
    let body = json!({"country": "GB", "phone_number": number, "client_secret": "secret",
        "send_attempt": 1});
    let path = format!("{V1}/validate/msisdn/requestToken");
    post(app, As::Client(client), &path, body).await
}

async fn invite(app: &TestApp, who: As<'_>, sender: &str, address: &str) -> reqwest::Response {
    let version = if matches!(who, As::Token(_)) { V2 } else { V1 };
    let body = json!({"medium": "email", "address": address, "room_id": "!room:example.org",
        "sender": sender});
    post(app, who, &format!("{version}/store-invite"), body).await
}

/// The rows of a table of Verity's store (the SQLite file of the test server).
async fn rows(app: &TestApp, table: &str) -> i64 {
    let file = app.dir.path().join("data/verity.db");
    let db = Database::connect(format!("sqlite://{}?mode=ro", file.display()))
        .await
        .unwrap();
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    let statement = Statement::from_string(db.get_database_backend(), sql);
    let row = db.query_one_raw(statement).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// The link in the next email, with its `sid` and `token`.
async fn next_link(peers: &Peers) -> (String, String, String) {
    let mail = peers.smtp.wait_for_mail(WAIT).await.expect("an email");
    let link = first_link(&mail.parse().text.expect("a text part")).expect("a link");
    let param = |name: &str| {
        let query = link.split_once('?').map_or("", |(_, query)| query);
        let value = query
            .split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")));
        value
            .unwrap_or_else(|| panic!("no {name} in {link}"))
            .to_owned()
    };
    let (sid, token) = (param("sid"), param("token"));
    (link, sid, token)
}

#[tokio::test]
async fn a_v2_account_past_its_email_allowance_is_refused_while_another_account_is_not() {
    let (app, peers) = app("ratelimit: {email: {requester: {burst: 1, perSeconds: 3600}}}\n").await;
    let alice = token(&app, &peers, "alice").await;
    let bob = token(&app, &peers, "bob").await;
    ok(email(&app, As::Token(&alice), "a@example.org").await).await;
    // Both accounts registered from the same client address: the account is what counts.
    assert_refused(email(&app, As::Token(&alice), "b@example.org").await).await;
    ok(email(&app, As::Token(&bob), "c@example.org").await).await;
    mails(&peers, 2).await;
    assert_eq!(peers.smtp.received().len(), 2, "no mail for the refusal");
    assert_eq!(rows(&app, "verity_session").await, 2, "no session for it");
}

#[tokio::test]
async fn one_phone_number_gets_its_allowance_of_sms_whoever_asks() {
    let (app, peers) = app(&format!(
        "{PROXY}ratelimit: {{msisdn: {{destination: {{burst: 1, perSeconds: 3600}}}}}}\n"
    ))
    .await;
    ok(sms(&app, CLIENT_A, "7911123456").await).await;
    assert_refused(sms(&app, CLIENT_B, "7911123456").await).await;
    assert_refused(sms(&app, CLIENT_B, "07911 123456").await).await;
    ok(sms(&app, CLIENT_B, "7911123457").await).await;
    assert_eq!(peers.twilio.messages().len(), 2);
    assert_eq!(rows(&app, "verity_session").await, 2);
}

#[tokio::test]
async fn a_client_past_its_sms_allowance_is_refused_and_sends_no_sms() {
    let (app, peers) = app(&format!(
        "{PROXY}ratelimit: {{msisdn: {{requester: {{burst: 1, perSeconds: 3600}}}}}}\n"
    ))
    .await;
    ok(sms(&app, CLIENT_A, "7911123456").await).await;
    assert_refused(sms(&app, CLIENT_A, "7911123457").await).await;
    ok(sms(&app, CLIENT_B, "7911123457").await).await;
    assert_eq!(peers.twilio.messages().len(), 2);
    assert_eq!(rows(&app, "verity_session").await, 2);
}

#[tokio::test]
async fn an_account_past_its_invite_allowance_stores_and_sends_nothing() {
    let (app, peers) = app("ratelimit: {invite: {burst: 1, perSeconds: 3600}}\n").await;
    let alice = token(&app, &peers, "alice").await;
    let sender = "@alice:example.org";
    ok(invite(&app, As::Token(&alice), sender, "x@example.org").await).await;
    assert_refused(invite(&app, As::Token(&alice), sender, "y@example.org").await).await;
    mails(&peers, 1).await;
    assert_eq!(peers.smtp.received().len(), 1);
    assert_eq!(rows(&app, "verity_invite").await, 1);
}

#[tokio::test]
async fn on_v1_one_sender_is_limited_from_every_client_address() {
    let (app, peers) = app(&format!(
        "{PROXY}ratelimit: {{invite: {{burst: 1, perSeconds: 3600}}}}\n"
    ))
    .await;
    let inviter = "@inviter:example.org";
    ok(invite(&app, As::Client(CLIENT_A), inviter, "x@example.org").await).await;
    // Another client address, the same sender: the sender's allowance is spent.
    assert_refused(invite(&app, As::Client(CLIENT_B), inviter, "y@example.org").await).await;
    // The first address's own allowance is spent too, whoever it claims to invite as.
    let other = "@other:example.org";
    assert_refused(invite(&app, As::Client(CLIENT_A), other, "y@example.org").await).await;
    // (B's refused request spent B's allowance: the sender is checked after the requester.)
    ok(invite(&app, As::Client(CLIENT_C), other, "y@example.org").await).await;
    mails(&peers, 2).await;
    assert_eq!(peers.smtp.received().len(), 2);
    assert_eq!(rows(&app, "verity_invite").await, 2);
}

#[tokio::test]
async fn validation_mails_and_invites_share_the_allowance_of_one_address() {
    let (app, peers) = app(&format!(
        "{PROXY}ratelimit: {{email: {{destination: {{burst: 1, perSeconds: 3600}}}}}}\n"
    ))
    .await;
    let victim = "victim@example.org";
    ok(email(&app, As::Client(CLIENT_A), victim).await).await;
    let inviter = "@inviter:example.org";
    assert_refused(invite(&app, As::Client(CLIENT_B), inviter, victim).await).await;
    ok(invite(&app, As::Client(CLIENT_B), inviter, "other@example.org").await).await;
    mails(&peers, 2).await;
    assert_eq!(peers.smtp.received().len(), 2);
    assert_eq!(rows(&app, "verity_invite").await, 1);
}

#[tokio::test]
async fn registrations_past_the_allowance_are_refused_before_the_homeserver_is_asked() {
    let (app, peers) = app("ratelimit: {register: {burst: 1, perSeconds: 3600}}\n").await;
    ok(register(&app, &peers, "alice").await).await;
    let calls = peers.homeserver.userinfo_calls();
    assert!(calls > 0);
    assert_refused(register(&app, &peers, "bob").await).await;
    assert_eq!(peers.homeserver.userinfo_calls(), calls);
    assert_eq!(rows(&app, "verity_account").await, 1);
}

/// `token` with its first character changed, in the same alphabet.
fn wrong(token: &str) -> String {
    let mut chars = token.chars();
    let first = match chars.next() {
        Some('0') => '1',
        Some(c) if c.is_ascii_digit() => '0',
        Some('a') => 'b',
        _ => 'a',
    };
    std::iter::once(first).chain(chars).collect()
}

#[tokio::test]
async fn a_refused_submission_neither_validates_nor_counts_as_a_failed_attempt() {
    let (app, peers) = app(&format!(
        "{PROXY}session: {{maxFailedAttempts: 2}}\n\
         ratelimit: {{submitToken: {{burst: 1, perSeconds: 3600}}}}\n"
    ))
    .await;
    ok(email(&app, As::Client(CLIENT_A), "a@example.org").await).await;
    let (_, sid, right) = next_link(&peers).await;
    let submit = |client: &'static str, token: String| {
        let body = json!({"sid": sid, "client_secret": "secret", "token": token});
        post(
            &app,
            As::Client(client),
            &format!("{V1}/validate/email/submitToken"),
            body,
        )
    };
    let failed = ok(submit(CLIENT_A, wrong(&right)).await).await;
    assert_eq!(failed["success"], false, "{failed}");
    // Had this wrong token been counted, the session would be locked (2 failures).
    assert_refused(submit(CLIENT_A, wrong(&right)).await).await;
    assert_refused(submit(CLIENT_A, right.clone()).await).await;
    let validated = format!("{V1}/3pid/getValidated3pid?sid={sid}&client_secret=secret");
    let before = app.http.get(app.url(&validated)).send().await.unwrap();
    assert_ne!(
        before.status(),
        200,
        "the refused right token validated nothing"
    );
    let accepted = ok(submit(CLIENT_B, right).await).await;
    assert_eq!(accepted["success"], true, "{accepted}");
    let after = ok(app.http.get(app.url(&validated)).send().await.unwrap()).await;
    assert_eq!(after["address"], "a@example.org");
}

#[tokio::test]
async fn a_refused_bind_stores_no_binding() {
    let (app, peers) = app("ratelimit: {bind: {burst: 1, perSeconds: 3600}}\n").await;
    let alice = token(&app, &peers, "alice").await;
    let mut sids = Vec::new();
    for address in ["a@example.org", "b@example.org"] {
        let created = ok(email(&app, As::Token(&alice), address).await).await;
        let (link, sid, _) = next_link(&peers).await;
        assert_eq!(created["sid"], sid.as_str(), "one mail at a time");
        let page = app.http.get(app.url(&link)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        sids.push(sid);
    }
    let bind = |sid: &str| {
        let body = json!({"sid": sid, "client_secret": "secret", "mxid": "@alice:example.org"});
        post(&app, As::Token(&alice), &format!("{V2}/3pid/bind"), body)
    };
    ok(bind(&sids[0]).await).await;
    assert_refused(bind(&sids[1]).await).await;
    assert_eq!(rows(&app, "verity_binding").await, 1);
    let lookup = |address: &str| {
        let path = format!("{V1}/lookup?medium=email&address={address}");
        app.http.get(app.url(&path)).send()
    };
    assert_eq!(ok(lookup("b@example.org").await.unwrap()).await, json!({}));
    let found = ok(lookup("a@example.org").await.unwrap()).await;
    assert_eq!(found["mxid"], "@alice:example.org");
}

const LOOKUP_LIMIT: &str = "ratelimit: {lookup: {burst: 3, perSeconds: 3600}}\n";

#[tokio::test]
async fn a_v2_lookup_of_more_addresses_than_remain_is_refused_whole() {
    let (app, peers) = app(LOOKUP_LIMIT).await;
    let alice = token(&app, &peers, "alice").await;
    let details = app
        .http
        .get(app.url(&format!("{V2}/hash_details")))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    let pepper = ok(details).await["lookup_pepper"].clone();
    let lookup = |count: usize| {
        let addresses: Vec<String> = (0..count)
            .map(|i| format!("u{i}@example.org email"))
            .collect();
        let body = json!({"addresses": addresses, "algorithm": "none", "pepper": pepper});
        post(&app, As::Token(&alice), &format!("{V2}/lookup"), body)
    };
    ok(lookup(2).await).await;
    assert_refused(lookup(2).await).await;
    // The refused lookup spent nothing: the one address left is still there.
    ok(lookup(1).await).await;
    assert_refused(lookup(1).await).await;
}

#[tokio::test]
async fn a_v1_bulk_lookup_of_more_pairs_than_remain_is_refused_whole() {
    let (app, _peers) = app(LOOKUP_LIMIT).await;
    let bulk = |count: usize| {
        let pairs: Vec<[String; 2]> = (0..count)
            .map(|i| ["email".to_owned(), format!("u{i}@example.org")])
            .collect();
        let path = format!("{V1}/bulk_lookup");
        post(
            &app,
            As::Client(CLIENT_A),
            &path,
            json!({"threepids": pairs}),
        )
    };
    ok(bulk(2).await).await;
    assert_refused(bulk(2).await).await;
    ok(bulk(1).await).await;
    assert_refused(bulk(1).await).await;
}
