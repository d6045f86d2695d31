//! `verity_account` (identity-server accounts) and `verity_terms_acceptance` (accepted terms of
//! service).
//!
//! An account is keyed by the SHA-256 fingerprint of its access token, never the token itself, so
//! a copy of the database hands out no working tokens. As in every migration, the columns are
//! named here rather than taken from the entities.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Account {
    #[sea_orm(iden = "verity_account")]
    Table,
    Token,
    UserId,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum TermsAcceptance {
    #[sea_orm(iden = "verity_terms_acceptance")]
    Table,
    UserId,
    Url,
    AcceptedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // No IF NOT EXISTS, as for verity_session: a foreign table of the same name stops start-up.
        manager
            .create_table(
                Table::create()
                    .table(Account::Table)
                    .col(
                        ColumnDef::new(Account::Token)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Account::UserId).text().not_null())
                    .col(ColumnDef::new(Account::CreatedAt).big_integer().not_null())
                    // NULL: the account never expires.
                    .col(ColumnDef::new(Account::ExpiresAt).big_integer().null())
                    .to_owned(),
            )
            .await?;
        // A user's accounts (logging a user out everywhere, listing them).
        manager
            .create_index(
                Index::create()
                    .name("verity_account_user_id")
                    .table(Account::Table)
                    .col(Account::UserId)
                    .to_owned(),
            )
            .await?;
        // What the purge of expired accounts scans.
        manager
            .create_index(
                Index::create()
                    .name("verity_account_expires_at")
                    .table(Account::Table)
                    .col(Account::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        // The primary key is also the index `accepted(user)` reads through.
        manager
            .create_table(
                Table::create()
                    .table(TermsAcceptance::Table)
                    .col(ColumnDef::new(TermsAcceptance::UserId).text().not_null())
                    .col(ColumnDef::new(TermsAcceptance::Url).text().not_null())
                    .col(
                        ColumnDef::new(TermsAcceptance::AcceptedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .name("verity_terms_acceptance_pkey")
                            .col(TermsAcceptance::UserId)
                            .col(TermsAcceptance::Url),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TermsAcceptance::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Account::Table).to_owned())
            .await
    }

    // Both tables and their indexes appear together or not at all.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
