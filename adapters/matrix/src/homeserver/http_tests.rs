//! The real `.well-known` fetch and the pinned clients, against the testkit's fake homeserver
//! on loopback, with fake DNS naming it (so names, redirects and `Host` headers are real).
use std::sync::Arc;
use std::time::Duration;

use pretty_assertions::assert_eq;
use verity_application::ports::driven::{HomeserverClient, HomeserverError, OpenIdToken};
use verity_domain::ServerName;
use verity_testkit::homeserver::FakeHomeserver;

use super::address_policy::AddressPolicy;
use super::discovery::{FetchError, WellKnownFetch};
use super::http::{HttpSettings, HttpWellKnownFetch};
use super::test_support::FakeDns;
use super::{FederationConfig, ReqwestHomeserverClient};

const WELL_KNOWN: &str = "/.well-known/matrix/server";

fn fetcher(dns: FakeDns, allowed: &[&str], port: u16) -> HttpWellKnownFetch {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let settings = HttpSettings {
        timeout: Duration::from_secs(5),
        verify_tls: true,
        max_response_bytes: 1024,
    };
    let policy = AddressPolicy::new(allowed.iter().map(|net| net.parse().unwrap()).collect());
    HttpWellKnownFetch::new(settings, policy, Arc::new(dns)).plain_http(port)
}

fn loopback_dns(names: &[&str]) -> FakeDns {
    names
        .iter()
        .fold(FakeDns::new(), |dns, name| dns.host(name, &["127.0.0.1"]))
}

#[tokio::test]
async fn the_well_known_answer_comes_from_the_named_host_with_its_cache_control() {
    let hs = FakeHomeserver::builder()
        .well_known_response(200, r#"{"m.server":"hs.test:443"}"#, Some("max-age=60"))
        .start()
        .await;
    let fetch = fetcher(loopback_dns(&["example.test"]), &["127.0.0.0/8"], hs.port());

    let answer = fetch.fetch("example.test").await.unwrap();

    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, br#"{"m.server":"hs.test:443"}"#);
    assert_eq!(answer.cache_control.as_deref(), Some("max-age=60"));
    let requests = hs.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, WELL_KNOWN);
    assert_eq!(
        requests[0].host,
        Some(format!("example.test:{}", hs.port()))
    );
}

#[tokio::test]
async fn a_well_known_host_on_a_private_address_is_refused_before_anything_is_sent() {
    let hs = FakeHomeserver::builder()
        .well_known_server("hs.test")
        .start()
        .await;
    let fetch = fetcher(loopback_dns(&["example.test"]), &[], hs.port());

    let error = fetch.fetch("example.test").await.unwrap_err();

    assert!(matches!(error, FetchError::Blocked(_)), "{error:?}");
    assert!(hs.requests().is_empty());
}

#[tokio::test]
async fn well_known_redirects_are_followed_and_each_target_is_checked() {
    let target = FakeHomeserver::builder()
        .well_known_server("hs.test")
        .start()
        .await;
    let redirect = |location: String| async move {
        FakeHomeserver::builder()
            .well_known_redirect(&location)
            .start()
            .await
    };
    let dns = || loopback_dns(&["example.test", "other.test"]);

    let to_name = redirect(format!("http://other.test:{}{WELL_KNOWN}", target.port())).await;
    let answer = fetcher(dns(), &["127.0.0.0/8"], to_name.port())
        .fetch("example.test")
        .await
        .unwrap();
    assert_eq!(answer.body, br#"{"m.server":"hs.test"}"#);
    assert_eq!(
        target.requests()[0].host,
        Some(format!("other.test:{}", target.port()))
    );

    let to_private = redirect(format!("http://10.0.0.1:{}{WELL_KNOWN}", target.port())).await;
    let error = fetcher(dns(), &["127.0.0.0/8"], to_private.port())
        .fetch("example.test")
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::Blocked(_)), "{error:?}");

    let to_https = redirect(format!("https://other.test:{}{WELL_KNOWN}", target.port())).await;
    let error = fetcher(dns(), &["127.0.0.0/8"], to_https.port())
        .fetch("example.test")
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::Failed(_)), "{error:?}");
    assert_eq!(target.requests().len(), 1);
}

