//! [`InviteStore`] over the `verity_invite` table, and the ephemeral keys imported apart from
//! their invites (`verity_ephemeral_key`).
use async_trait::async_trait;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TryInsertResult,
};
use verity_application::ports::driven::{InviteStore, StoreError};
use verity_domain::{
    Delivery, DeliveryState, Invite, InviteToken, Medium, PublicKey, SignedJson, ThreePid,
    Timestamp, UserId,
};

use crate::errors::{from_column, from_db, to_column};

pub(crate) mod entity;
pub(crate) mod ephemeral_entity;

use entity::{ActiveModel, Column, Entity, Model};

/// Pending 3PID invites and their delivery. Cloning shares the pool.
#[derive(Clone)]
pub struct SeaOrmInviteStore {
    db: DatabaseConnection,
}

impl SeaOrmInviteStore {
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn millis(at: Timestamp, what: &str) -> Result<i64, StoreError> {
    to_column::<u64, i64>(at.as_millis(), what)
}

fn timestamp(value: i64, what: &str) -> Result<Timestamp, StoreError> {
    from_column::<i64, u64>(value, what).map(Timestamp::from_millis)
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("a stored invite's {what} is invalid: {value:?}"))
}

/// Not expired at `now`: no expiry, or one after `now`.
fn live(now: i64) -> Condition {
    Condition::any()
        .add(Column::ExpiresAt.is_null())
        .add(Column::ExpiresAt.gt(now))
}

pub(crate) fn to_row(invite: &Invite) -> Result<ActiveModel, StoreError> {
    let delivery = invite.delivery.as_ref();
    Ok(ActiveModel {
        token: Set(invite.token.as_str().to_owned()),
        medium: Set(invite.threepid.medium().as_str().to_owned()),
        address: Set(invite.threepid.address().to_owned()),
        room_id: Set(invite.room_id.clone()),
        sender: Set(invite.sender.as_str().to_owned()),
        ephemeral_key: Set(invite.ephemeral_key.map(|key| key.to_base64())),
        created_at: Set(millis(invite.created_at, "created_at")?),
        expires_at: Set(invite
            .expires_at
            .map(|at| millis(at, "expires_at"))
            .transpose()?),
        bound_mxid: Set(delivery.map(|d| d.mxid.as_str().to_owned())),
        signed: Set(delivery.map(|d| d.signed.as_str().to_owned())),
        delivery_state: Set(delivery.map(|d| d.state.as_str().to_owned())),
        attempts: Set(to_column::<u32, i32>(
            delivery.map_or(0, |d| d.attempts),
            "attempts",
        )?),
        next_attempt: Set(delivery
            .map(|d| millis(d.next_attempt, "next_attempt"))
            .transpose()?),
    })
}

pub(crate) fn from_row(row: Model) -> Result<Invite, StoreError> {
    let medium = Medium::parse(&row.medium).map_err(|_| corrupt("medium", &row.medium))?;
    let threepid =
        ThreePid::parse(medium, &row.address).map_err(|_| corrupt("address", &row.address))?;
    let delivery = match (row.bound_mxid, row.signed, row.delivery_state) {
        (Some(mxid), Some(signed), Some(state)) => Some(Delivery {
            mxid: UserId::parse(&mxid).map_err(|_| corrupt("bound Matrix ID", &mxid))?,
            signed: SignedJson::parse(&signed).map_err(|_| corrupt("signed object", ""))?,
            state: DeliveryState::parse(&state).ok_or_else(|| corrupt("delivery state", &state))?,
            attempts: from_column::<i32, u32>(row.attempts, "attempts")?,
            next_attempt: timestamp(row.next_attempt.unwrap_or(0), "next_attempt")?,
        }),
        (None, None, None) => None,
        _ => return Err(corrupt("delivery", "partly set")),
    };
    Ok(Invite {
        token: InviteToken::parse(&row.token).map_err(|_| corrupt("token", &row.token))?,
        threepid,
        room_id: row.room_id,
        sender: UserId::parse(&row.sender).map_err(|_| corrupt("sender", &row.sender))?,
        ephemeral_key: row
            .ephemeral_key
            .map(|key| PublicKey::parse(&key).map_err(|_| corrupt("ephemeral key", &key)))
            .transpose()?,
        created_at: timestamp(row.created_at, "created_at")?,
        expires_at: row
            .expires_at
            .map(|at| timestamp(at, "expires_at"))
            .transpose()?,
        delivery,
    })
}

