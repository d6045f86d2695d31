//! The store's health check, for `/status`.
use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use verity_application::ports::driven::{HealthCheck, StoreError};

/// Answers whether the database answers a trivial query.
#[derive(Clone)]
pub struct SqlHealthCheck {
    db: DatabaseConnection,
}

impl SqlHealthCheck {
    pub(crate) fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl HealthCheck for SqlHealthCheck {
    fn name(&self) -> &'static str {
        "store"
    }

    async fn check(&self) -> Result<(), StoreError> {
        // Goes through the pool like every store call, so an exhausted or closed pool fails the
        // check as well as an unreachable server; `SELECT 1` is valid on both backends.
        self.db
            .execute_unprepared("SELECT 1")
            .await
            .map(|_| ())
            .map_err(|err| StoreError::Unavailable(Box::new(err)))
    }
}
