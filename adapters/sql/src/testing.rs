//! Test support shared with other crates' tests (feature `testing`): a fresh PostgreSQL database
//! per test on the server named by `VERITY_TEST_POSTGRES_URL`.
//!
//! Policy, the same for every suite: unset, PostgreSQL tests pass with a note so local development
//! needs no server, unless `CI` is set (CI must never skip them silently); set but unreachable is a
//! failure, never a skip. Only for tests, so it panics on a broken set-up instead of returning
//! errors nobody would handle.
#![allow(clippy::panic, clippy::expect_used)]

use std::hash::{BuildHasher, RandomState};
use std::io::Write;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database};

pub mod mysql;

/// The variable naming the PostgreSQL server tests may use, e.g.
/// `postgres://postgres@127.0.0.1:5432/test` (any existing database on it).
pub const POSTGRES_URL_VAR: &str = "VERITY_TEST_POSTGRES_URL";

/// The server to test against, or `None` (after a note on stderr, once per process) when the
/// variable is unset outside CI.
///
/// # Panics
/// When `CI` is set and the variable is not.
pub fn postgres_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but {POSTGRES_URL_VAR} is not: CI must run the PostgreSQL tests")
        }
        _ => {
            static NOTE: Once = Once::new();
            // Straight to stderr: libtest hides what passing tests print, and this note is the
            // only sign that PostgreSQL was not tested.
            NOTE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "note: {POSTGRES_URL_VAR} is not set; PostgreSQL tests pass without running \
                     (e.g. {POSTGRES_URL_VAR}=postgres://postgres@127.0.0.1:5432/test)"
                );
            });
            None
        }
    }
}

/// A database `verity_test_<random>` created for one test and dropped after it: explicitly with
/// [`ScratchDatabase::drop_database`], or when the value is dropped (a panicking test).
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
    dropped: bool,
}

impl ScratchDatabase {
    /// Creates a database on the server of [`postgres_url`].
    ///
    /// # Panics
    /// When the variable is unset (check [`postgres_url`] first) or the server cannot be reached.
    pub async fn create() -> Self {
        let admin_url = postgres_url()
            .unwrap_or_else(|| panic!("{POSTGRES_URL_VAR} is not set: check postgres_url() first"));
        Self::create_on(&admin_url).await
    }

    /// Creates a database on the server of `admin_url` (a URL to any database there).
    ///
    /// # Panics
    /// When the server cannot be reached or refuses.
    pub async fn create_on(admin_url: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let seed = COUNTER.fetch_add(1, Ordering::Relaxed);
        // RandomState is keyed randomly per process: no clash between tests or parallel runs.
        let name = format!(
            "verity_test_{:016x}",
            RandomState::new().hash_one((std::process::id(), seed))
        );
        admin_execute(admin_url, &format!("CREATE DATABASE {name}")).await;
        Self {
            admin_url: admin_url.to_owned(),
            url: with_database(admin_url, &name),
            name,
            dropped: false,
        }
    }

    /// The `postgres://` URL of the new database (it carries the password of the given URL).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database, ending any session still connected to it.
    pub async fn drop_database(mut self) {
        admin_execute(&self.admin_url, &drop_sql(&self.name)).await;
        self.dropped = true;
    }
}

impl Drop for ScratchDatabase {
    // A test that panicked never called `drop_database`: drop it on a runtime of our own, on
    // another thread, since this may run inside (or while unwinding out of) the test's runtime.
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let admin_url = self.admin_url.clone();
        let sql = drop_sql(&self.name);
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(admin_execute(&admin_url, &sql));
        })
        .join();
    }
}

/// FORCE (PostgreSQL 13+) ends the sessions a pool or a failed test may still hold.
fn drop_sql(name: &str) -> String {
    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
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
        panic!("{POSTGRES_URL_VAR} is set but the server cannot be reached: {err}")
    });
    if let Err(err) = admin.execute_unprepared(sql).await {
        panic!("{sql}: {err}");
    }
    let _ = admin.close().await;
}

/// `url` with its database (the path) replaced by `database`, keeping any query string.
fn with_database(url: &str, database: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let after_authority = url[authority_start..]
        .find(['/', '?'])
        .map_or(url.len(), |i| authority_start + i);
    let (base, rest) = url.split_at(after_authority);
    let query = rest.find('?').map_or("", |q| &rest[q..]);
    format!("{base}/{database}{query}")
}

