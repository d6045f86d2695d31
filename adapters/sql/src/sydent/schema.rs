//! What a Sydent database holds: its schema version, which tables it has, whether it is this
//! server's, how many rows each table has; and database errors as [`SourceError`]s.
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, RuntimeErr, Statement, sqlx,
};
use verity_application::ports::driven::{SourceCounts, SourceError};

use super::ACCOUNTS_SCHEMA_VERSION;

/// SQLite's result code for a file that is not a database (`SQLITE_NOTADB`).
const SQLITE_NOTADB: &str = "26";

/// The tables every Sydent schema has (version 0 on).
const ASSOCIATION_TABLES: [&str; 2] = [
    "local_threepid_associations",
    "global_threepid_associations",
];

/// The tables schema version 4 added.
const ACCOUNT_TABLES: [&str; 3] = ["accounts", "tokens", "accepted_terms_urls"];

/// The tables with invites and their keys (in every Sydent schema since invites exist). Listed
/// here with the other tables, not in `invites`, so this module stays a leaf the row readers use.
const INVITE_TABLES: [&str; 2] = ["invite_tokens", "ephemeral_public_keys"];

/// How many origin servers an error about the server name lists.
const ORIGINS_SHOWN: i64 = 5;

/// What [`Schema::probe`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Schema {
    /// `PRAGMA user_version`.
    pub(super) version: i64,
    /// Whether the accounts tables are there.
    pub(super) has_accounts: bool,
    /// Whether the invite tables are there.
    pub(super) has_invites: bool,
}

/// A database error: a file that is not SQLite is the wrong file, anything else means it
/// cannot be read. The message never holds a row's values.
pub(super) fn from_db(err: DbErr) -> SourceError {
    let runtime = match &err {
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => Some(runtime),
        _ => None,
    };
    if let Some(RuntimeErr::SqlxError(inner)) = runtime
        && let sqlx::Error::Database(database) = inner.as_ref()
        && database.code().as_deref() == Some(SQLITE_NOTADB)
    {
        return not_sydent("the file is not an SQLite database".to_owned());
    }
    SourceError::Unavailable(err.to_string())
}

/// [`SourceError::NotThatServer`] for Sydent.
pub(super) fn not_sydent(why: String) -> SourceError {
    SourceError::NotThatServer {
        expected: "sydent",
        why,
    }
}

fn statement(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
}

async fn one(db: &DatabaseConnection, statement: Statement) -> Result<QueryResult, SourceError> {
    db.query_one_raw(statement)
        .await
        .map_err(from_db)?
        .ok_or_else(|| SourceError::Unavailable("a query returned no row".to_owned()))
}

fn int(row: &QueryResult, index: usize) -> Result<i64, SourceError> {
    row.try_get_by_index::<i64>(index).map_err(from_db)
}

/// A count read back as the unsigned number it is.
fn count(row: &QueryResult, index: usize) -> Result<u64, SourceError> {
    Ok(u64::try_from(int(row, index)?).unwrap_or(0))
}

