//! The `verity_terms_acceptance` row, as sea-orm reads and writes it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "verity_terms_acceptance")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    /// The accepted document's URL, as the client sent it back.
    #[sea_orm(primary_key, auto_increment = false)]
    pub url: String,
    /// Milliseconds since the Unix epoch of the first acceptance.
    pub accepted_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
