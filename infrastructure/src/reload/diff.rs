//! Which effective settings a new configuration changes, and which of those a reload applies.
//!
//! Both configurations are compared as `--dump-config` prints them (defaults filled in, mxisd's
//! key names), so a key written differently but meaning the same (an alias, a default written
//! out) is no change, and the keys named are the ones the operator can look up in
//! docs/configuration.md. Secrets are masked there, so a changed password or token is not seen.
use std::collections::BTreeMap;

use serde_norway::Value;

use crate::config::effective_yaml;
use crate::settings::Settings;

/// Where the keys a reload applies start: the abuse limits, the log levels, the operator's pages
/// and the mail and SMS templates (`threepid.medium.<medium>.generators.template`, checked with
/// [`template_medium`]).
const RELOADABLE: [&str; 4] = ["ratelimit", "logging.app", "logging.root", "view"];

/// The keys whose effective value differs between `old` and `new`, in key order. A list is one
/// value (`server.trustedProxies` changed, not its third entry).
pub fn changed_keys(old: &Settings, new: &Settings) -> Vec<String> {
    let (old, new) = (flatten(old), flatten(new));
    let mut keys: Vec<String> = old
        .iter()
        .filter(|(key, value)| new.get(*key) != Some(value))
        .map(|(key, _)| key.clone())
        .chain(new.keys().filter(|key| !old.contains_key(*key)).cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Whether a reload applies `key`: `templates` are the media whose templates can be replaced
/// (a medium that was not set up at start has none).
pub fn reloadable(key: &str, templates: &[String]) -> bool {
    RELOADABLE.iter().any(|prefix| under(key, prefix))
        || template_medium(key).is_some_and(|medium| templates.iter().any(|m| m == medium))
}

/// The medium of a template key (`threepid.medium.email.generators.template.invite` -> `email`).
pub fn template_medium(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("threepid.medium.")?;
    let (medium, rest) = rest.split_once('.')?;
    under(rest, "generators.template").then_some(medium)
}

/// Whether `key` is `prefix` or below it.
fn under(key: &str, prefix: &str) -> bool {
    key.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// The effective settings as dotted keys and their values.
fn flatten(settings: &Settings) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    // The dump is our own YAML: it parses, or every key is one unknown value.
    let value = serde_norway::from_str(&effective_yaml(settings)).unwrap_or(Value::Null);
    walk(String::new(), value, &mut out);
    out
}

fn walk(path: String, value: Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Mapping(map) if !map.is_empty() => {
            for (key, value) in map {
                let key = match key {
                    Value::String(key) => key,
                    other => serde_norway::to_string(&other)
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                };
                let path = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                walk(path, value, out);
            }
        }
        leaf => {
            out.insert(path, leaf);
        }
    }
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
