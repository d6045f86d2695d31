//! `rest.*`: ma1sd's keys and defaults into the REST adapter's configuration, errors naming the
//! key to fix, and the dump reading back with the password masked.
use std::time::Duration;

use pretty_assertions::assert_eq;

use super::{ConfigError, effective_yaml, parse};
use crate::settings::RestSettings;

fn rest(section: &str) -> Result<Option<RestSettings>, ConfigError> {
    parse(&format!(
        "matrix: {{domain: example.org}}\nrest:\n{section}"
    ))
    .map(|loaded| loaded.settings.rest)
}

fn settings(section: &str) -> RestSettings {
    rest(section).unwrap().unwrap()
}

fn error(section: &str) -> (String, String) {
    let err = rest(section).unwrap_err();
    let key = err
        .key()
        .unwrap_or_else(|| panic!("no key in {err}"))
        .to_owned();
    (key, err.to_string())
}

fn url(endpoint: Option<&verity_adapter_rest::BackendUrl>) -> Option<String> {
    endpoint.map(|url| url.expose().to_string())
}

#[test]
fn the_section_is_off_by_default_and_when_disabled_nothing_else_is_checked() {
    let settings = parse("matrix: {domain: example.org}\n").unwrap().settings;
    assert_eq!(settings.rest, None);
    assert_eq!(
        rest("  enabled: false\n  host: 'not a url'\n").unwrap(),
        None
    );
}

#[test]
fn every_endpoint_defaults_to_ma1sds_path_under_the_host() {
    let s = settings("  enabled: true\n  host: 'https://backend.example.org/'\n");
    let e = &s.config.endpoints;
    let base = "https://backend.example.org/_ma1sd/backend/api/v1";
    assert_eq!(url(e.auth.as_ref()), Some(format!("{base}/auth/login")));
    assert_eq!(
        url(e.directory.as_ref()),
        Some(format!("{base}/directory/user/search"))
    );
    assert_eq!(
        url(e.identity_single.as_ref()),
        Some(format!("{base}/identity/single"))
    );
    assert_eq!(
        url(e.identity_bulk.as_ref()),
        Some(format!("{base}/identity/bulk"))
    );
    assert_eq!(
        url(e.profile_display_name.as_ref()),
        Some(format!("{base}/profile/displayName"))
    );
    assert_eq!(
        url(e.profile_threepids.as_ref()),
        Some(format!("{base}/profile/threepids"))
    );
    assert_eq!(
        url(e.profile_roles.as_ref()),
        Some(format!("{base}/profile/roles"))
    );
    // Verity's feed is off unless written.
    assert_eq!(e.identity_all, None);
    assert_eq!(s.config.timeout, Duration::from_secs(10));
    assert_eq!(s.config.priority, 20);
    assert_eq!(s.config.matrix_domain, "example.org");
    assert_eq!(s.refresh, Duration::from_secs(300));
}

#[test]
fn mxisd_paths_full_urls_and_empty_strings_are_read_as_ma1sd_reads_them() {
    let s = settings(
        "  enabled: true\n  host: 'http://127.0.0.1:8091/base'\n  endpoints:\n    auth: ''\n    \
         identity:\n      single: '/_mxisd/backend/api/v1/identity/single'\n      \
         bulk: 'https://other.example.org/bulk'\n      all: '/all'\n",
    );
    let e = &s.config.endpoints;
    assert_eq!(e.auth, None);
    assert_eq!(
        url(e.identity_single.as_ref()),
        Some("http://127.0.0.1:8091/base/_mxisd/backend/api/v1/identity/single".into())
    );
    assert_eq!(
        url(e.identity_bulk.as_ref()),
        Some("https://other.example.org/bulk".into())
    );
    assert_eq!(
        url(e.identity_all.as_ref()),
        Some("http://127.0.0.1:8091/base/all".into())
    );
}

#[test]
fn verity_s_own_keys_are_read() {
    let s = settings(
        "  enabled: true\n  host: 'http://rest'\n  timeout: 3s\n  maxResponseBytes: 1024\n  \
         identity: {priority: 30, refresh: 0}\n",
    );
    assert_eq!(s.config.timeout, Duration::from_secs(3));
    assert_eq!(s.config.max_response_bytes, 1024);
    assert_eq!(s.config.priority, 30);
    assert_eq!(s.refresh, Duration::ZERO);
}

#[test]
fn errors_name_the_key_to_fix() {
    // The default endpoints are paths, so a host is needed.
    let (key, shown) = error("  enabled: true\n");
    assert_eq!(key, "rest.host", "{shown}");
    assert!(shown.contains("rest.endpoints.auth"), "{shown}");
    let (key, shown) = error("  enabled: true\n  host: 'ftp://backend'\n");
    assert_eq!(key, "rest.host", "{shown}");
    assert!(shown.contains("ftp"), "{shown}");
    let (key, _) = error("  enabled: true\n  host: 'backend.example.org'\n");
    assert_eq!(key, "rest.host");
    let (key, _) = error(
        "  enabled: true\n  host: 'http://rest'\n  endpoints: {identity: {bulk: 'file:///etc/passwd'}}\n",
    );
    assert_eq!(key, "rest.endpoints.identity.bulk");
    let (key, _) = error("  enabled: true\n  host: 'http://rest'\n  maxResponseBytes: 0\n");
    assert_eq!(key, "rest.maxResponseBytes");
    let (key, _) = error("  enabled: true\n  host: 'http://rest'\n  timeout: 0\n");
    assert_eq!(key, "rest.timeout");
}

#[test]
fn without_a_host_every_endpoint_must_be_a_full_url_or_off() {
    let s = settings(
        "  enabled: true\n  endpoints:\n    auth: ''\n    directory: ''\n    identity:\n      \
         single: 'https://a.example.org/single'\n      bulk: ''\n    profile:\n      \
         displayName: ''\n      threepids: ''\n      roles: ''\n",
    );
    assert_eq!(s.config.host, None);
    assert_eq!(
        url(s.config.endpoints.identity_single.as_ref()),
        Some("https://a.example.org/single".into())
    );
    let (key, shown) = error(
        "  enabled: true\n  endpoints:\n    auth: ''\n    directory: ''\n    identity:\n      \
         single: 'https://a.example.org/single'\n",
    );
    assert_eq!(key, "rest.host", "{shown}");
    assert!(shown.contains("rest.endpoints.identity.bulk"), "{shown}");
}

#[test]
fn the_dump_masks_the_password_and_reads_back_into_the_same_settings() {
    let file = "matrix: {domain: example.org}\nrest:\n  enabled: true\n  \
                host: 'https://verity:rest-secret@backend.example.org'\n  \
                endpoints: {directory: '', identity: {all: '/all?token=rest-secret'}}\n";
    let first = parse(file).unwrap().settings;
    let dumped = effective_yaml(&first);
    assert!(!dumped.contains("rest-secret"), "{dumped}");
    assert!(
        dumped.contains("verity:redacted@backend.example.org"),
        "{dumped}"
    );
    let again = parse(&dumped).unwrap().settings;
    assert_eq!(format!("{:?}", again.rest), format!("{:?}", first.rest));
    assert_eq!(effective_yaml(&again), dumped);
    // The secret is still what is sent.
    let rest = first.rest.unwrap();
    assert_eq!(
        rest.config.host.unwrap().expose().password(),
        Some("rest-secret")
    );
}
