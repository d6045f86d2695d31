//! Private, atomic file writes: what a store of signing keys needs from the filesystem.
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Mode of the key directories: the owner only.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Mode of the key files: the owner only, read and write.
pub(crate) const FILE_MODE: u32 = 0o600;

/// An I/O failure on a named path.
#[derive(Debug, thiserror::Error)]
#[error("{action} {path}: {source}")]
pub struct FsError {
    /// What was being done (`"cannot write"`).
    pub action: &'static str,
    /// The file or directory.
    pub path: PathBuf,
    /// The operating system's error.
    #[source]
    pub source: io::Error,
}

impl FsError {
    pub(crate) fn new(action: &'static str, path: &Path, source: io::Error) -> Self {
        Self {
            action,
            path: path.to_owned(),
            source,
        }
    }
}

/// Creates `dir` and its missing parents, readable by the owner only.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), FsError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder
        .create(dir)
        .map_err(|e| FsError::new("cannot create the directory", dir, e))
}

/// Writes `bytes` to `target` atomically: a reader sees the old file or the new one, never a part
/// (a crash mid-write must not cost a signing key). The temporary file is written next to
/// `staging_dir`'s other files (same filesystem, so the rename is atomic) under a name mxisd never
/// reads, with mode 0600, flushed to disk before the rename; the directory is flushed after.
pub(crate) fn write_atomically(
    staging_dir: &Path,
    target: &Path,
    bytes: &[u8],
) -> Result<(), FsError> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = staging_dir.join(format!(".verity-tmp-{}-{name}", std::process::id()));
    let written = write_new_private(&temp, bytes).and_then(|()| {
        fs::rename(&temp, target).map_err(|e| FsError::new("cannot write", target, e))
    });
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written?;
    if let Some(dir) = target.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Creates `path` (replacing a stale temporary file) with mode 0600 and writes `bytes` durably.
fn write_new_private(path: &Path, bytes: &[u8]) -> Result<(), FsError> {
    let _ = fs::remove_file(path);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    let mut file = options
        .open(path)
        .map_err(|e| FsError::new("cannot create", path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| FsError::new("cannot write", path, e))
}

/// Flushes a directory's entries (a rename in it) to disk. Elsewhere than on Unix a directory
/// cannot be opened for that, and the rename is left to the filesystem.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), FsError> {
    if cfg!(unix) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| FsError::new("cannot flush the directory", dir, e))
    } else {
        Ok(())
    }
}

/// Reads a whole file; `None` when it does not exist.
pub(crate) fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, FsError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FsError::new("cannot read", path, e)),
    }
}

/// Whether group or others may access `path` (always false off Unix).
pub(crate) fn is_shared(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}
