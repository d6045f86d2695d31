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
    "policy",
    "dns",
    "view",
    "directory",
    "register",
    "auth",
    "appsvc",
    "accountConfig",
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

/// Every section and key Verity reads, to suggest a spelling for an unknown one. Keep in step
/// with `raw`.
const KNOWN_KEYS: &[&str] = &[
    "matrix",
    "server",
    "key",
    "storage",
    "session",
    "logging",
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
];

/// Deserializes `yaml`, returning the raw configuration and a warning per ignored key.
pub fn read(yaml: &str) -> Result<(RawConfig, Vec<ConfigWarning>), ConfigError> {
    let mut ignored = Vec::new();
    let mut on_ignored = |path: serde_ignored::Path<'_>| ignored.push(dotted(&path));
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

/// `server.prot`, `matrix.identity.servers.root[0]`: the path as the operator would write it.
/// serde_ignored also records `Option`/newtype layers (shown as `?`); they are not keys.
fn dotted(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", dotted(parent)),
        Path::Map { parent, key } => {
            let parent = dotted(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => dotted(parent),
    }
}

fn classify(path: String) -> ConfigWarning {
    let later_section = LATER_SECTIONS.contains(&path.as_str());
    let later_key = LATER_KEYS
        .iter()
        .any(|key| path == *key || path.starts_with(&format!("{key}.")));
    if later_section || later_key {
        ConfigWarning::NotUsedYet { path }
    } else {
        let suggestion = suggest(&path);
        ConfigWarning::UnknownKey { path, suggestion }
    }
}

/// A known key under the same parent whose last segment is at most two edits away (case
/// differences count for nothing: `publicURL` -> `server.publicUrl`).
fn suggest(path: &str) -> Option<&'static str> {
    let (parent, leaf) = path.rsplit_once('.').unwrap_or(("", path));
    let leaf = leaf.to_ascii_lowercase();
    KNOWN_KEYS
        .iter()
        .chain(LATER_SECTIONS.iter())
        .filter_map(|known| {
            let (known_parent, known_leaf) = known.rsplit_once('.').unwrap_or(("", known));
            (known_parent == parent).then(|| {
                (
                    edit_distance(&leaf, &known_leaf.to_ascii_lowercase()),
                    *known,
                )
            })
        })
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known)
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
