//! `verity_session`: 3PID validation sessions.
//!
//! Every Verity table is prefixed `verity_`: an operator whose ma1sd.yaml points `storage` at
//! ma1sd's database gets Verity's tables added beside ma1sd's (`session_3pid`, `invite_3pid`, ...),
//! which stay untouched.
//!
//! The columns are named here rather than taken from the entity, so this migration keeps
//! describing the schema as it was when it ran even after the entity changes.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Session3pid {
    #[sea_orm(iden = "verity_session")]
    Table,
    Sid,
    ClientSecret,
    Medium,
    Address,
    Token,
    SendAttempt,
    NextLink,
    Mode,
    ModeServer,
    CreatedAt,
    ValidatedAt,
    ModifiedAt,
    FailedAttempts,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // No IF NOT EXISTS: a table of that name that this migration did not create must stop
        // start-up rather than be used.
        manager
            .create_table(
                Table::create()
                    .table(Session3pid::Table)
                    .col(
                        ColumnDef::new(Session3pid::Sid)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Session3pid::ClientSecret).text().not_null())
                    .col(ColumnDef::new(Session3pid::Medium).text().not_null())
                    .col(ColumnDef::new(Session3pid::Address).text().not_null())
                    .col(ColumnDef::new(Session3pid::Token).text().not_null())
                    .col(
                        ColumnDef::new(Session3pid::SendAttempt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Session3pid::NextLink).text().null())
                    .col(ColumnDef::new(Session3pid::Mode).text().not_null())
                    .col(ColumnDef::new(Session3pid::ModeServer).text().null())
                    .col(
                        ColumnDef::new(Session3pid::CreatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Session3pid::ValidatedAt)
                            .big_integer()
                            .null(),
                    )
                    // COALESCE(validated_at, created_at), kept by the store on every write: a
                    // plain column indexes the same way on both backends, unlike an expression.
                    .col(
                        ColumnDef::new(Session3pid::ModifiedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Session3pid::FailedAttempts)
                            .integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // What a repeated requestToken looks up.
        manager
            .create_index(
                Index::create()
                    .name("verity_session_threepid_secret")
                    .table(Session3pid::Table)
                    .col(Session3pid::Medium)
                    .col(Session3pid::Address)
                    .col(Session3pid::ClientSecret)
                    .to_owned(),
            )
            .await?;
        // What the purge of expired sessions scans.
        manager
            .create_index(
                Index::create()
                    .name("verity_session_modified_at")
                    .table(Session3pid::Table)
                    .col(Session3pid::ModifiedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Session3pid::Table).to_owned())
            .await
    }

    // Table and indexes appear together or not at all, on SQLite too (whose DDL is
    // transactional, though sea-orm only wraps PostgreSQL migrations by default).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
