//! [`SessionStore`] over the `verity_session` table.
use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, TryInsertResult,
};
use verity_application::ports::driven::{SessionStore, StoreError};
use verity_domain::{ClientSecret, SessionId, ThreePid, Timestamp, ValidationSession};

use crate::errors::from_db;

mod convert;
mod entity;

use entity::{Column, Entity};

/// Validation sessions in Verity's own database. Cloning shares the pool.
#[derive(Clone)]
pub struct SeaOrmSessionStore {
    db: DatabaseConnection,
}

impl SeaOrmSessionStore {
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SessionStore for SeaOrmSessionStore {
    async fn insert(&self, session: &ValidationSession) -> Result<(), StoreError> {
        // ON CONFLICT DO NOTHING rather than catching the unique violation: one statement that
        // cannot disturb the existing row, and no constraint error in the server log.
        let inserted = Entity::insert(convert::to_row(session)?)
            .on_conflict(OnConflict::column(Column::Sid).do_nothing().to_owned())
            .try_insert()
            .exec_without_returning(&self.db)
            .await
            .map_err(from_db)?;
        match inserted {
            TryInsertResult::Inserted(rows) if rows > 0 => Ok(()),
            // Zero rows (or sea-orm's own "conflicted"): the sid exists. `Empty` cannot happen
            // with one row.
            _ => Err(StoreError::Conflict),
        }
    }

    async fn update(&self, session: &ValidationSession) -> Result<(), StoreError> {
        let result = Entity::update_many()
            .set(convert::to_row(session)?)
            .filter(Column::Sid.eq(session.id().as_str()))
            .exec(&self.db)
            .await
            .map_err(from_db)?;
        // Both backends count matched rows, even when no value changed.
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn find(&self, id: &SessionId) -> Result<Option<ValidationSession>, StoreError> {
        Entity::find_by_id(id.as_str())
            .one(&self.db)
            .await
            .map_err(from_db)?
            .map(convert::from_row)
            .transpose()
    }

    async fn find_latest(
        &self,
        threepid: &ThreePid,
        client_secret: &ClientSecret,
    ) -> Result<Option<ValidationSession>, StoreError> {
        // The sid breaks ties between sessions created in the same millisecond, so the answer
        // does not depend on the physical row order.
        Entity::find()
            .filter(Column::Medium.eq(threepid.medium().as_str()))
            .filter(Column::Address.eq(threepid.address()))
            .filter(Column::ClientSecret.eq(client_secret.expose()))
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Sid)
            .one(&self.db)
            .await
            .map_err(from_db)?
            .map(convert::from_row)
            .transpose()
    }

    async fn count_token_attempt(&self, id: &SessionId) -> Result<Option<u32>, StoreError> {
        // One UPDATE … RETURNING: the database serialises concurrent increments, so each
        // submission gets its own number (SQLite 3.35+ and PostgreSQL both support RETURNING).
        let rows = Entity::update_many()
            .col_expr(
                Column::FailedAttempts,
                Expr::col(Column::FailedAttempts).add(1),
            )
            .filter(Column::Sid.eq(id.as_str()))
            .exec_with_returning(&self.db)
            .await
            .map_err(from_db)?;
        rows.first()
            .map(|row| crate::errors::from_column(row.failed_attempts, "failed_attempts"))
            .transpose()
    }

    async fn purge_modified_before(&self, cutoff: Timestamp) -> Result<u64, StoreError> {
        let mut delete = Entity::delete_many();
        // A cutoff past i64::MAX is later than every storable time: then everything goes.
        if let Ok(cutoff) = i64::try_from(cutoff.as_millis()) {
            delete = delete.filter(Column::ModifiedAt.lt(cutoff));
        }
        let result = delete.exec(&self.db).await.map_err(from_db)?;
        Ok(result.rows_affected)
    }
}
