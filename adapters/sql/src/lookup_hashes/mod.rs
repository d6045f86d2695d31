//! [`HashStore`] over `verity_lookup_hash` (the precomputed hashes, one table per pepper) and
//! `verity_lookup_pepper` (the published table).
use async_trait::async_trait;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait as _, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    Statement, TransactionTrait,
};
use verity_application::ports::driven::{HashEntry, HashStore, HashTable, SavedTable, StoreError};
use verity_domain::{LookupHash, Pepper};

use crate::bindings::{KEYS_PER_QUERY, binding_of};
use crate::errors::{from_column, from_db, to_column};

mod entity;
mod saved;

use entity::{hash, pepper};

/// Rows per INSERT: 6 bind parameters each, under the smallest limit of either backend (999 on
/// SQLite builds before 3.32).
const ROWS_PER_INSERT: usize = 150;

/// The id of the one `verity_lookup_pepper` row.
const PUBLISHED: i32 = 1;

/// The lookup hash tables in Verity's own database. Cloning shares the pool.
#[derive(Clone)]
pub struct SeaOrmHashStore {
    db: DatabaseConnection,
}

impl SeaOrmHashStore {
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn generation(table: &HashTable) -> Result<i64, StoreError> {
    to_column::<u64, i64>(table.generation, "generation")
}

fn to_row(table: &HashTable, generation: i64, entry: &HashEntry) -> hash::ActiveModel {
    hash::ActiveModel {
        pepper: Set(table.pepper.as_str().to_owned()),
        hash: Set(entry.hash.as_str().to_owned()),
        medium: Set(entry.binding.threepid.medium().as_str().to_owned()),
        address: Set(entry.binding.threepid.address().to_owned()),
        mxid: Set(entry.binding.user_id.as_str().to_owned()),
        generation: Set(generation),
    }
}

#[async_trait]
impl HashStore for SeaOrmHashStore {
    async fn published(&self) -> Result<Option<HashTable>, StoreError> {
        let Some(row) = pepper::Entity::find_by_id(PUBLISHED)
            .one(&self.db)
            .await
            .map_err(from_db)?
        else {
            return Ok(None);
        };
        let pepper = Pepper::parse(&row.pepper)
            .map_err(|_| StoreError::Corrupt("the published lookup pepper is invalid".into()))?;
        Ok(Some(HashTable {
            pepper,
            generation: from_column(row.generation, "generation")?,
        }))
    }

