//! The server-server API's "Resolving server names" decision table, with fake DNS and a fake
//! `.well-known`.
use pretty_assertions::assert_eq;
use verity_domain::Host;

use super::discovery::{Destination, DiscoveryError, FetchError};
use super::test_support::{FakeDns, FakeWellKnown, PUBLIC, PUBLIC_2, endpoint, setup, setup_with};

#[tokio::test]
async fn an_operator_override_wins_and_skips_discovery_and_the_address_check() {
    let s = setup_with(
        FakeDns::new(),
        FakeWellKnown::new().delegates("example.org", "elsewhere.org"),
        &[("example.org", "http://127.0.0.1:8008")],
        &[],
    );
    let destination = s.discover("Example.org").await.unwrap();
    assert_eq!(
        destination,
        Destination::Override("http://127.0.0.1:8008".parse().unwrap())
    );
    assert_eq!(s.well_known.fetches(), 0);
    assert!(s.dns.queries().is_empty());
}

#[tokio::test]
async fn an_ip_literal_is_used_with_its_port_or_8448_and_no_lookup() {
    let s = setup(FakeDns::new(), FakeWellKnown::new());
    assert_eq!(
        s.endpoint(PUBLIC).await,
        endpoint(PUBLIC, 8448, PUBLIC, &[PUBLIC])
    );
    let with_port = format!("{PUBLIC}:8080");
    assert_eq!(
        s.endpoint(&with_port).await,
        endpoint(PUBLIC, 8080, &with_port, &[PUBLIC])
    );
    let v6 = s.endpoint("[2606:4700::1111]").await;
    assert_eq!(
        v6,
        endpoint(
            "[2606:4700::1111]",
            8448,
            "[2606:4700::1111]",
            &["2606:4700::1111"]
        )
    );
    assert_eq!(
        v6.url("/x").unwrap().as_str(),
        "https://[2606:4700::1111]:8448/x"
    );
    assert_eq!(s.well_known.fetches(), 0);
    assert!(s.dns.queries().is_empty());
}

#[tokio::test]
async fn a_hostname_with_an_explicit_port_is_resolved_without_well_known_or_srv() {
    let s = setup(
        FakeDns::new().host("matrix.example.org", &[PUBLIC, "2606:4700::1111"]),
        FakeWellKnown::new(),
    );
    assert_eq!(
        s.endpoint("matrix.example.org:8443").await,
        endpoint(
            "matrix.example.org",
            8443,
            "matrix.example.org:8443",
            &[PUBLIC, "2606:4700::1111"]
        )
    );
    assert_eq!(s.well_known.fetches(), 0);
    assert_eq!(s.dns.queries(), ["A matrix.example.org"]);
}

#[tokio::test]
async fn well_known_delegation_to_a_bare_name_uses_its_srv_record_with_its_host_header() {
    let s = setup(
        FakeDns::new()
            .srv(
                "_matrix-fed._tcp.matrix.example.org",
                10,
                0,
                443,
                "fed.example.net.",
            )
            .host("fed.example.net", &[PUBLIC_2]),
        FakeWellKnown::new().delegates("example.org", "matrix.example.org"),
    );
    assert_eq!(
        s.endpoint("example.org").await,
        endpoint("matrix.example.org", 443, "matrix.example.org", &[PUBLIC_2])
    );
}

#[tokio::test]
async fn well_known_delegation_to_a_bare_name_without_srv_uses_port_8448() {
    let s = setup(
        FakeDns::new().host("matrix.example.org", &[PUBLIC]),
        FakeWellKnown::new().delegates("example.org", "matrix.example.org"),
    );
    assert_eq!(
        s.endpoint("example.org").await,
        endpoint("matrix.example.org", 8448, "matrix.example.org", &[PUBLIC])
    );
    assert_eq!(
        s.dns.queries(),
        [
            "SRV _matrix-fed._tcp.matrix.example.org",
            "SRV _matrix._tcp.matrix.example.org",
            "A matrix.example.org"
        ]
    );
}

#[tokio::test]
async fn well_known_delegation_to_a_name_and_port_skips_srv() {
    let s = setup(
        FakeDns::new()
            .srv(
                "_matrix-fed._tcp.matrix.example.org",
                10,
                0,
                9999,
                "other.example.net",
            )
            .host("matrix.example.org", &[PUBLIC]),
        FakeWellKnown::new().delegates("example.org", "matrix.example.org:443"),
    );
    assert_eq!(
        s.endpoint("example.org").await,
        endpoint(
            "matrix.example.org",
            443,
            "matrix.example.org:443",
            &[PUBLIC]
        )
    );
    assert_eq!(s.dns.queries(), ["A matrix.example.org"]);
}

