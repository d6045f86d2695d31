//! [`BindingStore`] over the `verity_binding` table, and the same table as the `bindings` identity
//! backend (what lookups find of Verity's own bindings).
use std::collections::BTreeMap;

use async_trait::async_trait;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    Statement, TransactionTrait, Value,
};
use verity_application::ports::driven::{
    BackendError, Binding, BindingChange, BindingStore, FeedCursor, FeedRows, IdentityBackend,
    Published, StoreError, StoredBinding,
};
use verity_domain::{Medium, SignedAssociation, ThreePid, Timestamp, UserId};

use crate::errors::{from_column, from_db, to_column};

mod admin;
mod copy;
pub(crate) mod entity;
mod feed;

use entity::{ActiveModel, Column, Entity, Model};

/// Addresses per `IN (...)` list: well under the bind-parameter limit of either backend.
pub(crate) const KEYS_PER_QUERY: usize = 500;

/// Verity's own bindings. Cloning shares the pool.
#[derive(Clone)]
pub struct SeaOrmBindingStore {
    db: DatabaseConnection,
}

impl SeaOrmBindingStore {
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// A stored (medium, address, mxid) as a binding; a row that does not parse is corrupt.
pub(crate) fn binding_of(medium: &str, address: &str, mxid: &str) -> Result<Binding, StoreError> {
    let medium = Medium::parse(medium)
        .map_err(|_| StoreError::Corrupt(format!("a stored medium is invalid: {medium:?}")))?;
    let threepid = ThreePid::parse(medium, address)
        .map_err(|e| StoreError::Corrupt(format!("a stored address is invalid: {e}")))?;
    let user_id = UserId::parse(mxid)
        .map_err(|_| StoreError::Corrupt(format!("a stored Matrix ID is invalid: {mxid:?}")))?;
    Ok(Binding { threepid, user_id })
}

fn from_row(row: &Model) -> Result<Binding, StoreError> {
    binding_of(&row.medium, &row.address, &row.mxid)
}

/// A row as the v1 lookup serves it: the bind time, and what an import stored with it.
fn published_of(user_id: UserId, row: &Model) -> Result<Published, StoreError> {
    let millis =
        |value: i64, name: &str| from_column::<i64, u64>(value, name).map(Timestamp::from_millis);
    let mut published = Published::new(user_id, Some(millis(row.created_at, "created_at")?));
    if let (Some(not_before), Some(not_after)) = (row.not_before, row.not_after) {
        published.window = Some((
            millis(not_before, "not_before")?,
            millis(not_after, "not_after")?,
        ));
    }
    if let Some(json) = &row.signed_json {
        published.signed = Some(
            SignedAssociation::parse(json)
                .map_err(|e| StoreError::Corrupt(format!("a stored signed association: {e}")))?,
        );
    }
    Ok(published)
}

/// Records a change of `threepid` at `at` in `verity_binding_change`, on `db` (the transaction of
/// the change).
async fn record_change(
    db: &impl ConnectionTrait,
    threepid: &ThreePid,
    at: Timestamp,
) -> Result<(), StoreError> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "INSERT INTO verity_binding_change (medium, address, changed_at) VALUES ($1, $2, $3)"
        }
        _ => "INSERT INTO verity_binding_change (medium, address, changed_at) VALUES (?, ?, ?)",
    };
    let values: Vec<Value> = vec![
        threepid.medium().as_str().into(),
        threepid.address().into(),
        to_column::<u64, i64>(at.as_millis(), "changed_at")?.into(),
    ];
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .map_err(from_db)?;
    Ok(())
}

/// What the `bindings` backend reports for a store failure.
fn backend_error(error: StoreError) -> BackendError {
    match error {
        StoreError::Corrupt(what) => BackendError::Corrupt(what),
        other => BackendError::Unavailable(Box::new(other)),
    }
}

