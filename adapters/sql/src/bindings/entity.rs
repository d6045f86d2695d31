//! The `verity_binding` row, as sea-orm reads and writes it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "verity_binding")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub medium: String,
    /// The canonical address.
    #[sea_orm(primary_key, auto_increment = false)]
    pub address: String,
    pub mxid: String,
    /// Milliseconds since the Unix epoch of the last bind.
    pub created_at: i64,
    /// An imported association's validity window (milliseconds); `None` for binds made here.
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    /// The signed association an imported binding was handed out with (sydent's `sgAssoc`),
    /// verbatim; `None` for binds made here.
    pub signed_json: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
