//! The identity backend contract ([`verity_application::contract::identity`]), every case, on
//! the `bindings` backend over each database (`contract::identity::<backend>::<case>`): the
//! identities are bound through the [`BindingStore`] port, as binds made here are.
use verity_application::contract::identity::Identity;
use verity_application::ports::driven::BindingStore;
use verity_domain::Timestamp;

use super::harness::TestDb;
use crate::SeaOrmBindingStore;

/// The `bindings` backend of `db`, holding `identities`.
pub(crate) async fn bound(db: &TestDb, identities: Vec<Identity>) -> SeaOrmBindingStore {
    let store = db.bindings();
    for identity in &identities {
        store
            .bind(&identity.binding(), Timestamp::from_millis(1_000))
            .await
            .unwrap_or_else(|err| panic!("bind {identity:?}: {err:?}"));
    }
    store
}

/// For each database, a `#[tokio::test]` per case of the suite.
macro_rules! bindings_contract {
    ($($case:ident),* $(,)?) => {
        bindings_contract!(@backend sqlite_file, SqliteFile; $($case),*);
        bindings_contract!(@backend sqlite_memory, SqliteMemory; $($case),*);
        bindings_contract!(@backend postgres, Postgres; $($case),*);
    };
    (@backend $backend:ident, $variant:ident; $($case:ident),*) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    use verity_application::contract::identity::Identity;
                    let backend = crate::contract::harness::Backend::$variant;
                    let Some(db) = crate::contract::harness::TestDb::open(backend).await else {
                        return;
                    };
                    let seeded = async |identities: Vec<Identity>| {
                        crate::contract::identity::bound(&db, identities).await
                    };
                    let outcome = verity_application::contract::identity::$case(seeded).await;
                    db.finish().await;
                    if let Err(failure) = outcome {
                        panic!("{failure}");
                    }
                }
            )*
        }
    };
}

verity_application::identity_backend_contract!(bindings_contract);
