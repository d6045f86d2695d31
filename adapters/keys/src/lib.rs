//! Verity's key store on the filesystem, in mxisd/ma1sd's layout: point `key.path` at an existing
//! mxisd or ma1sd key directory and Verity signs with the same key, under the same identifier
//! (see `docs/keys.md`).
//!
//! [`open`] picks the store for a `key.path`: [`FileKeyStore`] for a directory (created when
//! missing; a legacy single key file is migrated), [`MemoryKeyStore`] for `:memory:`.
#![warn(missing_docs)]

mod file;
mod fs;
mod layout;
mod legacy;
mod memory;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use verity_application::ports::driven::KeyStore;

pub use file::FileKeyStore;
pub use fs::FsError;
pub use legacy::BACKUP_SUFFIX;
pub use memory::MemoryKeyStore;

/// The `key.path` that means "in memory" (mxisd's spelling).
pub const IN_MEMORY: &str = ":memory:";

/// Why the key store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A file or directory could not be read or written.
    #[error(transparent)]
    Fs(#[from] FsError),
    /// `key.path` is something other than a file or a directory.
    #[error("{0} is neither a directory nor a file")]
    NotADirectory(PathBuf),
    /// `key.path` is a legacy single-file key store (mxisd ≤ 1.2) that cannot be migrated.
    #[error("{path} is a legacy mxisd key file that cannot be migrated: {reason}")]
    Legacy {
        /// The legacy file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Migrating a legacy key file would overwrite a different earlier backup.
    #[error(
        "{path} is a legacy mxisd key file, but {backup} already exists with other content: move \
         it away, then start again to migrate"
    )]
    BackupExists {
        /// The legacy file.
        path: PathBuf,
        /// The backup that is in the way.
        backup: PathBuf,
    },
}

/// The key store for `key.path`: in memory for `:memory:`, else the directory at `path` (see
/// [`FileKeyStore::open`]).
///
/// # Errors
/// [`OpenError`].
pub fn open(path: &Path) -> Result<Arc<dyn KeyStore>, OpenError> {
    if path.as_os_str() == IN_MEMORY {
        tracing::warn!(
            "key.path is :memory:: the signing key lives in memory only, and a restart makes a \
             new one (signatures made before can no longer be checked)"
        );
        return Ok(Arc::new(MemoryKeyStore::new()));
    }
    Ok(Arc::new(FileKeyStore::open(path)?))
}
