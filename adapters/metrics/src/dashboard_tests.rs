//! The sample Grafana dashboard (`docs/grafana/verity-dashboard.json`) queries only series the
//! exporter writes, and shows every metric.
use std::collections::BTreeSet;

use serde_json::Value;

use crate::METRIC_NAMES;
use crate::tests::every_family;

fn dashboard() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/grafana/verity-dashboard.json"
    );
    let text = std::fs::read_to_string(path).expect("the dashboard");
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

/// Every query of the dashboard: the panels' `expr` and the variables' `query`.
fn queries(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                match (key.as_str(), member) {
                    ("expr" | "query" | "definition", Value::String(text)) => {
                        found.push(text.clone());
                    }
                    _ => queries(member, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| queries(item, found)),
        _ => {}
    }
}

/// The `verity_*` names a query mentions.
fn names(query: &str) -> Vec<String> {
    query
        .match_indices("verity_")
        .map(|(at, _)| {
            query[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn every_series_the_dashboard_queries_is_one_the_exporter_writes() {
    let scrape = every_family().render().unwrap();
    let written: BTreeSet<&str> = scrape
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split(['{', ' ']).next())
        .collect();
    let mut found = Vec::new();
    queries(&dashboard(), &mut found);
    assert!(found.len() >= 14, "{found:?}");
    let used: BTreeSet<String> = found.iter().flat_map(|query| names(query)).collect();
    for name in &used {
        assert!(
            written.contains(name.as_str()),
            "{name} is not written by the exporter"
        );
    }
    for metric in METRIC_NAMES {
        assert!(
            used.iter().any(|name| name.starts_with(metric)),
            "the dashboard shows nothing of {metric}"
        );
    }
}

#[test]
fn the_dashboard_is_one_grafana_imports() {
    let dashboard = dashboard();
    assert!(dashboard["schemaVersion"].as_u64().unwrap() >= 36);
    assert_eq!(dashboard["uid"], "verity-overview");
    let panels = dashboard["panels"].as_array().unwrap();
    let ids: BTreeSet<u64> = panels.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    for panel in panels {
        assert!(panel["title"].is_string());
        assert!(panel["gridPos"]["w"].as_u64().is_some());
        assert_eq!(panel["datasource"]["uid"], "${DS_PROMETHEUS}");
        assert!(!panel["targets"].as_array().unwrap().is_empty());
    }
}
