//! `verity_invite`: pending 3PID room invites and, once their address is bound, the state of
//! their delivery to the bound user's homeserver (so a restart resumes it).
//!
//! As in every migration, the columns are named here rather than taken from the entities.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Invite {
    #[sea_orm(iden = "verity_invite")]
    Table,
    Token,
    Medium,
    Address,
    RoomId,
    Sender,
    EphemeralKey,
    CreatedAt,
    ExpiresAt,
    BoundMxid,
    Signed,
    DeliveryState,
    Attempts,
    NextAttempt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Invite::Table)
                    .col(
                        ColumnDef::new(Invite::Token)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Invite::Medium).text().not_null())
                    .col(ColumnDef::new(Invite::Address).text().not_null())
                    .col(ColumnDef::new(Invite::RoomId).text().not_null())
                    .col(ColumnDef::new(Invite::Sender).text().not_null())
                    .col(ColumnDef::new(Invite::EphemeralKey).text().not_null())
                    .col(ColumnDef::new(Invite::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Invite::ExpiresAt).big_integer().null())
                    // Set together when the address is bound.
                    .col(ColumnDef::new(Invite::BoundMxid).text().null())
                    .col(ColumnDef::new(Invite::Signed).text().null())
                    .col(ColumnDef::new(Invite::DeliveryState).text().null())
                    .col(
                        ColumnDef::new(Invite::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Invite::NextAttempt).big_integer().null())
                    .to_owned(),
            )
            .await?;
        // The pending invites of a 3PID, read on every bind.
        manager
            .create_index(
                Index::create()
                    .name("verity_invite_threepid")
                    .table(Invite::Table)
                    .col(Invite::Medium)
                    .col(Invite::Address)
                    .to_owned(),
            )
            .await?;
        // `/pubkey/ephemeral/isvalid`.
        manager
            .create_index(
                Index::create()
                    .name("verity_invite_ephemeral_key")
                    .table(Invite::Table)
                    .col(Invite::EphemeralKey)
                    .to_owned(),
            )
            .await?;
        // The delivery worker's poll: due invites by next attempt.
        manager
            .create_index(
                Index::create()
                    .name("verity_invite_due")
                    .table(Invite::Table)
                    .col(Invite::DeliveryState)
                    .col(Invite::NextAttempt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Invite::Table).to_owned())
            .await
    }

    // The table and its indexes appear together or not at all.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
