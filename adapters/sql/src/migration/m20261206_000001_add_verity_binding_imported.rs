//! `verity_binding.not_before`, `not_after` and `signed_json`: what an import keeps of a binding
//! another server made (sydent's `notBefore`/`notAfter` and the `sgAssoc` it signed at bind
//! time, which the v1 lookup hands out verbatim). Nullable: bindings made here keep none (their
//! window follows from `created_at`), and a bind here clears them.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Binding {
    #[sea_orm(iden = "verity_binding")]
    Table,
    NotBefore,
    NotAfter,
    SignedJson,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            ColumnDef::new(Binding::NotBefore)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Binding::NotAfter)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Binding::SignedJson).text().null().to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Binding::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Binding::SignedJson, Binding::NotAfter, Binding::NotBefore] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Binding::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
