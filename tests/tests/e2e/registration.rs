//! Registration control through the real service: the homeserver's
//! `register/{medium}/requestToken` routed to Verity, `register.policy` as ma1sd reads it, a fake
//! homeserver's client API behind it (real HTTP on loopback), and a pending invite made through
//! `store-invite`.
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_testkit::client_api::{FakeClientApi, Reply};
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

use crate::invites::invite_request;

const EMAIL: &str = "/_matrix/client/v3/register/email/requestToken";
const MSISDN: &str = "/_matrix/client/r0/register/msisdn/requestToken";

struct World {
    homeserver: FakeClientApi,
    peers: Peers,
    app: TestApp,
}

impl World {
    /// Emails of `example.org` and its subdomains may register, except `bad.example.org`'s;
    /// British mobile numbers may; everything else only with a pending invite.
    async fn start() -> Self {
        let homeserver = FakeClientApi::start().await;
        let peers = Peers::start().await;
        let yaml = peers.yaml_with_client_api(&homeserver.url());
        let policy = "
server:
  trustedProxies: ['127.0.0.1']
register:
  policy:
    threepid:
      email:
        domain:
          whitelist: ['*example.org']
          blacklist: [bad.example.org]
      msisdn:
        pattern:
          whitelist: ['447\\d{9}']
";
        let app = spawn_app_with(Backend::Sqlite, &format!("{yaml}{policy}")).await;
        Self {
            homeserver,
            peers,
            app,
        }
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .app
            .http
            .post(self.app.url(path))
            .header("x-forwarded-for", "203.0.113.8")
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn email_body(address: &str) -> Value {
    json!({"client_secret": "regSecret1", "email": address, "send_attempt": 1, "next_link": "https://app.example.org/after"})
}

#[tokio::test]
async fn an_allowed_address_reaches_the_homeserver_unchanged_and_its_answer_comes_back() {
    let world = World::start().await;
    let body = email_body("Alice@Lab.Example.org");
    let (status, answer) = world.post(EMAIL, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["sid"]
            .as_str()
            .is_some_and(|sid| sid.starts_with("fake-sid-")),
        "{answer}"
    );
    let asked = world.homeserver.requests_to("/register/email/requestToken");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].path, EMAIL);
    assert_eq!(
        asked[0].body, body,
        "the body is passed on as the client wrote it"
    );
    // The test talks to Verity as its reverse proxy (127.0.0.1, trusted) would: the client's
    // address is the one passed on, and only it.
    assert_eq!(asked[0].forwarded_for.as_deref(), Some("203.0.113.8"));

    let (status, _) = world
        .post(MSISDN, &json!({"client_secret": "regSecret2", "country": "GB", "phone_number": "07911 123456", "send_attempt": 1}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        world
            .homeserver
            .requests_to("/register/msisdn/requestToken")[0]
            .path,
        MSISDN
    );
}

#[tokio::test]
async fn a_refused_address_gets_ma1sds_403_and_the_homeserver_never_hears_of_it() {
    let world = World::start().await;
    for (path, body, medium) in [
        (EMAIL, email_body("eve@bad.example.org"), "email"),
        (EMAIL, email_body("carol@elsewhere.com"), "email"),
        (EMAIL, email_body("mallory@evilexample.org"), "email"),
        (
            MSISDN,
            json!({"client_secret": "s", "country": "US", "phone_number": "2025550123", "send_attempt": 1}),
            "msisdn",
        ),
    ] {
        let (status, answer) = world.post(path, &body).await;
        assert_eq!(
            (status, answer),
            (
                403,
                json!({"errcode": "M_THREEPID_DENIED", "error": format!("Your {medium} address cannot be used for registration")})
            ),
            "{body}"
        );
    }
    assert!(world.homeserver.requests().is_empty());
}

#[tokio::test]
async fn an_address_with_a_pending_invite_may_register_whatever_the_lists_say() {
    let world = World::start().await;
    world
        .app
        .client
        .store_invite_v1(&invite_request("guest@elsewhere.com"))
        .await
        .expect("store-invite");
    world
        .peers
        .smtp
        .wait_for_mail(std::time::Duration::from_secs(10))
        .await
        .expect("the invite's email");
    let (status, answer) = world.post(EMAIL, &email_body("Guest@Elsewhere.com")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(world.homeserver.requests().len(), 1);
}

#[tokio::test]
async fn the_homeservers_own_errors_come_back_as_they_were_and_a_dead_one_is_a_bad_gateway() {
    let world = World::start().await;
    world
        .homeserver
        .register_replies(Reply::error(400, "M_THREEPID_IN_USE"));
    let (status, answer) = world.post(EMAIL, &email_body("alice@example.org")).await;
    assert_eq!(
        (status, answer["errcode"].as_str()),
        (400, Some("M_THREEPID_IN_USE"))
    );

    world.homeserver.register_replies(Reply::Fixed {
        status: 502,
        body: "<html>proxy error</html>".to_owned(),
    });
    let (status, answer) = world.post(EMAIL, &email_body("alice@example.org")).await;
    assert_eq!(
        (status, answer["errcode"].as_str()),
        (502, Some("M_UNKNOWN")),
        "{answer}"
    );
}

#[tokio::test]
async fn bad_requests_get_a_matrix_error_before_any_policy_or_homeserver() {
    let world = World::start().await;
    for (path, body, status, errcode) in [
        (EMAIL, "{\"email\": ", 400, "M_NOT_JSON"),
        (EMAIL, "{\"client_secret\": \"s\"}", 400, "M_MISSING_PARAMS"),
        (EMAIL, "{\"email\": \"no at sign\"}", 400, "M_INVALID_EMAIL"),
        (
            "/_matrix/client/v3/register/fax/requestToken",
            "{}",
            404,
            "M_UNRECOGNIZED",
        ),
    ] {
        let response = world
            .app
            .http
            .post(world.app.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        let got = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(
            (got, answer["errcode"].as_str()),
            (status, Some(errcode)),
            "{path} {body}"
        );
    }
    assert!(world.homeserver.requests().is_empty());
}
