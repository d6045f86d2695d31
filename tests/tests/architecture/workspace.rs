//! The workspace as the rules see it: each member with its directory and its declared
//! dependencies (normal, dev, build), read from the manifests by `cargo metadata --no-deps
//! --offline`, and the third-party graph read from the committed `Cargo.lock`.
//!
//! Why not the full `cargo metadata`: its resolve downloads every package of the feature-unified
//! dependency graph, including optional dependencies no build compiles (sea-orm's `arrow`,
//! sqlx's MySQL driver, ...). A fresh cargo cache, filled by building the workspace, does not
//! hold them, and with `--offline` the command fails ("failed to download `arrow`"); without it,
//! a test would need the network. `--no-deps` reads only the workspace's own manifests and the
//! lock file is in the repository, so neither needs the cargo cache at all.
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The kind of a dependency, as `[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Normal,
    Dev,
    Build,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Normal => "normal dependency",
            Kind::Dev => "dev-dependency",
            Kind::Build => "build-dependency",
        })
    }
}

/// One declared dependency of a member (a crate renamed in the manifest keeps its package name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    pub name: String,
    pub kind: Kind,
    /// The features this declaration turns on.
    pub features: Vec<String>,
}

impl Dep {
    pub fn new(name: &str, kind: Kind) -> Self {
        Dep {
            name: name.to_owned(),
            kind,
            features: Vec::new(),
        }
    }

    pub fn with_features(mut self, features: &[&str]) -> Self {
        self.features = features.iter().map(|f| (*f).to_owned()).collect();
        self
    }
}

/// A workspace member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    /// Its directory relative to the workspace root, `/`-separated (`adapters/http`).
    pub dir: String,
    pub deps: Vec<Dep>,
}

impl Member {
    pub fn new(name: &str, dir: &str, deps: Vec<Dep>) -> Self {
        Member {
            name: name.to_owned(),
            dir: dir.to_owned(),
            deps,
        }
    }
}

/// The members, and for third-party packages the names of what they depend on.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub members: Vec<Member>,
    /// From `Cargo.lock`: package name -> names of its dependencies. For a registry package that
    /// is its normal and build dependencies on every platform, with the features any member
    /// turns on: a superset of what one build uses, so a crate it does not reach is truly out.
    pub lock: BTreeMap<String, BTreeSet<String>>,
}

impl Workspace {
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }

    pub fn is_member(&self, name: &str) -> bool {
        self.member(name).is_some()
    }
}

/// Reads the real workspace this test crate belongs to.
pub fn read() -> Workspace {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root");
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let meta: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let root_dir = meta["workspace_root"].as_str().expect("a workspace root");
    let lock_path = Path::new(root_dir).join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path)
        .unwrap_or_else(|e| panic!("{} cannot be read: {e}", lock_path.display()));
    Workspace {
        members: members(&meta, root_dir),
        lock: parse_lock(&lock),
    }
}

fn members(meta: &Value, root_dir: &str) -> Vec<Member> {
    let packages = meta["packages"].as_array().expect("a package list");
    packages
        .iter()
        .map(|package| {
            let manifest = package["manifest_path"].as_str().expect("a manifest path");
            let dir = Path::new(manifest)
                .parent()
                .and_then(|dir| dir.strip_prefix(root_dir).ok())
                .expect("a member inside the workspace root");
            let dir = dir
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let deps = package["dependencies"]
                .as_array()
                .expect("a dependency list")
                .iter()
                .map(dep)
                .collect();
            Member {
                name: package["name"].as_str().expect("a name").to_owned(),
                dir,
                deps,
            }
        })
        .collect()
}

fn dep(value: &Value) -> Dep {
    let kind = match value["kind"].as_str() {
        None => Kind::Normal,
        Some("dev") => Kind::Dev,
        Some("build") => Kind::Build,
        Some(other) => panic!("unknown dependency kind {other}"),
    };
    Dep {
        name: value["name"]
            .as_str()
            .expect("a dependency name")
            .to_owned(),
        kind,
        features: value["features"]
            .as_array()
            .expect("a feature list")
            .iter()
            .map(|f| f.as_str().expect("a feature name").to_owned())
            .collect(),
    }
}

/// The dependency graph of `Cargo.lock` by package name (versions merged: a rule about a crate
/// is about all its versions). Only the shape cargo writes is understood: `[[package]]` tables
/// with `name = "..."` and a `dependencies = [...]` array of `"name"`, `"name version"` or
/// `"name version (source)"`, one per line.
pub fn parse_lock(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_deps = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') && !line.starts_with("[[package]]") && !in_deps {
            current = None;
        } else if line == "[[package]]" {
            current = None;
            in_deps = false;
        } else if let Some(name) = line.strip_prefix("name = ") {
            let name = name.trim_matches('"').to_owned();
            graph.entry(name.clone()).or_default();
            current = Some(name);
        } else if line.starts_with("dependencies = [") {
            in_deps = !line.ends_with(']');
        } else if in_deps && line == "]" {
            in_deps = false;
        } else if in_deps && let Some(package) = &current {
            let entry = line.trim_end_matches(',').trim_matches('"');
            if let Some(dep) = entry.split(' ').next().filter(|d| !d.is_empty()) {
                graph
                    .entry(package.clone())
                    .or_default()
                    .insert(dep.to_owned());
            }
        }
    }
    graph
}
