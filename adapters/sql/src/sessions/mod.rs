//! [`SessionStore`] over the `verity_session` table.
use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    TryInsertResult, UpdateMany,
};
use verity_application::ports::driven::{Change, Counted, SessionStore, StoreError};
use verity_domain::{
    ClientSecret, RemoteSession, SendAttempt, SessionId, ThreePid, Timestamp, UserId,
    ValidationSession, ValidationToken,
};

use crate::errors::{from_db, to_column};

mod convert;
mod entity;
mod group_commit;

use group_commit::GroupCommit;

use entity::{Column, Entity};

/// Validation sessions in Verity's own database. Cloning shares the pool.
#[derive(Clone)]
pub struct SeaOrmSessionStore {
    db: DatabaseConnection,
    /// SQLite only: token submissions committed together ([`group_commit`]).
    group: Option<GroupCommit>,
}

impl SeaOrmSessionStore {
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        let group =
            (db.get_database_backend() == DbBackend::Sqlite).then(|| GroupCommit::new(db.clone()));
        Self { db, group }
    }
}

impl SeaOrmSessionStore {
    /// Runs one conditional UPDATE: the database applies it to the row only while the row
    /// matches its filter, whatever runs concurrently, so no change undoes another.
    async fn apply(&self, update: UpdateMany<Entity>) -> Result<Change, StoreError> {
        let result = update.exec(&self.db).await.map_err(from_db)?;
        Ok(if result.rows_affected == 0 {
            Change::Stale
        } else {
            Change::Applied
        })
    }
}

/// Sets the columns of a remote start; `remote_validated_at` is left as it is.
fn set_remote_start(
    update: UpdateMany<Entity>,
    remote: &RemoteSession,
) -> Result<UpdateMany<Entity>, StoreError> {
    let attempt: i64 = to_column(remote.send_attempt.value(), "remote_send_attempt")?;
    Ok(update
        .col_expr(Column::RemoteServer, Expr::value(remote.server.as_str()))
        .col_expr(Column::RemoteBaseUrl, Expr::value(remote.base_url.as_str()))
        .col_expr(Column::RemoteSid, Expr::value(remote.sid.as_str()))
        .col_expr(
            Column::RemoteClientSecret,
            Expr::value(remote.client_secret.expose()),
        )
        .col_expr(Column::RemoteSendAttempt, Expr::value(attempt)))
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

    async fn count_and_validate(
        &self,
        id: &SessionId,
        token: &ValidationToken,
        cap: u32,
        at: Timestamp,
    ) -> Result<Counted, StoreError> {
        // One UPDATE … RETURNING: the count and the validation in the same statement, one
        // commit. Every expression reads the row as it was before this statement (SQL's rule
        // for UPDATE, on SQLite and PostgreSQL alike), so `failed_attempts < cap` is "this
        // submission's number is at most cap". The database serialises concurrent statements on
        // the row: each gets its own number, and once one validated, `validated_at IS NULL`
        // keeps every later one from counting or validating again.
        let cap: i32 = to_column(cap, "failed_attempts")?;
        let at = convert::millis_to_column(at, "validated_at")?;
        let right_token_within_cap = || {
            Condition::all()
                .add(Column::Token.eq(token.expose()))
                .add(Column::FailedAttempts.lt(cap))
        };
        let update = Entity::update_many()
            .col_expr(
                Column::FailedAttempts,
                Expr::col(Column::FailedAttempts).add(1),
            )
            .col_expr(
                Column::ValidatedAt,
                Expr::case(right_token_within_cap(), at)
                    .finally(Expr::col(Column::ValidatedAt))
                    .into(),
            )
            .col_expr(
                Column::ModifiedAt,
                Expr::case(right_token_within_cap(), at)
                    .finally(Expr::col(Column::ModifiedAt))
                    .into(),
            )
            .filter(Column::Sid.eq(id.as_str()))
            .filter(Column::ValidatedAt.is_null());
        let rows = match &self.group {
            Some(group) => group.run(update).await?,
            None => update
                .exec_with_returning(&self.db)
                .await
                .map_err(from_db)?,
        };
        let Some(row) = rows.first() else {
            return Ok(Counted::Stale);
        };
        let attempt = crate::errors::from_column(row.failed_attempts, "failed_attempts")?;
        Ok(if row.validated_at.is_some() {
            Counted::Validated { attempt }
        } else {
            Counted::Refused { attempt }
        })
    }

    async fn record_resend(
        &self,
        id: &SessionId,
        attempt: SendAttempt,
    ) -> Result<Change, StoreError> {
        let attempt: i64 = to_column(attempt.value(), "send_attempt")?;
        let update = Entity::update_many()
            .col_expr(Column::SendAttempt, Expr::value(attempt))
            .filter(Column::Sid.eq(id.as_str()))
            .filter(Column::SendAttempt.lt(attempt));
        self.apply(update).await
    }

    async fn mark_validated<'a>(
        &self,
        id: &SessionId,
        token: &ValidationToken,
        at: Timestamp,
        remote: Option<&'a RemoteSession>,
    ) -> Result<Change, StoreError> {
        let at = convert::millis_to_column(at, "validated_at")?;
        let mut update = Entity::update_many()
            .col_expr(Column::ValidatedAt, Expr::value(at))
            .col_expr(Column::ModifiedAt, Expr::value(at));
        if let Some(remote) = remote {
            update = set_remote_start(update, remote)?;
        }
        let update = update
            .filter(Column::Sid.eq(id.as_str()))
            .filter(Column::ValidatedAt.is_null())
            .filter(Column::Token.eq(token.expose()));
        self.apply(update).await
    }

    async fn record_remote_start(
        &self,
        id: &SessionId,
        previous: Option<SendAttempt>,
        remote: &RemoteSession,
    ) -> Result<Change, StoreError> {
        let previous_is = match previous {
            None => Column::RemoteSendAttempt.is_null(),
            Some(previous) => Column::RemoteSendAttempt.eq(to_column::<_, i64>(
                previous.value(),
                "remote_send_attempt",
            )?),
        };
        let update = set_remote_start(Entity::update_many(), remote)?
            .filter(Column::Sid.eq(id.as_str()))
            .filter(previous_is);
        self.apply(update).await
    }

    async fn mark_remote_validated(
        &self,
        id: &SessionId,
        remote_sid: &SessionId,
        at: Timestamp,
    ) -> Result<Change, StoreError> {
        let at = convert::millis_to_column(at, "remote_validated_at")?;
        let update = Entity::update_many()
            .col_expr(Column::RemoteValidatedAt, Expr::value(at))
            .filter(Column::Sid.eq(id.as_str()))
            .filter(Column::RemoteSid.eq(remote_sid.as_str()))
            .filter(Column::RemoteValidatedAt.is_null());
        self.apply(update).await
    }

    async fn record_local_bind(&self, id: &SessionId, user: &UserId) -> Result<Change, StoreError> {
        let update = Entity::update_many()
            .col_expr(Column::BoundTo, Expr::value(user.as_str()))
            .filter(Column::Sid.eq(id.as_str()));
        self.apply(update).await
    }

    async fn forget_local_bind(&self, id: &SessionId, user: &UserId) -> Result<Change, StoreError> {
        let update = Entity::update_many()
            .col_expr(Column::BoundTo, Expr::value(Option::<String>::None))
            .filter(Column::Sid.eq(id.as_str()))
            .filter(Column::BoundTo.eq(user.as_str()));
        self.apply(update).await
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
