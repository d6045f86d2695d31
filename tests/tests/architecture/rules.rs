//! The checks, as functions of a [`Workspace`] and a [`Policy`] that return every broken rule, so
//! `rules_tests.rs` can show each one fails on a small hand-made workspace.
use std::collections::BTreeSet;
use std::fmt;

use crate::workspace::{Dep, Kind, Member, Workspace};

/// Where a member sits, from its directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer {
    Domain,
    Application,
    /// `adapters/<name>`.
    Adapter(String),
    Infrastructure,
    /// `api-spec`: checks the OpenAPI document, may use whatever it checks (dev only).
    ApiSpec,
    /// `tests`: the end-to-end tests and this one; may use anything.
    Tests,
    /// `tests/kit`: helpers for other crates' tests (fake servers, certificates).
    TestKit,
}

impl Layer {
    pub fn of(dir: &str) -> Option<Layer> {
        match dir {
            "domain" => Some(Layer::Domain),
            "application" => Some(Layer::Application),
            "infrastructure" => Some(Layer::Infrastructure),
            "api-spec" => Some(Layer::ApiSpec),
            "tests" => Some(Layer::Tests),
            "tests/kit" => Some(Layer::TestKit),
            _ => dir
                .strip_prefix("adapters/")
                .filter(|name| !name.is_empty() && !name.contains('/'))
                .map(|name| Layer::Adapter(name.to_owned())),
        }
    }

    /// The hexagon's own layers, whose normal dependencies ship in the server.
    pub fn ships(&self) -> bool {
        matches!(
            self,
            Layer::Domain | Layer::Application | Layer::Adapter(_) | Layer::Infrastructure
        )
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Domain => f.write_str("the domain"),
            Layer::Application => f.write_str("the application"),
            Layer::Adapter(name) => write!(f, "adapters/{name}"),
            Layer::Infrastructure => f.write_str("infrastructure"),
            Layer::ApiSpec => f.write_str("api-spec"),
            Layer::Tests => f.write_str("tests"),
            Layer::TestKit => f.write_str("tests/kit"),
        }
    }
}

/// Why a workspace-internal edge is refused, or `None` when it follows the arrows: domain <-
/// application <- adapters <- infrastructure, whatever the kind, so a test can never reach what
/// the code may not. The one addition for tests: any layer but the domain may dev-depend on the
/// test kit, which itself sees only the domain and the application.
pub fn forbidden_edge(from: &Layer, to: &Layer, kind: Kind) -> Option<&'static str> {
    use Layer::*;
    match (from, to) {
        (Tests, _) => None,
        (_, Tests) => Some("nothing depends on the end-to-end test crate"),
        (ApiSpec, _) => None,
        (_, ApiSpec) => Some("only tests depend on api-spec"),
        (_, Infrastructure) => Some("only tests and api-spec depend on infrastructure"),
        (Domain, _) => Some("the domain depends on no other crate of the workspace"),
        (_, TestKit) if kind == Kind::Dev && *from != TestKit => None,
        (_, TestKit) => Some("the test kit is only ever a dev-dependency"),
        (Application | TestKit, Domain) => None,
        (Application, _) => Some("the application depends only on the domain"),
        (TestKit, Application) => None,
        (TestKit, _) => Some("the test kit depends only on the domain and the application"),
        (Adapter(_), Domain | Application) => None,
        (Adapter(_), Adapter(_)) => Some("an adapter never depends on a sibling adapter"),
        (Infrastructure, Domain | Application | Adapter(_)) => None,
    }
}

/// The third-party crates one layer may use.
#[derive(Debug, Clone, Copy)]
pub struct Allowed {
    /// In `[dependencies]` and `[build-dependencies]` (and so in tests too).
    pub runtime: &'static [&'static str],
    /// Only in `[dev-dependencies]`: test helpers.
    pub dev: &'static [&'static str],
}

impl Allowed {
    fn permits(&self, name: &str, kind: Kind) -> bool {
        self.runtime.contains(&name) || (kind == Kind::Dev && self.dev.contains(&name))
    }
}

/// Everything the checks are configured with; `allow.rs` holds Verity's.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub domain: Allowed,
    pub application: Allowed,
    /// What every adapter may use, on top of its own list.
    pub adapters_common: Allowed,
    /// By adapter directory name (`http` for `adapters/http`).
    pub adapters: &'static [(&'static str, Allowed)],
    pub infrastructure: Allowed,
    /// A crate name prefix and the only layers that may name it directly, whatever an allow-list
    /// says (`poem` also covers `poem-openapi`).
    pub owned: &'static [(&'static str, &'static [&'static str])],
    /// Features that exist for other crates' tests (mockall mocks, contract suites, scratch
    /// databases): a shipping layer's normal or build dependency never turns them on.
    pub test_only_features: &'static [&'static str],
    /// Crates that do I/O: neither the domain nor the application reaches one, even transitively.
    pub io_crates: &'static [&'static str],
}

/// One broken rule, worded for the person who broke it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn layered(ws: &Workspace) -> (Vec<(&Member, Layer)>, Vec<Violation>) {
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    for member in &ws.members {
        match Layer::of(&member.dir) {
            Some(layer) => found.push((member, layer)),
            None => unknown.push(Violation(format!(
                "{} ({}) sits in no layer: put it under domain/, application/, adapters/<name>/, \
                 infrastructure/ or tests/, or teach tests/tests/architecture/rules.rs its place",
                member.name, member.dir
            ))),
        }
    }
    (found, unknown)
}