#[tokio::test]
async fn well_known_delegation_to_an_ip_literal_uses_it_and_checks_it() {
    let s = setup(
        FakeDns::new(),
        FakeWellKnown::new()
            .delegates("example.org", &format!("{PUBLIC}:8443"))
            .delegates("evil.example", "10.0.0.5"),
    );
    let with_port = format!("{PUBLIC}:8443");
    assert_eq!(
        s.endpoint("example.org").await,
        endpoint(PUBLIC, 8443, &with_port, &[PUBLIC])
    );
    assert!(matches!(
        s.discover("evil.example").await,
        Err(DiscoveryError::Blocked(_))
    ));
}

#[tokio::test]
async fn without_well_known_the_matrix_fed_srv_record_is_used_with_the_original_host_header() {
    let s = setup(
        FakeDns::new()
            .srv(
                "_matrix-fed._tcp.example.org",
                10,
                0,
                443,
                "matrix.example.org.",
            )
            .srv(
                "_matrix._tcp.example.org",
                10,
                0,
                8008,
                "legacy.example.org.",
            )
            .host("matrix.example.org", &[PUBLIC]),
        FakeWellKnown::new(),
    );
    assert_eq!(
        s.endpoint("example.org").await,
        endpoint("example.org", 443, "example.org", &[PUBLIC])
    );
}

#[tokio::test]
async fn the_deprecated_matrix_srv_record_is_used_only_without_a_matrix_fed_one() {
    let s = setup(
        FakeDns::new()
            .srv(
                "_matrix._tcp.example.org",
                10,
                0,
                8008,
                "legacy.example.org.",
            )
            .host("legacy.example.org", &[PUBLIC]),
        FakeWellKnown::new(),
    );
    assert_eq!(
        s.endpoint("example.org").await,
        endpoint("example.org", 8008, "example.org", &[PUBLIC])
    );
}

#[tokio::test]
async fn srv_records_are_chosen_by_priority_then_weight_and_dot_targets_are_ignored() {
    let s = setup(
        FakeDns::new()
            .srv("_matrix-fed._tcp.example.org", 0, 0, 1, ".")
            .srv("_matrix-fed._tcp.example.org", 20, 0, 2, "late.example.org")
            .srv(
                "_matrix-fed._tcp.example.org",
                10,
                5,
                3,
                "light.example.org",
            )
            .srv(
                "_matrix-fed._tcp.example.org",
                10,
                50,
                4,
                "Heavy.Example.org.",
            )
            .host("heavy.example.org", &[PUBLIC]),
        FakeWellKnown::new(),
    );
    assert_eq!(
        s.endpoint("example.org").await,
        endpoint("example.org", 4, "example.org", &[PUBLIC])
    );
}

#[tokio::test]
async fn without_well_known_or_srv_the_hostname_is_used_on_port_8448() {
    let s = setup(
        FakeDns::new().host("example.org", &[PUBLIC]),
        FakeWellKnown::new(),
    );
    assert_eq!(
        s.endpoint("example.org").await,
        endpoint("example.org", 8448, "example.org", &[PUBLIC])
    );
}

#[tokio::test]
async fn a_failed_srv_lookup_counts_as_no_record() {
    let s = setup(
        FakeDns::new()
            .failing("_matrix-fed._tcp.example.org")
            .host("example.org", &[PUBLIC]),
        FakeWellKnown::new(),
    );
    assert_eq!(s.endpoint("example.org").await.port, 8448);
}

#[tokio::test]
async fn an_invalid_or_failed_well_known_falls_through_to_srv_and_8448() {
    let default = endpoint("example.org", 8448, "example.org", &[PUBLIC]);
    let dns = || FakeDns::new().host("example.org", &[PUBLIC]);
    let invalid_answers = [
        (404, r#"{"m.server":"elsewhere.org"}"#),
        (200, "not json"),
        (200, r#"{"m.server":1}"#),
        (200, r#"{"other":"elsewhere.org"}"#),
        (200, r#"["elsewhere.org"]"#),
        (200, r#"{"m.server":"https://elsewhere.org"}"#),
        (200, r#"{"m.server":"elsewhere.org/path"}"#),
    ];
    for (status, body) in invalid_answers {
        let s = setup(
            dns(),
            FakeWellKnown::new().answers("example.org", status, body, None),
        );
        assert_eq!(s.endpoint("example.org").await, default, "{status} {body}");
    }
    for error in [
        FetchError::TooLarge,
        FetchError::Failed("timed out".to_owned()),
        FetchError::Blocked("10.0.0.1".to_owned()),
    ] {
        let s = setup(
            dns(),
            FakeWellKnown::new().fails("example.org", error.clone()),
        );
        assert_eq!(s.endpoint("example.org").await, default, "{error}");
    }
}

#[test]
fn endpoints_keep_the_certificate_name_in_the_url() {
    let endpoint = endpoint("example.org", 443, "example.org", &[PUBLIC]);
    assert!(matches!(endpoint.tls_name, Host::Dns(_)));
    assert_eq!(
        endpoint
            .url("/_matrix/federation/v1/openid/userinfo")
            .unwrap()
            .as_str(),
        "https://example.org/_matrix/federation/v1/openid/userinfo"
    );
}
