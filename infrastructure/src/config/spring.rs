//! mxisd 1.0 to 1.2's Spring Boot syntax: dotted keys and `${...}` placeholders.
//!
//! Those releases read their file with Spring Boot, where a key may be written as one dotted name
//! instead of nested mappings; their own sample (`application.example.yaml`) and docs did so
//! (`threepid.medium.email.connectors.smtp.host: ...`, `session.policy.validation.forLocal:` with a
//! nested block under it). A top-level key whose first segment is a section Verity knows is
//! therefore expanded into the nested form before the file is read; other dotted names are left
//! alone, so an unknown one is still reported with its path.
//!
//! Their docs also copied one value into another with `${config.key}` (`server.name:
//! '${matrix.domain}'`), and `${key:default}` gave a default. A placeholder naming a key the file
//! sets is replaced by its value (`server.name` falls back to `matrix.domain`, as in mxisd's
//! defaults); any other is left as written, so the key holding it is reported if its value is
//! not valid.
use serde_norway::{Mapping, Value};

use super::error::ConfigError;
use super::keys::LATER_SECTIONS;
use super::known::known_keys;

/// `yaml` with its dotted top-level keys expanded and its placeholders replaced, or `None` when
/// it has neither (then the text is read as written, and error positions point into the
/// operator's file).
///
/// # Errors
/// [`ConfigError::Invalid`] naming the dotted key when it sets a value the file also sets in
/// the nested form (`matrix.domain: a` next to `matrix: {domain: b}`).
pub fn expand(yaml: &str) -> Result<Option<String>, ConfigError> {
    // Not YAML, or not a mapping: left to the reader, which reports it.
    let Ok(Value::Mapping(document)) = serde_norway::from_str::<Value>(yaml) else {
        return Ok(None);
    };
    let dotted = document.keys().any(|key| dotted_section(key).is_some());
    let placeholders = yaml.contains("${");
    if !dotted && !placeholders {
        return Ok(None);
    }
    let mut expanded = if dotted { nested(document)? } else { document };
    if placeholders {
        let values = expanded.clone();
        for value in expanded.values_mut() {
            substitute(value, &values);
        }
    }
    serde_norway::to_string(&Value::Mapping(expanded))
        .map(Some)
        .map_err(|e| ConfigError::Syntax {
            message: e.to_string(),
        })
}

/// The document with its dotted top-level keys written as nested mappings.
fn nested(document: Mapping) -> Result<Mapping, ConfigError> {
    let mut expanded = Mapping::new();
    let mut dotted = Vec::new();
    for (key, value) in document {
        match dotted_section(&key) {
            Some(path) => dotted.push((path.to_owned(), value)),
            None => merge(&mut expanded, key, value, "")?,
        }
    }
    // Dotted keys are laid over the nested ones, in file order.
    for (path, value) in dotted {
        let mut segments: Vec<&str> = path.split('.').collect();
        let leaf = segments.pop().unwrap_or_default();
        let mut nested = value;
        let mut inner = Mapping::new();
        inner.insert(Value::from(leaf), nested);
        nested = Value::Mapping(inner);
        while let Some(segment) = segments.pop() {
            let mut outer = Mapping::new();
            outer.insert(Value::from(segment), nested);
            nested = Value::Mapping(outer);
        }
        let Value::Mapping(top) = nested else {
            continue;
        };
        for (key, value) in top {
            merge(&mut expanded, key, value, &path)?;
        }
    }
    Ok(expanded)
}

/// Replaces the `${key}` and `${key:default}` placeholders in the strings of `value` with the
/// scalars of `document` they name, in one pass.
fn substitute(value: &mut Value, document: &Mapping) {
    match value {
        Value::String(text) if text.contains("${") => *text = replaced(text, document),
        Value::Mapping(map) => map.values_mut().for_each(|v| substitute(v, document)),
        Value::Sequence(list) => list.iter_mut().for_each(|v| substitute(v, document)),
        _ => {}
    }
}

fn replaced(text: &str, document: &Mapping) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(length) = rest[start..].find('}') else {
            break;
        };
        let inner = &rest[start + 2..start + length];
        let (key, default) = match inner.split_once(':') {
            Some((key, default)) => (key, Some(default)),
            None => (inner, None),
        };
        out.push_str(&rest[..start]);
        match lookup(document, key).or_else(|| default.map(str::to_owned)) {
            Some(found) => out.push_str(&found),
            None => out.push_str(&rest[start..=start + length]),
        }
        rest = &rest[start + length + 1..];
    }
    out.push_str(rest);
    out
}

/// The scalar at the dotted `key` of `document`; `server.name` defaults to `matrix.domain`.
fn lookup(document: &Mapping, key: &str) -> Option<String> {
    let scalar = || {
        let mut segments = key.split('.');
        let mut at = document.get(segments.next()?)?;
        for segment in segments {
            at = at.get(segment)?;
        }
        match at {
            Value::String(text) if !text.contains("${") && !text.trim().is_empty() => {
                Some(text.clone())
            }
            Value::Number(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            _ => None,
        }
    };
    scalar().or_else(|| {
        (key == "server.name")
            .then(|| lookup(document, "matrix.domain"))
            .flatten()
    })
}

/// The key, when it is a dotted name starting with a known section (`matrix.domain`).
fn dotted_section(key: &Value) -> Option<&str> {
    let name = key.as_str()?;
    let (section, rest) = name.split_once('.')?;
    let known = known_keys().iter().any(|key| key == section) || LATER_SECTIONS.contains(&section);
    (known && !rest.is_empty() && !name.split('.').any(str::is_empty)).then_some(name)
}

/// Puts `value` at `key` of `map`, merging mappings; `dotted` names the key the value came from,
/// for the error when both forms set the same value.
fn merge(map: &mut Mapping, key: Value, value: Value, dotted: &str) -> Result<(), ConfigError> {
    match (map.get_mut(&key), value) {
        (None, value) => {
            map.insert(key, value);
            Ok(())
        }
        (Some(Value::Mapping(existing)), Value::Mapping(more)) => {
            for (inner_key, inner_value) in more {
                merge(existing, inner_key, inner_value, dotted)?;
            }
            Ok(())
        }
        // An empty section header (`logging:`) is "all defaults": the dotted value fills it.
        (Some(existing @ Value::Null), value) => {
            *existing = value;
            Ok(())
        }
        (Some(_), _) => Err(ConfigError::invalid(
            dotted,
            "set twice: once as this dotted key (mxisd 1.0-1.2 style) and once in the nested \
             form; keep one of them",
        )),
    }
}
