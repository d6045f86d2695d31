//! [`AccountStore`] over the `verity_account` table.
use async_trait::async_trait;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, TryInsertResult};
use verity_application::ports::driven::{AccountStore, StoreError};
use verity_domain::{Account, Timestamp, TokenFingerprint, UserId};

use crate::errors::{from_column, from_db, to_column};

pub(crate) mod entity;

use entity::{ActiveModel, Column, Entity, Model};

/// Identity-server accounts in Verity's own database, keyed by the fingerprint of their access
/// token (the token itself is never stored). Cloning shares the pool.
#[derive(Clone)]
pub struct SeaOrmAccountStore {
    db: DatabaseConnection,
}

impl SeaOrmAccountStore {
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl AccountStore for SeaOrmAccountStore {
    async fn insert(&self, account: &Account) -> Result<(), StoreError> {
        // As for sessions: ON CONFLICT DO NOTHING leaves the existing row alone and logs no
        // constraint violation; zero rows inserted means the fingerprint exists.
        let inserted = Entity::insert(to_row(account)?)
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

    async fn find(&self, token: &TokenFingerprint) -> Result<Option<Account>, StoreError> {
        Entity::find_by_id(token.as_str())
            .one(&self.db)
            .await
            .map_err(from_db)?
            .map(from_row)
            .transpose()
    }

    async fn delete(&self, token: &TokenFingerprint) -> Result<bool, StoreError> {
        let result = Entity::delete_by_id(token.as_str())
            .exec(&self.db)
            .await
            .map_err(from_db)?;
        Ok(result.rows_affected > 0)
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        // NULL never compares as <= anything, but say so: accounts without expiry are never purged.
        let mut delete = Entity::delete_many().filter(Column::ExpiresAt.is_not_null());
        // A `now` past i64::MAX is later than every storable expiry: then every expiring account
        // goes.
        if let Ok(now) = i64::try_from(now.as_millis()) {
            delete = delete.filter(Column::ExpiresAt.lte(now));
        }
        let result = delete.exec(&self.db).await.map_err(from_db)?;
        Ok(result.rows_affected)
    }
}

pub(crate) fn to_row(account: &Account) -> Result<ActiveModel, StoreError> {
    Ok(ActiveModel {
        token: Set(account.token.as_str().to_owned()),
        user_id: Set(account.user_id.as_str().to_owned()),
        created_at: Set(to_column(account.created_at.as_millis(), "created_at")?),
        expires_at: Set(account
            .expires_at
            .map(|at| to_column(at.as_millis(), "expires_at"))
            .transpose()?),
    })
}

/// The account a row holds, or [`StoreError::Corrupt`] naming the column that does not parse.
/// The fingerprint is named (it is no credential); a user ID that does not parse is not echoed.
fn from_row(row: Model) -> Result<Account, StoreError> {
    let token = TokenFingerprint::parse(&row.token).map_err(|_| {
        StoreError::Corrupt("an account's token is not a SHA-256 fingerprint".to_owned())
    })?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("account {}: {what}", token.as_str()));
    let user_id = UserId::parse(&row.user_id)
        .map_err(|_| corrupt("user_id is not a valid Matrix user ID"))?;
    let millis = |value: i64, what: &str| {
        from_column::<i64, u64>(value, what)
            .map(Timestamp::from_millis)
            .map_err(|err| match err {
                StoreError::Corrupt(what) => corrupt(&what),
                other => other,
            })
    };
    Ok(Account {
        created_at: millis(row.created_at, "created_at")?,
        expires_at: row
            .expires_at
            .map(|at| millis(at, "expires_at"))
            .transpose()?,
        token,
        user_id,
    })
}
