//! An [`ImportSource`] over a Sydent database (Sydent 2.6.1's SQLite file, schema version 5, and
//! the older schemas it upgrades from), opened read-only: nothing in the file is ever written.
//!
//! What is read, and what is decided about each table:
//! - **Bindings** are `local_threepid_associations`, the bindings this Sydent made, with their
//!   `ts`, `notBefore` and `notAfter`; the position is the row's `id` (an autoincrement, never
//!   reused). A row with a NULL `mxid` is how Sydent remembers a removed binding: it is skipped
//!   and counted in [`SourceCounts::removed_bindings`]. Each bound row is joined with the
//!   `global_threepid_associations` row Sydent's local push wrote for it (`originServer` = this
//!   server's name, `originId` = the local `id`), whose `sgAssoc` is the signed JSON Sydent's
//!   v1 lookup hands out: it is kept verbatim. A bound row without that global row is not
//!   imported but reported: Sydent's lookups read only the global table, so it no longer
//!   published that binding (a replication peer pushed a removal of the address, or the push
//!   never ran), and importing it would publish what Sydent did not.
//! - **Associations replicated from other servers** (global rows whose `originServer` is a
//!   replication peer) are not imported: the binding belongs to the server that made it, its
//!   removal would only ever reach Verity through Sydent's replication, which Verity does not
//!   speak, so it would be published for ever. They are counted in
//!   [`SourceCounts::replicated_bindings`].
//! - **Accounts** are `tokens` joined with `accounts`: one [`Account`] per token, carrying only
//!   the token's fingerprint, created at the account's `created_ts`, never expiring (Sydent's
//!   tokens do not); the position is the token row's `rowid`. A token whose user has no
//!   `accounts` row is reported. Sydent before schema version 4 (before the v2 API) had no
//!   accounts: such a database has bindings and no accounts or accepted terms.
//! - **Accepted terms** are `accepted_terms_urls` rows; the position is the `rowid`.
//! - **Invites** (pending ones) and **ephemeral public keys**: see the `invites` module.
//!
//! Emails are compared and imported in canonical form ([`ThreePid::parse`] case-folds them, as
//! Sydent does before storing). A row that cannot be imported (unknown medium, invalid address or
//! Matrix ID, missing times, a signed association that does not parse, is not signed by this
//! server or vouches for another binding) is returned as `Err(reason)`; labels never contain a
//! token or a whole address.
//!
//! Sydent should be stopped while it is imported: the pages are read one by one, and a binding
//! made or removed between two pages may be missed.
//!
//! [`ThreePid::parse`]: verity_domain::ThreePid::parse
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use verity_application::ports::driven::{
    AcceptedTerms, ImportSource, ImportedBinding, ImportedInvite, SourceCounts, SourceError,
    SourceRow,
};
use verity_domain::{Account, PublicKey};

mod invites;
mod rows;
mod schema;

#[cfg(test)]
mod tests;

use schema::{Schema, from_db};

/// How long opening the file, or waiting for Sydent's write lock, may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The oldest schema version with accounts, tokens and accepted terms (Sydent's v2 API).
pub const ACCOUNTS_SCHEMA_VERSION: i64 = 4;

/// Bound local rows joined with the signed association this server pushed for each.
const BINDINGS: &str = "SELECT l.id, CAST(l.medium AS TEXT), CAST(l.address AS TEXT), \
     CAST(l.mxid AS TEXT), l.ts, l.notBefore, l.notAfter, CAST(g.sgAssoc AS TEXT) \
     FROM local_threepid_associations l \
     LEFT JOIN global_threepid_associations g ON g.originServer = ? AND g.originId = l.id \
     WHERE l.id > ? AND l.mxid IS NOT NULL ORDER BY l.id LIMIT ?";

/// Tokens with their account (NULL `created_ts` when the account row is missing).
const ACCOUNTS: &str = "SELECT t.rowid, CAST(t.token AS TEXT), CAST(t.user_id AS TEXT), \
     a.created_ts FROM tokens t LEFT JOIN accounts a ON a.user_id = t.user_id \
     WHERE t.rowid > ? ORDER BY t.rowid LIMIT ?";

/// Accepted terms (Sydent once stored some URLs as bytes: read as text).
const ACCEPTED_TERMS: &str = "SELECT rowid, CAST(user_id AS TEXT), CAST(url AS TEXT) FROM accepted_terms_urls \
     WHERE rowid > ? ORDER BY rowid LIMIT ?";

/// A Sydent database, read-only. Cloning shares the connection.
#[derive(Clone)]
pub struct SydentSource {
    db: DatabaseConnection,
    server_name: String,
    schema: Schema,
}

