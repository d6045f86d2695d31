//! A fresh, isolated database per test, on each backend.
//!
//! PostgreSQL runs only when `VERITY_TEST_POSTGRES_URL` names a server, each test in its own
//! `verity_test_<random>` database; [`crate::testing`] says when it is skipped and when it fails.
use std::sync::Arc;

use sea_orm::{ConnectionTrait, Statement};
use verity_application::ports::driven::HealthCheck;

use crate::testing::{ScratchDatabase, postgres_url};
use crate::{
    SeaOrmAccountStore, SeaOrmBindingStore, SeaOrmHashStore, SeaOrmSessionStore, SeaOrmTermsStore,
    SqlStore, connect,
};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Backend {
    SqliteFile,
    SqliteMemory,
    Postgres,
}

/// One test's database; [`TestDb::finish`] releases it (on a panic, the guards do).
pub(crate) struct TestDb {
    pub(crate) store: SqlStore,
    _scratch: Scratch,
}

enum Scratch {
    None,
    /// Held, never read: the directory (and the file) must outlive the pool.
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres(ScratchDatabase),
}

impl TestDb {
    /// A migrated, empty database, or `None` when PostgreSQL is not configured outside CI.
    pub(crate) async fn open(backend: Backend) -> Option<Self> {
        let (url, scratch) = match backend {
            Backend::SqliteMemory => ("sqlite::memory:".to_owned(), Scratch::None),
            Backend::SqliteFile => {
                let dir = tempfile::tempdir().expect("temp dir");
                (sqlite_file_url(dir.path()), Scratch::Dir(dir))
            }
            Backend::Postgres => {
                let scratch = ScratchDatabase::create_on(&postgres_url()?).await;
                (scratch.url().to_owned(), Scratch::Postgres(scratch))
            }
        };
        let store = connect(&url, 4)
            .await
            .unwrap_or_else(|err| panic!("connect to {backend:?}: {err:?}"));
        Some(Self {
            store,
            _scratch: scratch,
        })
    }

    /// The concrete store: it coerces to `&dyn SessionStore`, and clones into spawned tasks.
    pub(crate) fn sessions(&self) -> SeaOrmSessionStore {
        self.store.session_store()
    }

    pub(crate) fn accounts(&self) -> SeaOrmAccountStore {
        self.store.account_store()
    }

    pub(crate) fn terms(&self) -> SeaOrmTermsStore {
        self.store.terms_store()
    }

    pub(crate) fn bindings(&self) -> SeaOrmBindingStore {
        self.store.binding_store()
    }

    pub(crate) fn hashes(&self) -> SeaOrmHashStore {
        self.store.hash_store()
    }

    pub(crate) fn invites(&self) -> crate::SeaOrmInviteStore {
        self.store.invite_store()
    }

    pub(crate) fn health(&self) -> Arc<dyn HealthCheck> {
        Arc::new(self.store.health_check())
    }

    /// Runs SQL the stores would never write (corrupt rows).
    pub(crate) async fn execute(&self, sql: &str) {
        self.store
            .connection()
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
    }

    /// The integers `sql` selects (first column of each row), to check what no port returns.
    pub(crate) async fn query_i64(&self, sql: &str) -> Vec<i64> {
        let connection = self.store.connection();
        let statement = Statement::from_string(connection.get_database_backend(), sql);
        let rows = connection
            .query_all_raw(statement)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
        rows.iter()
            .map(|row| row.try_get_by_index::<i64>(0).expect("an integer"))
            .collect()
    }

    pub(crate) async fn finish(self) {
        let Self { store, _scratch } = self;
        store.close().await.expect("close the pool");
        if let Scratch::Postgres(scratch) = _scratch {
            scratch.drop_database().await;
        }
    }
}

pub(crate) fn sqlite_file_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}/verity.db?mode=rwc", dir.display())
}