#[tokio::test]
async fn a_well_known_redirect_loop_is_cut_short() {
    let looping = FakeHomeserver::builder()
        .well_known_redirect(WELL_KNOWN)
        .start()
        .await;
    let error = fetcher(
        loopback_dns(&["example.test"]),
        &["127.0.0.0/8"],
        looping.port(),
    )
    .fetch("example.test")
    .await
    .unwrap_err();
    assert!(matches!(error, FetchError::Failed(_)), "{error:?}");
    assert_eq!(looping.requests().len(), 6);
}

#[tokio::test]
async fn an_oversized_well_known_is_refused() {
    let padding = "x".repeat(10_000);
    let hs = FakeHomeserver::builder()
        .well_known_response(
            200,
            &format!(r#"{{"m.server":"a.b","pad":"{padding}"}}"#),
            None,
        )
        .start()
        .await;
    let error = fetcher(loopback_dns(&["example.test"]), &["127.0.0.0/8"], hs.port())
        .fetch("example.test")
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::TooLarge), "{error:?}");
}

/// A client over fake DNS whose `.well-known` fetch reaches `well_known_port` over plain HTTP.
fn client(dns: FakeDns, allowed: &[&str], well_known_port: u16) -> ReqwestHomeserverClient {
    let dns: Arc<FakeDns> = Arc::new(dns);
    let allowed: Vec<_> = allowed.iter().map(|net| net.parse().unwrap()).collect();
    let settings = HttpSettings {
        timeout: Duration::from_secs(5),
        verify_tls: false,
        max_response_bytes: 1024,
    };
    let well_known =
        HttpWellKnownFetch::new(settings, AddressPolicy::new(allowed.clone()), dns.clone())
            .plain_http(well_known_port);
    let config = FederationConfig {
        allowed_networks: allowed,
        verify_tls: false,
        ..FederationConfig::default()
    };
    ReqwestHomeserverClient::with_dns(config, dns, Some(Arc::new(well_known))).unwrap()
}

#[tokio::test]
async fn a_delegated_homeserver_is_reached_at_the_checked_address_with_the_spec_host_header() {
    let homeserver = FakeHomeserver::builder()
        .tls()
        .user("tok", "@alice:example.test")
        .start()
        .await;
    let delegated = format!("hs.test:{}", homeserver.port());
    let well_known = FakeHomeserver::builder()
        .well_known_server(&delegated)
        .start()
        .await;
    let client = client(
        loopback_dns(&["example.test", "hs.test"]),
        &["127.0.0.0/8"],
        well_known.port(),
    );

    let user = client
        .openid_userinfo(
            &ServerName::parse("example.test").unwrap(),
            &OpenIdToken::new("tok"),
        )
        .await
        .unwrap();

    assert_eq!(user.as_str(), "@alice:example.test");
    let requests = homeserver.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/_matrix/federation/v1/openid/userinfo");
    assert_eq!(requests[0].host, Some(delegated));
}

#[tokio::test]
async fn a_name_resolving_to_a_private_address_is_blocked_and_nothing_is_sent() {
    let homeserver = FakeHomeserver::builder()
        .tls()
        .user("tok", "@alice:hs.test")
        .start()
        .await;
    let client = client(loopback_dns(&["hs.test"]), &[], homeserver.port());

    let error = client
        .openid_userinfo(
            &ServerName::parse(&format!("hs.test:{}", homeserver.port())).unwrap(),
            &OpenIdToken::new("tok"),
        )
        .await
        .unwrap_err();

    assert!(matches!(error, HomeserverError::Blocked(_)), "{error:?}");
    assert!(homeserver.requests().is_empty());
}
