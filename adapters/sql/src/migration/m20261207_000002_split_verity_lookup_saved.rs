//! `verity_lookup_saved` in parts: the saved lookup table as rows of a few megabytes (`part` 0,
//! 1, …, each with the table's pepper, `changes_until` and `saved_at`) instead of one value. A
//! single value of 55 MB for 1,000,000 entries was copied by the driver and the database on its
//! way, and the server's peak memory grew by four times its size.
//!
//! The table is dropped and made again: a saved table is only a shortcut for the next start
//! (which builds the table when none is saved), so nothing is lost.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let blob = match backend {
            DbBackend::Postgres => "BYTEA",
            _ => "BLOB",
        };
        let db = manager.get_connection();
        db.execute_unprepared("DROP TABLE verity_lookup_saved")
            .await?;
        db.execute_unprepared(&format!(
            "CREATE TABLE verity_lookup_saved (part INTEGER PRIMARY KEY, pepper TEXT NOT NULL, \
             changes_until BIGINT NOT NULL, saved_at BIGINT NOT NULL, data {blob} NOT NULL)"
        ))
        .await?;
        // Digests do not compress: PostgreSQL stores the parts as they are.
        if backend == DbBackend::Postgres {
            db.execute_unprepared(
                "ALTER TABLE verity_lookup_saved ALTER COLUMN data SET STORAGE EXTERNAL",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Back to one row: the saved table goes either way.
        let blob = match manager.get_database_backend() {
            DbBackend::Postgres => "BYTEA",
            _ => "BLOB",
        };
        let db = manager.get_connection();
        db.execute_unprepared("DROP TABLE verity_lookup_saved")
            .await?;
        db.execute_unprepared(&format!(
            "CREATE TABLE verity_lookup_saved (id INTEGER PRIMARY KEY, pepper TEXT NOT NULL, \
             changes_until BIGINT NOT NULL, saved_at BIGINT NOT NULL, data {blob} NOT NULL)"
        ))
        .await?;
        Ok(())
    }
}
