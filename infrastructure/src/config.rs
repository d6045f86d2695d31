//! Loading the YAML configuration (mxisd/ma1sd key names) into [`crate::settings::Settings`].
//!
//! The goal is that an existing `mxisd.yaml` or `ma1sd.yaml` starts Verity unchanged, and that no
//! key the operator wrote is ever dropped without a word. Loading happens in three steps:
//!
//! 1. [`read`] deserializes the text into the `raw` structs, which mirror the mxisd key names and
//!    keep every value optional. Type errors carry the key path (`serde_path_to_error`); keys the
//!    structs do not have are collected as [`ConfigWarning`]s (`serde_ignored`), and so are blocks
//!    that have no effect (a connector block the medium does not use). The connector and
//!    generator blocks of `threepid` are read into the notification adapters' own types.
//! 2. [`resolve`] fills in the defaults and checks what types cannot (domain names, URLs, labels
//!    the policy refers to, ...), producing [`Settings`] or a [`ConfigError`] naming the key.
//! 3. [`dump`] renders the resulting settings back as YAML for `--dump-config`, secrets masked.
//!
//! The keys Verity reads are found in `raw` itself (`known`); `docs/configuration.md` documents
//! every one of them, and `tests_every_key` sets every one in its guard files, failing when one is
//! not set there, does not survive the dump or is missing from the docs' tables. The sections share their small readers through
//! `lenient`, which imports none of its siblings, so no two files here import each other.

mod accounts;
mod dump;
mod dump_threepid;
mod error;
mod exec;
mod exec_directory;
mod exec_profile;
mod federation;
mod internal;
mod invites;
mod keys;
mod known;
mod ldap;
mod lenient;
mod logging;
mod lookup;
mod metrics;
mod notice;
pub(crate) mod ratelimit;
mod raw;
mod read;
mod recursive;
mod register;
mod resolve;
mod rest;
mod spring;
mod sql;
mod sql_directory;
mod sql_profile;
mod storage;
mod synapse;
mod threepid;
mod unsupported;
mod user_directory;
mod view;

use std::path::{Path, PathBuf};

pub use dump::effective_yaml;
pub use error::{ConfigError, ConfigWarning};
pub use logging::{LevelOverride, log_level_override};
pub use notice::ConfigNotice;

use crate::settings::Settings;

/// The file names tried, in order, in the working directory when no `-c/--config` is given: Verity's
/// own name first, then ma1sd's and mxisd's so an existing installation is picked up as is.
pub const DEFAULT_FILE_NAMES: [&str; 3] = ["verity.yaml", "ma1sd.yaml", "mxisd.yaml"];

/// A successfully loaded configuration.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The resolved, validated settings.
    pub settings: Settings,
    /// Keys that were read but ignored, in file order; the caller logs them at start-up.
    pub warnings: Vec<ConfigWarning>,
    /// Defaults that behave differently from mxisd/ma1sd; the caller logs them at start-up.
    pub notices: Vec<ConfigNotice>,
}

/// Reads and resolves the configuration file at `path`.
///
/// # Errors
/// [`ConfigError::NotFound`] when the file does not exist, [`ConfigError::Read`] when it cannot be
/// read, and every error [`parse`] returns.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ConfigError::NotFound {
                path: path.to_owned(),
            }
        } else {
            ConfigError::Read {
                path: path.to_owned(),
                source,
            }
        }
    })?;
    parse(&text)
}

/// Parses and resolves configuration text.
///
/// # Errors
/// [`ConfigError::Syntax`] for malformed YAML, [`ConfigError::Invalid`] or
/// [`ConfigError::Missing`] (both naming the key) for values Verity cannot start with.
pub fn parse(yaml: &str) -> Result<Loaded, ConfigError> {
    let (raw, warnings) = read::read(yaml)?;
    let policy_written = notice::policy_written(&raw.session.policy.validation);
    let settings = resolve::resolve(raw)?;
    let notices = notice::notices(policy_written, &settings);
    Ok(Loaded {
        settings,
        warnings,
        notices,
    })
}

/// The configuration file to load: `cli` (from `-c/--config`) when given, otherwise the first of
/// [`DEFAULT_FILE_NAMES`] that exists in the working directory, otherwise `verity.yaml` so the
/// "not found" error names the file Verity would like to see.
pub fn locate(cli: Option<PathBuf>) -> PathBuf {
    locate_in(Path::new(""), cli)
}

/// [`locate`] relative to `dir` (tests use a temporary directory instead of the process's working
/// directory, which is shared between tests).
fn locate_in(dir: &Path, cli: Option<PathBuf>) -> PathBuf {
    if let Some(path) = cli {
        return path;
    }
    DEFAULT_FILE_NAMES
        .iter()
        .map(|name| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| dir.join(DEFAULT_FILE_NAMES[0]))
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_accounts;
#[cfg(test)]
mod tests_dropin;
#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_every_key;
#[cfg(test)]
mod tests_exec;
#[cfg(test)]
mod tests_federation;
#[cfg(test)]
mod tests_ldap;
#[cfg(test)]
mod tests_policy;
#[cfg(test)]
mod tests_ratelimit;
#[cfg(test)]
mod tests_rest;
#[cfg(test)]
mod tests_spring;
#[cfg(test)]
mod tests_threepid;
#[cfg(test)]
mod tests_threepid_warnings;
