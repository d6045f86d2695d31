//! The SQLite database file is readable by its owner only: it holds every binding, pending
//! invite, session and account fingerprint. Verity creates the file (and a missing directory)
//! with owner-only modes before SQLite opens it, whatever the umask; SQLite then gives its `-wal`
//! and `-shm` files the database file's mode.
use std::fs::{DirBuilder, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

/// Mode of a database file Verity creates.
pub const FILE_MODE: u32 = 0o600;
/// Mode of each directory Verity creates on the way to it.
pub const DIR_MODE: u32 = 0o700;

/// Creates `database`'s missing directories (0700) and the file itself when missing (0600), so
/// SQLite opens an existing owner-only file. An existing file or directory keeps its mode.
///
/// # Errors
/// The I/O error of creating a directory or the file.
pub fn prepare(database: &Path) -> io::Result<()> {
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)?;
    }
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(database)
    {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

/// The database file and its `-wal` / `-shm` companions that exist and that the group or others
/// may read or write, with their modes.
pub fn too_open(database: &Path) -> Vec<(PathBuf, u32)> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut name = database.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        })
        .filter_map(|path| {
            let mode = std::fs::metadata(&path).ok()?.mode() & 0o777;
            (mode & 0o077 != 0).then_some((path, mode))
        })
        .collect()
}

/// Warns about each file [`too_open`] finds. They are not changed: an operator may have widened
/// them on purpose (a backup group), and a start-up that silently rewrites their modes would hide
/// that choice rather than question it.
pub fn warn_if_too_open(database: &Path) {
    for (path, mode) in too_open(database) {
        tracing::warn!(
            file = %path.display(),
            mode = format!("{mode:o}"),
            "the SQLite database is readable beyond its owner (it holds every binding and session); `chmod 600` it unless that is intended"
        );
    }
}

#[cfg(test)]
#[path = "sqlite_file_tests.rs"]
mod tests;