/// Synapse's `user_threepids` and `user_threepid_id_server` with their constraints and indexes,
/// and the `users` and `profiles` the user directory searches read, as Synapse 1.163.2 creates
/// them on SQLite (database schema 94: the full schema 72 and its deltas; read from
/// `sqlite_master` after Synapse's `prepare_database`, with the unique index its background
/// update `profiles_full_user_id_key_idx` adds).
pub const SYNAPSE_SQLITE_SCHEMA: &[&str] = &[
    "CREATE TABLE users( name TEXT, password_hash TEXT, creation_ts BIGINT, admin SMALLINT \
     DEFAULT 0 NOT NULL, upgrade_ts BIGINT, is_guest SMALLINT DEFAULT 0 NOT NULL, appservice_id \
     TEXT, consent_version TEXT, consent_server_notice_sent TEXT, user_type TEXT DEFAULT NULL, \
     deactivated SMALLINT DEFAULT 0 NOT NULL, shadow_banned BOOLEAN, consent_ts bigint, \
     approved BOOLEAN, locked BOOLEAN DEFAULT FALSE NOT NULL, suspended BOOLEAN DEFAULT FALSE \
     NOT NULL, UNIQUE(name) )",
    "CREATE TABLE profiles( user_id TEXT NOT NULL, displayname TEXT, avatar_url TEXT, \
     full_user_id TEXT, fields JSONB, UNIQUE(user_id) )",
    "CREATE UNIQUE INDEX profiles_full_user_id_key ON profiles(full_user_id)",
    "CREATE TABLE IF NOT EXISTS \"user_threepids\" ( user_id TEXT NOT NULL, medium TEXT NOT NULL, \
     address TEXT NOT NULL, validated_at BIGINT NOT NULL, added_at BIGINT NOT NULL, \
     CONSTRAINT medium_address UNIQUE (medium, address) )",
    "CREATE INDEX user_threepids_user_id ON user_threepids(user_id)",
    "CREATE INDEX user_threepids_medium_address on user_threepids (medium, address)",
    "CREATE TABLE user_threepid_id_server ( user_id TEXT NOT NULL, medium TEXT NOT NULL, \
     address TEXT NOT NULL, id_server TEXT NOT NULL )",
    "CREATE UNIQUE INDEX user_threepid_id_server_idx ON user_threepid_id_server( user_id, \
     medium, address, id_server )",
];

/// The same on PostgreSQL, as Synapse's `full.sql.postgres` (schema 72) and its deltas up to
/// 94 write it (`profiles.full_user_id` from deltas 76 to 78, `fields` from 88).
pub const SYNAPSE_POSTGRES_SCHEMA: &[&str] = &[
    "CREATE TABLE users ( name text, password_hash text, creation_ts bigint, admin smallint \
     DEFAULT 0 NOT NULL, upgrade_ts bigint, is_guest smallint DEFAULT 0 NOT NULL, appservice_id \
     text, consent_version text, consent_server_notice_sent text, user_type text, deactivated \
     smallint DEFAULT 0 NOT NULL, shadow_banned boolean, consent_ts bigint, approved boolean, \
     locked boolean DEFAULT false NOT NULL, suspended boolean DEFAULT false NOT NULL )",
    "ALTER TABLE ONLY users ADD CONSTRAINT users_name_key UNIQUE (name)",
    "CREATE TABLE profiles ( user_id text NOT NULL, displayname text, avatar_url text, \
     full_user_id text, fields jsonb )",
    "ALTER TABLE ONLY profiles ADD CONSTRAINT profiles_user_id_key UNIQUE (user_id)",
    "ALTER TABLE profiles ADD CONSTRAINT full_user_id_not_null CHECK (full_user_id IS NOT NULL)",
    "CREATE UNIQUE INDEX profiles_full_user_id_key ON profiles USING btree (full_user_id)",
    "CREATE TABLE user_threepid_id_server ( user_id text NOT NULL, medium text NOT NULL, \
     address text NOT NULL, id_server text NOT NULL )",
    "CREATE TABLE user_threepids ( user_id text NOT NULL, medium text NOT NULL, \
     address text NOT NULL, validated_at bigint NOT NULL, added_at bigint NOT NULL )",
    "ALTER TABLE ONLY user_threepids ADD CONSTRAINT medium_address UNIQUE (medium, address)",
    "CREATE UNIQUE INDEX user_threepid_id_server_idx ON user_threepid_id_server USING btree \
     (user_id, medium, address, id_server)",
    "CREATE INDEX user_threepids_medium_address ON user_threepids USING btree (medium, address)",
    "CREATE INDEX user_threepids_user_id ON user_threepids USING btree (user_id)",
];

