//! The arrows of `docs/architecture.md`, checked on the workspace's manifests (normal, dev- and
//! build-dependencies) and `Cargo.lock`: domain <- application <- adapters <- infrastructure,
//! adapters never depend on a sibling, only tests and api-spec depend on infrastructure, no
//! shipping crate turns on a test-only feature, each layer names only the third-party crates on
//! its allow-list (`allow.rs`), and neither the domain nor the application reaches an I/O crate
//! even transitively.
//!
//! A test target of its own, apart from the end-to-end binary: it starts no server, needs no
//! network and no cargo cache (see `workspace.rs`), and runs in well under a second:
//! `cargo nextest run -p verity-tests --test architecture`.

// Test helpers outside #[test] functions are not "tests" to clippy; panicking is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod allow;
mod rules;
mod rules_tests;
mod workspace;

use rules::{Layer, Violation};

fn assert_none(violations: Vec<Violation>) {
    let text: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(text.is_empty(), "\n{}\n", text.join("\n"));
}

#[test]
fn the_workspace_is_read_whole_with_every_layer_in_it() {
    let ws = workspace::read();
    let layers: Vec<Layer> = ws
        .members
        .iter()
        .filter_map(|m| Layer::of(&m.dir))
        .collect();
    for layer in [
        Layer::Domain,
        Layer::Application,
        Layer::Infrastructure,
        Layer::Tests,
    ] {
        assert!(layers.contains(&layer), "{layer} missing from {layers:?}");
    }
    let adapters = layers
        .iter()
        .filter(|l| matches!(l, Layer::Adapter(_)))
        .count();
    assert!(
        adapters >= 5,
        "expected the adapter crates, found {layers:?}"
    );
    let domain = ws.member("verity-domain").expect("the domain crate");
    assert!(!domain.deps.is_empty(), "no dependency read: {domain:?}");
    assert!(
        ws.lock
            .get("sea-orm")
            .is_some_and(|deps| deps.contains("sqlx")),
        "Cargo.lock not read"
    );
}

#[test]
fn every_dependency_of_every_kind_points_down_the_layers() {
    assert_none(rules::check_arrows(&workspace::read()));
}

#[test]
fn every_third_party_crate_is_on_the_allow_list_of_the_layer_that_names_it() {
    assert_none(rules::check_third_party(&workspace::read(), &allow::VERITY));
}

#[test]
fn no_normal_or_build_dependency_turns_on_a_test_only_feature() {
    assert_none(rules::check_test_features(
        &workspace::read(),
        &allow::VERITY,
    ));
}

#[test]
fn neither_the_domain_nor_the_application_reaches_an_io_crate_even_transitively() {
    let ws = workspace::read();
    let mut violations = rules::io_reached(&ws, "verity-domain", &allow::VERITY);
    violations.extend(rules::io_reached(&ws, "verity-application", &allow::VERITY));
    assert_none(violations);
}
