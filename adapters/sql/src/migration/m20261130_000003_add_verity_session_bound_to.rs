//! `verity_session.bound_to`: the Matrix ID a session was bound to here, so an offered remote
//! step taken after the homeserver's bind can bind the 3PID on the remote server too. Nullable:
//! rows written before this migration, and sessions never bound here, read as not bound.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Session {
    #[sea_orm(iden = "verity_session")]
    Table,
    BoundTo,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Session::Table)
                    .add_column(ColumnDef::new(Session::BoundTo).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Session::Table)
                    .drop_column(Session::BoundTo)
                    .to_owned(),
            )
            .await
    }
}
