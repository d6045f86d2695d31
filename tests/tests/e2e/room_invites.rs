//! The invite policy through the real service: the homeserver's `rooms/{roomId}/invite` routed
//! to Verity, `invite.policy.ifSender.hasRole` as ma1sd reads it, roles from the `memory` store,
//! and a fake homeserver's client API behind it (real HTTP on loopback).
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_testkit::client_api::FakeClientApi;
use verity_tests::{Backend, Peers, TestApp, spawn_app_with};

const INVITE: &str = "/_matrix/client/v3/rooms/!room:example.org/invite";

struct World {
    homeserver: FakeClientApi,
    peers: Peers,
    app: TestApp,
}

impl World {
    /// alice is staff, mallory a guest; staff may invite by 3PID.
    async fn start() -> Self {
        let homeserver = FakeClientApi::start().await;
        homeserver.user("syt_alice", "@alice:example.org");
        homeserver.user("syt_mallory", "@mallory:example.org");
        let peers = Peers::start().await;
        let yaml = peers.yaml_with_client_api(&homeserver.url());
        let policy = "
invite:
  policy:
    ifSender:
      hasRole: [staff]
memory:
  enabled: true
  identities:
    - username: alice
      roles: [staff]
    - username: mallory
      roles: [guests]
";
        let app = spawn_app_with(Backend::Sqlite, &format!("{yaml}{policy}")).await;
        Self {
            homeserver,
            peers,
            app,
        }
    }

    async fn invite(&self, token: &str, body: &Value) -> (u16, Value) {
        let response = self
            .app
            .http
            .post(self.app.url(INVITE))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn by_email(address: &str) -> Value {
    json!({"id_server": "id.example.org", "id_access_token": "abc", "medium": "email", "address": address})
}

#[tokio::test]
async fn staff_invite_by_email_and_a_guest_is_refused_before_the_homeserver_sees_the_invite() {
    let world = World::start().await;
    let (status, answer) = world
        .invite("syt_alice", &by_email("bob@example.org"))
        .await;
    assert_eq!((status, answer), (200, json!({})));
    let relayed = world.homeserver.requests_to("/invite");
    assert_eq!(relayed.len(), 1);
    assert_eq!(relayed[0].bearer.as_deref(), Some("syt_alice"));
    assert_eq!(relayed[0].body, by_email("bob@example.org"));

    let (status, answer) = world
        .invite("syt_mallory", &by_email("victim@example.org"))
        .await;
    assert_eq!(
        (status, answer),
        (
            403,
            json!({"errcode": "M_FORBIDDEN", "error": "Your account is not allowed to invite that address"})
        )
    );
    assert_eq!(world.homeserver.requests_to("/invite").len(), 1);

    // A Matrix user invite needs no role.
    let (status, _) = world
        .invite("syt_mallory", &json!({"user_id": "@carol:example.org"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(world.homeserver.requests_to("/invite").len(), 2);
}

#[tokio::test]
async fn a_token_the_homeserver_rejects_is_refused_and_nothing_is_relayed() {
    let world = World::start().await;
    let (status, answer) = world
        .invite("syt_forged", &by_email("bob@example.org"))
        .await;
    assert_eq!(
        (status, answer["errcode"].as_str()),
        (401, Some("M_UNKNOWN_TOKEN"))
    );
    assert_eq!(world.homeserver.requests_to("/invite").len(), 0);
    assert_eq!(world.homeserver.requests_to("/account/whoami").len(), 1);
}

/// A v1 `store-invite` (what a homeserver sends once it accepted a 3PID invite, whichever path
/// it came by: another invite path, `createRoom`'s `invite_3pid`) from `sender`.
pub(crate) async fn store_invite(app: &TestApp, sender: &str, address: &str) -> (u16, Value) {
    let body = json!({
        "medium": "email",
        "address": address,
        "room_id": "!room:example.org",
        "sender": sender,
    });
    let response = app
        .http
        .post(app.url("/_matrix/identity/api/v1/store-invite"))
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn store_invite_applies_the_same_roles_whatever_path_the_homeserver_took() {
    let world = World::start().await;
    let (status, answer) = store_invite(&world.app, "@alice:example.org", "bob@example.org").await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        world
            .peers
            .smtp
            .wait_for_mail(std::time::Duration::from_secs(10))
            .await
            .is_some(),
        "staff's invite is mailed"
    );
    let (status, answer) =
        store_invite(&world.app, "@mallory:example.org", "victim@example.org").await;
    assert_eq!(
        (status, answer["errcode"].as_str()),
        (403, Some("M_UNAUTHORIZED")),
        "{answer}"
    );
    let (status, _) =
        store_invite(&world.app, "@stranger:elsewhere.example", "x@example.org").await;
    assert_eq!(status, 403, "a sender no store knows holds no role");
}
