//! An [`ImportSource`] over ma1sd's database (SQLite or PostgreSQL, as its
//! `storage.backend` says), only ever read.
//!
//! ma1sd (and mxisd before it) made its tables with ORMLite from the DAOs in
//! `src/main/java/io/kamax/mxisd/storage/ormlite/dao/` (ma1sd commit `ae5864cd`), column names as
//! the Java fields (`"userId"`, quoted: case matters on PostgreSQL):
//! - **Accounts** are `account` rows: `token` (the identity-server token, in plain text, the
//!   primary key), `"userId"`, `"createdAt"` in **seconds** (`Instant.now().getEpochSecond()`),
//!   and the homeserver's OpenID token (`"accessToken"`, `"expiresIn"`) that ma1sd never reads
//!   again: its own tokens never expire. One [`Account`] per row, carrying only the token's
//!   fingerprint, never expiring.
//! - **Accepted terms** are `accepted` rows (`id` generated, `url`, `"userId"`, `"acceptedAt"`).
//! - **Pending invites** are `invite_3pid` rows (`id`, `token` in plain text, `sender`,
//!   `medium`, `address`, `"roomId"`, `properties`: a JSON object of strings holding `created_at`
//!   in milliseconds and the ephemeral key `e_key_public`); a resolved or expired invite is moved
//!   to `invite_3pid_history`, which is not read. An invite without `created_at` (written before
//!   ma1sd kept it) is imported as created when the import runs, as ma1sd dates it when it starts.
//! - mxisd 1.x made the same `invite_3pid` and no accounts tables: its database has invites only.
//! - **Bindings**: none. ma1sd kept no bindings of its own (lookups came from its backends).
//! - **Ephemeral keys**: none apart from the invites'; the private halves are in ma1sd's key
//!   directory (`key.path`), which Verity reads as is.
//!
//! Tables whose key is text (`account`, `invite_3pid`) have no integer key on PostgreSQL: their
//! position is the row's rank in key order (1, 2, ...), so ma1sd must be stopped while it is
//! imported (a row added between two pages would shift the ranks).
use async_trait::async_trait;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};
use verity_application::ports::driven::{
    AcceptedTerms, ImportSource, ImportedBinding, ImportedInvite, SourceCounts, SourceError,
    SourceRow,
};
use verity_domain::{Account, PublicKey, Timestamp};

mod rows;
#[cfg(any(test, feature = "testing"))]
pub mod schema;

#[cfg(test)]
mod tests;

const ACCOUNTS: &str = "SELECT token, \"userId\", \"createdAt\" FROM account \
     ORDER BY token LIMIT $1 OFFSET $2";
const ACCEPTED: &str = "SELECT id, \"userId\", url FROM accepted WHERE id > $1 \
     ORDER BY id LIMIT $2";
const INVITES: &str = "SELECT token, sender, medium, address, \"roomId\", properties \
     FROM invite_3pid ORDER BY id LIMIT $1 OFFSET $2";
/// The invites table, which every ma1sd and mxisd has: a database without it is not theirs.
const INVITES_TABLE: &str =
    "SELECT id, token, sender, medium, address, \"roomId\", properties FROM invite_3pid LIMIT 0";
/// The accounts tables (ma1sd and mxisd from the v2 API on; mxisd 1.x has none).
const ACCOUNT_TABLES: [(&str, &str); 2] = [
    (
        "account",
        "SELECT token, \"userId\", \"createdAt\" FROM account LIMIT 0",
    ),
    (
        "accepted",
        "SELECT id, \"userId\", url FROM accepted LIMIT 0",
    ),
];

/// ma1sd's database, read-only. Cloning shares the connection.
#[derive(Clone)]
pub struct Ma1sdSource {
    db: DatabaseConnection,
    imported_at: Timestamp,
    has_accounts: bool,
}

impl std::fmt::Debug for Ma1sdSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ma1sdSource").finish_non_exhaustive()
    }
}

/// The rank a page of a text-keyed table starts after: the import starts from `i64::MIN`
/// (before any position), which is rank 0.
fn rank(after: i64) -> i64 {
    after.max(0)
}

fn unavailable(err: &DbErr) -> SourceError {
    SourceError::Unavailable(err.to_string())
}

fn not_ma1sd(why: String) -> SourceError {
    SourceError::NotThatServer {
        expected: "ma1sd",
        why,
    }
}

