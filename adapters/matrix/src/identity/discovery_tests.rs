//! Label resolution and discovery with fake DNS, a fake `.well-known/matrix/client` and a fake
//! probe (the real probe and requests are in `http_tests.rs`).
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{RemoteError, RemoteServer};
use verity_domain::ServerLabel;

use super::config::Entry;
use super::discovery::{Candidate, Probe, Resolver};
use crate::homeserver::address_policy::AddressPolicy;
use crate::homeserver::test_support::{FakeDns, FakeWellKnown, PUBLIC, PUBLIC_2};

/// Usable exactly at the listed base URLs; remembers every probe.
#[derive(Default)]
struct FakeProbe {
    usable: BTreeSet<String>,
    probed: Mutex<Vec<String>>,
}

impl FakeProbe {
    fn usable(urls: &[&str]) -> Self {
        Self {
            usable: urls.iter().map(|url| (*url).to_owned()).collect(),
            probed: Mutex::default(),
        }
    }

    fn probed(&self) -> Vec<String> {
        self.probed.lock().unwrap().clone()
    }
}

#[async_trait]
impl Probe for FakeProbe {
    async fn usable(&self, candidate: &Candidate) -> bool {
        let url = candidate.base_url.as_str().trim_end_matches('/').to_owned();
        self.probed.lock().unwrap().push(url.clone());
        self.usable.contains(&url)
    }
}

fn label(name: &str) -> ServerLabel {
    ServerLabel::parse(name).unwrap()
}

struct Setup {
    resolver: Resolver,
    probe: Arc<FakeProbe>,
    dns: Arc<FakeDns>,
}

fn setup(entries: &[&str], dns: FakeDns, well_known: FakeWellKnown, probe: FakeProbe) -> Setup {
    setup_with(entries, dns, well_known, probe, &[])
}

fn setup_with(
    entries: &[&str],
    dns: FakeDns,
    well_known: FakeWellKnown,
    probe: FakeProbe,
    allowed: &[&str],
) -> Setup {
    let root = label("root");
    let entries = entries
        .iter()
        .map(|entry| Entry::parse(&root, entry).unwrap())
        .collect();
    let probe = Arc::new(probe);
    let dns = Arc::new(dns);
    let resolver = Resolver::new(
        BTreeMap::from([(root, entries)]),
        AddressPolicy::new(allowed.iter().map(|net| net.parse().unwrap()).collect()),
        dns.clone(),
        Arc::new(well_known),
        probe.clone(),
        Duration::from_secs(60),
    );
    Setup {
        resolver,
        probe,
        dns,
    }
}

impl Setup {
    async fn resolve(&self) -> Result<String, RemoteError> {
        self.resolver
            .resolve(&label("root"))
            .await
            .map(|server| server.base_url)
    }
}

#[tokio::test]
async fn a_url_entry_is_probed_and_used_as_is_even_on_loopback() {
    let s = setup(
        &["http://127.0.0.1:8090/"],
        FakeDns::new(),
        FakeWellKnown::new(),
        FakeProbe::usable(&["http://127.0.0.1:8090"]),
    );
    let server = s.resolver.resolve(&label("root")).await.unwrap();
    assert_eq!(
        server,
        RemoteServer {
            label: label("root"),
            base_url: "http://127.0.0.1:8090".into()
        }
    );
    assert!(s.dns.queries().is_empty());
}

#[tokio::test]
async fn a_domain_is_found_by_its_srv_records_in_priority_order() {
    let s = setup(
        &["example.org"],
        FakeDns::new()
            .srv(
                "_matrix-identity._tcp.example.org",
                20,
                0,
                8443,
                "b.example.org.",
            )
            .srv(
                "_matrix-identity._tcp.example.org",
                10,
                0,
                443,
                "a.example.org.",
            )
            .host("a.example.org", &[PUBLIC])
            .host("b.example.org", &[PUBLIC_2]),
        FakeWellKnown::new(),
        FakeProbe::usable(&["https://b.example.org:8443"]),
    );
    assert_eq!(s.resolve().await.unwrap(), "https://b.example.org:8443");
    // 443 is https's default port, so the URL does not show it.
    assert_eq!(
        s.probe.probed(),
        ["https://a.example.org", "https://b.example.org:8443"]
    );
}

#[tokio::test]
async fn without_srv_the_well_known_client_document_names_the_server() {
    let s = setup(
        &["example.org"],
        FakeDns::new().host("id.example.net", &[PUBLIC]),
        FakeWellKnown::new().answers(
            "example.org",
            200,
            r#"{"m.homeserver":{"base_url":"https://hs"},"m.identity_server":{"base_url":"https://id.example.net/"}}"#,
            None,
        ),
        FakeProbe::usable(&["https://id.example.net"]),
    );
    assert_eq!(s.resolve().await.unwrap(), "https://id.example.net");
}

#[tokio::test]
async fn without_srv_or_well_known_the_domain_itself_over_https_is_tried() {
    let s = setup(
        &["example.org"],
        FakeDns::new().host("example.org", &[PUBLIC]),
        FakeWellKnown::new().answers("example.org", 404, "{}", None),
        FakeProbe::usable(&["https://example.org"]),
    );
    assert_eq!(s.resolve().await.unwrap(), "https://example.org");
    assert_eq!(
        s.dns.queries(),
        ["SRV _matrix-identity._tcp.example.org", "A example.org"]
    );
}

