//! A fresh PostgreSQL database per test, on the server named by `VERITY_TEST_POSTGRES_URL`.
pub use verity_adapter_sql::testing::{ScratchDatabase as TestDatabase, postgres_url};
