//! `verity_binding` (the 3PIDs bound through `/3pid/bind`), `verity_lookup_hash` (the precomputed
//! `sha256` lookup hashes, one table per pepper) and `verity_lookup_pepper` (which table is
//! published).
//!
//! As in every migration, the columns are named here rather than taken from the entities.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Binding {
    #[sea_orm(iden = "verity_binding")]
    Table,
    Medium,
    Address,
    Mxid,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LookupHash {
    #[sea_orm(iden = "verity_lookup_hash")]
    Table,
    Pepper,
    Hash,
    Medium,
    Address,
    Mxid,
    Generation,
}

#[derive(DeriveIden)]
enum LookupPepper {
    #[sea_orm(iden = "verity_lookup_pepper")]
    Table,
    Id,
    Pepper,
    Generation,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One binding per 3PID; the primary key is also the order the feed pages in.
        manager
            .create_table(
                Table::create()
                    .table(Binding::Table)
                    .col(ColumnDef::new(Binding::Medium).text().not_null())
                    .col(ColumnDef::new(Binding::Address).text().not_null())
                    .col(ColumnDef::new(Binding::Mxid).text().not_null())
                    .col(ColumnDef::new(Binding::CreatedAt).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .name("verity_binding_pkey")
                            .col(Binding::Medium)
                            .col(Binding::Address),
                    )
                    .to_owned(),
            )
            .await?;
        // A user's bindings (unbinding everything of a deactivated user, listing them).
        manager
            .create_index(
                Index::create()
                    .name("verity_binding_mxid")
                    .table(Binding::Table)
                    .col(Binding::Mxid)
                    .to_owned(),
            )
            .await?;
        // The primary key (pepper, hash) is the index every hashed lookup reads through.
        manager
            .create_table(
                Table::create()
                    .table(LookupHash::Table)
                    .col(ColumnDef::new(LookupHash::Pepper).text().not_null())
                    .col(ColumnDef::new(LookupHash::Hash).text().not_null())
                    .col(ColumnDef::new(LookupHash::Medium).text().not_null())
                    .col(ColumnDef::new(LookupHash::Address).text().not_null())
                    .col(ColumnDef::new(LookupHash::Mxid).text().not_null())
                    .col(
                        ColumnDef::new(LookupHash::Generation)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .name("verity_lookup_hash_pkey")
                            .col(LookupHash::Pepper)
                            .col(LookupHash::Hash),
                    )
                    .to_owned(),
            )
            .await?;
        // One row, id 1, once a table is published.
        manager
            .create_table(
                Table::create()
                    .table(LookupPepper::Table)
                    .col(
                        ColumnDef::new(LookupPepper::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LookupPepper::Pepper).text().not_null())
                    .col(
                        ColumnDef::new(LookupPepper::Generation)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            LookupPepper::Table.into_iden(),
            LookupHash::Table.into_iden(),
            Binding::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }

    // The three tables and their indexes appear together or not at all.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
