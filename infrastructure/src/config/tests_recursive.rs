//! `lookup.recursive.*` and `forward.servers`.
use pretty_assertions::assert_eq;

use crate::config::tests::parsed;
use crate::config::{ConfigError, ConfigWarning, effective_yaml, parse};
use crate::settings::RecursiveSettings;
use verity_domain::{IpNetwork, ServerLabel};

fn with(sections: &str) -> String {
    format!("matrix: {{domain: example.org}}\n{sections}")
}

fn recursive(sections: &str) -> RecursiveSettings {
    parsed(&with(sections)).settings.lookups.recursive
}

fn refused(sections: &str) -> ConfigError {
    match parse(&with(sections)) {
        Ok(_) => panic!("accepted: {sections}"),
        Err(error) => error,
    }
}

fn nets(raw: &[&str]) -> Vec<IpNetwork> {
    raw.iter()
        .map(|net| IpNetwork::parse(net).unwrap())
        .collect()
}

#[test]
fn by_default_recursion_is_on_for_private_requesters_but_forwards_to_no_server() {
    let s = recursive("");
    assert!(s.enabled);
    assert!(s.forwarding.servers.is_empty());
    assert_eq!(
        s.forwarding.allowed,
        nets(&[
            "127.0.0.0/8",
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "::1/128",
            "fc00::/7"
        ])
    );
    assert!(s.forwarding.trusted_proxies.is_empty());
}

#[test]
fn forward_servers_name_labels_and_the_networks_are_read() {
    let s = parsed(
        "matrix: {domain: example.org, identity: {servers: {central: ['https://id.example.net']}}}\n\
         forward: {servers: [central, root, central]}\n\
         lookup:\n  recursive:\n    enabled: true\n    allowedCidr: ['10.1.0.0/16', '2001:db8::1']\n\
         \x20   trustedProxies: ['127.0.0.1']\n",
    )
    .settings
    .lookups
    .recursive;
    assert_eq!(
        s.forwarding.servers,
        [
            ServerLabel::parse("central").unwrap(),
            ServerLabel::parse("root").unwrap()
        ]
    );
    assert_eq!(
        s.forwarding.allowed,
        nets(&["10.1.0.0/16", "2001:db8::1/128"])
    );
    assert_eq!(s.forwarding.trusted_proxies, nets(&["127.0.0.1/32"]));
}

#[test]
fn unknown_labels_and_bad_networks_are_refused_with_their_key() {
    for (sections, key) in [
        ("forward: {servers: [nowhere]}", "forward.servers[0]"),
        (
            "lookup: {recursive: {allowedCidr: ['10.0.0.0/8', 'intranet']}}",
            "lookup.recursive.allowedCidr[1]",
        ),
        (
            "lookup: {recursive: {trustedProxies: ['10.0.0.0/40']}}",
            "lookup.recursive.trustedProxies[0]",
        ),
    ] {
        let error = refused(sections);
        assert_eq!(error.key(), Some(key), "{sections}: {error}");
    }
}

#[test]
fn forward_servers_without_recursion_are_reported_as_unused() {
    let loaded = parsed(&with(
        "forward: {servers: [root]}\nlookup: {recursive: {enabled: false}}\n",
    ));
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| matches!(w, ConfigWarning::Unused { path, .. } if path == "forward.servers")),
        "{:?}",
        loaded.warnings
    );
    assert!(!loaded.settings.lookups.recursive.enabled);
}

#[test]
fn the_dump_writes_recursion_back_in_a_form_that_reads_back() {
    let first = parsed(&with(
        "forward: {servers: [root]}\n\
         lookup: {recursive: {allowedCidr: ['10.0.0.0/8'], trustedProxies: ['::1']}}\n",
    ))
    .settings;
    let dumped = effective_yaml(&first);
    assert!(
        dumped.contains("forward:\n  servers:\n  - root\n"),
        "{dumped}"
    );
    let again = parsed(&dumped).settings;
    assert_eq!(again.lookups.recursive, first.lookups.recursive);
}
