//! The arrows of ARCHITECTURE.md, checked on the real dependency graph (`cargo metadata`):
//! domain <- application <- adapters <- infrastructure, adapters never import each other, and no
//! I/O library reaches the domain or the application, not even transitively.
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Crates whose types must never be visible to domain or application code.
const IO_LIBRARIES: [&str; 12] = [
    "poem",
    "poem-openapi",
    "sea-orm",
    "sea-orm-migration",
    "sqlx",
    "lettre",
    "reqwest",
    "maud",
    "serde_yaml",
    "serde_norway",
    "hyper",
    "tokio",
];

struct Graph {
    /// Package name -> names of its direct normal (non-dev, non-build) dependencies.
    normal: BTreeMap<String, BTreeSet<String>>,
    /// Workspace members.
    members: BTreeSet<String>,
    /// (dependent, dependency) pairs whose normal dependency turns on the `mocks` feature.
    mocks_enabled_by: Vec<(String, String)>,
}

/// The host's target triple (`rustc -vV`), so `cargo metadata` resolves only the dependencies a
/// build here uses: the other platforms' crates (android_system_properties, windows-sys...) are not
/// in a fresh machine's cargo cache, and `--offline` would fail on them.
fn host_triple() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let output = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    let text = String::from_utf8(output.stdout).expect("rustc -vV prints UTF-8");
    text.lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .trim()
        .to_owned()
}

fn graph() -> Graph {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &host_triple()])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let meta: Value = serde_json::from_slice(&output.stdout).expect("metadata JSON");

    let name_of: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let members = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| name_of[id.as_str().unwrap()].to_owned())
        .collect();
    let mut normal = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|d| name_of[d["pkg"].as_str().unwrap()].to_owned())
            .collect();
        normal.insert(name_of[node["id"].as_str().unwrap()].to_owned(), deps);
    }
    let mut mocks_enabled_by = Vec::new();
    for package in meta["packages"].as_array().unwrap() {
        for dep in package["dependencies"].as_array().unwrap() {
            let is_normal = dep["kind"].is_null();
            let mocks = dep["features"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "mocks");
            if is_normal && mocks {
                let pair = (
                    package["name"].as_str().unwrap(),
                    dep["name"].as_str().unwrap(),
                );
                mocks_enabled_by.push((pair.0.to_owned(), pair.1.to_owned()));
            }
        }
    }
    Graph {
        normal,
        members,
        mocks_enabled_by,
    }
}

impl Graph {
    fn direct(&self, package: &str) -> &BTreeSet<String> {
        &self.normal[package]
    }

    fn transitive(&self, package: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = vec![package];
        while let Some(next) = stack.pop() {
            for dep in self.normal.get(next).into_iter().flatten() {
                if seen.insert(dep.clone()) {
                    stack.push(dep);
                }
            }
        }
        seen
    }

    fn workspace_deps(&self, package: &str) -> BTreeSet<String> {
        self.direct(package)
            .iter()
            .filter(|d| self.members.contains(*d))
            .cloned()
            .collect()
    }
}

fn adapters(g: &Graph) -> Vec<String> {
    g.members
        .iter()
        .filter(|m| m.starts_with("verity-adapter-"))
        .cloned()
        .collect()
}

#[test]
fn the_domain_depends_on_no_other_crate_of_the_workspace_and_no_io_library() {
    let g = graph();
    assert!(
        g.workspace_deps("verity-domain").is_empty(),
        "{:?}",
        g.workspace_deps("verity-domain")
    );
    let reach = g.transitive("verity-domain");
    for lib in IO_LIBRARIES {
        assert!(!reach.contains(lib), "verity-domain reaches {lib}");
    }
}

#[test]
fn the_application_depends_only_on_the_domain_and_reaches_no_io_library() {
    let g = graph();
    assert_eq!(
        g.workspace_deps("verity-application"),
        BTreeSet::from(["verity-domain".to_owned()])
    );
    let reach = g.transitive("verity-application");
    for lib in IO_LIBRARIES {
        assert!(!reach.contains(lib), "verity-application reaches {lib}");
    }
}

#[test]
fn adapters_depend_only_on_application_and_domain_never_on_each_other() {
    let g = graph();
    let allowed: BTreeSet<String> = ["verity-domain", "verity-application"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let adapters = adapters(&g);
    assert!(
        adapters.len() >= 4,
        "expected the four adapter crates, found {adapters:?}"
    );
    for adapter in adapters {
        let deps = g.workspace_deps(&adapter);
        let extra: Vec<&String> = deps.difference(&allowed).collect();
        assert!(extra.is_empty(), "{adapter} depends on {extra:?}");
    }
}

#[test]
fn only_the_test_crate_depends_on_infrastructure() {
    let g = graph();
    for member in &g.members {
        if member != "verity-tests" {
            assert!(
                !g.direct(member).contains("verity"),
                "{member} depends on infrastructure"
            );
        }
    }
}

#[test]
fn no_normal_dependency_turns_on_the_mocks() {
    let g = graph();
    assert!(
        g.mocks_enabled_by.is_empty(),
        "mocks enabled by {:?}",
        g.mocks_enabled_by
    );
}

#[test]
fn nothing_depends_on_the_test_or_spec_crates_except_tests() {
    let g = graph();
    for member in &g.members {
        let deps = g.direct(member);
        assert!(
            !deps.contains("verity-tests"),
            "{member} depends on verity-tests"
        );
        if member != "verity-tests" {
            assert!(
                !deps.contains("verity-api-spec"),
                "{member} depends on verity-api-spec"
            );
        }
    }
}
