//! YAML text -> raw structs, with the path of every ignored key and of the first bad value.
use super::error::{ConfigError, ConfigWarning};
use super::raw::RawConfig;

/// Top-level mxisd/ma1sd sections a later Verity release will implement. Setting one is worth a
/// warning of its own: the operator did nothing wrong, the feature is just not there yet.
pub const LATER_SECTIONS: &[&str] = &[
    "threepid",
    "notification",
    "synapseSql",
    "sql",
    "ldap",
    "netiq",
    "rest",
    "exec",
    "memory",
    "firebase",
    "wordpress",
    "lookup",
    "invite",
    "dns",
    "view",
    "directory",
    "register",
    "auth",
    "appsvc",
    "hashing",
    "internal",
    "forward",
    "profile",
];

/// mxisd/ma1sd keys inside sections Verity reads, whose feature is not implemented yet.
const LATER_KEYS: &[&str] = &[
    // ma1sd: dump every HTTP request and response.
    "logging.requests",
    // mxisd 1.4: warn the owner when an unbind is refused.
    "session.policy.unbind.fraudulent",
];

/// mxisd/ma1sd keys Verity recognises but deliberately does not follow, with the reason the
/// warning gives. `*` stands for one name chosen by the operator (a policy, a language).
const IGNORED_KEYS: &[(&str, &str)] = &[(
    "policy.policies.*.regexp",
    "Verity asks for the terms of service on exactly the endpoints the Identity Service API \
     gates (every authenticated v2 endpoint except /account, /account/logout and /terms), \
     whatever paths ma1sd's `regexp` lists; see docs/configuration.md#policy",
)];

/// Every section and key Verity reads, to suggest a spelling for an unknown one. Keep in step
/// with `raw`. `*` stands for one name chosen by the operator (a policy, a language).
const KNOWN_KEYS: &[&str] = &[
    "matrix",
    "server",
    "key",
    "storage",
    "session",
    "logging",
    "accountConfig",
    "policy",
    "matrix.identity",
    "storage.provider",
    "storage.provider.sqlite",
    "storage.provider.postgresql",
    "session.policy",
    "session.policy.unbind",
    "matrix.domain",
    "matrix.identity.servers",
    "matrix.v1",
    "matrix.v2",
    "server.name",
    "server.hostname",
    "server.port",
    "server.publicUrl",
    "server.maxBodySize",
    "key.path",
    "storage.backend",
    "storage.provider.sqlite.database",
    "storage.provider.postgresql.database",
    "storage.provider.postgresql.username",
    "storage.provider.postgresql.password",
    "storage.provider.postgresql.maxConnections",
    "storage.provider.postgresql.pool",
    "storage.provider.postgresql.maxConnectionsFree",
    "storage.provider.postgresql.maxConnectionAgeMillis",
    "storage.provider.postgresql.checkConnectionsEveryMillis",
    "storage.provider.postgresql.testBeforeGetFromPool",
    "session.lifetime",
    "session.maxFailedAttempts",
    "session.policy.validation",
    "session.policy.validation.enabled",
    "session.policy.validation.forLocal",
    "session.policy.validation.forRemote",
    "session.policy.validation.forLocal.enabled",
    "session.policy.validation.forLocal.toLocal",
    "session.policy.validation.forLocal.toRemote",
    "session.policy.validation.forRemote.enabled",
    "session.policy.validation.forRemote.toLocal",
    "session.policy.validation.forRemote.toRemote",
    "session.policy.validation.forLocal.toRemote.enabled",
    "session.policy.validation.forLocal.toRemote.server",
    "session.policy.validation.forRemote.toRemote.enabled",
    "session.policy.validation.forRemote.toRemote.server",
    "session.policy.unbind.enabled",
    "session.policy.unbind.notifications",
    "logging.root",
    "logging.app",
    "logging.format",
    "session.nextLink",
    "session.nextLink.allowed",
    "accountConfig.allowOnlyTrustDomains",
    "accountConfig.tokenLifetime",
    "policy.policies",
    "policy.policies.*.version",
    "policy.policies.*.terms",
    "policy.policies.*.terms.*.name",
    "policy.policies.*.terms.*.url",
];

/// Deserializes `yaml`, returning the raw configuration and a warning per ignored key.
pub fn read(yaml: &str) -> Result<(RawConfig, Vec<ConfigWarning>), ConfigError> {
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
    Ok((raw, ignored.into_iter().map(classify).collect()))
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

/// Whether `keys` is the key `pattern` names, `*` matching any one name.
fn matches(pattern: &str, keys: &[String]) -> bool {
    pattern.split('.').count() == keys.len()
        && pattern
            .split('.')
            .zip(keys)
            .all(|(want, key)| want == "*" || want == key)
}

fn classify(keys: Vec<String>) -> ConfigWarning {
    let path = keys.join(".");
    if let Some((_, reason)) = IGNORED_KEYS.iter().find(|(key, _)| matches(key, &keys)) {
        return ConfigWarning::Ignored { path, reason };
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
    KNOWN_KEYS
        .iter()
        .chain(LATER_SECTIONS.iter())
        .chain(IGNORED_KEYS.iter().map(|(key, _)| key))
        .filter_map(|known| {
            let (known_parent, known_leaf) = known.rsplit_once('.').unwrap_or(("", known));
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
