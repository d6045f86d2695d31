//! `dns.overwrite.homeserver.federation` and `federation.*`.
use std::time::Duration;

use ipnet::IpNet;
use pretty_assertions::assert_eq;
use verity_adapter_matrix::FederationConfig;

use super::tests::parsed;
use super::*;

fn refused(yaml: &str) -> ConfigError {
    match parse(yaml) {
        Ok(_) => panic!("the configuration was accepted:\n{yaml}"),
        Err(e) => e,
    }
}

fn with(section: &str) -> String {
    format!("matrix: {{domain: example.org}}\n{section}")
}

fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

const FEDERATION: &str = r"
dns:
  overwrite:
    homeserver:
      federation:
        - name: 'example.org'
          value: 'http://127.0.0.1:8008'
        - name: 'Other.example:8448'
          value: 'https://proxy.internal/hs '
federation:
  allowedNetworks: ['10.1.2.3', '172.16.0.0/12', 'fd00::1', '192.168.7.9/16']
  verifyTls: false
  timeout: 30s
  maxResponseBytes: 5120
  maxConcurrentRequests: 40
  maxConcurrentRequestsPerServer: 3
";

#[test]
fn federation_overrides_allowed_networks_and_limits_are_read() {
    let loaded = parsed(&with(FEDERATION));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let f = loaded.settings.federation;
    assert_eq!(
        f.overrides,
        [
            ("example.org".to_owned(), "http://127.0.0.1:8008".to_owned()),
            (
                "Other.example:8448".to_owned(),
                "https://proxy.internal/hs".to_owned()
            ),
        ]
    );
    // A bare address is that address alone; host bits of a network are cleared.
    assert_eq!(
        f.allowed_networks,
        [
            net("10.1.2.3/32"),
            net("172.16.0.0/12"),
            net("fd00::1/128"),
            net("192.168.0.0/16")
        ]
    );
    assert!(!f.verify_tls);
    assert_eq!(f.timeout, Duration::from_secs(30));
    assert_eq!(f.max_response_bytes, 5120);
    assert_eq!(
        (
            f.max_concurrent_requests,
            f.max_concurrent_requests_per_server
        ),
        (40, 3)
    );
}

#[test]
fn without_dns_or_federation_the_client_defaults_apply() {
    let f = parsed("matrix: {domain: example.org}").settings.federation;
    let defaults = FederationConfig::default();
    assert!(f.overrides.is_empty() && f.allowed_networks.is_empty());
    assert!(f.verify_tls);
    assert_eq!(f.timeout, defaults.timeout);
    assert_eq!(f.max_response_bytes, 65_536);
    assert_eq!(
        (
            f.max_concurrent_requests,
            f.max_concurrent_requests_per_server
        ),
        (100, 10)
    );
}

#[test]
fn a_bad_override_is_an_error_naming_its_entry() {
    let entry = |name: &str, value: &str| {
        refused(&with(&format!(
            "dns:\n  overwrite:\n    homeserver:\n      federation:\n\
             \x20       - {{name: ok.example, value: 'http://10.0.0.1'}}\n\
             \x20       - {{name: '{name}', value: '{value}'}}\n"
        )))
    };
    let base = "dns.overwrite.homeserver.federation[1]";
    for value in [
        "127.0.0.1:8008",
        "ftp://hs.example",
        "http://hs/?a=b",
        "/relative",
    ] {
        let error = entry("example.org", value);
        assert_eq!(
            error.key(),
            Some(format!("{base}.value").as_str()),
            "{value}"
        );
    }
    for name in ["https://example.org", "example.org/path", "exa mple.org"] {
        let error = entry(name, "http://127.0.0.1:8008");
        assert_eq!(error.key(), Some(format!("{base}.name").as_str()), "{name}");
    }
    let error = entry("OK.example", "http://127.0.0.1:8008");
    assert_eq!(error.key(), Some(format!("{base}.name").as_str()));
    assert!(error.to_string().contains("[0]"), "{error}");
    let error = entry("example.org", "");
    assert!(matches!(error, ConfigError::Missing { .. }), "{error}");
    assert_eq!(error.key(), Some(format!("{base}.value").as_str()));
}

