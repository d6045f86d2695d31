//! Discovery's `.well-known` cache and the address check on every outcome.
use std::time::Duration;

use pretty_assertions::assert_eq;

use super::discovery::{DiscoveryError, cache_ttl};
use super::test_support::{FakeDns, FakeWellKnown, PUBLIC, endpoint, setup, setup_with};

#[tokio::test]
async fn well_known_verdicts_are_cached_unless_the_answer_says_no_store() {
    let dns = || {
        FakeDns::new()
            .host("matrix.example.org", &[PUBLIC])
            .host("example.org", &[PUBLIC])
    };
    for well_known in [
        FakeWellKnown::new().delegates("example.org", "matrix.example.org"),
        FakeWellKnown::new().answers("example.org", 500, "", None),
        FakeWellKnown::new(),
    ] {
        let s = setup(dns(), well_known);
        let first = s.endpoint("example.org").await;
        assert_eq!(s.endpoint("example.org").await, first);
        assert_eq!(s.well_known.fetches(), 1);
    }

    let body = r#"{"m.server":"matrix.example.org"}"#;
    let s = setup(
        dns(),
        FakeWellKnown::new().answers("example.org", 200, body, Some("no-store")),
    );
    s.endpoint("example.org").await;
    s.endpoint("example.org").await;
    assert_eq!(s.well_known.fetches(), 2);
}

#[test]
fn cache_control_max_age_is_honoured_up_to_48_hours_with_24_hours_by_default() {
    let hours = |h: u64| Duration::from_secs(h * 3600);
    assert_eq!(cache_ttl(None), hours(24));
    assert_eq!(cache_ttl(Some("public")), hours(24));
    assert_eq!(cache_ttl(Some("public, max-age=3600")), hours(1));
    assert_eq!(cache_ttl(Some("Max-Age=60")), Duration::from_secs(60));
    assert_eq!(cache_ttl(Some("max-age=999999999")), hours(48));
    assert_eq!(cache_ttl(Some("max-age=0")), Duration::ZERO);
    assert_eq!(cache_ttl(Some("max-age=60, no-cache")), Duration::ZERO);
}

#[tokio::test]
async fn a_destination_with_any_private_address_is_blocked() {
    let s = setup(
        FakeDns::new()
            .host("mixed.example.org", &[PUBLIC, "10.0.0.1"])
            .host("v6.example.org", &["::ffff:127.0.0.1"])
            .srv(
                "_matrix-fed._tcp.srv.example.org",
                10,
                0,
                443,
                "internal.example.org",
            )
            .host("internal.example.org", &["169.254.169.254"])
            .host("localhost", &["127.0.0.1", "::1"]),
        FakeWellKnown::new(),
    );
    for server in [
        "mixed.example.org:8448",
        "v6.example.org:8448",
        "srv.example.org",
        "localhost",
        "127.0.0.1:22",
        "10.0.0.1",
        "169.254.169.254",
        "[::1]:8080",
        "[fe80::1]",
    ] {
        assert!(
            matches!(s.discover(server).await, Err(DiscoveryError::Blocked(_))),
            "{server}"
        );
    }
}

#[tokio::test]
async fn an_srv_target_that_is_a_numeric_host_name_is_refused_without_a_lookup() {
    let s = setup(
        FakeDns::new()
            .srv("_matrix-fed._tcp.srv.example.org", 10, 0, 443, "127.1.")
            .host("127.1", &[PUBLIC]),
        FakeWellKnown::new(),
    );
    let refused = s.discover("srv.example.org").await;
    assert!(
        matches!(&refused, Err(DiscoveryError::Blocked(why)) if why.contains("127.1")),
        "{refused:?}"
    );
    assert!(
        !s.dns.queries().iter().any(|query| query == "A 127.1"),
        "{:?}",
        s.dns.queries()
    );
}

#[tokio::test]
async fn allowed_networks_let_a_private_destination_through() {
    let s = setup_with(
        FakeDns::new().host("hs.internal", &["10.1.2.3"]),
        FakeWellKnown::new(),
        &[],
        &["127.0.0.0/8", "10.0.0.0/8"],
    );
    assert_eq!(
        s.endpoint("127.0.0.1:8448").await,
        endpoint("127.0.0.1", 8448, "127.0.0.1:8448", &["127.0.0.1"])
    );
    assert_eq!(
        s.endpoint("hs.internal:8008").await.addrs,
        ["10.1.2.3".parse::<std::net::IpAddr>().unwrap()]
    );
    assert!(matches!(
        s.discover("192.168.0.1").await,
        Err(DiscoveryError::Blocked(_))
    ));
}

#[tokio::test]
async fn a_host_without_addresses_or_with_failing_dns_is_unresolvable() {
    let s = setup(
        FakeDns::new().failing("broken.example.org"),
        FakeWellKnown::new(),
    );
    for server in ["nowhere.example.org", "broken.example.org:8448"] {
        assert!(
            matches!(
                s.discover(server).await,
                Err(DiscoveryError::Unresolvable(_))
            ),
            "{server}"
        );
    }
}

#[tokio::test]
async fn a_refused_homeserver_names_the_two_keys_that_let_verity_reach_it() {
    let s = setup(
        FakeDns::new().host("localhost", &["::1"]),
        FakeWellKnown::new(),
    );
    for server in ["localhost:8008", "10.0.0.1"] {
        let Err(DiscoveryError::Blocked(why)) = s.discover(server).await else {
            panic!("{server} was not refused");
        };
        assert!(
            why.contains("not a public address")
                && why.contains("dns.overwrite.homeserver.federation")
                && why.contains("federation.allowedNetworks"),
            "{why}"
        );
    }
}
