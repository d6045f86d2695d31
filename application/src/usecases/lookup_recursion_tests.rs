//! Recursive lookups: what is forwarded to the remote identity servers, for whom, and what a
//! remote failure does (nothing to the local answer).
use std::net::IpAddr;

use mockall::predicate::eq;
use pretty_assertions::assert_eq;
use verity_domain::{IpNetwork, ServerLabel};

use super::*;
use crate::ports::driven::{MockRemoteIdentityServers, RemoteError, RemoteServer};

fn label(name: &str) -> ServerLabel {
    ServerLabel::parse(name).unwrap()
}

fn remote_server(name: &str) -> RemoteServer {
    RemoteServer {
        label: label(name),
        base_url: format!("https://{name}.example.net"),
    }
}

fn recursion(labels: &[&str]) -> RecursionSettings {
    RecursionSettings {
        servers: labels.iter().map(|name| label(name)).collect(),
        allowed: vec![IpNetwork::parse("10.0.0.0/8").unwrap()],
        trusted_proxies: vec![IpNetwork::parse("127.0.0.1").unwrap()],
    }
}

fn from(ip: &str) -> Requester {
    Requester::new(Some(ip.parse::<IpAddr>().unwrap()), [])
}

/// A remote where `label` resolves and knows `known`, asked exactly for `asked` once.
fn expect_server(
    remote: &mut MockRemoteIdentityServers,
    name: &'static str,
    asked: Vec<ThreePid>,
    known: Vec<(ThreePid, UserId)>,
) {
    remote
        .expect_resolve()
        .with(eq(label(name)))
        .times(1)
        .returning(move |_| Ok(remote_server(name)));
    remote
        .expect_lookup()
        .withf(move |server, threepids| server.label.as_str() == name && threepids == asked)
        .times(1)
        .returning(move |_, _| Ok(known.clone()));
}

/// The service over one local backend knowing `a@example.org`, forwarding to `remote`.
async fn recursive_service(remote: MockRemoteIdentityServers, labels: &[&str]) -> LookupService {
    let index = index(&[], true).await;
    let local = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    service(index, vec![local], settings(100, both()))
        .with_recursion(Arc::new(remote), recursion(labels))
}

#[tokio::test]
async fn an_allowed_requester_gets_what_the_remote_knows_and_local_hits_are_not_forwarded() {
    let mut remote = MockRemoteIdentityServers::new();
    expect_server(
        &mut remote,
        "central",
        vec![email("b@example.org"), email("c@example.org")],
        vec![(email("b@example.org"), user("@b:remote.org"))],
    );
    let service = recursive_service(remote, &["central"]).await;
    let found = service
        .lookup_bulk(
            &[
                email("c@example.org"),
                email("b@example.org"),
                email("a@example.org"),
            ],
            &from("10.1.2.3"),
        )
        .await
        .unwrap();
    assert_eq!(
        found,
        [
            binding("b@example.org", "@b:remote.org"),
            binding("a@example.org", "@a:example.org"),
        ]
    );
}

#[tokio::test]
async fn requesters_outside_the_allowed_networks_or_unknown_are_never_forwarded() {
    // No expectation: any call to the remote fails the test.
    let service = recursive_service(MockRemoteIdentityServers::new(), &["central"]).await;
    for requester in [
        from("203.0.113.5"),
        Requester::unknown(),
        // A trusted proxy forwarding for an outside client.
        Requester::new(Some("127.0.0.1".parse().unwrap()), ["203.0.113.5"]),
        // An outside peer claiming to forward for an inside one.
        Requester::new(Some("203.0.113.5".parse().unwrap()), ["10.0.0.1"]),
    ] {
        let found = service
            .lookup_bulk(&[email("b@example.org")], &requester)
            .await
            .unwrap();
        assert!(found.is_empty(), "{requester:?}");
    }
}

#[tokio::test]
async fn a_trusted_proxy_forwarding_for_an_allowed_client_is_forwarded() {
    let mut remote = MockRemoteIdentityServers::new();
    expect_server(&mut remote, "central", vec![email("b@example.org")], vec![]);
    let service = recursive_service(remote, &["central"]).await;
    let behind_proxy = Requester::new(Some("127.0.0.1".parse().unwrap()), ["10.9.9.9"]);
    service
        .lookup_bulk(&[email("b@example.org")], &behind_proxy)
        .await
        .unwrap();
}

