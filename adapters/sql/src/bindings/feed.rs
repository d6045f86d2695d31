//! The pages of `verity_binding` that the lookup table is built from, each read as one row of
//! JSON. The drivers hand a result over row by row (sqlx's SQLite worker sends each row through a
//! channel to the task), which made reading 1,000,000 bindings for the lookup table take 6 s on
//! SQLite; one aggregated row per page avoids that cost.
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use verity_application::ports::driven::{FeedCursor, FeedRows, StoreError};

use super::SeaOrmBindingStore;
use crate::errors::{from_column, from_db};

pub(super) fn not_json(error: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("a page of bindings is not JSON: {error}"))
}

impl SeaOrmBindingStore {
    /// The page after the (medium, address) `after`, in key order: a JSON array of `[medium,
    /// address, mxid]`. Paging is a row-value comparison, `(medium, address) > (?, ?)`, which both
    /// SQLite and PostgreSQL answer by seeking in the primary key, so each page costs the same.
    /// The equivalent `medium > ? OR (medium = ? AND address > ?)` made both scan from the start
    /// for every page, so building the lookup table was quadratic.
    pub(super) async fn page_by_key(
        &self,
        after: Option<&(String, String)>,
        limit: u32,
    ) -> Result<Option<String>, StoreError> {
        let backend = self.db.get_database_backend();
        let mut values: Vec<Value> = Vec::with_capacity(3);
        let filter = match after {
            Some((medium, address)) => {
                values.push(medium.as_str().into());
                values.push(address.as_str().into());
                match backend {
                    DbBackend::Postgres => "WHERE (medium, address) > ($1, $2)",
                    _ => "WHERE (medium, address) > (?, ?)",
                }
            }
            None => "",
        };
        values.push(i64::from(limit).into());
        let sql = match backend {
            DbBackend::Postgres => format!(
                "SELECT COALESCE(json_agg(json_build_array(medium, address, mxid) \
                 ORDER BY medium, address), '[]'::json)::text AS page \
                 FROM (SELECT medium, address, mxid FROM verity_binding {filter} \
                 ORDER BY medium, address LIMIT ${}) AS p",
                values.len()
            ),
            _ => format!(
                "SELECT json_group_array(json_array(medium, address, mxid) \
                 ORDER BY medium, address) AS page \
                 FROM (SELECT medium, address, mxid FROM verity_binding {filter} \
                 ORDER BY medium, address LIMIT ?) AS p"
            ),
        };
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map_err(from_db)?;
        row.map(|row| row.try_get("", "page").map_err(from_db))
            .transpose()
    }

    /// On SQLite, the page after `after` in rowid order, and the last rowid read: the table is
    /// read front to back, where key order took a seek in the key's index and then one in the
    /// table for every row, and a sort for each page (1.1 s of the worker thread for 1,000,000
    /// rows, against 0.3 s). The lookup table needs every row once, in no order.
    async fn page_by_rowid(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> Result<(Option<String>, Option<i64>), StoreError> {
        let (filter, mut values): (&str, Vec<Value>) = match after {
            Some(after) => ("WHERE rowid > ?", vec![after.into()]),
            None => ("", Vec::new()),
        };
        values.push(i64::from(limit).into());
        let sql = format!(
            "SELECT json_group_array(json_array(medium, address, mxid)) AS page, \
             max(id) AS last \
             FROM (SELECT rowid AS id, medium, address, mxid FROM verity_binding {filter} \
             ORDER BY rowid LIMIT ?) AS p"
        );
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                sql,
                values,
            ))
            .await
            .map_err(from_db)?;
        let Some(row) = row else {
            return Ok((None, None));
        };
        let page: String = row.try_get("", "page").map_err(from_db)?;
        let last: Option<i64> = row.try_get("", "last").map_err(from_db)?;
        Ok((Some(page), last))
    }

    /// One page of [`IdentityBackend::feed_rows`](verity_application::ports::driven::IdentityBackend::feed_rows):
    /// in rowid order on SQLite, in key order on PostgreSQL (whose heap has no stable order to
    /// page by). The JSON is read in place: the strings are borrowed from it unless one holds an
    /// escaped character.
    pub(super) async fn page_of_rows(
        &self,
        after: Option<FeedCursor>,
        limit: u32,
        rows: &mut FeedRows,
    ) -> Result<(), StoreError> {
        rows.clear();
        let (page, position) = match (self.db.get_database_backend(), after) {
            (DbBackend::Sqlite, None) => self.page_by_rowid(None, limit).await?,
            (DbBackend::Sqlite, Some(FeedCursor::Position(after))) => {
                self.page_by_rowid(Some(after), limit).await?
            }
            (_, None) => return self.copied_page_by_key(None, limit, rows).await,
            (_, Some(FeedCursor::Key { medium, address })) => {
                return self
                    .copied_page_by_key(Some((&medium, &address)), limit, rows)
                    .await;
            }
            (_, Some(cursor)) => {
                return Err(StoreError::Corrupt(format!(
                    "the bindings feed was given a cursor it never returned: {cursor:?}"
                )));
            }
        };
        let Some(page) = page else {
            return Ok(());
        };
        if let Ok(borrowed) = serde_json::from_str::<Vec<(&str, &str, &str)>>(&page) {
            for (medium, address, mxid) in borrowed {
                rows.push(medium, address, mxid);
            }
        } else {
            let owned: Vec<(String, String, String)> =
                serde_json::from_str(&page).map_err(not_json)?;
            for (medium, address, mxid) in &owned {
                rows.push(medium, address, mxid);
            }
        }
        if let Some(position) = position {
            rows.set_position(position);
        }
        Ok(())
    }

    /// How many bindings are stored.
    pub(super) async fn count(&self) -> Result<u64, StoreError> {
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COUNT(*) AS bindings FROM verity_binding",
            ))
            .await
            .map_err(from_db)?;
        let count: i64 = match row {
            Some(row) => row.try_get("", "bindings").map_err(from_db)?,
            None => 0,
        };
        from_column::<i64, u64>(count, "COUNT(*)")
    }
}
