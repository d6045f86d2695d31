use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

use nix::sys::stat::{Mode, umask};

use super::*;
use crate::settings::StorageSettings;

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .mode()
        & 0o777
}

fn companion(database: &Path, suffix: &str) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[tokio::test]
async fn the_database_its_wal_and_shm_and_new_directories_are_owner_only_whatever_the_umask() {
    // Each nextest test is its own process: the umask changes nothing else.
    // The most permissive umask: without Verity's own modes, SQLite would make 0666 files.
    umask(Mode::empty());
    let root = tempfile::tempdir().unwrap();
    let database = root.path().join("data/deeper/verity.db");
    let store = crate::startup::open_store(&StorageSettings::Sqlite {
        database: database.clone(),
    })
    .await
    .unwrap();
    // The migrations wrote through the WAL; the pool's connections keep `-wal` and `-shm` open.

    for suffix in ["", "-wal", "-shm"] {
        let file = companion(&database, suffix);
        assert_eq!(mode_of(&file), FILE_MODE, "{}", file.display());
    }
    for dir in [root.path().join("data"), root.path().join("data/deeper")] {
        assert_eq!(mode_of(&dir), DIR_MODE, "{}", dir.display());
    }
    assert!(too_open(&database).is_empty());
    store.close().await.unwrap();
}

#[test]
fn an_existing_file_keeps_its_mode_and_is_reported_when_others_may_read_it() {
    let root = tempfile::tempdir().unwrap();
    let database = root.path().join("verity.db");
    std::fs::write(&database, b"").unwrap();
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();
    let wal = companion(&database, "-wal");
    std::fs::write(&wal, b"").unwrap();
    std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o600)).unwrap();

    prepare(&database).unwrap();
    assert_eq!(mode_of(&database), 0o644);
    assert_eq!(too_open(&database), vec![(database.clone(), 0o644)]);
}

#[test]
fn an_existing_directory_keeps_its_mode() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("shared");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
    prepare(&dir.join("verity.db")).unwrap();
    assert_eq!(mode_of(&dir), 0o750);
    assert_eq!(mode_of(&dir.join("verity.db")), FILE_MODE);
}
