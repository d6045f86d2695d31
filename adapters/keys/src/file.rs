//! The key store in a directory, in mxisd/ma1sd's layout (see [`crate::layout`]).
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use verity_application::ports::driven::{KeyStore, StoreError, StoredKey};
use verity_domain::{KeyId, KeyKind};

use crate::OpenError;
use crate::fs::{FsError, create_private_dir, is_shared, read_if_exists, write_atomically};
use crate::layout::{CURRENT, current_bytes, key_bytes, kind_dir, parse_current, parse_key};
use crate::legacy;

/// Keys in files under `key.path`, readable and writable by mxisd/ma1sd as well.
///
/// Files are written atomically (temporary file, then rename) with mode 0600, directories are
/// created with mode 0700, and every write is flushed to disk before it is reported done.
#[derive(Debug, Clone)]
pub struct FileKeyStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    /// Serialises writes, so that "exists?" and "write" cannot interleave within the process.
    writing: Mutex<()>,
}

impl FileKeyStore {
    /// Opens the key store at `root`, creating the directory (mode 0700) when it does not exist,
    /// and migrating a legacy single-file key (mxisd ≤ 1.2's `sign.key`) to key `ed25519:0`, the
    /// original kept as `<root>.backup-before-migration`, as mxisd does.
    ///
    /// # Errors
    /// [`OpenError`], naming the path and what is wrong with it.
    pub fn open(root: &Path) -> Result<Self, OpenError> {
        legacy::finish_interrupted(root)?;
        match fs::metadata(root) {
            Ok(meta) if meta.is_dir() => {}
            Ok(meta) if meta.is_file() => legacy::migrate(root)?,
            Ok(_) => return Err(OpenError::NotADirectory(root.to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_private_dir(root)?,
            Err(e) => return Err(FsError::new("cannot read", root, e).into()),
        }
        if is_shared(root) {
            tracing::warn!(
                path = %root.display(),
                "the key store directory is accessible to other users: `chmod 700` it (its files \
                 are the server's private signing keys)"
            );
        }
        Ok(Self {
            inner: Arc::new(Inner {
                root: root.to_owned(),
                writing: Mutex::new(()),
            }),
        })
    }

    /// The directory this store lives in.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Inner) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || job(&inner))
            .await
            .map_err(|e| StoreError::Unavailable(Box::new(e)))?
    }
}

fn unavailable(error: FsError) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

impl Inner {
    fn current(&self) -> Result<Option<KeyId>, StoreError> {
        let path = self.root.join(CURRENT);
        let Some(bytes) = read_if_exists(&path).map_err(unavailable)? else {
            return Ok(None);
        };
        parse_current(&bytes)
            .map(Some)
            .map_err(|reason| StoreError::Corrupt(format!("{}: {reason}", path.display())))
    }

    fn keys(&self, kind: KeyKind) -> Result<Vec<StoredKey>, StoreError> {
        let dir = kind_dir(&self.root, kind);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(unavailable(FsError::new("cannot list", &dir, e))),
        };
        let mut keys = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| unavailable(FsError::new("cannot list", &dir, e)))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue; // hidden files, such as an editor's
            }
            if KeyId::from_identifier(&name).is_err() || !path.is_file() {
                tracing::warn!(
                    path = %path.display(),
                    "ignoring a key store entry that is not a key file (a key file is named by \
                     its identifier: letters, digits, '_' or '-')"
                );
                continue;
            }
            let bytes =
                fs::read(&path).map_err(|e| unavailable(FsError::new("cannot read", &path, e)))?;
            let (key, valid) = parse_key(&name, &bytes)
                .map_err(|reason| StoreError::Corrupt(format!("{}: {reason}", path.display())))?;
            keys.push(StoredKey { key, valid });
        }
        keys.sort_by(|a, b| a.key.id().cmp(b.key.id()));
        Ok(keys)
    }

    fn add(&self, kind: KeyKind, key: &StoredKey) -> Result<(), StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let dir = kind_dir(&self.root, kind);
        create_private_dir(&dir).map_err(unavailable)?;
        let target = dir.join(key.key.id().identifier());
        if target.exists() {
            return Err(StoreError::Conflict);
        }
        write_atomically(&self.root, &target, &key_bytes(&key.key, key.valid)).map_err(unavailable)
    }

    fn set_current(&self, id: &KeyId) -> Result<(), StoreError> {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        if !kind_dir(&self.root, KeyKind::Regular)
            .join(id.identifier())
            .is_file()
        {
            return Err(StoreError::NotFound);
        }
        write_atomically(&self.root, &self.root.join(CURRENT), &current_bytes(id))
            .map_err(unavailable)
    }
}

#[async_trait]
impl KeyStore for FileKeyStore {
    async fn current(&self) -> Result<Option<KeyId>, StoreError> {
        self.run(Inner::current).await
    }

    async fn keys(&self, kind: KeyKind) -> Result<Vec<StoredKey>, StoreError> {
        self.run(move |inner| inner.keys(kind)).await
    }

    async fn add(&self, kind: KeyKind, key: &StoredKey) -> Result<(), StoreError> {
        let key = key.clone();
        self.run(move |inner| inner.add(kind, &key)).await
    }

    async fn set_current(&self, id: &KeyId) -> Result<(), StoreError> {
        let id = id.clone();
        self.run(move |inner| inner.set_current(&id)).await
    }
}
