use std::net::IpAddr;

use pretty_assertions::assert_eq;

use super::*;

fn ip(raw: &str) -> IpAddr {
    raw.parse().unwrap()
}

fn nets(raw: &[&str]) -> Vec<IpNetwork> {
    raw.iter()
        .map(|net| IpNetwork::parse(net).unwrap())
        .collect()
}

#[test]
fn networks_contain_exactly_their_addresses() {
    let net = IpNetwork::parse("172.16.0.0/12").unwrap();
    assert!(net.contains(ip("172.16.0.1")));
    assert!(net.contains(ip("172.31.255.255")));
    assert!(!net.contains(ip("172.32.0.0")));
    assert!(!net.contains(ip("172.15.255.255")));
    let v6 = IpNetwork::parse("fc00::/7").unwrap();
    assert!(v6.contains(ip("fd12::1")));
    assert!(!v6.contains(ip("fe80::1")));
    assert!(!v6.contains(ip("10.0.0.1")));
    let everything = IpNetwork::parse("0.0.0.0/0").unwrap();
    assert!(everything.contains(ip("8.8.8.8")));
    assert!(!everything.contains(ip("2001:db8::1")));
}

#[test]
fn a_bare_address_is_itself_alone_and_host_bits_are_cleared() {
    let one = IpNetwork::parse("10.1.2.3").unwrap();
    assert!(one.contains(ip("10.1.2.3")));
    assert!(!one.contains(ip("10.1.2.4")));
    assert_eq!(
        IpNetwork::parse(" 10.1.2.3/8 ").unwrap().to_string(),
        "10.0.0.0/8"
    );
    assert_eq!(IpNetwork::parse("::1").unwrap().to_string(), "::1/128");
}

#[test]
fn ipv4_mapped_ipv6_peers_are_judged_as_ipv4() {
    let loopback = IpNetwork::parse("127.0.0.0/8").unwrap();
    assert!(loopback.contains(ip("::ffff:127.0.0.1")));
}

#[test]
fn things_that_are_not_networks_are_refused() {
    for raw in [
        "",
        "10.0.0.0/33",
        "::/129",
        "10.0.0.0/",
        "10.0.0.0/+8",
        "10.0.0/8",
        "example.org",
        "10.0.0.0/8/8",
    ] {
        assert!(IpNetwork::parse(raw).is_err(), "{raw:?}");
    }
}

#[test]
fn the_default_recursion_networks_are_loopback_and_private() {
    let defaults = nets(&DEFAULT_RECURSION_NETWORKS);
    for inside in [
        "127.0.0.1",
        "10.9.8.7",
        "172.20.1.1",
        "192.168.1.1",
        "::1",
        "fd00::1",
    ] {
        assert!(in_networks(&defaults, ip(inside)), "{inside}");
    }
    for outside in ["8.8.8.8", "2001:4860::8888", "100.64.0.1"] {
        assert!(!in_networks(&defaults, ip(outside)), "{outside}");
    }
}

#[test]
fn without_trusted_proxies_the_peer_is_the_client_whatever_it_forwards() {
    let requester = Requester::new(Some(ip("203.0.113.7")), ["127.0.0.1"]);
    assert_eq!(requester.client_ip(&[]), Some(ip("203.0.113.7")));
    assert_eq!(
        Requester::new(Some(ip("::ffff:10.0.0.1")), []).client_ip(&[]),
        Some(ip("10.0.0.1"))
    );
}

#[test]
fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
    let proxies = nets(&["127.0.0.1", "10.0.0.0/8"]);
    let through = |headers: &[&str]| {
        Requester::new(Some(ip("127.0.0.1")), headers.iter().copied()).client_ip(&proxies)
    };
    // The left-most entry is whatever the client claimed: never believed past an untrusted hop.
    assert_eq!(
        through(&["192.168.1.1, 198.51.100.2, 10.0.0.3"]),
        Some(ip("198.51.100.2"))
    );
    assert_eq!(
        through(&["192.168.1.1", "198.51.100.2:4711"]),
        Some(ip("198.51.100.2"))
    );
    assert_eq!(through(&["[2001:db8::5]:443"]), Some(ip("2001:db8::5")));
    // Only trusted hops: the furthest one is the client.
    assert_eq!(through(&["10.0.0.9, 10.0.0.3"]), Some(ip("10.0.0.9")));
    // No header: the proxy itself asked.
    assert_eq!(through(&[]), Some(ip("127.0.0.1")));
    // A hop that had to be believed is garbage: the client is unknown.
    assert_eq!(through(&["198.51.100.2, unknown"]), None);
    // An untrusted peer's header is never read, garbage or not.
    assert_eq!(
        Requester::new(Some(ip("198.51.100.9")), ["unknown"]).client_ip(&proxies),
        Some(ip("198.51.100.9"))
    );
    assert_eq!(Requester::unknown().client_ip(&proxies), None);
}

#[test]
fn only_the_hops_nearest_to_verity_are_kept() {
    let many: Vec<String> = (0..100).map(|i| format!("10.0.0.{i}")).collect();
    let header = many.join(",");
    let requester = Requester::new(Some(ip("127.0.0.1")), [header.as_str()]);
    let all_trusted = nets(&["127.0.0.1", "10.0.0.0/8"]);
    assert_eq!(requester.client_ip(&all_trusted), Some(ip("10.0.0.68")));
}

#[test]
fn a_passed_on_request_names_the_addresses_received_then_the_peer_and_nothing_else() {
    let requester = Requester::new(
        Some(ip("::ffff:10.0.0.2")),
        [
            "198.51.100.1, evil\r\nX-Injected: 1",
            "[2001:db8::5]:443, unknown",
        ],
    );
    assert_eq!(
        requester.forwarded_chain(),
        vec![ip("198.51.100.1"), ip("2001:db8::5"), ip("10.0.0.2")]
    );
    assert_eq!(Requester::unknown().forwarded_chain(), Vec::<IpAddr>::new());
}