impl Ma1sdSource {
    /// Opens ma1sd's database: `sqlite:<path>` (the file must exist; opened read-only) or a
    /// `postgres://` URL, and checks it has ma1sd's tables. `imported_at` dates the invites
    /// ma1sd kept no creation time for.
    ///
    /// # Errors
    /// [`SourceError::Unavailable`] when it cannot be reached, [`SourceError::NotThatServer`]
    /// when a table or column of ma1sd's is missing.
    pub async fn open(url: &str, imported_at: Timestamp) -> Result<Self, SourceError> {
        let mut options = ConnectOptions::new(url);
        if let Some(path) = url.strip_prefix("sqlite:") {
            let file = std::path::PathBuf::from(path.strip_prefix("//").unwrap_or(path));
            options.map_sqlx_sqlite_opts(move |sqlite| {
                sqlite
                    .filename(&file)
                    .read_only(true)
                    .create_if_missing(false)
            });
        } else if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(SourceError::Unavailable(
                "expected an sqlite: path or a postgres:// URL".to_owned(),
            ));
        }
        options
            .sqlx_logging(false)
            .max_connections(1)
            .min_connections(0);
        let db = Database::connect(options)
            .await
            .map_err(|e| unavailable(&e))?;
        let mut source = Self {
            db,
            imported_at,
            has_accounts: false,
        };
        match source.check_tables().await {
            Ok(has_accounts) => source.has_accounts = has_accounts,
            Err(err) => {
                source.close().await;
                return Err(err);
            }
        }
        Ok(source)
    }

    /// `invite_3pid` must be there; `account` and `accepted` both or neither (mxisd 1.x).
    async fn check_tables(&self) -> Result<bool, SourceError> {
        let missing = |table: &str, err: DbErr| {
            not_ma1sd(format!(
                "its table `{table}` is missing or lacks a column ma1sd's has ({err})"
            ))
        };
        self.query(INVITES_TABLE, Vec::new())
            .await
            .map_err(|err| missing("invite_3pid", err))?;
        let mut found = Vec::new();
        for (table, sql) in ACCOUNT_TABLES {
            found.push((table, self.query(sql, Vec::new()).await));
        }
        // Both tables absent (not merely different) is mxisd 1.x.
        let absent = |result: &Result<_, DbErr>| {
            result.as_ref().is_err_and(|err| {
                let text = err.to_string();
                text.contains("no such table") || text.contains("relation")
            })
        };
        if found.iter().all(|(_, result)| absent(result)) {
            return Ok(false);
        }
        for (table, result) in found {
            result.map_err(|err| missing(table, err))?;
        }
        Ok(true)
    }

    /// Whether it has accounts and accepted terms (ma1sd; mxisd 1.x has only invites).
    pub fn has_accounts(&self) -> bool {
        self.has_accounts
    }

    /// Closes the connection.
    pub async fn close(self) {
        let _ = self.db.close().await;
    }

    async fn query(
        &self,
        sql: &str,
        values: Vec<sea_orm::Value>,
    ) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        let backend = self.db.get_database_backend();
        // SQLite takes a double-quoted name that is no column for a string: backticks are
        // always names there (and mean nothing to PostgreSQL).
        let sql = match backend {
            DbBackend::Sqlite => sql.replace('"', "`"),
            _ => sql.to_owned(),
        };
        self.db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
    }

    async fn page(
        &self,
        sql: &str,
        values: Vec<sea_orm::Value>,
    ) -> Result<Vec<sea_orm::QueryResult>, SourceError> {
        self.query(sql, values).await.map_err(|e| unavailable(&e))
    }

    async fn count(&self, table: &str) -> Result<u64, SourceError> {
        let rows = self
            .page(&format!("SELECT COUNT(*) FROM {table}"), Vec::new())
            .await?;
        let count = rows
            .first()
            .map(|row| row.try_get_by_index::<i64>(0))
            .transpose()
            .map_err(|e| unavailable(&e))?
            .unwrap_or(0);
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

#[async_trait]
impl ImportSource for Ma1sdSource {
    fn name(&self) -> &'static str {
        "ma1sd"
    }

    async fn counts(&self) -> Result<SourceCounts, SourceError> {
        let (accounts, accepted_terms) = if self.has_accounts {
            (self.count("account").await?, self.count("accepted").await?)
        } else {
            (0, 0)
        };
        Ok(SourceCounts {
            accounts,
            accepted_terms,
            invites: self.count("invite_3pid").await?,
            ..SourceCounts::default()
        })
    }

    /// None: ma1sd kept no bindings of its own.
    async fn bindings(
        &self,
        _after: i64,
        _limit: u32,
    ) -> Result<Vec<SourceRow<ImportedBinding>>, SourceError> {
        Ok(Vec::new())
    }

    async fn accounts(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SourceRow<Account>>, SourceError> {
        if limit == 0 || !self.has_accounts {
            return Ok(Vec::new());
        }
        let rows = self
            .page(ACCOUNTS, vec![i64::from(limit).into(), rank(after).into()])
            .await?;
        Ok(rows
            .iter()
            .zip(rank(after) + 1..)
            .map(|(row, position)| rows::account(row, position))
            .collect())
    }

    async fn accepted_terms(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SourceRow<AcceptedTerms>>, SourceError> {
        if limit == 0 || !self.has_accounts {
            return Ok(Vec::new());
        }
        let rows = self
            .page(ACCEPTED, vec![after.into(), i64::from(limit).into()])
            .await?;
        rows.iter().map(rows::accepted).collect()
    }

    async fn invites(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SourceRow<ImportedInvite>>, SourceError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = self
            .page(INVITES, vec![i64::from(limit).into(), rank(after).into()])
            .await?;
        Ok(rows
            .iter()
            .zip(rank(after) + 1..)
            .map(|(row, position)| rows::invite(row, position, self.imported_at))
            .collect())
    }

    /// None: each invite carries its own (`e_key_public`).
    async fn ephemeral_keys(
        &self,
        _after: i64,
        _limit: u32,
    ) -> Result<Vec<SourceRow<PublicKey>>, SourceError> {
        Ok(Vec::new())
    }
}
