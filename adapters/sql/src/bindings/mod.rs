//! [`BindingStore`] over the `verity_binding` table, and the same table as the `bindings` identity
//! backend (what lookups find of Verity's own bindings).
use std::collections::BTreeMap;

use async_trait::async_trait;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use verity_application::ports::driven::{
    BackendError, Binding, BindingStore, IdentityBackend, Published, StoreError,
};
use verity_domain::{Medium, SignedAssociation, ThreePid, Timestamp, UserId};

use crate::errors::{from_column, from_db, to_column};

pub(crate) mod entity;

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
            .exec_without_returning(&self.db)
            .await
            .map_err(from_db)?;
        Ok(())
    }

    async fn unbind(&self, binding: &Binding) -> Result<bool, StoreError> {
        let result = Entity::delete_many()
            .filter(Column::Medium.eq(binding.threepid.medium().as_str()))
            .filter(Column::Address.eq(binding.threepid.address()))
            .filter(Column::Mxid.eq(binding.user_id.as_str()))
            .exec(&self.db)
            .await
            .map_err(from_db)?;
        Ok(result.rows_affected > 0)
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

    async fn feed(&self, after: Option<ThreePid>, limit: u32) -> Result<Vec<Binding>, StoreError> {
        let mut query = Entity::find()
            .order_by_asc(Column::Medium)
            .order_by_asc(Column::Address)
            .limit(u64::from(limit));
        if let Some(after) = after {
            // A row-value comparison, `(medium, address) > (?, ?)`, which both SQLite and
            // PostgreSQL answer by seeking in the primary key: each page costs the same. The
            // equivalent `medium > ? OR (medium = ? AND address > ?)` made both scan from the
            // start for every page, so building the lookup table was quadratic.
            let key = Expr::tuple([Expr::col(Column::Medium), Expr::col(Column::Address)]);
            let bound = Expr::tuple([
                Expr::val(after.medium().as_str().to_owned()),
                Expr::val(after.address().to_owned()),
            ]);
            query = query.filter(key.gt(bound));
        }
        let rows = query.all(&self.db).await.map_err(from_db)?;
        rows.iter().map(from_row).collect()
    }
}

#[async_trait]
impl IdentityBackend for SeaOrmBindingStore {
    fn name(&self) -> &'static str {
        "bindings"
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
}
