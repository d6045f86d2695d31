//! The `verity_session` row, as sea-orm reads and writes it.
use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "verity_session")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sid: String,
    pub client_secret: String,
    pub medium: String,
    pub address: String,
    pub token: String,
    pub send_attempt: i64,
    pub next_link: Option<String>,
    /// `local`, `local_offer_remote` or `remote_pending`.
    pub mode: String,
    /// The server label of the two remote modes.
    pub mode_server: Option<String>,
    /// Milliseconds since the Unix epoch, like every time column.
    pub created_at: i64,
    pub validated_at: Option<i64>,
    /// `validated_at`, else `created_at`: what the purge compares.
    pub modified_at: i64,
    pub failed_attempts: i32,
    /// The remote session (all set, or all NULL but `remote_validated_at`): the label, the base
    /// URL it resolved to, the remote sid, Verity's secret there and its last `send_attempt`.
    pub remote_server: Option<String>,
    pub remote_base_url: Option<String>,
    pub remote_sid: Option<String>,
    pub remote_client_secret: Option<String>,
    pub remote_send_attempt: Option<i64>,
    pub remote_validated_at: Option<i64>,
    /// The Matrix ID the session was last bound to here, if any.
    pub bound_to: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// sea-orm requires `Debug`; written by hand so the client secret and the token never reach a log.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("verity_session")
            .field("sid", &self.sid)
            .field("medium", &self.medium)
            .field("mode", &self.mode)
            .field("created_at", &self.created_at)
            .field("validated_at", &self.validated_at)
            .field("remote_server", &self.remote_server)
            .field("remote_sid", &self.remote_sid)
            .finish_non_exhaustive()
    }
}
