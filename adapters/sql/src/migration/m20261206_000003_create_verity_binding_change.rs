//! `verity_binding_change`: one row per bind and per unbind that removed a binding, written in
//! the transaction of the change. Every instance on the database reads the rows the others
//! wrote, so that its lookup table in memory follows their binds and unbinds
//! (docs/lookups.md, "Several instances on one database"). Rows are deleted after an hour.
//!
//! The key is written per backend: SQLite hands out increasing ids only to an `INTEGER PRIMARY
//! KEY AUTOINCREMENT` column (never reused, even after the highest row is deleted), PostgreSQL to
//! a `BIGSERIAL`.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let id = match manager.get_database_backend() {
            DbBackend::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
            _ => "id BIGSERIAL PRIMARY KEY",
        };
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "CREATE TABLE verity_binding_change ({id}, medium TEXT NOT NULL, \
             address TEXT NOT NULL, changed_at BIGINT NOT NULL)"
        ))
        .await?;
        // The hourly purge deletes by time.
        db.execute_unprepared(
            "CREATE INDEX idx_verity_binding_change_changed_at \
             ON verity_binding_change (changed_at)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE verity_binding_change")
            .await?;
        Ok(())
    }
}
