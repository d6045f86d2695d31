//! The `verity_ephemeral_key` row: an ephemeral public key imported apart from its invite
//! (Sydent's `ephemeral_public_keys`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "verity_ephemeral_key")]
pub struct Model {
    /// The key, unpadded standard base64.
    #[sea_orm(primary_key, auto_increment = false)]
    pub public_key: String,
    /// When it was imported, milliseconds since the Unix epoch.
    pub imported_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
