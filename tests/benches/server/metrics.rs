//! The metrics' cost (`metrics`): the requests of the limits' section against a server with
//! `server.metrics.enabled: true` (every request observed, every port measured) and one with
//! `false` (no decorator at all), limits on in both, in alternating rounds on fresh servers.
use serde_json::json;

use crate::limits::{Plan, compare, unrefused, yaml};

/// `enabled` as a top-level `server.metrics` YAML block, after the limits every section runs with.
fn with_metrics(enabled: bool) -> String {
    let metrics = serde_norway::to_string(&json!({
        "server": {"metrics": {"enabled": enabled, "port": 0}}
    }))
    .expect("metrics to YAML");
    format!("{}\n{metrics}", yaml(&unrefused()))
}

/// The section.
pub async fn run(plan: &Plan) {
    let modes = [("on", with_metrics(true)), ("off", with_metrics(false))];
    compare(plan, "metrics", "The metrics' cost", modes).await;
}
