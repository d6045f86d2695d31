//! `verity_lookup_saved`: the lookup hash table the last build made, saved whole, so that the
//! next start loads it and replays the binding changes recorded after `changes_until` instead of
//! reading every binding again (docs/lookups.md, "Restarts"). At most one row (`id` 1).
//!
//! On PostgreSQL the column is stored uncompressed (`STORAGE EXTERNAL`): it is mostly SHA-256
//! digests, which do not compress, and trying costs time on every save.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let blob = match manager.get_database_backend() {
            DbBackend::Postgres => "BYTEA",
            _ => "BLOB",
        };
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "CREATE TABLE verity_lookup_saved (id INTEGER PRIMARY KEY, pepper TEXT NOT NULL, \
             changes_until BIGINT NOT NULL, saved_at BIGINT NOT NULL, data {blob} NOT NULL)"
        ))
        .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(
                "ALTER TABLE verity_lookup_saved ALTER COLUMN data SET STORAGE EXTERNAL",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE verity_lookup_saved")
            .await?;
        Ok(())
    }
}
