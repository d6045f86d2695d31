//! The saved lookup table (`verity_lookup_saved`, one row): written after each build, read at
//! start-up ([`HashStore::save_table`](verity_application::ports::driven::HashStore)).
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, Statement, Value};
use verity_application::ports::driven::{SavedTable, StoreError};
use verity_domain::{Pepper, Timestamp};

use crate::errors::{from_column, from_db, to_column};

/// Replaces the saved table with `table`.
pub(super) async fn save(db: &DatabaseConnection, table: SavedTable) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "INSERT INTO verity_lookup_saved (id, pepper, changes_until, saved_at, data) \
             VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET pepper = excluded.pepper, \
             changes_until = excluded.changes_until, saved_at = excluded.saved_at, \
             data = excluded.data"
        }
        _ => {
            "INSERT INTO verity_lookup_saved (id, pepper, changes_until, saved_at, data) \
             VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET pepper = excluded.pepper, \
             changes_until = excluded.changes_until, saved_at = excluded.saved_at, \
             data = excluded.data"
        }
    };
    let values: Vec<Value> = vec![
        table.pepper.as_str().into(),
        to_column::<u64, i64>(table.changes_until, "changes_until")?.into(),
        to_column::<u64, i64>(table.saved_at.as_millis(), "saved_at")?.into(),
        table.data.into(),
    ];
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .map_err(from_db)?;
    Ok(())
}

/// The saved table, if it is of `pepper`.
pub(super) async fn load(
    db: &DatabaseConnection,
    pepper: &Pepper,
) -> Result<Option<SavedTable>, StoreError> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT changes_until, saved_at, data FROM verity_lookup_saved \
             WHERE id = 1 AND pepper = $1"
        }
        _ => {
            "SELECT changes_until, saved_at, data FROM verity_lookup_saved \
             WHERE id = 1 AND pepper = ?"
        }
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [pepper.as_str().into()],
        ))
        .await
        .map_err(from_db)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let changes_until: i64 = row.try_get("", "changes_until").map_err(from_db)?;
    let saved_at: i64 = row.try_get("", "saved_at").map_err(from_db)?;
    let data: Vec<u8> = row.try_get("", "data").map_err(from_db)?;
    Ok(Some(SavedTable {
        pepper: pepper.clone(),
        changes_until: from_column(changes_until, "changes_until")?,
        saved_at: Timestamp::from_millis(from_column(saved_at, "saved_at")?),
        data,
    }))
}
