//! The `verity_invite` row, as sea-orm reads and writes it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "verity_invite")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token: String,
    pub medium: String,
    /// The canonical address.
    pub address: String,
    pub room_id: String,
    pub sender: String,
    /// The ephemeral public key, unpadded standard base64; NULL for an invite imported without
    /// its key (Sydent's).
    pub ephemeral_key: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Milliseconds since the Unix epoch; `None`: never expires.
    pub expires_at: Option<i64>,
    /// The user the address was bound to; with `signed` and `delivery_state`, set at the bind.
    pub bound_mxid: Option<String>,
    /// The signed `{mxid, token, signatures}` object, as JSON text.
    pub signed: Option<String>,
    /// `due`, `delivered` or `abandoned`.
    pub delivery_state: Option<String>,
    pub attempts: i32,
    /// Milliseconds since the Unix epoch.
    pub next_attempt: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
