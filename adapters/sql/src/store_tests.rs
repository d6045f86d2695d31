//! Opening one PostgreSQL database from several instances at once.
#![allow(clippy::expect_used)]

use sea_orm::{ConnectionTrait as _, Statement};
use sea_orm_migration::MigratorTrait as _;

use super::connect;
use crate::migration::Migrator;
use crate::testing::{ScratchDatabase, postgres_url};

/// Eight instances starting together on an empty database: before the migrations took a lock,
/// each computed the same pending list and all but one failed creating the same tables.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_together_on_an_empty_postgres_database_all_migrate_it_once() {
    if postgres_url().is_none() {
        return;
    }
    let db = ScratchDatabase::create().await;
    let starts: Vec<_> = (0..8)
        .map(|_| {
            let url = db.url().to_owned();
            tokio::spawn(async move { connect(&url, 2).await })
        })
        .collect();
    let mut stores = Vec::new();
    for start in starts {
        let store = start.await.expect("the start task ran");
        stores.push(store.expect("every instance opens and migrates the database"));
    }
    let conn = stores[0].connection();
    let counts = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT version, count(*) AS n FROM seaql_migrations GROUP BY version",
        ))
        .await
        .expect("the migrations table is readable");
    assert_eq!(
        counts.len(),
        Migrator::migrations().len(),
        "every migration recorded"
    );
    for row in counts {
        let n: i64 = row.try_get("", "n").expect("a count");
        assert_eq!(n, 1, "each migration applied once");
    }
    for store in stores {
        store.close().await.expect("the pool closes");
    }
    db.drop_database().await;
}
