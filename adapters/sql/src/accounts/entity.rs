//! The `verity_account` row, as sea-orm reads and writes it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "verity_account")]
pub struct Model {
    /// SHA-256 of the access token, 64 lower-case hex digits; never the token itself, so this
    /// value (and hence the derived `Debug`) is safe to log.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token: String,
    pub user_id: String,
    /// Milliseconds since the Unix epoch, like every time column.
    pub created_at: i64,
    /// `None`: the account never expires.
    pub expires_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
