//! mxisd ≤ 1.2 kept its one key in a single file at `key.path` (by convention `sign.key`): the
//! base64 seed on its first non-blank line. mxisd 1.3+ migrates it on start to the directory
//! layout as key `ed25519:0`, keeping the original as `<key.path>.backup-before-migration`;
//! Verity does the same, crash-safely:
//!
//! 1. the legacy file is read and checked (a seed that does not decode stops here, nothing
//!    touched);
//! 2. the new directory is built beside it as `<key.path>.migrating`;
//! 3. the backup is written (durably);
//! 4. the legacy file is removed and the new directory renamed into its place.
//!
//! A crash between the last two steps leaves `.migrating` and no `key.path`: the next start
//! finishes the rename ([`finish_interrupted`]). A crash earlier leaves the legacy file in place,
//! and the migration starts over.
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use verity_domain::{KeyId, KeyKind, SigningKey};

use crate::OpenError;
use crate::fs::{FsError, create_private_dir, sync_dir, write_atomically};
use crate::layout::{key_bytes, kind_dir};

/// Suffix of the copy of the legacy file that the migration keeps (mxisd's name).
pub const BACKUP_SUFFIX: &str = ".backup-before-migration";
/// Suffix of the directory a migration builds before moving it into place.
const STAGING_SUFFIX: &str = ".migrating";
/// The identifier mxisd gives the migrated key.
const MIGRATED_IDENTIFIER: &str = "0";

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// The directory holding `path` (`.` for a bare relative name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Completes a migration that stopped after removing the legacy file.
pub(crate) fn finish_interrupted(path: &Path) -> Result<(), OpenError> {
    let staging = sibling(path, STAGING_SUFFIX);
    if fs::symlink_metadata(path).is_err() && staging.is_dir() {
        fs::rename(&staging, path)
            .map_err(|e| FsError::new("cannot move into place", &staging, e))?;
        sync_dir(&parent_of(path))?;
        tracing::info!(path = %path.display(), "finished an interrupted key store migration");
    }
    Ok(())
}

/// Migrates the legacy key file at `path` to a key store directory at the same path.
pub(crate) fn migrate(path: &Path) -> Result<(), OpenError> {
    let content = fs::read(path).map_err(|e| FsError::new("cannot read", path, e))?;
    let legacy = |reason: &str| OpenError::Legacy {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let text = std::str::from_utf8(&content).map_err(|_| legacy("it is not text"))?;
    let key = match text.lines().map(str::trim).find(|line| !line.is_empty()) {
        None => None,
        Some(line) => {
            let id = KeyId::from_identifier(MIGRATED_IDENTIFIER)
                .map_err(|_| legacy("internal: bad migrated identifier"))?;
            Some(SigningKey::from_base64_seed(id, line).map_err(|_| {
                legacy("its first line is not the base64 encoding of a 32-byte ed25519 seed")
            })?)
        }
    };

    let parent = parent_of(path);
    let backup = sibling(path, BACKUP_SUFFIX);
    match fs::read(&backup) {
        // Our own backup, from a migration that stopped before removing the legacy file.
        Ok(existing) if existing == content => {}
        Ok(_) => {
            return Err(OpenError::BackupExists {
                path: path.to_owned(),
                backup,
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(FsError::new("cannot read", &backup, e).into()),
    }

    let staging = sibling(path, STAGING_SUFFIX);
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(|e| FsError::new("cannot remove", &staging, e))?;
    }
    create_private_dir(&staging)?;
    if let Some(key) = &key {
        let dir = kind_dir(&staging, KeyKind::Regular);
        create_private_dir(&dir)?;
        write_atomically(
            &staging,
            &dir.join(MIGRATED_IDENTIFIER),
            &key_bytes(key, true),
        )?;
    }
    write_atomically(&parent, &backup, &content)?;
    fs::remove_file(path).map_err(|e| FsError::new("cannot remove", path, e))?;
    fs::rename(&staging, path).map_err(|e| FsError::new("cannot move into place", &staging, e))?;
    sync_dir(&parent)?;
    match key {
        Some(key) => tracing::info!(
            path = %path.display(),
            backup = %backup.display(),
            key_id = %key.id(),
            "migrated the legacy single-file key store to the directory layout"
        ),
        None => tracing::info!(
            path = %path.display(),
            "the legacy key file was empty: nothing to migrate"
        ),
    }
    Ok(())
}
