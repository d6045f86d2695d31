use std::sync::{Arc, Mutex};

use pretty_assertions::assert_eq;
use verity_domain::{Addresses, LookupHash};

use super::*;
use crate::ports::driven::{BindingChange, IdentityBackend, MockBindingStore};
use crate::usecases::Backends;
use crate::usecases::hash_index::{HashIndex, HashingSettings, Rebuild, RotationPolicy};
use crate::usecases::test_support::{
    CountingPeppers, FakeBackend, FakeClock, FakeHashStore, binding, email,
};

const T0: u64 = 1_700_000_000_000;

/// The changes the other instances recorded, as the store shows them now.
type Log = Arc<Mutex<Vec<BindingChange>>>;

struct World {
    /// What the backends answer (the bindings table the other instance wrote to).
    backend: Arc<FakeBackend>,
    clock: Arc<FakeClock>,
    index: Arc<HashIndex>,
    log: Log,
    follower: BindingFollower,
}

fn store(log: &Log) -> MockBindingStore {
    let mut store = MockBindingStore::new();
    let log = log.clone();
    store.expect_changes().returning(move |after, limit| {
        Ok(log
            .lock()
            .unwrap()
            .iter()
            .filter(|change| change.id > after)
            .take(limit as usize)
            .cloned()
            .collect())
    });
    store
}

async fn world(enabled: bool, store: impl FnOnce(&Log) -> MockBindingStore) -> World {
    let backend = FakeBackend::new("bindings", &[]);
    let clock = FakeClock::at(T0);
    let index = Arc::new(HashIndex::new(
        Arc::new(FakeHashStore::default()),
        Backends::new(vec![backend.clone() as Arc<dyn IdentityBackend>]),
        Arc::new(CountingPeppers::default()),
        clock.clone(),
        HashingSettings {
            enabled,
            pepper_length: 20,
            rotation: RotationPolicy::Never,
            page_size: 2,
        },
    ));
    if enabled {
        assert!(index.start().await.unwrap());
        assert!(index.rebuild(Rebuild::SamePepper).await.unwrap());
    }
    let log = Log::default();
    let follower = BindingFollower::new(Arc::new(store(&log)), index.clone(), clock.clone(), 0);
    World {
        backend,
        clock,
        index,
        log,
        follower,
    }
}

impl World {
    fn record(&self, id: u64, address: &str) {
        let mut log = self.log.lock().unwrap();
        log.push(BindingChange {
            id,
            threepid: email(address),
            at: Timestamp::from_millis(T0),
        });
        log.sort_by_key(|change| change.id);
    }

    fn answer(&self, address: &str) -> Option<String> {
        let table = self.index.published().unwrap();
        let hash = LookupHash::of(&email(address), &table.pepper);
        self.index
            .find(
                table.pepper.as_str(),
                &Addresses::from_iter([hash.as_str()]),
            )
            .unwrap()
            .first()
            .map(|(_, user)| user.as_str().to_owned())
    }
}

#[tokio::test]
async fn a_bind_and_an_unbind_recorded_by_another_instance_are_in_the_table_after_a_poll() {
    let world = world(true, store).await;

    // Another instance binds: its row is in the store, its change recorded.
    world
        .backend
        .set(&binding("alice@example.org", "@alice:example.org"));
    world.record(1, "alice@example.org");
    assert_eq!(world.answer("alice@example.org"), None, "not polled yet");
    assert_eq!(world.follower.poll().await.unwrap(), 1);
    assert_eq!(
        world.answer("alice@example.org").as_deref(),
        Some("@alice:example.org")
    );

    // Then unbinds.
    world.backend.unset(&email("alice@example.org"));
    world.record(2, "alice@example.org");
    assert_eq!(world.follower.poll().await.unwrap(), 1);
    assert_eq!(world.answer("alice@example.org"), None);
}

#[tokio::test]
async fn a_change_is_refreshed_once() {
    let world = world(true, store).await;
    world
        .backend
        .set(&binding("a@example.org", "@a:example.org"));
    world.record(1, "a@example.org");
    assert_eq!(world.follower.poll().await.unwrap(), 1);
    assert_eq!(world.follower.poll().await.unwrap(), 0);
}

#[tokio::test]
async fn a_change_that_becomes_visible_after_a_higher_id_is_refreshed() {
    let world = world(true, store).await;
    // Id 1's transaction has not committed yet; id 2's has.
    world
        .backend
        .set(&binding("b@example.org", "@b:example.org"));
    world.record(2, "b@example.org");
    assert_eq!(world.follower.poll().await.unwrap(), 1);

    world.clock.advance(5_000);
    world
        .backend
        .set(&binding("a@example.org", "@a:example.org"));
    world.record(1, "a@example.org");
    assert_eq!(world.follower.poll().await.unwrap(), 1, "id 1 at last");
    assert_eq!(
        world.answer("a@example.org").as_deref(),
        Some("@a:example.org")
    );
    assert_eq!(world.follower.poll().await.unwrap(), 0);
}

#[tokio::test]
async fn a_missing_id_is_given_up_after_the_gap_wait() {
    let world = world(true, store).await;
    world.record(2, "b@example.org");
    world.follower.poll().await.unwrap();
    world.clock.advance(GAP_WAIT.as_millis() as u64);
    world.follower.poll().await.unwrap();

    // Read from above id 2 only now: an id 1 appearing this late is not read again.
    world
        .backend
        .set(&binding("a@example.org", "@a:example.org"));
    world.record(1, "a@example.org");
    assert_eq!(world.follower.poll().await.unwrap(), 0);
    world.record(3, "c@example.org");
    assert_eq!(world.follower.poll().await.unwrap(), 1);
}

#[tokio::test]
async fn more_changes_than_a_page_are_all_refreshed() {
    let world = world(true, store).await;
    let count = PAGE as u64 * 2 + 3;
    for id in 1..=count {
        let address = format!("u{id}@example.org");
        world
            .backend
            .set(&binding(&address, &format!("@u{id}:example.org")));
        world.record(id, &address);
    }
    assert_eq!(world.follower.poll().await.unwrap(), count as usize);
    assert_eq!(
        world.answer(&format!("u{count}@example.org")).as_deref(),
        Some(format!("@u{count}:example.org").as_str())
    );
}

#[tokio::test]
async fn a_failing_backend_leaves_the_change_for_the_next_poll() {
    let world = world(true, store).await;
    world
        .backend
        .set(&binding("a@example.org", "@a:example.org"));
    world.record(1, "a@example.org");
    world.backend.fail();
    assert!(world.follower.poll().await.is_err());
    *world.backend.failing.lock().unwrap() = false;
    assert_eq!(world.follower.poll().await.unwrap(), 1);
    assert_eq!(
        world.answer("a@example.org").as_deref(),
        Some("@a:example.org")
    );
}

#[tokio::test]
async fn with_hashing_off_nothing_is_read() {
    // No expectation on `changes`: a call would panic.
    let world = world(false, |_| MockBindingStore::new()).await;
    assert_eq!(world.follower.poll().await.unwrap(), 0);
}

#[tokio::test]
async fn the_purge_deletes_the_changes_older_than_an_hour() {
    let world = world(false, |_| {
        let mut store = MockBindingStore::new();
        store
            .expect_purge_changes()
            .withf(|before| *before == Timestamp::from_millis(T0 - 3_600_000))
            .returning(|_| Ok(4));
        store
    })
    .await;
    assert_eq!(world.follower.purge().await.unwrap(), 4);
}
