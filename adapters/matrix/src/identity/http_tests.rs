//! The real client against the testkit's fake identity server on loopback; fake DNS names it
//! for discovered entries (so SRV, `.well-known/matrix/client` and pinned connections are real).
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;
use verity_application::ports::driven::{
    RemoteError, RemoteIdentityServers, RemoteServer, RemoteTokenRequest,
};
use verity_domain::{
    ClientSecret, Medium, SendAttempt, ServerLabel, SessionId, ThreePid, UserId, ValidationToken,
};
use verity_testkit::identity_server::{
    BULK_LOOKUP_PATH, FakeIdentityServer, PROBE_PATH, WELL_KNOWN_CLIENT_PATH,
};

use super::{IdentityServersConfig, ReqwestIdentityServers, WELL_KNOWN_CLIENT};
use crate::homeserver::address_policy::AddressPolicy;
use crate::homeserver::http::{HttpSettings, HttpWellKnownFetch};
use crate::homeserver::test_support::FakeDns;

const REQUEST_TOKEN: &str = "/_matrix/identity/api/v1/validate/email/requestToken";
const SUBMIT_TOKEN: &str = "/_matrix/identity/api/v1/validate/email/submitToken";
const VALIDATED: &str = "/_matrix/identity/api/v1/3pid/getValidated3pid";
const BIND: &str = "/_matrix/identity/api/v1/3pid/bind";

fn root() -> ServerLabel {
    ServerLabel::parse("root").unwrap()
}

fn email(address: &str) -> ThreePid {
    ThreePid::parse(Medium::Email, address).unwrap()
}

fn config(entries: &[String], max_response_bytes: usize) -> IdentityServersConfig {
    IdentityServersConfig {
        servers: BTreeMap::from([(root(), entries.to_vec())]),
        allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
        verify_tls: true,
        timeout: Duration::from_secs(5),
        probe_timeout: Duration::from_secs(2),
        max_response_bytes,
        cache_ttl: Duration::from_secs(60),
    }
}

/// A client whose discovered servers are plain HTTP on `port`, over `dns`.
fn client(entries: &[String], dns: FakeDns, port: u16) -> ReqwestIdentityServers {
    let dns = Arc::new(dns);
    let settings = HttpSettings {
        timeout: Duration::from_secs(5),
        verify_tls: true,
        max_response_bytes: 4096,
    };
    let well_known = HttpWellKnownFetch::new(
        settings,
        AddressPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]),
        dns.clone(),
    )
    .for_path(WELL_KNOWN_CLIENT)
    .plain_http(port);
    ReqwestIdentityServers::with_parts(
        config(entries, 64 * 1024),
        dns,
        Some(Arc::new(well_known)),
        Some(port),
    )
    .unwrap()
}

fn url_client(entries: &[String]) -> ReqwestIdentityServers {
    client(entries, FakeDns::new(), 1)
}

async fn server(client: &ReqwestIdentityServers) -> RemoteServer {
    client.resolve(&root()).await.unwrap()
}

