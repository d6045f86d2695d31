//! `verity_session`: the remote part of a session (the session Verity opens on another identity
//! server on the user's behalf). All columns are nullable: a session without a remote part has
//! them all NULL, and rows written before this migration read as such.
//!
//! One ALTER TABLE per column: SQLite accepts a single change per statement.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Session {
    #[sea_orm(iden = "verity_session")]
    Table,
    RemoteServer,
    RemoteBaseUrl,
    RemoteSid,
    RemoteClientSecret,
    RemoteSendAttempt,
    RemoteValidatedAt,
}

fn columns() -> [ColumnDef; 6] {
    [
        ColumnDef::new(Session::RemoteServer)
            .text()
            .null()
            .to_owned(),
        ColumnDef::new(Session::RemoteBaseUrl)
            .text()
            .null()
            .to_owned(),
        ColumnDef::new(Session::RemoteSid).text().null().to_owned(),
        ColumnDef::new(Session::RemoteClientSecret)
            .text()
            .null()
            .to_owned(),
        ColumnDef::new(Session::RemoteSendAttempt)
            .big_integer()
            .null()
            .to_owned(),
        ColumnDef::new(Session::RemoteValidatedAt)
            .big_integer()
            .null()
            .to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Session::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Session::RemoteServer,
            Session::RemoteBaseUrl,
            Session::RemoteSid,
            Session::RemoteClientSecret,
            Session::RemoteSendAttempt,
            Session::RemoteValidatedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Session::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    // All columns or none, on SQLite too.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
