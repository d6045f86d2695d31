//! The operator's reads of `verity_binding` (`verity admin bindings`): one binding with when it
//! was made, and every binding of a Matrix ID (`verity_binding_mxid` index).
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use verity_application::ports::driven::{StoreError, StoredBinding};
use verity_domain::{ThreePid, Timestamp, UserId};

use super::SeaOrmBindingStore;
use super::entity::{Column, Entity, Model};
use crate::errors::{from_column, from_db};

fn stored_of(row: &Model) -> Result<StoredBinding, StoreError> {
    Ok(StoredBinding {
        binding: super::from_row(row)?,
        bound_at: Timestamp::from_millis(from_column::<i64, u64>(row.created_at, "created_at")?),
        imported: row.signed_json.is_some(),
    })
}

impl SeaOrmBindingStore {
    pub(super) async fn stored_row(
        &self,
        threepid: &ThreePid,
    ) -> Result<Option<StoredBinding>, StoreError> {
        Entity::find_by_id((
            threepid.medium().as_str().to_owned(),
            threepid.address().to_owned(),
        ))
        .one(&self.db)
        .await
        .map_err(from_db)?
        .as_ref()
        .map(stored_of)
        .transpose()
    }

    pub(super) async fn rows_of_user(
        &self,
        user_id: &UserId,
    ) -> Result<Vec<StoredBinding>, StoreError> {
        Entity::find()
            .filter(Column::Mxid.eq(user_id.as_str()))
            .order_by_asc(Column::Medium)
            .order_by_asc(Column::Address)
            .all(&self.db)
            .await
            .map_err(from_db)?
            .iter()
            .map(stored_of)
            .collect()
    }
}