#[async_trait]
impl BindingStore for SeaOrmBindingStore {
    async fn bind(&self, binding: &Binding, at: Timestamp) -> Result<(), StoreError> {
        let row = ActiveModel {
            medium: Set(binding.threepid.medium().as_str().to_owned()),
            address: Set(binding.threepid.address().to_owned()),
            mxid: Set(binding.user_id.as_str().to_owned()),
            created_at: Set(to_column::<u64, i64>(at.as_millis(), "created_at")?),
            not_before: Set(None),
            not_after: Set(None),
            signed_json: Set(None),
        };
        // One statement: concurrent binds of the same 3PID serialise on the key, and the last
        // one wins. A bind here replaces what an import stored (window, signed association).
        // The change row goes in the same transaction: a binding is never left without it.
        let txn = self.db.begin().await.map_err(from_db)?;
        Entity::insert(row)
            .on_conflict(
                OnConflict::columns([Column::Medium, Column::Address])
                    .update_columns([
                        Column::Mxid,
                        Column::CreatedAt,
                        Column::NotBefore,
                        Column::NotAfter,
                        Column::SignedJson,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await
            .map_err(from_db)?;
        record_change(&txn, &binding.threepid, at).await?;
        txn.commit().await.map_err(from_db)
    }

    async fn unbind(&self, binding: &Binding, at: Timestamp) -> Result<bool, StoreError> {
        let txn = self.db.begin().await.map_err(from_db)?;
        let result = Entity::delete_many()
            .filter(Column::Medium.eq(binding.threepid.medium().as_str()))
            .filter(Column::Address.eq(binding.threepid.address()))
            .filter(Column::Mxid.eq(binding.user_id.as_str()))
            .exec(&txn)
            .await
            .map_err(from_db)?;
        let removed = result.rows_affected > 0;
        // An unbind that removed nothing changed nothing the others must follow.
        if removed {
            record_change(&txn, &binding.threepid, at).await?;
        }
        txn.commit().await.map_err(from_db)?;
        Ok(removed)
    }

    async fn find(&self, threepid: &ThreePid) -> Result<Option<UserId>, StoreError> {
        Entity::find_by_id((
            threepid.medium().as_str().to_owned(),
            threepid.address().to_owned(),
        ))
        .one(&self.db)
        .await
        .map_err(from_db)?
        .map(|row| from_row(&row).map(|binding| binding.user_id))
        .transpose()
    }

    async fn stored(&self, threepid: &ThreePid) -> Result<Option<StoredBinding>, StoreError> {
        self.stored_row(threepid).await
    }

    async fn of_user(&self, user_id: &UserId) -> Result<Vec<StoredBinding>, StoreError> {
        self.rows_of_user(user_id).await
    }

    async fn feed(&self, after: Option<ThreePid>, limit: u32) -> Result<Vec<Binding>, StoreError> {
        let after = after.map(|after| {
            (
                after.medium().as_str().to_owned(),
                after.address().to_owned(),
            )
        });
        let Some(page) = self.page_by_key(after.as_ref(), limit).await? else {
            return Ok(Vec::new());
        };
        let rows: Vec<(String, String, String)> =
            serde_json::from_str(&page).map_err(feed::not_json)?;
        rows.iter()
            .map(|(medium, address, mxid)| binding_of(medium, address, mxid))
            .collect()
    }

    async fn changes(&self, after: u64, limit: u32) -> Result<Vec<BindingChange>, StoreError> {
        let backend = self.db.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => {
                "SELECT id, medium, address, changed_at FROM verity_binding_change \
                 WHERE id > $1 ORDER BY id LIMIT $2"
            }
            _ => {
                "SELECT id, medium, address, changed_at FROM verity_binding_change \
                 WHERE id > ? ORDER BY id LIMIT ?"
            }
        };
        let values: Vec<Value> = vec![
            to_column::<u64, i64>(after, "id")?.into(),
            i64::from(limit).into(),
        ];
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map_err(from_db)?;
        rows.iter()
            .map(|row| {
                let id: i64 = row.try_get("", "id").map_err(from_db)?;
                let medium: String = row.try_get("", "medium").map_err(from_db)?;
                let address: String = row.try_get("", "address").map_err(from_db)?;
                let changed_at: i64 = row.try_get("", "changed_at").map_err(from_db)?;
                let medium = Medium::parse(&medium).map_err(|_| {
                    StoreError::Corrupt(format!("a stored medium is invalid: {medium:?}"))
                })?;
                let threepid = ThreePid::parse(medium, &address).map_err(|e| {
                    StoreError::Corrupt(format!("a stored address is invalid: {e}"))
                })?;
                Ok(BindingChange {
                    id: from_column::<i64, u64>(id, "id")?,
                    threepid,
                    at: Timestamp::from_millis(from_column::<i64, u64>(changed_at, "changed_at")?),
                })
            })
            .collect()
    }

    async fn last_change(&self) -> Result<u64, StoreError> {
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT COALESCE(MAX(id), 0) AS last FROM verity_binding_change",
            ))
            .await
            .map_err(from_db)?;
        let last: i64 = match row {
            Some(row) => row.try_get("", "last").map_err(from_db)?,
            None => 0,
        };
        from_column::<i64, u64>(last, "id")
    }