#[async_trait]
impl InviteStore for SeaOrmInviteStore {
    async fn insert(&self, invite: &Invite) -> Result<(), StoreError> {
        // As for sessions: ON CONFLICT DO NOTHING leaves the stored invite untouched.
        let inserted = Entity::insert(to_row(invite)?)
            .on_conflict(OnConflict::column(Column::Token).do_nothing().to_owned())
            .try_insert()
            .exec_without_returning(&self.db)
            .await
            .map_err(from_db)?;
        match inserted {
            TryInsertResult::Inserted(rows) if rows > 0 => Ok(()),
            _ => Err(StoreError::Conflict),
        }
    }

    async fn delete(&self, token: &InviteToken) -> Result<(), StoreError> {
        Entity::delete_by_id(token.as_str().to_owned())
            .exec(&self.db)
            .await
            .map_err(from_db)?;
        Ok(())
    }

    async fn find(&self, token: &InviteToken) -> Result<Option<Invite>, StoreError> {
        Entity::find_by_id(token.as_str().to_owned())
            .one(&self.db)
            .await
            .map_err(from_db)?
            .map(from_row)
            .transpose()
    }

    async fn unbound(
        &self,
        threepid: &ThreePid,
        now: Timestamp,
    ) -> Result<Vec<Invite>, StoreError> {
        let rows = Entity::find()
            .filter(Column::Medium.eq(threepid.medium().as_str()))
            .filter(Column::Address.eq(threepid.address()))
            .filter(Column::BoundMxid.is_null())
            .filter(live(millis(now, "now")?))
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Token)
            .all(&self.db)
            .await
            .map_err(from_db)?;
        rows.into_iter().map(from_row).collect()
    }

    async fn unbound_page(
        &self,
        now: Timestamp,
        after: Option<InviteToken>,
        limit: u32,
    ) -> Result<Vec<Invite>, StoreError> {
        let mut query = Entity::find()
            .filter(Column::BoundMxid.is_null())
            .filter(live(millis(now, "now")?))
            .order_by_asc(Column::Token)
            .limit(u64::from(limit));
        if let Some(after) = after {
            query = query.filter(Column::Token.gt(after.as_str()));
        }
        let rows = query.all(&self.db).await.map_err(from_db)?;
        rows.into_iter().map(from_row).collect()
    }

    async fn page(
        &self,
        after: Option<InviteToken>,
        limit: u32,
    ) -> Result<Vec<Invite>, StoreError> {
        let mut query = Entity::find()
            .order_by_asc(Column::Token)
            .limit(u64::from(limit));
        if let Some(after) = after {
            query = query.filter(Column::Token.gt(after.as_str()));
        }
        let rows = query.all(&self.db).await.map_err(from_db)?;
        rows.into_iter().map(from_row).collect()
    }

    async fn expire(&self, token: &InviteToken, at: Timestamp) -> Result<bool, StoreError> {
        let at = millis(at, "expires_at")?;
        // One conditional statement: an invite that expires earlier keeps its expiry.
        Entity::update_many()
            .col_expr(Column::ExpiresAt, Expr::value(at))
            .filter(Column::Token.eq(token.as_str()))
            .filter(live(at))
            .exec(&self.db)
            .await
            .map_err(from_db)?;
        let exists = Entity::find_by_id(token.as_str().to_owned())
            .select_only()
            .column(Column::Token)
            .into_tuple::<String>()
            .one(&self.db)
            .await
            .map_err(from_db)?;
        Ok(exists.is_some())
    }

    async fn ephemeral_key_in_use(
        &self,
        key: &PublicKey,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let found = Entity::find()
            .select_only()
            .column(Column::Token)
            .filter(Column::EphemeralKey.eq(key.to_base64()))
            .filter(live(millis(now, "now")?))
            .into_tuple::<String>()
            .one(&self.db)
            .await
            .map_err(from_db)?;
        Ok(found.is_some())
    }

    async fn imported_ephemeral_key(&self, key: &PublicKey) -> Result<bool, StoreError> {
        let found = ephemeral_entity::Entity::find_by_id(key.to_base64())
            .one(&self.db)
            .await
            .map_err(from_db)?;
        Ok(found.is_some())
    }

    async fn record_bind(
        &self,
        token: &InviteToken,
        delivery: &Delivery,
    ) -> Result<bool, StoreError> {
        // One conditional update: of two concurrent binds, one sets the delivery.
        let result = Entity::update_many()
            .col_expr(
                Column::BoundMxid,
                Expr::value(delivery.mxid.as_str().to_owned()),
            )
            .col_expr(
                Column::Signed,
                Expr::value(delivery.signed.as_str().to_owned()),
            )
            .col_expr(
                Column::DeliveryState,
                Expr::value(delivery.state.as_str().to_owned()),
            )
            .col_expr(
                Column::Attempts,
                Expr::value(to_column::<u32, i32>(delivery.attempts, "attempts")?),
            )
            .col_expr(
                Column::NextAttempt,
                Expr::value(millis(delivery.next_attempt, "next_attempt")?),
            )
            .filter(Column::Token.eq(token.as_str()))
            .filter(Column::BoundMxid.is_null())
            .exec(&self.db)
            .await
            .map_err(from_db)?;
        Ok(result.rows_affected > 0)
    }

    async fn due(&self, now: Timestamp, limit: u32) -> Result<Vec<Invite>, StoreError> {
        let now = millis(now, "now")?;
        let rows = Entity::find()
            .filter(Column::DeliveryState.eq(DeliveryState::Due.as_str()))
            .filter(Column::NextAttempt.lte(now))
            .filter(live(now))
            .order_by_asc(Column::NextAttempt)
            .order_by_asc(Column::Token)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(from_db)?;
        rows.into_iter().map(from_row).collect()
    }

    async fn claim(
        &self,
        token: &InviteToken,
        seen: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        // A compare-and-set on the next attempt, in one statement: SQLite runs one writer at a
        // time, and PostgreSQL makes a second concurrent UPDATE of the row wait for the first
        // and check its WHERE again against the row the first one left (READ COMMITTED), so
        // of any number of claimers exactly one changes the row. No row lock is held across
        // the onbind call, and a claim ends by itself: the invite is due again at `until`.
        let result = Entity::update_many()
            .col_expr(Column::NextAttempt, Expr::value(millis(until, "until")?))
            .filter(Column::Token.eq(token.as_str()))
            .filter(Column::DeliveryState.eq(DeliveryState::Due.as_str()))
            .filter(Column::NextAttempt.eq(millis(seen, "seen")?))
            .exec(&self.db)
            .await
            .map_err(from_db)?;
        Ok(result.rows_affected > 0)
    }

    async fn update_delivery(
        &self,
        token: &InviteToken,
        state: DeliveryState,
        attempts: u32,
        next_attempt: Timestamp,
    ) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(
                Column::DeliveryState,
                Expr::value(state.as_str().to_owned()),
            )
            .col_expr(
                Column::Attempts,
                Expr::value(to_column::<u32, i32>(attempts, "attempts")?),
            )
            .col_expr(
                Column::NextAttempt,
                Expr::value(millis(next_attempt, "next_attempt")?),
            )
            .filter(Column::Token.eq(token.as_str()))
            .filter(Column::BoundMxid.is_not_null())
            .exec(&self.db)
            .await
            .map_err(from_db)?;
        Ok(())
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let result = Entity::delete_many()
            .filter(Column::ExpiresAt.lte(millis(now, "now")?))
            .exec(&self.db)
            .await
            .map_err(from_db)?;
        Ok(result.rows_affected)
    }
}
