//! YAML text -> raw structs, with the path of every ignored key and of the first bad value.
use super::error::{ConfigError, ConfigWarning};
use super::keys::{IGNORED_KEYS, LATER_KEYS, LATER_SECTIONS};
use super::known::known_keys;
use super::raw::RawConfig;
use super::{lookup, recursive, spring, threepid, unsupported, view};

/// Deserializes `yaml`, returning the raw configuration and a warning per ignored key.
pub fn read(yaml: &str) -> Result<(RawConfig, Vec<ConfigWarning>), ConfigError> {
    // mxisd 1.0-1.2 files write `matrix.domain: ...` at the top level (Spring Boot).
    let expanded = spring::expand(yaml)?;
    let yaml = expanded.as_deref().unwrap_or(yaml);
    let mut ignored = Vec::new();
    let mut on_ignored = |path: serde_ignored::Path<'_>| ignored.push(segments(&path));
    // serde_ignored sees keys the structs skip; serde_path_to_error, outermost, records where the
    // first failing value is. An empty file reads as `null`, hence the `Option`.
    let deserializer = serde_ignored::Deserializer::new(
        serde_norway::Deserializer::from_str(yaml),
        &mut on_ignored,
    );
    let raw = serde_path_to_error::deserialize::<_, Option<RawConfig>>(deserializer)
        .map_err(into_error)?
        .unwrap_or_default();
    // The sections `raw` does not model are looked at once more, for a switched-on backend.
    let document: serde_norway::Value =
        serde_norway::from_str(yaml).map_err(|e| ConfigError::Syntax {
            message: e.to_string(),
        })?;
    unsupported::check(&document)?;
    let mut warnings: Vec<ConfigWarning> = ignored.into_iter().map(classify).collect();
    warnings.extend(threepid::warnings(&raw));
    warnings.extend(lookup::warnings(&raw.hashing, &raw.memory));
    warnings.extend(recursive::warnings(
        raw.lookup.recursive.as_ref(),
        &raw.forward,
    ));
    warnings.extend(view::warnings(&raw.view));
    Ok((raw, warnings))
}

fn into_error(error: serde_path_to_error::Error<serde_norway::Error>) -> ConfigError {
    let key = error.path().to_string();
    let inner = error.into_inner();
    let mut message = inner.to_string();
    // serde_norway omits the position of errors on the very first character; always give one.
    if let Some(at) = inner.location().filter(|_| !message.contains(" at line ")) {
        message = format!("{message} at line {} column {}", at.line(), at.column());
    }
    // serde_norway prefixes the path too; keep a single one, ours.
    let message = match message.strip_prefix(&format!("{key}: ")) {
        Some(rest) => rest.to_owned(),
        None => message,
    };
    // No path means the document itself failed: bad YAML, or not a mapping at the top level.
    if key == "." || key == "?" {
        ConfigError::Syntax { message }
    } else {
        ConfigError::Invalid { key, message }
    }
}

/// The keys leading to an ignored value, as the operator wrote them (`["server", "prot"]`); list
/// items are `[0]` on their list's key (`matrix.identity.servers.root[0]`). Segments are kept
/// apart so that a policy or language name containing a `.` is still one name. serde_ignored also
/// records `Option`/newtype layers; they are not keys.
fn segments(path: &serde_ignored::Path<'_>) -> Vec<String> {
    use serde_ignored::Path;
    match path {
        Path::Root => Vec::new(),
        Path::Seq { parent, index } => {
            let mut keys = segments(parent);
            match keys.last_mut() {
                Some(last) => last.push_str(&format!("[{index}]")),
                None => keys.push(format!("[{index}]")),
            }
            keys
        }
        Path::Map { parent, key } => {
            let mut keys = segments(parent);
            keys.push(key.clone());
            keys
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => segments(parent),
    }
}

/// Whether `keys` is the key `pattern` names, `*` matching any one name and `name[*]` any item
/// of the list `name`.
fn matches(pattern: &str, keys: &[String]) -> bool {
    pattern.split('.').count() == keys.len()
        && pattern.split('.').zip(keys).all(|(want, key)| {
            want == "*"
                || want == key
                || want.strip_suffix("[*]").is_some_and(|list| {
                    key.strip_prefix(list)
                        .and_then(|rest| rest.strip_prefix('['))
                        .and_then(|rest| rest.strip_suffix(']'))
                        .is_some_and(|index| index.bytes().all(|b| b.is_ascii_digit()))
                })
        })
}

fn classify(keys: Vec<String>) -> ConfigWarning {
    let path = keys.join(".");
    if let Some((pattern, reason)) = IGNORED_KEYS.iter().find(|(key, _)| matches(key, &keys)) {
        // A name the operator chooses (`*`) that is close to a known one is most likely a typo
        // of it: `threepid.medium.emial`.
        let suggestion = pattern.ends_with('*').then(|| suggest(&keys)).flatten();
        return match suggestion {
            Some(known) if known != path => ConfigWarning::UnknownKey {
                path,
                suggestion: Some(known),
            },
            _ => ConfigWarning::Ignored { path, reason },
        };
    }
    let later_section = keys.len() == 1 && LATER_SECTIONS.contains(&path.as_str());
    let later_key = LATER_KEYS
        .iter()
        .any(|key| path == *key || path.starts_with(&format!("{key}.")));
    if later_section || later_key {
        ConfigWarning::NotUsedYet { path }
    } else {
        let suggestion = suggest(&keys);
        ConfigWarning::UnknownKey { path, suggestion }
    }
}

/// A known key under the same parent whose last segment is at most two edits away (case
/// differences count for nothing: `publicURL` -> `server.publicUrl`), written with the
/// operator's own names in place of `*`.
fn suggest(keys: &[String]) -> Option<String> {
    let (leaf, parent) = keys.split_last()?;
    let leaf = leaf.to_ascii_lowercase();
    known_keys()
        .iter()
        .map(String::as_str)
        .chain(LATER_SECTIONS.iter().copied())
        .chain(IGNORED_KEYS.iter().map(|(key, _)| *key))
        .filter_map(|known| {
            let (known_parent, known_leaf) = known.rsplit_once('.').unwrap_or(("", known));
            if known_leaf == "*" {
                return None;
            }
            let same_parent = if known_parent.is_empty() {
                parent.is_empty()
            } else {
                matches(known_parent, parent)
            };
            same_parent.then(|| {
                let distance = edit_distance(&leaf, &known_leaf.to_ascii_lowercase());
                (distance, known_leaf)
            })
        })
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known_leaf)| {
            parent
                .iter()
                .map(String::as_str)
                .chain([known_leaf])
                .collect::<Vec<_>>()
                .join(".")
        })
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}
