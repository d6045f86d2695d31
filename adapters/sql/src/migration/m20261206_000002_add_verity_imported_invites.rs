//! Invites imported from Sydent, which does not link an invite to its ephemeral key:
//! `verity_invite.ephemeral_key` becomes nullable (NULL: an imported invite whose key the source
//! did not link; invites made here always have one), and `verity_ephemeral_key` keeps the
//! ephemeral public keys imported apart from their invites, which `/pubkey/ephemeral/isvalid`
//! answers `valid: true` for and `/sign-ed25519` accepts for such an invite.
//!
//! SQLite cannot drop a NOT NULL constraint: there the table is rebuilt (same columns, rows and
//! indexes); PostgreSQL alters the column.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Invite {
    #[sea_orm(iden = "verity_invite")]
    Table,
    #[sea_orm(iden = "verity_invite_rebuilt")]
    Rebuilt,
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

#[derive(DeriveIden)]
enum EphemeralKey {
    #[sea_orm(iden = "verity_ephemeral_key")]
    Table,
    PublicKey,
    ImportedAt,
}

/// Every column of `verity_invite`, in its order.
const COLUMNS: &str = "token, medium, address, room_id, sender, ephemeral_key, created_at, \
     expires_at, bound_mxid, signed, delivery_state, attempts, next_attempt";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => rebuild_sqlite(manager).await?,
            _ => {
                manager
                    .get_connection()
                    .execute_unprepared(
                        "ALTER TABLE verity_invite ALTER COLUMN ephemeral_key DROP NOT NULL",
                    )
                    .await?;
            }
        }
        manager
            .create_table(
                Table::create()
                    .table(EphemeralKey::Table)
                    .col(
                        ColumnDef::new(EphemeralKey::PublicKey)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(EphemeralKey::ImportedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EphemeralKey::Table).to_owned())
            .await?;
        // Imported invites without a key cannot stay in a NOT NULL column.
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM verity_invite WHERE ephemeral_key IS NULL")
            .await?;
        if manager.get_database_backend() != DbBackend::Sqlite {
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE verity_invite ALTER COLUMN ephemeral_key SET NOT NULL",
                )
                .await?;
        }
        // SQLite keeps the nullable column: the rows left all have a key.
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// The table again with a nullable `ephemeral_key`, its rows copied, and its indexes.
async fn rebuild_sqlite(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Invite::Rebuilt)
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
                .col(ColumnDef::new(Invite::EphemeralKey).text().null())
                .col(ColumnDef::new(Invite::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(Invite::ExpiresAt).big_integer().null())
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
    let connection = manager.get_connection();
    connection
        .execute_unprepared(&format!(
            "INSERT INTO verity_invite_rebuilt ({COLUMNS}) SELECT {COLUMNS} FROM verity_invite"
        ))
        .await?;
    connection
        .execute_unprepared("DROP TABLE verity_invite")
        .await?;
    connection
        .execute_unprepared("ALTER TABLE verity_invite_rebuilt RENAME TO verity_invite")
        .await?;
    let indexes = [
        (
            "verity_invite_threepid",
            vec![Invite::Medium, Invite::Address],
        ),
        ("verity_invite_ephemeral_key", vec![Invite::EphemeralKey]),
        (
            "verity_invite_due",
            vec![Invite::DeliveryState, Invite::NextAttempt],
        ),
    ];
    for (name, columns) in indexes {
        let mut index = Index::create();
        index.name(name).table(Invite::Table);
        for column in columns {
            index.col(column);
        }
        manager.create_index(index.to_owned()).await?;
    }
    Ok(())
}
