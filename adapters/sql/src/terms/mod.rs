//! [`TermsStore`] over the `verity_terms_acceptance` table.
use std::collections::BTreeSet;

use async_trait::async_trait;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use verity_application::ports::driven::{StoreError, TermsStore};
use verity_domain::{Timestamp, UserId};

use crate::errors::{from_db, to_column};

pub(crate) mod entity;

use entity::{ActiveModel, Column, Entity};

/// Rows per INSERT: 3 bind parameters each, well under the smallest limit of either backend
/// (999 on SQLite builds before 3.32), whatever number of URLs a client sends.
const ROWS_PER_INSERT: usize = 300;

/// Accepted terms of service in Verity's own database, one row per user and document URL.
/// Cloning shares the pool.
#[derive(Clone)]
pub struct SeaOrmTermsStore {
    db: DatabaseConnection,
}

impl SeaOrmTermsStore {
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl TermsStore for SeaOrmTermsStore {
    async fn accepted(&self, user: &UserId) -> Result<BTreeSet<String>, StoreError> {
        // Only the URL is read, so a damaged accepted_at cannot hide what the user accepted; a URL
        // that is not text (SQLite accepts anything) fails to decode and is reported corrupt.
        let urls: Vec<String> = Entity::find()
            .select_only()
            .column(Column::Url)
            .filter(Column::UserId.eq(user.as_str()))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(from_db)?;
        Ok(urls.into_iter().collect())
    }

    async fn accept(
        &self,
        user: &UserId,
        urls: &[String],
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let accepted_at = to_column::<u64, i64>(at.as_millis(), "accepted_at")?;
        // Deduplicated first: one statement never names the same key twice.
        let urls: Vec<&String> = urls.iter().collect::<BTreeSet<_>>().into_iter().collect();
        if urls.is_empty() {
            return Ok(());
        }
        let rows = |chunk: &[&String]| {
            chunk
                .iter()
                .map(|url| ActiveModel {
                    user_id: Set(user.as_str().to_owned()),
                    url: Set((*url).clone()),
                    accepted_at: Set(accepted_at),
                })
                .collect::<Vec<_>>()
        };
        // An existing (user, url) keeps its row and its first accepted_at. The chunks commit
        // together, so a failure records none of the URLs.
        let txn = self.db.begin().await.map_err(from_db)?;
        for chunk in urls.chunks(ROWS_PER_INSERT) {
            Entity::insert_many(rows(chunk))
                .on_conflict(
                    OnConflict::columns([Column::UserId, Column::Url])
                        .do_nothing()
                        .to_owned(),
                )
                .try_insert()
                .exec_without_returning(&txn)
                .await
                .map_err(from_db)?;
        }
        txn.commit().await.map_err(from_db)
    }
}
