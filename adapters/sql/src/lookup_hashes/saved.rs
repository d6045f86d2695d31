//! The saved lookup table (`verity_lookup_saved`): written after each build, read at start-up
//! ([`HashStore::save_table`](verity_application::ports::driven::HashStore)), in parts of
//! [`PART`] bytes so that no single value of tens of megabytes is copied by the driver and the
//! database on its way.
use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement, TransactionTrait, Value};
use verity_application::ports::driven::{SavedTable, StoreError};
use verity_domain::{Pepper, Timestamp};

use super::numbered;
use crate::errors::{from_column, from_db, to_column};

/// The bytes of one part.
const PART: usize = 4 << 20;

/// Replaces the saved table with `table`, in one transaction.
pub(super) async fn save(db: &DatabaseConnection, table: SavedTable) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let insert = numbered(
        backend,
        "INSERT INTO verity_lookup_saved (part, pepper, changes_until, saved_at, data) \
         VALUES (?, ?, ?, ?, ?)",
    );
    let changes_until = to_column::<u64, i64>(table.changes_until, "changes_until")?;
    let saved_at = to_column::<u64, i64>(table.saved_at.as_millis(), "saved_at")?;
    let txn = db.begin().await.map_err(from_db)?;
    txn.execute_raw(Statement::from_string(
        backend,
        "DELETE FROM verity_lookup_saved",
    ))
    .await
    .map_err(from_db)?;
    for (part, bytes) in table.data.chunks(PART).enumerate() {
        let values: Vec<Value> = vec![
            to_column::<usize, i32>(part, "part")?.into(),
            table.pepper.as_str().into(),
            changes_until.into(),
            saved_at.into(),
            bytes.to_vec().into(),
        ];
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            insert.as_str(),
            values,
        ))
        .await
        .map_err(from_db)?;
    }
    txn.commit().await.map_err(from_db)
}

/// The saved table, if it is of `pepper`: its parts read one at a time and put together.
///
/// # Errors
/// [`StoreError::Corrupt`] when the parts are not of one save (another instance saved a table
/// while they were read).
pub(super) async fn load(
    db: &DatabaseConnection,
    pepper: &Pepper,
) -> Result<Option<SavedTable>, StoreError> {
    let backend = db.get_database_backend();
    let select = numbered(
        backend,
        "SELECT changes_until, saved_at, data FROM verity_lookup_saved \
         WHERE part = ? AND pepper = ?",
    );
    let mut table: Option<SavedTable> = None;
    for part in 0_i32.. {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                select.as_str(),
                [part.into(), pepper.as_str().into()],
            ))
            .await
            .map_err(from_db)?;
        let Some(row) = row else {
            break;
        };
        let changes_until: i64 = row.try_get("", "changes_until").map_err(from_db)?;
        let saved_at: i64 = row.try_get("", "saved_at").map_err(from_db)?;
        let data: Vec<u8> = row.try_get("", "data").map_err(from_db)?;
        let changes_until = from_column(changes_until, "changes_until")?;
        let saved_at = Timestamp::from_millis(from_column(saved_at, "saved_at")?);
        match table.as_mut() {
            None => {
                let mut whole = Vec::with_capacity(data.len().saturating_mul(4));
                whole.extend_from_slice(&data);
                table = Some(SavedTable {
                    pepper: pepper.clone(),
                    changes_until,
                    saved_at,
                    data: whole,
                });
            }
            Some(table) if table.changes_until == changes_until && table.saved_at == saved_at => {
                table.data.extend_from_slice(&data);
            }
            Some(_) => {
                return Err(StoreError::Corrupt(
                    "the parts of the saved lookup table are of two saves".into(),
                ));
            }
        }
    }
    Ok(table)
}
