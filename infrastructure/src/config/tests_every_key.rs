//! The guard over the whole configuration: every key Verity reads (found in `raw` by `known`) is
//! set (mostly to a value other than its default) in one of four files, each file survives
//! `--dump-config` unchanged with its secrets masked, and every key is documented in
//! `docs/configuration.md`. A field added to `raw` but forgotten in the guard files, the dump or
//! the docs fails here.
use std::path::Path;

use pretty_assertions::assert_eq;
use serde_norway::Value;

use super::keys::{IGNORED_KEYS, LATER_KEYS, LATER_SECTIONS};
use super::known::known_keys;
use super::tests::parsed;
use super::*;

/// PostgreSQL storage, SMTP and Twilio, the Synapse database on PostgreSQL, peppers rotated by
/// request count, a current and an older view key. `{dir}` is a directory holding the pages.
const FIRST: &str = include_str!("every_key/first.yaml");

/// The other choices: SQLite storage, `file` connectors, the Synapse database on SQLite, peppers
/// rotated by age, the ratelimits off, the view keys the other way round.
const SECOND: &str = include_str!("every_key/second.yaml");

/// Sydent's one page stands in only for what no view key sets; Twilio's keys as mxisd's docs
/// spelt them (camelCase).
const THIRD: &str = include_str!("every_key/third.yaml");

/// The last spellings: Twilio's keys as Spring Boot also read them (kebab-case), and the Sydent
/// page's camelCase name.
const FOURTH: &str = include_str!("every_key/fourth.yaml");

/// The values of the secrets in the files; none may appear in a dump.
const SECRETS: [&str; 9] = [
    "internal-secret",
    "storage-secret",
    "smtp-secret",
    "twilio-secret",
    "synapse-secret",
    "memory-secret",
    "ldap-secret",
    "netiq-secret",
    "rest-secret",
];

/// A key Verity reads only to warn that it has no effect, so a file setting it is not quiet.
const WARNED_WHENEVER_SET: &[&str] = &["hashing.hashStorageType"];

/// Writes the pages the files name into a temporary directory and returns the four files.
fn files(dir: &Path) -> [String; 4] {
    for page in [
        "success",
        "failure",
        "local-remote",
        "request-ok",
        "request-failed",
        "check-ok",
        "check-failed",
        "sydent",
    ] {
        std::fs::write(dir.join(format!("{page}.html")), format!("<p>{page}</p>")).unwrap();
    }
    let dir = dir.to_str().unwrap();
    [FIRST, SECOND, THIRD, FOURTH].map(|file| file.replace("{dir}", dir))
}

/// The names along a path; a list's items are a name of their own, `[*]`.
fn segments(path: &str) -> Vec<String> {
    path.replace("[*]", ".[*]")
        .split('.')
        .map(str::to_owned)
        .collect()
}

/// `pattern` names `path`: same length, `*` in either standing for any one name.
fn names(pattern: &[String], path: &[String]) -> bool {
    pattern.len() == path.len()
        && pattern
            .iter()
            .zip(path)
            .all(|(p, s)| *p == "*" || *s == "*" || p == s)
}

/// `path` is `pattern` or lies inside it.
fn within(pattern: &[String], path: &[String]) -> bool {
    path.len() >= pattern.len() && names(pattern, &path[..pattern.len()])
}

/// Every value's dotted path in a YAML document; items of a list of mappings are `[*]`, a list
/// of scalars is one value.
fn value_paths(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                let key = key.as_str().unwrap();
                let child_path = if path.is_empty() {
                    key.to_owned()
                } else {
                    format!("{path}.{key}")
                };
                value_paths(child, &child_path, out);
            }
        }
        Value::Sequence(items) if items.iter().any(Value::is_mapping) => {
            for item in items {
                value_paths(item, &format!("{path}[*]"), out);
            }
        }
        _ => out.push(path.to_owned()),
    }
}

/// Every known key.
fn known() -> impl Iterator<Item = &'static str> {
    known_keys().iter().map(String::as_str)
}

/// The known keys that hold a value rather than more keys.
fn known_values() -> Vec<&'static str> {
    known()
        .filter(|key| {
            !known()
                .any(|other| other.len() > key.len() && within(&segments(key), &segments(other)))
        })
        .collect()
}

/// Keys Verity reports instead of following.
fn reported(key: &str) -> bool {
    LATER_KEYS.contains(&key)
        || WARNED_WHENEVER_SET.contains(&key)
        || IGNORED_KEYS.iter().any(|(ignored, _)| *ignored == key)
}

#[test]
fn every_key_verity_reads_is_set_in_one_of_the_guard_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut set = Vec::new();
    for file in files(dir.path()) {
        let document: Value = serde_norway::from_str(&file).unwrap();
        value_paths(&document, "", &mut set);
    }
    let missing: Vec<&str> = known_values()
        .into_iter()
        .filter(|key| !reported(key))
        .filter(|key| {
            !set.iter()
                .any(|path| within(&segments(key), &segments(path)))
        })
        .collect();
    assert_eq!(missing, Vec::<&str>::new(), "keys no guard file sets");
    // And the other way round: a key read (the files load without a warning) but not known.
    let values = known_values();
    let unknown: Vec<&String> = set
        .iter()
        .filter(|path| {
            let path = segments(path);
            !known().any(|key| names(&segments(key), &path))
                && !values.iter().any(|key| within(&segments(key), &path))
        })
        .collect();
    assert_eq!(
        unknown,
        Vec::<&String>::new(),
        "keys the guard files set but raw lacks"
    );
}