/// Every workspace-internal edge, of every kind, against [`forbidden_edge`]; and every member
/// in a layer.
pub fn check_arrows(ws: &Workspace) -> Vec<Violation> {
    let (members, mut violations) = layered(ws);
    for (member, layer) in &members {
        for dep in member.deps.iter().filter(|d| ws.is_member(&d.name)) {
            let Some((_, to)) = members.iter().find(|(m, _)| m.name == dep.name) else {
                continue; // reported above as sitting in no layer
            };
            if let Some(rule) = forbidden_edge(layer, to, dep.kind) {
                violations.push(Violation(format!(
                    "{} ({layer}) has a {} on {} ({to}): {rule}",
                    member.name, dep.kind, dep.name
                )));
            }
        }
    }
    violations
}

/// Every third-party crate a shipping layer names, against its allow-list and the owned crates.
pub fn check_third_party(ws: &Workspace, policy: &Policy) -> Vec<Violation> {
    let (members, _) = layered(ws);
    let mut violations = Vec::new();
    for (member, layer) in members.iter().filter(|(_, l)| l.ships()) {
        let lists: Vec<Allowed> = match layer {
            Layer::Domain => vec![policy.domain],
            Layer::Application => vec![policy.application],
            Layer::Infrastructure => vec![policy.infrastructure],
            Layer::Adapter(name) => match policy.adapters.iter().find(|(n, _)| n == name) {
                Some((_, own)) => vec![policy.adapters_common, *own],
                None => {
                    violations.push(Violation(format!(
                        "{} (adapters/{name}) has no allow-list: add one to ADAPTERS in \
                         tests/tests/architecture/allow.rs",
                        member.name
                    )));
                    continue;
                }
            },
            Layer::ApiSpec | Layer::Tests | Layer::TestKit => continue,
        };
        for dep in member.deps.iter().filter(|d| !ws.is_member(&d.name)) {
            if !lists.iter().any(|list| list.permits(&dep.name, dep.kind)) {
                violations.push(Violation(format!(
                    "{} ({layer}) has a {} on {}, which is not on the allow-list of {layer} \
                     (tests/tests/architecture/allow.rs): use it where it belongs, or add it \
                     to the list if it belongs here",
                    member.name, dep.kind, dep.name
                )));
            }
            violations.extend(owned_elsewhere(member, layer, dep, policy));
        }
    }
    violations
}

fn owned_elsewhere(
    member: &Member,
    layer: &Layer,
    dep: &Dep,
    policy: &Policy,
) -> Option<Violation> {
    let here = layer.to_string();
    let (prefix, owners) = policy
        .owned
        .iter()
        .find(|(prefix, _)| dep.name.starts_with(prefix))?;
    if owners.iter().any(|owner| *owner == here) {
        return None;
    }
    Some(Violation(format!(
        "{} ({layer}) has a {} on {}: {prefix}* belongs only to {}",
        member.name,
        dep.kind,
        dep.name,
        owners.join(", ")
    )))
}

/// Normal and build dependencies that turn on a test-only feature: none from a shipping layer,
/// and `mocks` from nowhere at all (a mock in a normal dependency of any crate leaks into builds).
pub fn check_test_features(ws: &Workspace, policy: &Policy) -> Vec<Violation> {
    let (members, _) = layered(ws);
    let mut violations = Vec::new();
    for (member, layer) in &members {
        for dep in member.deps.iter().filter(|d| d.kind != Kind::Dev) {
            for feature in &dep.features {
                let test_only = policy.test_only_features.contains(&feature.as_str());
                if test_only && (layer.ships() || feature == "mocks") {
                    violations.push(Violation(format!(
                        "{} ({layer}) turns on {}'s test-only feature `{feature}` in a {}: \
                         turn it on from [dev-dependencies]",
                        member.name, dep.name, dep.kind
                    )));
                }
            }
        }
    }
    violations
}

/// The I/O crates `package` reaches through normal and build dependencies: its manifest's for
/// members, `Cargo.lock`'s for third-party crates.
pub fn io_reached(ws: &Workspace, package: &str, policy: &Policy) -> Vec<Violation> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![package.to_owned()];
    while let Some(next) = stack.pop() {
        let deps: Vec<String> = match ws.member(&next) {
            Some(member) => member
                .deps
                .iter()
                .filter(|d| d.kind != Kind::Dev)
                .map(|d| d.name.clone())
                .collect(),
            None => ws
                .lock
                .get(&next)
                .map(|deps| deps.iter().cloned().collect())
                .unwrap_or_default(),
        };
        for dep in deps {
            if seen.insert(dep.clone()) {
                stack.push(dep);
            }
        }
    }
    policy
        .io_crates
        .iter()
        .filter(|io| seen.contains(**io))
        .map(|io| {
            Violation(format!(
                "{package} reaches the I/O crate {io} through its normal or build dependencies \
                 (`cargo tree -p {package} -e normal,build -i {io}` shows the path)"
            ))
        })
        .collect()
}
