//! A fresh MariaDB/MySQL database per test on the server named by `VERITY_TEST_MYSQL_URL`, for the
//! generic `sql` identity backend (the only part of Verity that reads MySQL).
//!
//! Policy: unset, the MySQL tests pass with a note, in CI too (MariaDB is optional: `scripts/test`
//! sets the variable when a server answers on 127.0.0.1:3306); set but unreachable is a failure,
//! never a skip.
use std::hash::{BuildHasher, RandomState};
use std::io::Write;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database};

/// The variable naming the MySQL or MariaDB server tests may use, e.g.
/// `mysql://root@127.0.0.1:3306/test` (any existing database on it).
pub const MYSQL_URL_VAR: &str = "VERITY_TEST_MYSQL_URL";

/// The server to test against, or `None` (after a note on stderr, once per process) when the
/// variable is unset.
pub fn mysql_url() -> Option<String> {
    match std::env::var(MYSQL_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            static NOTE: Once = Once::new();
            NOTE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "note: {MYSQL_URL_VAR} is not set; MySQL/MariaDB tests pass without running \
                     (e.g. {MYSQL_URL_VAR}=mysql://root@127.0.0.1:3306/test)"
                );
            });
            None
        }
    }
}

/// A database `verity_test_<random>` created for one test and dropped after it, by
/// [`ScratchMysql::drop_database`] (a panicking test leaves it behind; the names never clash).
pub struct ScratchMysql {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchMysql {
    /// Creates a database on the server of `admin_url`.
    ///
    /// # Panics
    /// When the server cannot be reached or refuses.
    pub async fn create_on(admin_url: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let seed = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            "verity_test_{:016x}",
            RandomState::new().hash_one((std::process::id(), seed))
        );
        admin_execute(
            admin_url,
            &format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"),
        )
        .await;
        Self {
            admin_url: admin_url.to_owned(),
            url: super::with_database(admin_url, &name),
            name,
        }
    }

    /// The `mysql://` URL of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database.
    pub async fn drop_database(self) {
        admin_execute(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {}", self.name),
        )
        .await;
    }
}

/// Runs one statement on the server; an unreachable server is a loud failure, never a skip.
async fn admin_execute(admin_url: &str, sql: &str) {
    let mut options = ConnectOptions::new(admin_url);
    options
        .max_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let admin = Database::connect(options).await.unwrap_or_else(|err| {
        panic!("{MYSQL_URL_VAR} is set but the server cannot be reached: {err}")
    });
    if let Err(err) = admin.execute_unprepared(sql).await {
        panic!("{sql}: {err}");
    }
    let _ = admin.close().await;
}