#[test]
fn a_file_with_every_key_set_survives_the_dump_unchanged_but_for_its_secrets() {
    let dir = tempfile::tempdir().unwrap();
    for (index, file) in files(dir.path()).into_iter().enumerate() {
        let first = parsed(&file);
        assert_eq!(first.warnings, [], "{file}");
        let dumped = effective_yaml(&first.settings);
        for secret in SECRETS {
            assert!(
                !dumped.contains(secret),
                "{secret} is in the dump:\n{dumped}"
            );
        }
        if index == 0 {
            // Each secret of the first file is in the dump, as the mask: the storage, SMTP and
            // memory passwords, Twilio's token, and the password inside the Synapse connection.
            let masks = [
                "password: <redacted>",
                "auth_token: <redacted>",
                "password=<redacted>",
            ];
            let counts = masks.map(|mask| dumped.matches(mask).count());
            assert_eq!(counts, [3, 1, 1], "{dumped}");
        }
        let again = parsed(&dumped);
        assert_eq!(again.warnings, [], "{dumped}");
        // `Debug` shows everything but the secrets, which it masks as the dump does.
        assert_eq!(
            format!("{:#?}", again.settings),
            format!("{:#?}", first.settings),
            "{dumped}"
        );
        assert_eq!(effective_yaml(&again.settings), dumped);
        // The secrets come back as the mask itself, in the place they were taken from.
        let masked = |url: &str| url.replace("storage-secret", "%3Credacted%3E");
        assert_eq!(
            again.settings.storage.url(),
            masked(&first.settings.storage.url())
        );
        let synapse = |s: &crate::settings::Settings| {
            s.synapse_sql.as_ref().map(|c| match &c.database {
                verity_adapter_sql::SynapseDatabase::Postgres { url } => {
                    url.replace("synapse-secret", "%3Credacted%3E")
                }
                sqlite => format!("{sqlite:?}"),
            })
        };
        assert_eq!(synapse(&again.settings), synapse(&first.settings));
    }
}

/// The keys of the tables under `## Keys`, in full: `<name>` is `*`, and `.failure` after
/// `view.session.local.onTokenSubmit.success` is `view.session.local.onTokenSubmit.failure`.
fn documented_keys(docs: &str) -> Vec<String> {
    let start = docs.find("\n## Keys").unwrap();
    let end = start + docs[start + 1..].find("\n## ").unwrap();
    let mut keys = Vec::new();
    for line in docs[start..end].lines() {
        let Some(cell) = line.strip_prefix("| `") else {
            continue;
        };
        let cell = &cell[..cell.find(" |").unwrap_or(cell.len())];
        let mut previous = String::new();
        for key in format!("`{cell}").split('`').skip(1).step_by(2) {
            let mut key = key.to_owned();
            while let (Some(open), Some(close)) = (key.find('<'), key.find('>')) {
                key.replace_range(open..=close, "*");
            }
            if let Some(last) = key.strip_prefix('.') {
                let parent = previous.rsplit_once('.').map_or("", |(parent, _)| parent);
                key = format!("{parent}.{last}");
            }
            previous.clone_from(&key);
            keys.push(key);
        }
    }
    keys
}

/// A row documents the key it names and, when it names a map (`ratelimit.bind`,
/// `email.connectors.smtp.*`), the keys inside. Rows of a section's own tables may leave out
/// the section (`email.identity.from` under `threepid.medium`), so a row of two names or more
/// may match the end of a key's path.
fn documents(row: &str, key: &str) -> bool {
    let row = segments(row.strip_suffix(".*").unwrap_or(row));
    let key = segments(key);
    (0..key.len())
        .filter(|&from| from == 0 || row.len() >= 2)
        .any(|from| within(&row, &key[from..]))
}

#[test]
fn every_key_verity_reads_is_documented_in_the_configuration_page() {
    let docs = include_str!("../../../docs/configuration.md");
    let rows = documented_keys(docs);
    let undocumented: Vec<&str> = known_values()
        .into_iter()
        .filter(|key| !rows.iter().any(|row| documents(row, key)))
        .collect();
    assert_eq!(
        undocumented,
        Vec::<&str>::new(),
        "keys docs/configuration.md does not name"
    );
}

#[test]
fn every_key_the_configuration_page_names_is_known() {
    let docs = include_str!("../../../docs/configuration.md");
    let sections: Vec<&str> = known()
        .chain(LATER_SECTIONS.iter().copied())
        .filter(|key| !key.contains('.'))
        .collect();
    let known: Vec<&str> = known()
        .chain(LATER_KEYS.iter().copied())
        .chain(IGNORED_KEYS.iter().map(|(key, _)| *key))
        .collect();
    // A row may name a value inside a key that holds a map (`matrix.identity.servers.*`).
    let maps: Vec<&str> = known_values()
        .into_iter()
        .chain(LATER_KEYS.iter().copied())
        .chain(IGNORED_KEYS.iter().map(|(key, _)| *key))
        .collect();
    let unknown: Vec<String> = documented_keys(docs)
        .into_iter()
        .filter(|row| sections.contains(&row.split(['.', '[']).next().unwrap_or_default()))
        .filter(|row| {
            let whole = segments(row.strip_suffix(".*").unwrap_or(row));
            let named = known.iter().any(|key| {
                let key = segments(key);
                names(&key, &whole) || within(&whole, &key)
            });
            !named && !maps.iter().any(|key| within(&segments(key), &whole))
        })
        .collect();
    assert_eq!(unknown, Vec::<String>::new(), "keys Verity does not know");
}
