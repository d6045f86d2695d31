//! `ReqwestHomeserverClient` end to end, through its public API, against the testkit's fake
//! homeserver on loopback: reached through an operator override (plain HTTP), or by IP literal
//! over HTTPS (self-signed) when `127.0.0.0/8` is allowed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use verity_adapter_matrix::{FederationConfig, FederationSetupError, ReqwestHomeserverClient};
use verity_application::ports::driven::{HomeserverClient, HomeserverError, OpenIdToken};
use verity_domain::{ServerName, UserId};
use verity_testkit::homeserver::FakeHomeserver;

const TOKEN: &str = "s3cr3t-openid-token";

fn via_override(base_url: &str) -> FederationConfig {
    FederationConfig {
        overrides: vec![("example.org".to_owned(), base_url.to_owned())],
        ..FederationConfig::default()
    }
}

async fn ask(config: FederationConfig, server: &str) -> Result<UserId, HomeserverError> {
    let client = ReqwestHomeserverClient::new(config).unwrap();
    client
        .openid_userinfo(
            &ServerName::parse(server).unwrap(),
            &OpenIdToken::new(TOKEN),
        )
        .await
}

async fn ask_override(hs: &FakeHomeserver) -> Result<UserId, HomeserverError> {
    ask(via_override(&hs.base_url()), "example.org").await
}

#[tokio::test]
async fn a_valid_token_is_answered_with_the_homeservers_user_id() {
    let hs = FakeHomeserver::builder()
        .user(TOKEN, "@alice:example.org")
        .start()
        .await;

    let user = ask_override(&hs).await.unwrap();

    assert_eq!(user.as_str(), "@alice:example.org");
    assert_eq!(hs.userinfo_calls(), 1);
}

#[tokio::test]
async fn an_unknown_token_is_rejected() {
    let hs = FakeHomeserver::start().await;
    let error = ask_override(&hs).await.unwrap_err();
    assert!(matches!(error, HomeserverError::TokenRejected), "{error:?}");
}

