//! The checks on small hand-made workspaces: each rule fails when broken, naming the crate, the
//! package and the kind of dependency, and stays quiet on what is allowed.
use std::collections::{BTreeMap, BTreeSet};

use crate::rules::{
    Allowed, Layer, Policy, check_arrows, check_test_features, check_third_party, io_reached,
};
use crate::workspace::{Dep, Kind, Member, Workspace, parse_lock};

const NONE: Allowed = Allowed {
    runtime: &[],
    dev: &[],
};

const POLICY: Policy = Policy {
    domain: Allowed {
        runtime: &["thiserror"],
        dev: &["pretty_assertions"],
    },
    application: NONE,
    adapters_common: Allowed {
        runtime: &["tokio"],
        dev: &["tempfile"],
    },
    adapters: &[
        (
            "http",
            Allowed {
                runtime: &["poem"],
                dev: &[],
            },
        ),
        (
            "sql",
            Allowed {
                runtime: &["sea-orm", "poem"],
                dev: &[],
            },
        ),
    ],
    infrastructure: NONE,
    owned: &[("poem", &["adapters/http"])],
    test_only_features: &["mocks", "testing"],
    io_crates: &["tokio"],
};

/// domain <- application <- adapters (http, sql) <- infrastructure, tests, with `extra` added
/// to the member in `dir`.
fn workspace(dir: &str, extra: Dep) -> Workspace {
    let normal = |name: &str| Dep::new(name, Kind::Normal);
    let mut members = vec![
        Member::new("domain", "domain", vec![normal("thiserror")]),
        Member::new("app", "application", vec![normal("domain")]),
        Member::new("http", "adapters/http", vec![normal("app"), normal("poem")]),
        Member::new(
            "sql",
            "adapters/sql",
            vec![normal("app"), normal("sea-orm")],
        ),
        Member::new("kit", "tests/kit", vec![normal("domain")]),
        Member::new(
            "infra",
            "infrastructure",
            vec![normal("http"), normal("sql"), normal("app")],
        ),
        Member::new(
            "tests",
            "tests",
            vec![normal("infra"), normal("sql").with_features(&["testing"])],
        ),
    ];
    if let Some(member) = members.iter_mut().find(|m| m.dir == dir) {
        member.deps.push(extra);
    }
    Workspace {
        members,
        lock: BTreeMap::new(),
    }
}

fn texts(violations: Vec<crate::rules::Violation>) -> Vec<String> {
    violations.into_iter().map(|v| v.0).collect()
}

#[test]
fn the_hand_made_workspace_breaks_no_rule() {
    let ws = workspace("", Dep::new("unused", Kind::Normal));
    assert_eq!(texts(check_arrows(&ws)), Vec::<String>::new());
    assert_eq!(texts(check_third_party(&ws, &POLICY)), Vec::<String>::new());
    assert_eq!(
        texts(check_test_features(&ws, &POLICY)),
        Vec::<String>::new()
    );
}

#[test]
fn an_adapter_depending_on_a_sibling_fails_for_every_kind_of_dependency() {
    for kind in [Kind::Normal, Kind::Dev, Kind::Build] {
        let ws = workspace("adapters/sql", Dep::new("http", kind));
        let found = texts(check_arrows(&ws));
        assert_eq!(
            found,
            vec![format!(
                "sql (adapters/sql) has a {kind} on http (adapters/http): an adapter never \
                 depends on a sibling adapter"
            )]
        );
    }
}

#[test]
fn a_layer_depending_on_a_higher_one_fails_even_as_a_dev_dependency() {
    let ws = workspace("application", Dep::new("http", Kind::Dev));
    let found = texts(check_arrows(&ws));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("app (the application) has a dev-dependency on http"));

    let ws = workspace("adapters/http", Dep::new("infra", Kind::Dev));
    let found = texts(check_arrows(&ws));
    assert!(
        found[0].contains("only tests and api-spec depend on infrastructure"),
        "{found:?}"
    );
}

#[test]
fn the_test_kit_is_allowed_only_as_a_dev_dependency_and_never_in_the_domain() {
    let ws = workspace("adapters/sql", Dep::new("kit", Kind::Dev));
    assert_eq!(texts(check_arrows(&ws)), Vec::<String>::new());
    let ws = workspace("adapters/sql", Dep::new("kit", Kind::Normal));
    assert!(texts(check_arrows(&ws))[0].contains("the test kit is only ever a dev-dependency"));
    let ws = workspace("domain", Dep::new("kit", Kind::Dev));
    assert_eq!(check_arrows(&ws).len(), 1);
}

#[test]
fn a_member_outside_every_layer_fails() {
    let mut ws = workspace("", Dep::new("unused", Kind::Normal));
    ws.members
        .push(Member::new("tool", "tools/gen", Vec::new()));
    assert!(texts(check_arrows(&ws))[0].starts_with("tool (tools/gen) sits in no layer"));
    assert_eq!(
        Layer::of("adapters/ldap"),
        Some(Layer::Adapter("ldap".into()))
    );
    assert_eq!(Layer::of("adapters/ldap/sub"), None);
}