    /// Also drops a saved lookup table older than [`SAVED_TABLE_KEPT`] (a start then builds the
    /// table), so that the changes it keeps do not pile up.
    async fn purge_changes(&self, before: Timestamp) -> Result<u64, StoreError> {
        let backend = self.db.get_database_backend();
        let (drop_saved, purge) = match backend {
            DbBackend::Postgres => (
                "DELETE FROM verity_lookup_saved WHERE saved_at < $1",
                "DELETE FROM verity_binding_change WHERE changed_at < $1 AND id <= \
                 COALESCE((SELECT MIN(changes_until) FROM verity_lookup_saved), \
                 9223372036854775807)",
            ),
            _ => (
                "DELETE FROM verity_lookup_saved WHERE saved_at < ?",
                "DELETE FROM verity_binding_change WHERE changed_at < ? AND id <= \
                 COALESCE((SELECT MIN(changes_until) FROM verity_lookup_saved), \
                 9223372036854775807)",
            ),
        };
        let too_old = before
            .as_millis()
            .saturating_sub(SAVED_TABLE_KEPT.as_millis() as u64);
        let values: Vec<Value> = vec![to_column::<u64, i64>(too_old, "saved_at")?.into()];
        self.db
            .execute_raw(Statement::from_sql_and_values(backend, drop_saved, values))
            .await
            .map_err(from_db)?;
        let values: Vec<Value> =
            vec![to_column::<u64, i64>(before.as_millis(), "changed_at")?.into()];
        let result = self
            .db
            .execute_raw(Statement::from_sql_and_values(backend, purge, values))
            .await
            .map_err(from_db)?;
        Ok(result.rows_affected())
    }
}

/// How long a saved lookup table keeps the binding changes after it: a start later than this
/// after the last build reads every binding again.
pub const SAVED_TABLE_KEPT: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

#[async_trait]
impl IdentityBackend for SeaOrmBindingStore {
    fn name(&self) -> &'static str {
        "bindings"
    }

    fn records_changes(&self) -> bool {
        true
    }

    async fn lookup(&self, threepid: &ThreePid) -> Result<Option<UserId>, BackendError> {
        BindingStore::find(self, threepid)
            .await
            .map_err(backend_error)
    }

    /// With the time of the bind (`created_at`, the `ts` of the association the bind answered).
    async fn lookup_published(
        &self,
        threepid: &ThreePid,
    ) -> Result<Option<Published>, BackendError> {
        let row = Entity::find_by_id((
            threepid.medium().as_str().to_owned(),
            threepid.address().to_owned(),
        ))
        .one(&self.db)
        .await
        .map_err(from_db)
        .map_err(backend_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let binding = from_row(&row).map_err(backend_error)?;
        published_of(binding.user_id, &row)
            .map(Some)
            .map_err(backend_error)
    }

    async fn lookup_many(&self, threepids: &[ThreePid]) -> Result<Vec<Binding>, BackendError> {
        // One query per medium and chunk: `medium = ? AND address IN (...)` uses the key.
        let mut by_medium: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let media: Vec<Medium> = threepids.iter().map(ThreePid::medium).collect();
        for (threepid, medium) in threepids.iter().zip(&media) {
            by_medium
                .entry(medium.as_str())
                .or_default()
                .push(threepid.address());
        }
        let mut found = Vec::new();
        for (medium, addresses) in by_medium {
            for chunk in addresses.chunks(KEYS_PER_QUERY) {
                let rows = Entity::find()
                    .filter(Column::Medium.eq(medium))
                    .filter(Column::Address.is_in(chunk.iter().copied()))
                    .all(&self.db)
                    .await
                    .map_err(|e| backend_error(from_db(e)))?;
                for row in &rows {
                    found.push(from_row(row).map_err(backend_error)?);
                }
            }
        }
        Ok(found)
    }

    async fn feed(
        &self,
        after: Option<ThreePid>,
        limit: u32,
    ) -> Result<Vec<Binding>, BackendError> {
        BindingStore::feed(self, after, limit)
            .await
            .map_err(backend_error)
    }

    async fn feed_len(&self) -> Result<Option<u64>, BackendError> {
        self.count().await.map(Some).map_err(backend_error)
    }

    async fn feed_rows(
        &self,
        after: Option<FeedCursor>,
        limit: u32,
        rows: &mut FeedRows,
    ) -> Result<(), BackendError> {
        self.page_of_rows(after, limit, rows)
            .await
            .map_err(backend_error)
    }
}
