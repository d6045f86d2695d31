//! The policy decision, table-driven over the seed's default table and each documented scenario,
//! the scenarios parsed from the YAML snippets of `shared/seed/3pid-sessions.txt`.

use pretty_assertions::assert_eq;
use serde::Deserialize;

use super::*;

fn label(name: &str) -> ServerLabel {
    ServerLabel::parse(name).unwrap()
}

/// Test-only mirror of the configuration tree (the real parser lives in infrastructure, which the
/// domain must not depend on). Missing keys take the same defaults as there.
#[derive(Deserialize)]
struct Doc {
    session: Session,
}
#[derive(Deserialize)]
struct Session {
    policy: PolicyDoc,
}
#[derive(Deserialize)]
struct PolicyDoc {
    validation: ValidationDoc,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidationDoc {
    enabled: bool,
    for_local: Option<ScopeDoc>,
    for_remote: Option<ScopeDoc>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScopeDoc {
    enabled: bool,
    to_local: bool,
    to_remote: RemoteDoc,
}
#[derive(Deserialize)]
struct RemoteDoc {
    enabled: bool,
    server: Option<String>,
}

fn parse(yaml: &str) -> ValidationPolicy {
    let doc: Doc = serde_norway::from_str(yaml).unwrap();
    let v = doc.session.policy.validation;
    let defaults = ValidationPolicy::defaults(label("root"));
    let scope = |d: Option<ScopeDoc>, default: ScopePolicy| match d {
        None => default,
        Some(d) => ScopePolicy {
            enabled: d.enabled,
            to_local: d.to_local,
            to_remote: RemotePolicy {
                enabled: d.to_remote.enabled,
                server: label(d.to_remote.server.as_deref().unwrap_or("root")),
            },
        },
    };
    ValidationPolicy {
        enabled: v.enabled,
        for_local: scope(v.for_local, defaults.for_local),
        for_remote: scope(v.for_remote, defaults.for_remote),
    }
}

const SEED_DEFAULT: &str = "
session:
  policy:
    validation:
      enabled: true
      forLocal:
        enabled: true
        toLocal: true
        toRemote:
          enabled: true
          server: 'configExample' # Not to be included in config! Already present in default config!
      forRemote:
        enabled: true
        toLocal: false
        toRemote:
          enabled: true
          server: 'configExample' # Not to be included in config! Already present in default config!
";

const SEED_LOCAL_ONLY: &str = "
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
";

const SEED_REMOTE_ONLY: &str = "
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
";

const SEED_DISABLED: &str = "
session:
  policy:
    validation:
      enabled: false
";

#[test]
fn the_built_in_defaults_match_the_seeds_default_table() {
    // Local 3PID: local session yes, remote offered. Remote 3PID: no local session, remote forced.
    let policy = ValidationPolicy::defaults(label("root"));
    assert_eq!(
        policy.decide(Scope::Local),
        ValidationDecision::LocalOfferRemote(label("root"))
    );
    assert_eq!(
        policy.decide(Scope::Remote),
        ValidationDecision::RemoteForced(label("root"))
    );
}

#[test]
fn each_seed_scenario_decides_as_documented() {
    use ValidationDecision::*;
    let cases = [
        (
            "default",
            SEED_DEFAULT,
            LocalOfferRemote(label("configExample")),
            RemoteForced(label("configExample")),
        ),
        ("local only", SEED_LOCAL_ONLY, Local, Local),
        (
            "remote only",
            SEED_REMOTE_ONLY,
            RemoteForced(label("root")),
            RemoteForced(label("root")),
        ),
        (
            "disabled",
            SEED_DISABLED,
            Refused(RefusalReason::Disabled),
            Refused(RefusalReason::Disabled),
        ),
    ];
    for (name, yaml, local, remote) in cases {
        let policy = parse(yaml);
        assert_eq!(
            policy.decide(Scope::Local),
            local,
            "scenario {name}, local 3PID"
        );
        assert_eq!(
            policy.decide(Scope::Remote),
            remote,
            "scenario {name}, remote 3PID"
        );
    }
}

#[test]
fn every_combination_of_scope_switches_decides_as_the_table_says() {
    use ValidationDecision::*;
    let table = [
        // enabled, toLocal, toRemote.enabled -> decision
        (
            false,
            true,
            true,
            Refused(RefusalReason::ScopeDisabled(Scope::Remote)),
        ),
        (true, true, true, LocalOfferRemote(label("central"))),
        (true, true, false, Local),
        (true, false, true, RemoteForced(label("central"))),
        (
            true,
            false,
            false,
            Refused(RefusalReason::NoTarget(Scope::Remote)),
        ),
    ];
    for (enabled, to_local, to_remote, expected) in table {
        let mut policy = ValidationPolicy::defaults(label("root"));
        policy.for_remote = ScopePolicy {
            enabled,
            to_local,
            to_remote: RemotePolicy {
                enabled: to_remote,
                server: label("central"),
            },
        };
        assert_eq!(
            policy.decide(Scope::Remote),
            expected,
            "enabled={enabled} toLocal={to_local} toRemote={to_remote}"
        );
        // The other scope is untouched by this scope's switches.
        assert_eq!(policy.decide(Scope::Local), LocalOfferRemote(label("root")));
    }
}

#[test]
fn the_global_switch_wins_over_every_scope() {
    let mut policy = ValidationPolicy::defaults(label("root"));
    policy.enabled = false;
    for scope in [Scope::Local, Scope::Remote] {
        assert_eq!(
            policy.decide(scope),
            ValidationDecision::Refused(RefusalReason::Disabled)
        );
    }
}

#[test]
fn refusal_reasons_say_why_in_words() {
    assert_eq!(
        RefusalReason::ScopeDisabled(Scope::Local).to_string(),
        "validating local 3PIDs is not allowed on this server"
    );
    assert_eq!(
        RefusalReason::Disabled.to_string(),
        "validating 3PIDs is disabled on this server"
    );
}

#[test]
fn only_labels_of_enabled_remote_targets_are_referenced() {
    let policy = parse(SEED_LOCAL_ONLY);
    assert!(policy.referenced_labels().is_empty());
    let policy = parse(SEED_DEFAULT);
    assert_eq!(
        policy.referenced_labels(),
        vec![&label("configExample"), &label("configExample")]
    );
}
