use std::sync::Arc;

use pretty_assertions::assert_eq;
use verity_domain::{Addresses, LookupHash, Timestamp};

use super::super::{Backends, HashingSettings, Rebuild, RotationPolicy};
use super::*;
use crate::ports::driven::{BindingChange, IdentityBackend, MockBindingStore};
use crate::usecases::test_support::{
    CountingPeppers, FakeBackend, FakeClock, FakeHashStore, binding, email, pepper,
};

const T0: u64 = 1_700_000_000_000;

fn settings() -> HashingSettings {
    HashingSettings {
        enabled: true,
        pepper_length: 20,
        rotation: RotationPolicy::Never,
        page_size: 2,
    }
}

/// An index over `backends` saving its tables in `store`, with `changes` as the binding store.
fn index(
    store: &Arc<FakeHashStore>,
    backends: &[Arc<FakeBackend>],
    changes: MockBindingStore,
) -> HashIndex {
    let backends = Backends::new(
        backends
            .iter()
            .map(|b| b.clone() as Arc<dyn IdentityBackend>)
            .collect(),
    );
    HashIndex::new(
        store.clone(),
        backends,
        Arc::new(CountingPeppers::default()),
        FakeClock::at(T0),
        settings(),
    )
    .with_saved_tables(Arc::new(changes))
}

/// A binding store whose last change is `last` and that records `recorded` after `after`.
fn changes(last: u64, after: u64, recorded: Vec<(u64, &str)>) -> MockBindingStore {
    let mut store = MockBindingStore::new();
    store.expect_last_change().returning(move || Ok(last));
    let recorded: Vec<BindingChange> = recorded
        .into_iter()
        .map(|(id, address)| BindingChange {
            id,
            threepid: email(address),
            at: Timestamp::from_millis(T0),
        })
        .collect();
    store
        .expect_changes()
        .withf(move |from, _| *from == after)
        .returning(move |_, _| Ok(recorded.clone()));
    store
}

fn answer(index: &HashIndex, address: &str) -> Option<String> {
    let table = index.published().unwrap();
    let hash = LookupHash::of(&email(address), &table.pepper);
    index
        .find(
            table.pepper.as_str(),
            &Addresses::from_iter([hash.as_str()]),
        )
        .unwrap()
        .first()
        .map(|(_, user)| user.as_str().to_owned())
}

#[tokio::test]
async fn a_start_loads_the_saved_table_and_asks_again_only_about_the_3pids_changed_since() {
    let store = Arc::new(FakeHashStore::default());
    let bindings = FakeBackend::new(
        "bindings",
        &[
            binding("a@example.org", "@a:example.org"),
            binding("b@example.org", "@b:example.org"),
        ],
    );
    let first = index(
        &store,
        std::slice::from_ref(&bindings),
        changes(7, 7, vec![]),
    );
    assert!(first.start().await.unwrap(), "the first start builds");
    assert!(first.rebuild(Rebuild::SamePepper).await.unwrap());
    let saved = store.saved.lock().unwrap().clone().unwrap();
    assert_eq!(saved.changes_until, 7);
    assert_eq!(saved.pepper, first.published().unwrap().pepper);

    // While it was down: `a` unbound and `c` bound (recorded), and `d` put in the backend
    // without a record, which only a build would read.
    bindings.unset(&email("a@example.org"));
    bindings.set(&binding("c@example.org", "@c:example.org"));
    bindings.set(&binding("d@example.org", "@d:example.org"));
    let restarted = index(
        &store,
        &[bindings],
        changes(9, 7, vec![(8, "a@example.org"), (9, "c@example.org")]),
    );

    assert!(!restarted.start().await.unwrap(), "no build is due");
    assert!(restarted.is_ready());
    assert_eq!(answer(&restarted, "a@example.org"), None);
    assert_eq!(
        answer(&restarted, "b@example.org").as_deref(),
        Some("@b:example.org")
    );
    assert_eq!(
        answer(&restarted, "c@example.org").as_deref(),
        Some("@c:example.org")
    );
    assert_eq!(
        answer(&restarted, "d@example.org"),
        None,
        "the feed was not read"
    );
}

#[tokio::test]
async fn no_table_is_saved_or_loaded_when_a_backend_does_not_record_its_changes() {
    let store = Arc::new(FakeHashStore::default());
    let bindings = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let synapse = FakeBackend::new("synapseSql", &[binding("s@example.org", "@s:example.org")]);
    let mut untouched = MockBindingStore::new();
    untouched.expect_last_change().never();
    untouched.expect_changes().never();
    let index = index(&store, &[bindings, synapse], untouched);

    assert!(index.start().await.unwrap());
    assert!(index.rebuild(Rebuild::SamePepper).await.unwrap());

    assert!(store.saved.lock().unwrap().is_none());
    assert_eq!(
        answer(&index, "s@example.org").as_deref(),
        Some("@s:example.org")
    );
}

/// A store whose published pepper has `saved` as its saved table.
async fn store_with(saved: impl FnOnce(&HashTable) -> SavedTable) -> Arc<FakeHashStore> {
    let store = Arc::new(FakeHashStore::default());
    let bindings = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let first = index(&store, &[bindings], changes(3, 3, vec![]));
    first.start().await.unwrap();
    let table = first.published().unwrap();
    *store.saved.lock().unwrap() = Some(saved(&table));
    store
}

#[tokio::test]
async fn a_saved_table_that_is_damaged_of_another_pepper_or_followed_by_too_many_changes_is_built_again()
 {
    let mut good = Table::with_capacity(1);
    good.push([7; 32], "@x:example.org").unwrap();
    good.seal().unwrap();
    let good = good.save().unwrap();
    let mut cut = good.clone();
    cut.pop();
    // After the saved table's `changes_until` (3).
    let many: Vec<(u64, String)> = (4..=MAX_REPLAYED as u64 + 4)
        .map(|id| (id, format!("u{id}@example.org")))
        .collect();
    for (case, other_pepper, data, recorded) in [
        ("damaged", false, cut, vec![]),
        ("of another pepper", true, good.clone(), vec![]),
        ("followed by too many changes", false, good, many),
    ] {
        let store = store_with(|table| SavedTable {
            pepper: if other_pepper {
                pepper("another")
            } else {
                table.pepper.clone()
            },
            changes_until: 3,
            saved_at: Timestamp::from_millis(T0),
            data,
        })
        .await;
        let mut changes = MockBindingStore::new();
        changes.expect_last_change().returning(|| Ok(3));
        changes.expect_changes().returning(move |after, limit| {
            Ok(recorded
                .iter()
                .filter(|(id, _)| *id > after)
                .take(limit as usize)
                .map(|(id, address)| BindingChange {
                    id: *id,
                    threepid: email(address),
                    at: Timestamp::from_millis(T0),
                })
                .collect())
        });
        let bindings = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
        let restarted = index(&store, &[bindings], changes);

        assert!(restarted.start().await.unwrap(), "{case}: a build is due");
        assert!(!restarted.is_ready(), "{case}");
    }
}
