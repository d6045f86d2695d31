use pretty_assertions::assert_eq;

use super::{changed_keys, reloadable, template_medium};
use crate::config::parse;

const BASE: &str = "matrix:\n  domain: example.org\nkey:\n  path: ':memory:'\n";

fn changes(old: &str, new: &str) -> Vec<String> {
    let old = parse(&format!("{BASE}{old}")).unwrap().settings;
    let new = parse(&format!("{BASE}{new}")).unwrap().settings;
    changed_keys(&old, &new)
}

#[test]
fn the_same_file_changes_nothing() {
    assert_eq!(changes("", ""), Vec::<String>::new());
}

#[test]
fn a_default_written_out_is_no_change() {
    assert_eq!(
        changes("", "ratelimit:\n  enabled: true\n"),
        Vec::<String>::new()
    );
}

#[test]
fn each_changed_effective_key_is_named_once_and_a_list_as_one_key() {
    let changed = changes(
        "server:\n  trustedProxies: ['10.0.0.1/32']\n",
        "server:\n  port: 9000\n  trustedProxies: ['10.0.0.1/32', '10.0.0.2/32']\n\
         logging:\n  app: debug\nratelimit:\n  bind:\n    burst: 3\n",
    );
    let (limits, rest): (Vec<_>, Vec<_>) = changed
        .iter()
        .partition(|key| key.starts_with("ratelimit.bind"));
    // The dump writes the trusted proxies under both of their names.
    assert_eq!(
        rest,
        [
            "logging.app",
            "lookup.recursive.trustedProxies",
            "server.port",
            "server.trustedProxies"
        ]
    );
    assert!(!limits.is_empty(), "{changed:?}");
    let mut unique = changed.clone();
    unique.dedup();
    assert_eq!(unique, changed);
}

#[test]
fn limits_levels_pages_and_set_up_templates_are_reloadable_and_the_rest_is_not() {
    let templates = ["email".to_owned()];
    for key in [
        "ratelimit.enabled",
        "ratelimit.email.requester.perHour",
        "logging.app",
        "logging.root",
        "view.session.onTokenSubmit.success",
        "threepid.medium.email.generators.template.invite",
    ] {
        assert!(reloadable(key, &templates), "{key}");
    }
    for key in [
        "logging.format",
        "server.port",
        "server.trustedProxies",
        "threepid.medium.email.connectors.smtp.host",
        "threepid.medium.msisdn.generators.template.invite",
        "ratelimitx",
        "viewer",
    ] {
        assert!(!reloadable(key, &templates), "{key}");
    }
}

#[test]
fn a_template_key_names_its_medium() {
    assert_eq!(
        template_medium("threepid.medium.msisdn.generators.template.session.validation"),
        Some("msisdn")
    );
    assert_eq!(template_medium("threepid.medium.msisdn.connector"), None);
    assert_eq!(template_medium("threepid.medium"), None);
}