#[tokio::test]
async fn a_plain_http_well_known_answer_is_not_followed() {
    let s = setup(
        &["example.org"],
        FakeDns::new()
            .host("id.example.net", &[PUBLIC])
            .host("example.org", &[PUBLIC_2]),
        FakeWellKnown::new().answers(
            "example.org",
            200,
            r#"{"m.identity_server":{"base_url":"http://id.example.net"}}"#,
            None,
        ),
        FakeProbe::usable(&["http://id.example.net", "https://example.org"]),
    );
    assert_eq!(s.resolve().await.unwrap(), "https://example.org");
    assert_eq!(s.probe.probed(), ["https://example.org"]);
}

#[tokio::test]
async fn discovered_servers_on_private_addresses_are_never_probed_unless_allowed() {
    let dns = || {
        FakeDns::new()
            .srv(
                "_matrix-identity._tcp.example.org",
                10,
                0,
                8090,
                "internal.example.org",
            )
            .host("internal.example.org", &["10.0.0.5"])
            .host("example.org", &["127.0.0.1"])
    };
    let probe = || FakeProbe::usable(&["https://internal.example.org:8090"]);
    let s = setup(&["example.org"], dns(), FakeWellKnown::new(), probe());
    assert!(matches!(
        s.resolve().await,
        Err(RemoteError::NoUsableServer(label)) if label.as_str() == "root"
    ));
    assert!(s.probe.probed().is_empty());

    let allowed = setup_with(
        &["example.org"],
        dns(),
        FakeWellKnown::new(),
        probe(),
        &["10.0.0.0/8"],
    );
    assert_eq!(
        allowed.resolve().await.unwrap(),
        "https://internal.example.org:8090"
    );
}

#[tokio::test]
async fn an_unusable_first_entry_leaves_the_second_one_chosen() {
    let s = setup(
        &["http://127.0.0.1:1", "https://id.example.org"],
        FakeDns::new(),
        FakeWellKnown::new(),
        FakeProbe::usable(&["https://id.example.org"]),
    );
    assert_eq!(s.resolve().await.unwrap(), "https://id.example.org");
    assert_eq!(
        s.probe.probed(),
        ["http://127.0.0.1:1", "https://id.example.org"]
    );
}

#[tokio::test]
async fn no_usable_entry_and_unknown_labels_are_no_usable_server() {
    let s = setup(
        &["http://127.0.0.1:1", "example.org"],
        FakeDns::new().host("example.org", &[PUBLIC]),
        FakeWellKnown::new(),
        FakeProbe::default(),
    );
    assert!(matches!(
        s.resolve().await,
        Err(RemoteError::NoUsableServer(_))
    ));
    assert!(matches!(
        s.resolver.resolve(&label("other")).await,
        Err(RemoteError::NoUsableServer(label)) if label.as_str() == "other"
    ));
}

#[tokio::test]
async fn a_chosen_server_is_kept_without_probing_again_and_so_is_a_failure_for_a_while() {
    let s = setup(
        &["https://id.example.org"],
        FakeDns::new(),
        FakeWellKnown::new(),
        FakeProbe::usable(&["https://id.example.org"]),
    );
    for _ in 0..3 {
        assert_eq!(s.resolve().await.unwrap(), "https://id.example.org");
    }
    assert_eq!(s.probe.probed().len(), 1);

    let failing = setup(
        &["https://id.example.org"],
        FakeDns::new(),
        FakeWellKnown::new(),
        FakeProbe::default(),
    );
    for _ in 0..3 {
        assert!(failing.resolve().await.is_err());
    }
    assert_eq!(failing.probe.probed().len(), 1);
}

#[tokio::test]
async fn requests_reach_configured_urls_as_is_and_other_urls_only_when_public_https() {
    let s = setup(
        &["http://127.0.0.1:8090"],
        FakeDns::new()
            .host("id.example.org", &[PUBLIC])
            .host("evil.example.org", &["169.254.169.254"]),
        FakeWellKnown::new(),
        FakeProbe::default(),
    );
    let trusted = s
        .resolver
        .candidate_for("http://127.0.0.1:8090")
        .await
        .unwrap();
    assert_eq!(trusted.pinned, None);
    let public = s
        .resolver
        .candidate_for("https://id.example.org")
        .await
        .unwrap();
    assert_eq!(public.pinned, Some(vec![PUBLIC.parse().unwrap()]));
    for refused in [
        "https://evil.example.org",
        "http://id.example.org",
        "http://127.0.0.1:8091",
        "https://127.0.0.1",
    ] {
        assert!(
            s.resolver.candidate_for(refused).await.is_err(),
            "{refused}"
        );
    }
}

#[tokio::test]
async fn a_host_with_a_port_is_tried_there_without_discovery_and_behind_the_policy() {
    let s = setup(
        &["id.example.org:8090", "127.0.0.1:8090"],
        FakeDns::new().host("id.example.org", &[PUBLIC]),
        FakeWellKnown::new(),
        FakeProbe::usable(&["https://127.0.0.1:8090"]),
    );
    assert!(s.resolve().await.is_err());
    assert_eq!(s.probe.probed(), ["https://id.example.org:8090"]);
    assert_eq!(s.dns.queries(), ["A id.example.org"]);
}