#[test]
fn a_crate_off_the_list_fails_naming_the_crate_the_package_and_the_kind() {
    let ws = workspace("domain", Dep::new("reqwest", Kind::Build));
    assert_eq!(
        texts(check_third_party(&ws, &POLICY)),
        vec![
            "domain (the domain) has a build-dependency on reqwest, which is not on the \
             allow-list of the domain (tests/tests/architecture/allow.rs): use it where it \
             belongs, or add it to the list if it belongs here"
                .to_owned()
        ]
    );
}

#[test]
fn a_dev_only_crate_is_refused_as_a_normal_dependency() {
    let ws = workspace("domain", Dep::new("pretty_assertions", Kind::Dev));
    assert_eq!(check_third_party(&ws, &POLICY).len(), 0);
    let ws = workspace("domain", Dep::new("pretty_assertions", Kind::Normal));
    let found = texts(check_third_party(&ws, &POLICY));
    assert!(
        found[0].contains("normal dependency on pretty_assertions"),
        "{found:?}"
    );
}

#[test]
fn a_crate_owned_by_one_adapter_fails_elsewhere_even_when_a_list_allows_it() {
    let ws = workspace("adapters/sql", Dep::new("poem-openapi", Kind::Dev));
    let found = texts(check_third_party(&ws, &POLICY));
    assert!(
        found.contains(
            &"sql (adapters/sql) has a dev-dependency on poem-openapi: poem* belongs only to \
              adapters/http"
                .to_owned()
        ),
        "{found:?}"
    );
    let ws = workspace("adapters/sql", Dep::new("poem", Kind::Normal));
    assert_eq!(check_third_party(&ws, &POLICY).len(), 1);
}

#[test]
fn an_adapter_without_a_list_fails() {
    let mut ws = workspace("", Dep::new("unused", Kind::Normal));
    ws.members
        .push(Member::new("ldap", "adapters/ldap", Vec::new()));
    let found = texts(check_third_party(&ws, &POLICY));
    assert!(
        found[0].contains("(adapters/ldap) has no allow-list"),
        "{found:?}"
    );
}

#[test]
fn a_normal_dependency_turning_on_a_test_only_feature_fails_but_a_dev_one_does_not() {
    let mocks = |kind| Dep::new("app", kind).with_features(&["mocks"]);
    let ws = workspace("adapters/http", mocks(Kind::Dev));
    assert_eq!(check_test_features(&ws, &POLICY).len(), 0);
    let ws = workspace("adapters/http", mocks(Kind::Normal));
    assert_eq!(
        texts(check_test_features(&ws, &POLICY)),
        vec![
            "http (adapters/http) turns on app's test-only feature `mocks` in a normal \
             dependency: turn it on from [dev-dependencies]"
                .to_owned()
        ]
    );
    // The test crate may turn on `testing` (it is test code) but not `mocks`.
    let ws = workspace("tests", mocks(Kind::Normal));
    assert_eq!(check_test_features(&ws, &POLICY).len(), 1);
}

#[test]
fn an_io_crate_reached_through_a_third_party_crate_fails_but_not_through_a_dev_dependency() {
    let mut ws = workspace("domain", Dep::new("helper", Kind::Normal));
    ws.lock = BTreeMap::from([
        ("helper".to_owned(), BTreeSet::from(["mio-ish".to_owned()])),
        ("mio-ish".to_owned(), BTreeSet::from(["tokio".to_owned()])),
    ]);
    let found = texts(io_reached(&ws, "domain", &POLICY));
    assert!(
        found[0].starts_with("domain reaches the I/O crate tokio"),
        "{found:?}"
    );

    let mut ws = workspace("domain", Dep::new("helper", Kind::Dev));
    ws.lock = BTreeMap::from([("helper".to_owned(), BTreeSet::from(["tokio".to_owned()]))]);
    assert_eq!(io_reached(&ws, "domain", &POLICY).len(), 0);
}

#[test]
fn the_lock_file_is_read_as_a_graph_by_name() {
    let lock = r#"
version = 4

[[package]]
name = "a"
version = "1.0.0"
dependencies = [
 "b 1.0.0",
 "b 2.0.0 (registry+https://github.com/rust-lang/crates.io-index)",
 "c",
]

[[package]]
name = "c"
version = "0.1.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "00"

[metadata]
"x" = "y"
"#;
    let graph = parse_lock(lock);
    assert_eq!(
        graph,
        BTreeMap::from([
            (
                "a".to_owned(),
                BTreeSet::from(["b".to_owned(), "c".to_owned()])
            ),
            ("c".to_owned(), BTreeSet::new()),
        ])
    );
}