#[tokio::test]
async fn a_url_entry_is_probed_once_and_then_used_for_every_call() {
    let is = FakeIdentityServer::builder()
        .binding("email", "alice@example.org", "@alice:example.org")
        .start()
        .await;
    let client = url_client(&[format!("{}/", is.base_url())]);
    let server = server(&client).await;
    assert_eq!(server.base_url, is.base_url());
    for _ in 0..2 {
        client.resolve(&root()).await.unwrap();
    }
    assert_eq!(is.count(PROBE_PATH), 1);

    is.respond("POST", REQUEST_TOKEN, 200, r#"{"sid":"remote-1"}"#);
    let request = RemoteTokenRequest {
        threepid: email("alice@example.org"),
        client_secret: ClientSecret::parse("verity-secret").unwrap(),
        send_attempt: SendAttempt::new(1),
    };
    let sid = client.request_token(&server, &request).await.unwrap();
    assert_eq!(sid.as_str(), "remote-1");
    let sent = is.requests().pop().unwrap();
    assert_eq!(
        sent.body,
        Some(
            json!({"client_secret": "verity-secret", "email": "alice@example.org",
                    "send_attempt": 1})
        )
    );

    let secret = ClientSecret::parse("verity-secret").unwrap();
    is.respond("POST", SUBMIT_TOKEN, 200, r#"{"success":true}"#);
    client
        .submit_token(
            &server,
            &sid,
            &secret,
            &ValidationToken::parse("123456").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        is.requests().pop().unwrap().body,
        Some(json!({"sid": "remote-1", "client_secret": "verity-secret", "token": "123456"}))
    );

    is.respond(
        "GET",
        VALIDATED,
        400,
        r#"{"errcode":"M_SESSION_NOT_VALIDATED","error":"not yet"}"#,
    );
    assert_eq!(
        client.validated_3pid(&server, &sid, &secret).await.unwrap(),
        None
    );
    is.respond(
        "GET",
        VALIDATED,
        200,
        r#"{"medium":"email","address":"alice@example.org","validated_at":1}"#,
    );
    assert_eq!(
        client.validated_3pid(&server, &sid, &secret).await.unwrap(),
        Some(email("alice@example.org"))
    );
    assert_eq!(
        is.requests().pop().unwrap().query.as_deref(),
        Some("sid=remote-1&client_secret=verity-secret")
    );

    // Spaced, unsorted and with a field of the remote's own: kept byte for byte.
    let signed = r#"{"mxid": "@alice:example.org", "address":"alice@example.org","medium":"email","ts":1,"not_before":1,"not_after":2,"org.example.note":{"a":[1]},"signatures":{"remote":{"ed25519:0":"abc"}}}"#;
    is.respond("POST", BIND, 200, signed);
    let alice = UserId::parse("@alice:example.org").unwrap();
    let answer = client.bind(&server, &sid, &secret, &alice).await.unwrap();
    assert_eq!(answer.as_str(), signed);
    assert_eq!(
        is.requests().pop().unwrap().body.unwrap()["mxid"],
        "@alice:example.org"
    );

    let found = client
        .lookup(
            &server,
            &[email("alice@example.org"), email("bob@example.org")],
        )
        .await
        .unwrap();
    assert_eq!(found, [(email("alice@example.org"), alice)]);
    assert_eq!(
        is.requests().pop().unwrap().body,
        Some(json!({"threepids": [["email", "alice@example.org"], ["email", "bob@example.org"]]}))
    );
}

#[tokio::test]
async fn a_domain_is_discovered_by_srv_and_reached_at_its_pinned_address() {
    let is = FakeIdentityServer::builder()
        .binding("email", "a@example.org", "@a:example.org")
        .start()
        .await;
    let dns = FakeDns::new()
        .srv(
            "_matrix-identity._tcp.example.test",
            10,
            0,
            is.port(),
            "id.example.test.",
        )
        .host("id.example.test", &["127.0.0.1"]);
    let client = client(&["example.test".into()], dns, 1);
    let server = server(&client).await;
    assert_eq!(
        server.base_url,
        format!("http://id.example.test:{}", is.port())
    );
    let found = client
        .lookup(&server, &[email("a@example.org")])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
}

#[tokio::test]
async fn a_domain_is_discovered_by_its_well_known_client_document() {
    let is = FakeIdentityServer::start().await;
    let domain = FakeIdentityServer::builder()
        .well_known_client(
            &json!({"m.identity_server": {"base_url": format!("http://id.example.test:{}", is.port())}})
                .to_string(),
        )
        .unusable()
        .start()
        .await;
    let dns = FakeDns::new()
        .host("example.test", &["127.0.0.1"])
        .host("id.example.test", &["127.0.0.1"]);
    let client = client(&["example.test".into()], dns, domain.port());
    assert_eq!(
        server(&client).await.base_url,
        format!("http://id.example.test:{}", is.port())
    );
    assert_eq!(domain.count(WELL_KNOWN_CLIENT_PATH), 1);
    assert_eq!(domain.count(PROBE_PATH), 0);
}

#[tokio::test]
async fn a_domain_without_srv_or_well_known_is_tried_itself() {
    let is = FakeIdentityServer::start().await;
    let dns = FakeDns::new().host("example.test", &["127.0.0.1"]);
    let client = client(&["example.test".into()], dns, is.port());
    assert_eq!(
        server(&client).await.base_url,
        format!("http://example.test:{}", is.port())
    );
    assert_eq!(is.count(WELL_KNOWN_CLIENT_PATH), 1);
    assert_eq!(is.count(PROBE_PATH), 1);
}

#[tokio::test]
async fn a_discovered_server_on_a_blocked_address_is_never_contacted() {
    let is = FakeIdentityServer::start().await;
    let dns = FakeDns::new().host("example.test", &["127.0.0.1"]);
    let mut config = config(&["example.test".into()], 4096);
    config.allowed_networks.clear();
    let client =
        ReqwestIdentityServers::with_parts(config, Arc::new(dns), None, Some(is.port())).unwrap();
    assert!(matches!(
        client.resolve(&root()).await,
        Err(RemoteError::NoUsableServer(_))
    ));
    assert!(is.requests().is_empty());
}

#[tokio::test]
async fn an_unusable_first_entry_leaves_the_second_and_none_usable_is_an_error() {
    let broken = FakeIdentityServer::builder().unusable().start().await;
    let good = FakeIdentityServer::start().await;
    let client = url_client(&[broken.base_url(), good.base_url()]);
    assert_eq!(server(&client).await.base_url, good.base_url());

    let none = url_client(&[broken.base_url(), "http://127.0.0.1:1".into()]);
    assert!(matches!(
        none.resolve(&root()).await,
        Err(RemoteError::NoUsableServer(_))
    ));
}

#[tokio::test]
async fn refusals_outages_and_nonsense_are_told_apart() {
    let is = FakeIdentityServer::start().await;
    let client = url_client(&[is.base_url()]);
    let server = server(&client).await;
    let sid = SessionId::parse("remote-1").unwrap();
    let secret = ClientSecret::parse("verity-secret").unwrap();
    let token = ValidationToken::parse("123456").unwrap();
    let submit = || client.submit_token(&server, &sid, &secret, &token);

    is.respond(
        "POST",
        SUBMIT_TOKEN,
        400,
        r#"{"errcode":"M_TOKEN_INCORRECT","error":"wrong"}"#,
    );
    assert!(
        matches!(submit().await, Err(RemoteError::Refused { errcode, .. }) if errcode == "M_TOKEN_INCORRECT")
    );
    is.respond("POST", SUBMIT_TOKEN, 502, "upstream down");
    assert!(matches!(submit().await, Err(RemoteError::Unreachable(_))));
    is.respond("POST", SUBMIT_TOKEN, 200, "<html>hello</html>");
    assert!(matches!(
        submit().await,
        Err(RemoteError::InvalidResponse(_))
    ));
    // A bind answer that is not a signed association is refused, never handed on.
    let alice = UserId::parse("@alice:example.org").unwrap();
    for malformed in [
        r#"{"address":"alice@example.org","medium":"email","mxid":"@alice:example.org"}"#,
        r#"{"address":"alice@example.org","medium":"email","mxid":"@alice:example.org","ts":1,"not_before":1,"not_after":2}"#,
        r#"{"address":"alice@example.org","medium":"email","mxid":"alice","ts":1,"not_before":1,"not_after":2,"signatures":{"r":{"ed25519:0":"x"}}}"#,
    ] {
        is.respond("POST", BIND, 200, malformed);
        assert!(
            matches!(
                client.bind(&server, &sid, &secret, &alice).await,
                Err(RemoteError::InvalidResponse(_))
            ),
            "{malformed}"
        );
    }
    is.respond("POST", BULK_LOOKUP_PATH, 200, r#"{"threepids": 3}"#);
    assert!(matches!(
        client.lookup(&server, &[email("a@example.org")]).await,
        Err(RemoteError::InvalidResponse(_))
    ));

    let gone = RemoteServer {
        label: root(),
        base_url: "http://127.0.0.1:1".into(),
    };
    let offline = url_client(&["http://127.0.0.1:1".into()]);
    assert!(matches!(
        offline.submit_token(&gone, &sid, &secret, &token).await,
        Err(RemoteError::Unreachable(_))
    ));
}

#[tokio::test]
async fn oversized_answers_are_refused_with_or_without_a_length() {
    let is = FakeIdentityServer::start().await;
    let client = ReqwestIdentityServers::with_parts(
        config(&[is.base_url()], 1024),
        Arc::new(FakeDns::new()),
        None,
        None,
    )
    .unwrap();
    let server = server(&client).await;
    for with_length in [true, false] {
        is.oversized("POST", BULK_LOOKUP_PATH, 10_000, with_length);
        let error = client
            .lookup(&server, &[email("a@example.org")])
            .await
            .unwrap_err();
        assert!(
            matches!(&error, RemoteError::InvalidResponse(why) if why.contains("1024 bytes")),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn a_chosen_server_that_stops_answering_is_forgotten_and_the_next_entry_chosen() {
    let first = FakeIdentityServer::start().await;
    let second = FakeIdentityServer::start().await;
    let client = url_client(&[first.base_url(), second.base_url()]);
    let chosen = server(&client).await;
    assert_eq!(chosen.base_url, first.base_url());
    first.respond("POST", BULK_LOOKUP_PATH, 503, "{}");
    first.set_usable(false);
    assert!(matches!(
        client.lookup(&chosen, &[email("a@example.org")]).await,
        Err(RemoteError::Unreachable(_))
    ));
    assert_eq!(server(&client).await.base_url, second.base_url());
}