#[tokio::test]
async fn a_403_or_404_counts_as_a_rejection_only_with_a_token_errcode() {
    for (status, body, rejected) in [
        (403, r#"{"errcode":"M_FORBIDDEN","error":"no"}"#, true),
        (404, r#"{"errcode":"M_UNKNOWN_TOKEN","error":"gone"}"#, true),
        (
            404,
            r#"{"errcode":"M_UNRECOGNIZED","error":"no such path"}"#,
            false,
        ),
        (403, "<html>forbidden</html>", false),
        (500, r#"{"errcode":"M_UNKNOWN_TOKEN"}"#, false),
        (502, "", false),
    ] {
        let hs = FakeHomeserver::builder()
            .userinfo_status(status, body)
            .start()
            .await;
        let error = ask_override(&hs).await.unwrap_err();
        let expected = if rejected {
            matches!(error, HomeserverError::TokenRejected)
        } else {
            matches!(error, HomeserverError::Unreachable(_))
        };
        assert!(expected, "{status} {body}: {error:?}");
    }
}

#[tokio::test]
async fn an_oversized_answer_is_invalid_with_or_without_a_length() {
    for hs in [
        FakeHomeserver::builder().oversized_userinfo(100_000),
        FakeHomeserver::builder().oversized_userinfo_streamed(100_000),
    ] {
        let hs = hs.start().await;
        let config = FederationConfig {
            max_response_bytes: 5 * 1024,
            ..via_override(&hs.base_url())
        };
        let error = ask(config, "example.org").await.unwrap_err();
        assert!(
            matches!(error, HomeserverError::InvalidResponse(_)),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn an_answer_that_is_not_a_userinfo_object_is_invalid() {
    for (token_sub, body) in [
        (Some("not-a-user-id"), None),
        (Some("@:example.org"), None),
        (None, Some(r#"["@alice:example.org"]"#)),
        (None, Some(r#"{"sub": 42}"#)),
        (None, Some("not json")),
    ] {
        let mut hs = FakeHomeserver::builder();
        if let Some(sub) = token_sub {
            hs = hs.user(TOKEN, sub);
        }
        if let Some(body) = body {
            hs = hs.userinfo_status(200, body);
        }
        let hs = hs.start().await;
        let error = ask_override(&hs).await.unwrap_err();
        assert!(
            matches!(error, HomeserverError::InvalidResponse(_)),
            "{token_sub:?} {body:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_sub_on_another_server_is_returned_as_sent_for_the_caller_to_check() {
    let hs = FakeHomeserver::builder()
        .user(TOKEN, "@victim:other.server")
        .start()
        .await;
    let user = ask_override(&hs).await.unwrap();
    assert_eq!(user.server_name(), "other.server");
}

#[tokio::test]
async fn a_homeserver_that_is_down_is_unreachable_and_the_error_never_shows_the_token() {
    let hs = FakeHomeserver::start().await;
    let base_url = hs.base_url();
    hs.stop().await;

    let error = ask(via_override(&base_url), "example.org")
        .await
        .unwrap_err();

    assert!(
        matches!(error, HomeserverError::Unreachable(_)),
        "{error:?}"
    );
    let mut shown = format!("{error} {error:?}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        shown.push_str(&format!(" {cause} {cause:?}"));
        source = cause.source();
    }
    assert!(!shown.contains(TOKEN), "{shown}");
}

#[tokio::test]
async fn a_homeserver_that_never_answers_times_out() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", silent.local_addr().unwrap());
    let config = FederationConfig {
        timeout: Duration::from_millis(300),
        ..via_override(&base_url)
    };

    let started = Instant::now();
    let error = ask(config, "example.org").await.unwrap_err();

    assert!(
        matches!(error, HomeserverError::Unreachable(_)),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_loopback_ip_literal_is_blocked_and_the_homeserver_sees_nothing() {
    let hs = FakeHomeserver::builder()
        .tls()
        .user(TOKEN, "@alice:127.0.0.1")
        .start()
        .await;
    let config = FederationConfig {
        verify_tls: false,
        ..FederationConfig::default()
    };

    let error = ask(config, &hs.server_name()).await.unwrap_err();

    assert!(matches!(error, HomeserverError::Blocked(_)), "{error:?}");
    assert!(hs.requests().is_empty());
}

#[tokio::test]
async fn an_allowed_ip_literal_is_reached_over_https_with_the_server_name_as_host() {
    let hs = FakeHomeserver::builder()
        .tls()
        .user(TOKEN, "@alice:127.0.0.1")
        .start()
        .await;
    let config = FederationConfig {
        allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
        verify_tls: false,
        ..FederationConfig::default()
    };

    let user = ask(config, &hs.server_name()).await.unwrap();

    assert_eq!(user.as_str(), "@alice:127.0.0.1");
    assert_eq!(hs.requests()[0].host, Some(hs.server_name()));
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_when_tls_is_verified() {
    let hs = FakeHomeserver::builder()
        .tls()
        .user(TOKEN, "@alice:127.0.0.1")
        .start()
        .await;
    let config = FederationConfig {
        allowed_networks: vec!["127.0.0.0/8".parse().unwrap()],
        ..FederationConfig::default()
    };

    let error = ask(config, &hs.server_name()).await.unwrap_err();

    assert!(
        matches!(error, HomeserverError::Unreachable(_)),
        "{error:?}"
    );
    assert_eq!(hs.userinfo_calls(), 0);
}

#[tokio::test]
async fn invalid_settings_are_refused_with_the_key_named() {
    let zero_timeout = FederationConfig {
        timeout: Duration::ZERO,
        ..FederationConfig::default()
    };
    let error = ReqwestHomeserverClient::new(zero_timeout).unwrap_err();
    assert!(matches!(error, FederationSetupError::Timeout));
    assert!(error.to_string().contains("federation.timeout"));

    let bad_override = via_override("localhost:8008");
    let error = ReqwestHomeserverClient::new(bad_override).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("dns.overwrite.homeserver.federation")
    );
}

/// `config` with both overrides (`example.org` to `first`, `other.example` to `second`) and the
/// given caps.
fn capped(
    first: &FakeHomeserver,
    second: &FakeHomeserver,
    overall: usize,
    per_server: usize,
) -> FederationConfig {
    FederationConfig {
        overrides: vec![
            ("example.org".to_owned(), first.base_url()),
            ("other.example".to_owned(), second.base_url()),
        ],
        max_concurrent_requests: overall,
        max_concurrent_requests_per_server: per_server,
        ..FederationConfig::default()
    }
}

/// Starts `count` userinfo calls to `server` that the fake holds, and waits until they are held.
async fn held_calls(
    client: &std::sync::Arc<ReqwestHomeserverClient>,
    hs: &FakeHomeserver,
    server: &str,
    count: usize,
) -> Vec<tokio::task::JoinHandle<Result<UserId, HomeserverError>>> {
    let calls = (0..count)
        .map(|_| {
            let client = std::sync::Arc::clone(client);
            let server = ServerName::parse(server).unwrap();
            tokio::spawn(async move {
                client
                    .openid_userinfo(&server, &OpenIdToken::new(TOKEN))
                    .await
            })
        })
        .collect();
    hs.wait_for_held_userinfo(count, Duration::from_secs(10))
        .await;
    calls
}

async fn userinfo(
    client: &ReqwestHomeserverClient,
    server: &str,
) -> Result<UserId, HomeserverError> {
    client
        .openid_userinfo(
            &ServerName::parse(server).unwrap(),
            &OpenIdToken::new(TOKEN),
        )
        .await
}

#[tokio::test]
async fn a_call_over_the_per_server_cap_fails_at_once_and_other_servers_are_still_called() {
    let first = FakeHomeserver::builder()
        .user(TOKEN, "@a:example.org")
        .start()
        .await;
    let second = FakeHomeserver::builder()
        .user(TOKEN, "@b:other.example")
        .start()
        .await;
    let client =
        std::sync::Arc::new(ReqwestHomeserverClient::new(capped(&first, &second, 10, 2)).unwrap());
    first.hold_userinfo();
    let held = held_calls(&client, &first, "example.org", 2).await;

    let refused = userinfo(&client, "example.org").await.unwrap_err();
    let HomeserverError::Unreachable(why) = &refused else {
        panic!("{refused:?}")
    };
    assert!(
        why.to_string()
            .contains("requests to example.org are in flight already (federation.maxConcurrentRequestsPerServer)"),
        "{why}"
    );
    assert_eq!(
        userinfo(&client, "other.example").await.unwrap().as_str(),
        "@b:other.example"
    );

    first.release_userinfo();
    for call in held {
        assert_eq!(call.await.unwrap().unwrap().as_str(), "@a:example.org");
    }
    assert_eq!(first.userinfo_calls(), 2, "the refused call sent nothing");
    assert!(
        userinfo(&client, "example.org").await.is_ok(),
        "the permits came back"
    );
}

#[tokio::test]
async fn a_call_over_the_overall_cap_fails_at_once_whatever_the_server() {
    let first = FakeHomeserver::builder()
        .user(TOKEN, "@a:example.org")
        .start()
        .await;
    let second = FakeHomeserver::builder()
        .user(TOKEN, "@b:other.example")
        .start()
        .await;
    let client =
        std::sync::Arc::new(ReqwestHomeserverClient::new(capped(&first, &second, 2, 2)).unwrap());
    first.hold_userinfo();
    let held = held_calls(&client, &first, "example.org", 2).await;

    let refused = userinfo(&client, "other.example").await.unwrap_err();
    let HomeserverError::Unreachable(why) = &refused else {
        panic!("{refused:?}")
    };
    assert!(
        why.to_string()
            .contains("in flight already (federation.maxConcurrentRequests)"),
        "{why}"
    );
    assert_eq!(second.userinfo_calls(), 0);

    first.release_userinfo();
    for call in held {
        call.await.unwrap().unwrap();
    }
    assert!(userinfo(&client, "other.example").await.is_ok());
}

#[tokio::test]
async fn zero_concurrency_caps_are_refused() {
    let hs = FakeHomeserver::start().await;
    for (overall, per_server) in [(0, 1), (1, 0)] {
        let config = FederationConfig {
            max_concurrent_requests: overall,
            max_concurrent_requests_per_server: per_server,
            ..via_override(&hs.base_url())
        };
        assert!(matches!(
            ReqwestHomeserverClient::new(config),
            Err(FederationSetupError::MaxConcurrentRequests)
        ));
    }
}