impl Schema {
    /// Reads the schema version and the tables, and checks that `server_name` published the
    /// bindings it holds.
    pub(super) async fn probe(
        db: &DatabaseConnection,
        server_name: &str,
    ) -> Result<Self, SourceError> {
        let version = int(&one(db, statement("PRAGMA user_version", vec![])).await?, 0)?;
        let tables = db
            .query_all_raw(statement(
                "SELECT name FROM sqlite_master WHERE type = 'table'",
                vec![],
            ))
            .await
            .map_err(from_db)?
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).map_err(from_db))
            .collect::<Result<Vec<_>, _>>()?;
        let has = |table: &&str| tables.iter().any(|name| name == table);
        let missing: Vec<&str> = ASSOCIATION_TABLES
            .iter()
            .filter(|table| !has(table))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(not_sydent(format!(
                "it has no table {}",
                missing.join(", no table ")
            )));
        }
        let has_accounts = ACCOUNT_TABLES.iter().all(&has);
        let has_invites = INVITE_TABLES.iter().all(&has);
        if version >= ACCOUNTS_SCHEMA_VERSION && !has_accounts {
            let missing: Vec<&str> = ACCOUNT_TABLES
                .iter()
                .filter(|table| !has(table))
                .copied()
                .collect();
            return Err(not_sydent(format!(
                "its schema version is {version} but it has no table {}",
                missing.join(", no table ")
            )));
        }
        check_server_name(db, server_name).await?;
        Ok(Self {
            version,
            has_accounts,
            has_invites,
        })
    }

    /// The rows of each table.
    pub(super) async fn counts(
        &self,
        db: &DatabaseConnection,
        server_name: &str,
    ) -> Result<SourceCounts, SourceError> {
        let associations = one(
            db,
            statement(
                "SELECT \
                 (SELECT COUNT(*) FROM local_threepid_associations WHERE mxid IS NOT NULL), \
                 (SELECT COUNT(*) FROM local_threepid_associations WHERE mxid IS NULL), \
                 (SELECT COUNT(*) FROM global_threepid_associations WHERE originServer <> ?)",
                vec![server_name.into()],
            ),
        )
        .await?;
        let mut counts = SourceCounts {
            bindings: count(&associations, 0)?,
            removed_bindings: count(&associations, 1)?,
            replicated_bindings: count(&associations, 2)?,
            ..SourceCounts::default()
        };
        if self.has_accounts {
            let accounts = one(
                db,
                statement(
                    "SELECT (SELECT COUNT(*) FROM tokens), \
                     (SELECT COUNT(*) FROM accepted_terms_urls)",
                    vec![],
                ),
            )
            .await?;
            counts.accounts = count(&accounts, 0)?;
            counts.accepted_terms = count(&accounts, 1)?;
        }
        if self.has_invites {
            let invites = one(
                db,
                statement(
                    "SELECT \
                     (SELECT COUNT(*) FROM invite_tokens WHERE sent_ts IS NULL), \
                     (SELECT COUNT(*) FROM invite_tokens WHERE sent_ts IS NOT NULL), \
                     (SELECT COUNT(*) FROM ephemeral_public_keys)",
                    vec![],
                ),
            )
            .await?;
            counts.invites = count(&invites, 0)?;
            counts.delivered_invites = count(&invites, 1)?;
            counts.ephemeral_keys = count(&invites, 2)?;
        }
        Ok(counts)
    }
}

/// A database with bindings none of which `server_name` published, while other servers did,
/// belongs to another server name: `server.name` in `sydent.conf` is not this file's.
async fn check_server_name(db: &DatabaseConnection, server_name: &str) -> Result<(), SourceError> {
    let row = one(
        db,
        statement(
            "SELECT \
             EXISTS (SELECT 1 FROM local_threepid_associations WHERE mxid IS NOT NULL), \
             EXISTS (SELECT 1 FROM global_threepid_associations WHERE originServer = ?)",
            vec![server_name.into()],
        ),
    )
    .await?;
    if int(&row, 0)? == 0 || int(&row, 1)? != 0 {
        return Ok(());
    }
    let origins = db
        .query_all_raw(statement(
            "SELECT DISTINCT CAST(originServer AS TEXT) FROM global_threepid_associations \
             ORDER BY 1 LIMIT ?",
            vec![ORIGINS_SHOWN.into()],
        ))
        .await
        .map_err(from_db)?
        .iter()
        .filter_map(|row| row.try_get_by_index::<Option<String>>(0).ok().flatten())
        .collect::<Vec<_>>();
    if origins.is_empty() {
        // Nothing published at all: each binding is reported on its own.
        return Ok(());
    }
    Err(not_sydent(format!(
        "none of its bindings was published by {server_name:?} (server.name in sydent.conf): \
         its associations were made by {}",
        origins
            .iter()
            .map(|origin| format!("{origin:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}
