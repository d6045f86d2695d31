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

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Database};
    use sea_orm_migration::MigratorTrait;
    use verity_application::ports::driven::InviteStore;
    use verity_domain::{InviteToken, PublicKey};

    use crate::invites::SeaOrmInviteStore;
    use crate::migration::Migrator;

    #[tokio::test]
    async fn an_invite_stored_before_the_migration_keeps_every_field_and_key_and_a_keyless_one_can_follow()
     {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        // Every migration before this one.
        let before = Migrator::migrations()
            .iter()
            .position(|m| m.name() == "m20261206_000002_add_verity_imported_invites")
            .expect("this migration is listed") as u32;
        Migrator::up(&db, Some(before)).await.unwrap();
        let key = "Ji0oyRMPnMQ5JU0YBLdc3qc4z9sgUSGA7htUc96ABUw";
        db.execute_unprepared(&format!(
            "INSERT INTO verity_invite (token, medium, address, room_id, sender, ephemeral_key, \
             created_at, expires_at, bound_mxid, signed, delivery_state, attempts, next_attempt) \
             VALUES ('old', 'email', 'a@example.org', '!r:example.org', '@s:example.org', \
             '{key}', 1000, 5000, '@a:example.org', \
             '{{\"mxid\":\"@a:example.org\",\"token\":\"old\",\"signatures\":{{\"s\":{{}}}}}}', \
             'due', 2, 3000)"
        ))
        .await
        .unwrap();
        Migrator::up(&db, None).await.unwrap();

        let store = SeaOrmInviteStore::new(db.clone());
        let old = store
            .find(&InviteToken::parse("old").unwrap())
            .await
            .unwrap()
            .expect("kept");
        assert_eq!(old.ephemeral_key, Some(PublicKey::parse(key).unwrap()));
        assert_eq!(old.expires_at.map(|at| at.as_millis()), Some(5000));
        let delivery = old.delivery.expect("its delivery");
        assert_eq!(
            (delivery.attempts, delivery.next_attempt.as_millis()),
            (2, 3000)
        );
        // The indexes came back with the table.
        let indexes = db
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = \
                 'verity_invite' AND name LIKE 'verity_invite_%' ORDER BY name",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).unwrap())
            .collect::<Vec<_>>();
        assert_eq!(
            indexes,
            [
                "verity_invite_due",
                "verity_invite_ephemeral_key",
                "verity_invite_threepid"
            ]
        );
        db.execute_unprepared(
            "INSERT INTO verity_invite (token, medium, address, room_id, sender, created_at, \
             attempts) VALUES ('new', 'email', 'b@example.org', '!r:example.org', \
             '@s:example.org', 1000, 0)",
        )
        .await
        .unwrap();
        let new = store
            .find(&InviteToken::parse("new").unwrap())
            .await
            .unwrap()
            .expect("stored without a key");
        assert_eq!(new.ephemeral_key, None);
    }
}
