//! `session.policy.validation` and `matrix.identity.servers`, with the scenarios of mxisd's
//! "3PID sessions" documentation written out as an operator would.
use pretty_assertions::assert_eq;
use verity_domain::{RemotePolicy, ScopePolicy, ValidationPolicy};

use super::tests::{label, parsed};
use super::*;

fn policy_of(yaml: &str) -> ValidationPolicy {
    let loaded = parsed(&format!("matrix:\n  domain: example.org\n{yaml}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    loaded.settings.session.validation.policy
}

fn scope(enabled: bool, to_local: bool, to_remote: bool, server: &str) -> ScopePolicy {
    ScopePolicy {
        enabled,
        to_local,
        to_remote: RemotePolicy {
            enabled: to_remote,
            server: label(server),
        },
    }
}

#[test]
fn the_default_scenario_written_in_full_is_the_default_policy() {
    let policy = policy_of(
        r"
session:
  policy:
    validation:
      enabled: true
      forLocal:
        enabled: true
        toLocal: true
        toRemote:
          enabled: true
      forRemote:
        enabled: true
        toLocal: false
        toRemote:
          enabled: true
",
    );
    assert_eq!(policy, ValidationPolicy::defaults(label("root")));
    assert_eq!(policy, policy_of(""));
}

#[test]
fn the_local_only_scenario_never_goes_remote() {
    let policy = policy_of(
        r"
session:
  policy:
    validation:
      enabled: true
      forLocal:
        enabled: true
        toLocal: true
        toRemote:
          enabled: false
      forRemote:
        enabled: true
        toLocal: true
        toRemote:
          enabled: false
",
    );
    assert_eq!(
        policy,
        ValidationPolicy {
            enabled: true,
            for_local: scope(true, true, false, "root"),
            for_remote: scope(true, true, false, "root"),
        }
    );
    assert!(policy.referenced_labels().is_empty());
}

#[test]
fn the_remote_only_scenario_never_validates_here() {
    let policy = policy_of(
        r"
session:
  policy:
    validation:
      enabled: true
      forLocal:
        enabled: true
        toLocal: false
        toRemote:
          enabled: true
      forRemote:
        enabled: true
        toLocal: false
        toRemote:
          enabled: true
",
    );
    assert_eq!(
        policy,
        ValidationPolicy {
            enabled: true,
            for_local: scope(true, false, true, "root"),
            for_remote: scope(true, false, true, "root"),
        }
    );
}

#[test]
fn the_disabled_scenario_only_turns_the_global_switch_off() {
    let policy = policy_of("session:\n  policy:\n    validation:\n      enabled: false\n");
    assert_eq!(
        policy,
        ValidationPolicy {
            enabled: false,
            ..ValidationPolicy::defaults(label("root"))
        }
    );
}

#[test]
fn a_policy_may_send_remote_sessions_to_a_label_of_its_own() {
    let loaded = parsed(
        r"
matrix:
  domain: example.org
  identity:
    servers:
      configExample:
        - 'https://example.org'
session:
  policy:
    validation:
      forLocal:
        toRemote:
          server: 'configExample'
      forRemote:
        toRemote:
          server: 'configExample'
",
    );
    let settings = loaded.settings;
    assert_eq!(
        settings.session.validation.policy,
        ValidationPolicy::defaults(label("configExample"))
    );
    // Adding a label keeps the predefined `root` and `matrix-org` lists.
    assert_eq!(
        settings
            .matrix
            .identity_servers
            .keys()
            .map(|l| l.as_str())
            .collect::<Vec<_>>(),
        ["configExample", "matrix-org", "root"]
    );
}

#[test]
fn a_policy_naming_an_unconfigured_label_is_refused_with_the_key() {
    let error = parse(
        "matrix: {domain: example.org}\n\
         session: {policy: {validation: {forRemote: {toRemote: {server: central}}}}}\n",
    )
    .unwrap_err();
    assert_eq!(
        error.key(),
        Some("session.policy.validation.forRemote.toRemote.server")
    );
    let shown = error.to_string();
    assert!(shown.contains("`central` is not a label"), "{shown}");
    assert!(
        shown.contains("configured labels: matrix-org, root"),
        "{shown}"
    );
}

#[test]
fn an_empty_server_list_is_refused_only_where_the_policy_uses_it() {
    let error =
        parse("matrix: {domain: example.org, identity: {servers: {root: []}}}").unwrap_err();
    assert_eq!(
        error.key(),
        Some("session.policy.validation.forLocal.toRemote.server")
    );
    assert!(error.to_string().contains("empty list"), "{error}");

    // Nobody goes remote: an empty `root` (written as a bare `root:`) is fine.
    let loaded = parsed(
        "matrix:\n  domain: example.org\n  identity:\n    servers:\n      root:\n\
         session:\n  policy:\n    validation:\n      forLocal: {toRemote: {enabled: false}}\n\
         \x20     forRemote: {toLocal: true, toRemote: {enabled: false}}\n",
    );
    assert_eq!(
        loaded.settings.matrix.identity_servers[&label("root")],
        Vec::<String>::new()
    );
}

#[test]
fn labels_of_disabled_targets_are_not_checked() {
    for yaml in [
        "session: {policy: {validation: {enabled: false, forLocal: {toRemote: {server: gone}}}}}",
        "session: {policy: {validation: {forLocal: {enabled: false, toRemote: {server: gone}}}}}",
        "session: {policy: {validation: {forLocal: {toRemote: {enabled: false, server: gone}}}}}",
    ] {
        let policy = policy_of(yaml);
        assert_eq!(policy.for_local.to_remote.server, label("gone"));
    }
}

#[test]
fn an_invalid_label_in_the_policy_is_named() {
    let error = parse(
        "matrix: {domain: example.org}\n\
         session: {policy: {validation: {forLocal: {toRemote: {server: 'not ok'}}}}}\n",
    )
    .unwrap_err();
    assert_eq!(
        error.key(),
        Some("session.policy.validation.forLocal.toRemote.server")
    );
}