#[tokio::test]
async fn servers_are_asked_in_label_order_each_for_what_the_earlier_ones_did_not_know() {
    let mut remote = MockRemoteIdentityServers::new();
    expect_server(
        &mut remote,
        "first",
        vec![email("b@example.org"), email("c@example.org")],
        vec![(email("c@example.org"), user("@c:first.org"))],
    );
    expect_server(
        &mut remote,
        "second",
        vec![email("b@example.org")],
        vec![(email("b@example.org"), user("@b:second.org"))],
    );
    let service = recursive_service(remote, &["first", "second"]).await;
    let found = service
        .lookup_bulk(
            &[email("b@example.org"), email("c@example.org")],
            &from("10.0.0.1"),
        )
        .await
        .unwrap();
    assert_eq!(
        found,
        [
            binding("b@example.org", "@b:second.org"),
            binding("c@example.org", "@c:first.org"),
        ]
    );
}

#[tokio::test]
async fn a_failing_remote_never_fails_the_local_answer() {
    let mut remote = MockRemoteIdentityServers::new();
    remote
        .expect_resolve()
        .with(eq(label("gone")))
        .returning(|label| Err(RemoteError::NoUsableServer(label.clone())));
    remote
        .expect_resolve()
        .with(eq(label("broken")))
        .returning(|_| Ok(remote_server("broken")));
    remote
        .expect_lookup()
        .returning(|_, _| Err(RemoteError::InvalidResponse("nonsense".into())));
    let service = recursive_service(remote, &["gone", "broken"]).await;
    let found = service
        .lookup_bulk(
            &[email("a@example.org"), email("b@example.org")],
            &from("10.0.0.1"),
        )
        .await
        .unwrap();
    assert_eq!(found, [binding("a@example.org", "@a:example.org")]);
    let signed = service
        .lookup_signed(&email("b@example.org"), &from("10.0.0.1"))
        .await
        .unwrap();
    assert_eq!(signed, None);
}

#[tokio::test]
async fn a_single_v1_lookup_answered_remotely_is_signed_by_this_server() {
    let mut remote = MockRemoteIdentityServers::new();
    expect_server(
        &mut remote,
        "central",
        vec![email("b@example.org")],
        vec![(email("b@example.org"), user("@b:remote.org"))],
    );
    let service = recursive_service(remote, &["central"]).await;
    let signed = service
        .lookup_signed(&email("b@example.org"), &from("10.0.0.1"))
        .await
        .unwrap()
        .unwrap()
        .to_value();
    assert_eq!(signed["mxid"], "@b:remote.org");
    assert_eq!(signed["address"], "b@example.org");
    assert_eq!(signed["ts"], NOW);
    assert_eq!(
        signed["signatures"],
        json!({"id.example.org": {"ed25519:0": "sig"}})
    );
}

#[tokio::test]
async fn v2_none_lookups_are_forwarded_with_the_clients_spelling_and_hashes_never_are() {
    let mut remote = MockRemoteIdentityServers::new();
    expect_server(
        &mut remote,
        "central",
        vec![email("b@example.org")],
        vec![(email("b@example.org"), user("@b:remote.org"))],
    );
    let service = recursive_service(remote, &["central"]).await;
    let asked = [
        "B@Example.org email".to_owned(),
        "a@example.org email".to_owned(),
    ];
    let found = service
        .lookup(request("none", "pepper1", &asked), &from("10.0.0.1"))
        .await
        .unwrap();
    assert_eq!(
        found,
        BTreeMap::from([
            ("B@Example.org email".to_owned(), user("@b:remote.org")),
            ("a@example.org email".to_owned(), user("@a:example.org")),
        ])
    );
    // The mock allows one forwarded lookup only: a hashed lookup must not make another.
    let hashes = [hash("c@example.org")];
    let found = service
        .lookup(request("sha256", "pepper1", &hashes), &from("10.0.0.1"))
        .await
        .unwrap();
    assert!(found.is_empty());
}

#[tokio::test]
async fn without_forward_servers_nothing_is_forwarded_even_for_allowed_requesters() {
    let index = index(&[], true).await;
    let service = service(index, vec![], settings(10, both()))
        .with_recursion(Arc::new(MockRemoteIdentityServers::new()), recursion(&[]));
    let found = service
        .lookup_bulk(&[email("b@example.org")], &from("10.0.0.1"))
        .await
        .unwrap();
    assert!(found.is_empty());
}