#[test]
fn a_bad_network_or_limit_is_an_error_naming_its_key() {
    let error = refused(&with(
        "federation:\n  allowedNetworks: ['10.0.0.0/8', '10.0.0.0/33']\n",
    ));
    assert_eq!(error.key(), Some("federation.allowedNetworks[1]"));
    let error = refused(&with("federation:\n  allowedNetworks: [example.org]\n"));
    assert_eq!(error.key(), Some("federation.allowedNetworks[0]"));
    for (section, key) in [
        ("federation: {timeout: 0}", "federation.timeout"),
        ("federation: {timeout: 10}", ""),
        (
            "federation: {maxResponseBytes: 0}",
            "federation.maxResponseBytes",
        ),
        (
            "federation: {maxResponseBytes: -1}",
            "federation.maxResponseBytes",
        ),
        ("federation: {verifyTls: maybe}", "federation.verifyTls"),
        (
            "federation: {maxConcurrentRequests: 0}",
            "federation.maxConcurrentRequests",
        ),
        (
            "federation: {maxConcurrentRequestsPerServer: 0}",
            "federation.maxConcurrentRequestsPerServer",
        ),
        (
            "federation: {maxConcurrentRequestsPerServer: -2}",
            "federation.maxConcurrentRequestsPerServer",
        ),
    ] {
        let yaml = with(&format!("{section}\n"));
        if key.is_empty() {
            parsed(&yaml);
        } else {
            assert_eq!(refused(&yaml).key(), Some(key), "{section}");
        }
    }
}

#[test]
fn the_client_overrides_are_read_for_the_user_directory_and_typos_are_suggested() {
    let loaded = parsed(&with(
        "dns:\n  overwrite:\n    homeserver:\n\
         \x20     client: [{name: example.org, value: 'http://localhost:8008'}]\n\
         \x20     federation: [{name: example.org, value: 'http://localhost:8008', vaule: x}]\n\
         federation: {verifyTLS: true}\n",
    ));
    assert_eq!(
        loaded.settings.user_directory.client_overrides,
        [("example.org".to_owned(), "http://localhost:8008".to_owned())]
    );
    assert_eq!(
        loaded.warnings,
        [
            ConfigWarning::UnknownKey {
                path: "dns.overwrite.homeserver.federation[0].vaule".into(),
                suggestion: Some("dns.overwrite.homeserver.federation[0].value".into()),
            },
            ConfigWarning::UnknownKey {
                path: "federation.verifyTLS".into(),
                suggestion: Some("federation.verifyTls".into()),
            },
        ]
    );
}

#[test]
fn the_dump_writes_the_federation_settings_back_in_a_form_that_reads_back() {
    let first = parsed(&with(FEDERATION)).settings;
    let yaml = effective_yaml(&first);
    assert!(yaml.contains("value: https://proxy.internal/hs"), "{yaml}");
    assert!(yaml.contains("- 10.1.2.3/32"), "{yaml}");
    assert!(yaml.contains("timeout: 30s"), "{yaml}");
    let again = parsed(&yaml);
    assert!(again.warnings.is_empty(), "{:?}", again.warnings);
    assert_eq!(effective_yaml(&again.settings), yaml);
    let (a, b) = (&again.settings.federation, &first.federation);
    assert_eq!(a.overrides, b.overrides);
    assert_eq!(a.allowed_networks, b.allowed_networks);
    assert_eq!(
        (a.verify_tls, a.timeout, a.max_response_bytes),
        (b.verify_tls, b.timeout, b.max_response_bytes)
    );
    assert!(yaml.contains("maxConcurrentRequestsPerServer: 3"), "{yaml}");
    assert_eq!(
        (
            a.max_concurrent_requests,
            a.max_concurrent_requests_per_server
        ),
        (40, 3)
    );
}