    async fn put(&self, table: &HashTable, entries: &[HashEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let generation = generation(table)?;
        let txn = self.db.begin().await.map_err(from_db)?;
        for chunk in entries.chunks(ROWS_PER_INSERT) {
            hash::Entity::insert_many(chunk.iter().map(|entry| to_row(table, generation, entry)))
                .on_conflict(
                    OnConflict::columns([hash::Column::Pepper, hash::Column::Hash])
                        .update_columns([
                            hash::Column::Medium,
                            hash::Column::Address,
                            hash::Column::Mxid,
                            hash::Column::Generation,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await
                .map_err(from_db)?;
        }
        txn.commit().await.map_err(from_db)
    }

    async fn remove(&self, pepper: &Pepper, hash: &LookupHash) -> Result<(), StoreError> {
        hash::Entity::delete_by_id((pepper.as_str().to_owned(), hash.as_str().to_owned()))
            .exec(&self.db)
            .await
            .map_err(from_db)?;
        Ok(())
    }

    async fn find(
        &self,
        pepper: &Pepper,
        hashes: &[LookupHash],
    ) -> Result<Vec<HashEntry>, StoreError> {
        let mut found = Vec::new();
        for chunk in hashes.chunks(KEYS_PER_QUERY) {
            let rows = hash::Entity::find()
                .filter(hash::Column::Pepper.eq(pepper.as_str()))
                .filter(hash::Column::Hash.is_in(chunk.iter().map(LookupHash::as_str)))
                .all(&self.db)
                .await
                .map_err(from_db)?;
            for row in rows {
                found.push(HashEntry {
                    binding: binding_of(&row.medium, &row.address, &row.mxid)?,
                    hash: LookupHash::from_client(row.hash),
                });
            }
        }
        Ok(found)
    }

    async fn publish(&self, table: &HashTable) -> Result<(), StoreError> {
        let generation = generation(table)?;
        let row = pepper::ActiveModel {
            id: Set(PUBLISHED),
            pepper: Set(table.pepper.as_str().to_owned()),
            generation: Set(generation),
        };
        pepper::Entity::insert(row)
            .on_conflict(
                OnConflict::column(pepper::Column::Id)
                    .update_columns([pepper::Column::Pepper, pepper::Column::Generation])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(from_db)?;
        self.delete_in_batches(
            "pepper = ? AND generation < ?",
            vec![table.pepper.as_str().into(), generation.into()],
        )
        .await?;
        Ok(())
    }

    async fn publish_first(&self, table: &HashTable) -> Result<HashTable, StoreError> {
        let row = pepper::ActiveModel {
            id: Set(PUBLISHED),
            pepper: Set(table.pepper.as_str().to_owned()),
            generation: Set(generation(table)?),
        };
        // One row per database: of concurrent first starts one insert lands, the others change
        // nothing and read the winner back.
        pepper::Entity::insert(row)
            .on_conflict(
                OnConflict::column(pepper::Column::Id)
                    .do_nothing()
                    .to_owned(),
            )
            .try_insert()
            .exec_without_returning(&self.db)
            .await
            .map_err(from_db)?;
        self.published().await?.ok_or_else(|| {
            StoreError::Corrupt("the published lookup pepper vanished after its insert".into())
        })
    }

    async fn prune_other_peppers(&self, keep: &Pepper) -> Result<u64, StoreError> {
        self.delete_in_batches("pepper <> ?", vec![keep.as_str().into()])
            .await
    }

    async fn save_table(&self, table: SavedTable) -> Result<(), StoreError> {
        saved::save(&self.db, table).await
    }

    async fn saved_table(&self, pepper: &Pepper) -> Result<Option<SavedTable>, StoreError> {
        saved::load(&self.db, pepper).await
    }
}

/// `sql` with its `?` placeholders as `backend` writes them (`$1`, `$2`, … on PostgreSQL).
fn numbered(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    for (i, piece) in sql.split('?').enumerate() {
        if i > 0 {
            out.push_str(&format!("${i}"));
        }
        out.push_str(piece);
    }
    out
}

/// Rows deleted per statement when hash rows are swept. The table is in memory now, and the
/// rows earlier versions stored (1,000,000 for as many bindings) are deleted once: in short
/// statements, so that on SQLite binds and sessions get the store's one writer in between
/// instead of waiting out a delete of every row.
const ROWS_PER_DELETE: u64 = 10_000;

impl SeaOrmHashStore {
    /// Deletes the hash rows matching `condition` (`?` placeholders, bound to `values`),
    /// [`ROWS_PER_DELETE`] at a time; returns how many.
    async fn delete_in_batches(
        &self,
        condition: &str,
        values: Vec<sea_orm::Value>,
    ) -> Result<u64, StoreError> {
        let backend = self.db.get_database_backend();
        let condition = numbered(backend, condition);
        let sql = format!(
            "DELETE FROM verity_lookup_hash WHERE (pepper, hash) IN \
             (SELECT pepper, hash FROM verity_lookup_hash WHERE {condition} \
             LIMIT {ROWS_PER_DELETE})"
        );
        let mut deleted = 0;
        loop {
            let result = self
                .db
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    sql.as_str(),
                    values.clone(),
                ))
                .await
                .map_err(from_db)?;
            deleted += result.rows_affected();
            if result.rows_affected() < ROWS_PER_DELETE {
                return Ok(deleted);
            }
        }
    }
}