/// Runs `statements` on the database at `url` (a test fixture: a Synapse database, say).
///
/// # Panics
/// When the database cannot be reached or a statement fails: this is test set-up.
#[allow(clippy::panic)]
pub async fn execute(url: &str, statements: &[&str]) {
    use sea_orm::ConnectionTrait as _;
    let db = sea_orm::Database::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to the fixture database: {e}"));
    for statement in statements {
        db.execute_unprepared(statement)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    let _ = db.close().await;
}

/// Creates the schema on `url` (the migrations) and writes `count` bindings straight into
/// `verity_binding` with one statement, as if that many 3PIDs had been bound here:
/// `user<i>@example.org` to `@user<i>:example.org`, `i` from 0. No pepper or hash table exists
/// afterwards. For the lookup benchmark and the first-start tests.
pub async fn seed_bindings(url: &str, count: usize) {
    crate::connect(url, 1)
        .await
        .expect("the store opens and migrates")
        .close()
        .await
        .expect("the store closes");
    let db = Database::connect(url).await.expect("the store opens");
    let last = count.saturating_sub(1);
    let numbers = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            format!("SELECT i FROM generate_series(0, {last}) AS s(i)")
        }
        _ => format!(
            "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {last}) \
             SELECT i FROM s"
        ),
    };
    db.execute_unprepared(&format!(
        "INSERT INTO verity_binding (medium, address, mxid, created_at) \
         SELECT 'email', 'user' || i || '@example.org', '@user' || i || ':example.org', 0 \
         FROM ({numbers}) AS n"
    ))
    .await
    .expect("the bindings are written");
    db.close().await.expect("the store closes");
}

/// The size of the lookup table saved on `url`, once one is (`verity_lookup_saved`).
pub async fn saved_table_bytes(url: &str) -> Option<u64> {
    let db = Database::connect(url).await.expect("the store opens");
    let sql = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            "SELECT CAST(SUM(octet_length(data)) AS BIGINT) AS n FROM verity_lookup_saved"
        }
        _ => "SELECT SUM(length(data)) AS n FROM verity_lookup_saved",
    };
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .expect("the saved table is read");
    db.close().await.expect("the store closes");
    // SUM of no rows is NULL.
    let bytes: Option<i64> = row?.try_get("", "n").expect("a length");
    u64::try_from(bytes?).ok()
}

/// Binds `address` (an email) to `mxid`, or unbinds it from `mxid` when `bound` is false,
/// through the binding store on `url` as another instance would: the change is recorded.
pub async fn change_binding(url: &str, address: &str, mxid: &str, bound: bool) {
    use verity_application::ports::driven::{Binding, BindingStore as _};
    use verity_domain::{Medium, ThreePid, Timestamp, UserId};
    let store = crate::connect(url, 1).await.expect("the store opens");
    let binding = Binding {
        threepid: ThreePid::parse(Medium::Email, address).expect("an email"),
        user_id: UserId::parse(mxid).expect("a Matrix ID"),
    };
    let now = Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as u64,
    );
    let bindings = store.binding_store();
    if bound {
        bindings.bind(&binding, now).await.expect("bound");
    } else {
        assert!(
            bindings.unbind(&binding, now).await.expect("unbound"),
            "it was bound"
        );
    }
    store.close().await.expect("the store closes");
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced_and_its_query_kept() {
        for (url, expected) in [
            (
                "postgres://postgres@127.0.0.1:5432/test",
                "postgres://postgres@127.0.0.1:5432/x",
            ),
            (
                "postgres://u:p@h/db?sslmode=disable",
                "postgres://u:p@h/x?sslmode=disable",
            ),
            ("postgres://h:1", "postgres://h:1/x"),
            (
                "postgres://h?sslmode=disable",
                "postgres://h/x?sslmode=disable",
            ),
        ] {
            assert_eq!(with_database(url, "x"), expected, "{url}");
        }
    }
}