impl std::fmt::Debug for SydentSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SydentSource")
            .field("server_name", &self.server_name)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl SydentSource {
    /// Opens Sydent's database file at `path` read-only (it must exist: it is never created)
    /// for the Sydent whose `server.name` (in `sydent.conf`) is `server_name`, and checks that
    /// it is one: its association tables exist, its accounts tables too from schema version
    /// [`ACCOUNTS_SCHEMA_VERSION`], and when it holds bindings, some were published under
    /// `server_name`.
    ///
    /// # Errors
    /// [`SourceError::Unavailable`] when the file cannot be opened or read,
    /// [`SourceError::NotThatServer`] when it is not a Sydent database (not SQLite, a table is
    /// missing) or not this server's (its bindings were all published under other names).
    pub async fn open(path: &Path, server_name: &str) -> Result<Self, SourceError> {
        // The path is set on the driver's options, not in the URL, so no character of it needs
        // escaping.
        let mut options = ConnectOptions::new("sqlite:sydent.db?mode=ro");
        let file = path.to_path_buf();
        options.map_sqlx_sqlite_opts(move |sqlite| {
            sqlite
                .filename(&file)
                .read_only(true)
                .create_if_missing(false)
                .busy_timeout(TIMEOUT)
        });
        options
            .sqlx_logging(false)
            .max_connections(1)
            .min_connections(0)
            .connect_timeout(TIMEOUT)
            .acquire_timeout(TIMEOUT);
        let db = Database::connect(options).await.map_err(from_db)?;
        let schema = match Schema::probe(&db, server_name).await {
            Ok(schema) => schema,
            Err(err) => {
                let _ = db.close().await;
                return Err(err);
            }
        };
        let source = Self {
            db,
            server_name: server_name.to_owned(),
            schema,
        };
        if let Err(err) = source.check_columns().await {
            source.close().await;
            return Err(err);
        }
        Ok(source)
    }

    /// Runs every page's query on no row, so a table without a column Sydent's has is found
    /// now (the file was readable: the tables were listed).
    async fn check_columns(&self) -> Result<(), SourceError> {
        let mut queries = vec![(
            "local_threepid_associations or global_threepid_associations",
            BINDINGS,
            vec![self.server_name.as_str().into(), 0.into(), 0.into()],
        )];
        if self.schema.has_accounts {
            queries.push(("tokens or accounts", ACCOUNTS, vec![0.into(), 0.into()]));
            queries.push((
                "accepted_terms_urls",
                ACCEPTED_TERMS,
                vec![0.into(), 0.into()],
            ));
        }
        if self.schema.has_invites {
            queries.push(("invite_tokens", invites::INVITES, vec![0.into(), 0.into()]));
            queries.push((
                "ephemeral_public_keys",
                invites::EPHEMERAL_KEYS,
                vec![0.into(), 0.into()],
            ));
        }
        for (tables, sql, values) in queries {
            let statement = Statement::from_sql_and_values(DbBackend::Sqlite, sql, values);
            self.db.query_all_raw(statement).await.map_err(|err| {
                schema::not_sydent(format!(
                    "its table {tables} lacks a column Sydent's has ({err})"
                ))
            })?;
        }
        Ok(())
    }

    /// The database's schema version (`PRAGMA user_version`: 5 for Sydent 2.6.1).
    pub fn schema_version(&self) -> i64 {
        self.schema.version
    }

    /// Whether it has accounts, tokens and accepted terms (schema version 4 and later).
    pub fn has_accounts(&self) -> bool {
        self.schema.has_accounts
    }

    /// Closes the connection.
    pub async fn close(self) {
        let _ = self.db.close().await;
    }

    async fn page(
        &self,
        sql: &str,
        values: Vec<sea_orm::Value>,
    ) -> Result<Vec<sea_orm::QueryResult>, SourceError> {
        let statement = Statement::from_sql_and_values(DbBackend::Sqlite, sql, values);
        self.db.query_all_raw(statement).await.map_err(from_db)
    }
}

#[async_trait]
impl ImportSource for SydentSource {
    fn name(&self) -> &'static str {
        "sydent"
    }

    async fn counts(&self) -> Result<SourceCounts, SourceError> {
        self.schema.counts(&self.db, &self.server_name).await
    }

    async fn bindings(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SourceRow<ImportedBinding>>, SourceError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let values = vec![
            self.server_name.as_str().into(),
            after.into(),
            i64::from(limit).into(),
        ];
        let rows = self.page(BINDINGS, values).await?;
        rows.iter()
            .map(|row| rows::binding(row, &self.server_name))
            .collect()
    }

    async fn accounts(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SourceRow<Account>>, SourceError> {
        if limit == 0 || !self.schema.has_accounts {
            return Ok(Vec::new());
        }
        let rows = self
            .page(ACCOUNTS, vec![after.into(), i64::from(limit).into()])
            .await?;
        rows.iter().map(rows::account).collect()
    }

    async fn accepted_terms(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SourceRow<AcceptedTerms>>, SourceError> {
        if limit == 0 || !self.schema.has_accounts {
            return Ok(Vec::new());
        }
        let rows = self
            .page(ACCEPTED_TERMS, vec![after.into(), i64::from(limit).into()])
            .await?;
        rows.iter().map(rows::accepted_terms).collect()
    }
    async fn invites(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SourceRow<ImportedInvite>>, SourceError> {
        if limit == 0 || !self.schema.has_invites {
            return Ok(Vec::new());
        }
        let rows = self
            .page(
                invites::INVITES,
                vec![after.into(), i64::from(limit).into()],
            )
            .await?;
        rows.iter().map(invites::invite).collect()
    }

    async fn ephemeral_keys(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SourceRow<PublicKey>>, SourceError> {
        if limit == 0 || !self.schema.has_invites {
            return Ok(Vec::new());
        }
        let rows = self
            .page(
                invites::EPHEMERAL_KEYS,
                vec![after.into(), i64::from(limit).into()],
            )
            .await?;
        rows.iter().map(invites::ephemeral_key).collect()
    }
}
