use std::sync::Arc;

use pretty_assertions::assert_eq;

use super::*;
use crate::ports::driven::IdentityBackend;
use crate::usecases::test_support::{
    CountingPeppers, FakeBackend, FakeClock, FakeHashStore, binding, email, pepper,
};

const T0: u64 = 1_700_000_000_000;

fn settings(rotation: RotationPolicy) -> HashingSettings {
    HashingSettings {
        enabled: true,
        pepper_length: 20,
        rotation,
        // Small pages, so the tests cross page boundaries.
        page_size: 2,
    }
}

struct World {
    store: Arc<FakeHashStore>,
    clock: Arc<FakeClock>,
    index: HashIndex,
}

/// An index over `backends` (highest priority first).
fn world(backends: &[Arc<FakeBackend>], rotation: RotationPolicy) -> World {
    let store = Arc::new(FakeHashStore::default());
    let clock = FakeClock::at(T0);
    let backends = Backends::new(
        backends
            .iter()
            .map(|b| b.clone() as Arc<dyn IdentityBackend>)
            .collect(),
    );
    let index = HashIndex::new(
        store.clone(),
        backends,
        Arc::new(CountingPeppers::default()),
        clock.clone(),
        settings(rotation),
    );
    World {
        store,
        clock,
        index,
    }
}

async fn answer(world: &World, address: &str) -> Option<String> {
    let table = world.index.published().unwrap();
    let hash = LookupHash::of(&email(address), &table.pepper);
    world
        .store
        .find(&table.pepper, &[hash])
        .await
        .unwrap()
        .first()
        .map(|entry| entry.binding.user_id.as_str().to_owned())
}

#[tokio::test]
async fn the_first_start_builds_and_publishes_a_table_under_a_new_pepper() {
    let own = FakeBackend::new(
        "bindings",
        &[
            binding("a@example.org", "@a:example.org"),
            binding("b@example.org", "@b:example.org"),
            binding("c@example.org", "@c:example.org"),
        ],
    );
    let world = world(&[own], RotationPolicy::Never);
    assert!(
        !world.index.start().await.unwrap(),
        "nothing to bring up to date"
    );
    let table = world.index.published().unwrap();
    assert_eq!(table.pepper, pepper("pepper1"));
    assert_eq!(
        world.store.published.lock().unwrap().clone(),
        Some(table.clone())
    );
    assert_eq!(world.store.table(&table.pepper).len(), 3);
    assert_eq!(
        answer(&world, "c@example.org").await.as_deref(),
        Some("@c:example.org")
    );
}

#[tokio::test]
async fn a_stored_table_is_answered_from_at_once_and_brought_up_to_date_by_a_rebuild() {
    let own = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let world = world(std::slice::from_ref(&own), RotationPolicy::Never);
    world.index.start().await.unwrap();
    let first = world.index.published().unwrap();

    // A restart: the same store, a backend that changed meanwhile.
    own.unset(&email("a@example.org"));
    own.set(&binding("new@example.org", "@new:example.org"));
    let restarted = HashIndex::new(
        world.store.clone(),
        Backends::new(vec![own.clone()]),
        Arc::new(CountingPeppers::default()),
        world.clock.clone(),
        settings(RotationPolicy::Never),
    );
    world.clock.advance(1);
    assert!(restarted.start().await.unwrap(), "a rebuild is due");
    assert_eq!(restarted.published(), Some(first.clone()));
    let world = World {
        index: restarted,
        ..world
    };
    assert_eq!(
        answer(&world, "a@example.org").await.as_deref(),
        Some("@a:example.org")
    );

    assert!(world.index.rebuild(Rebuild::SamePepper).await.unwrap());
    let second = world.index.published().unwrap();
    assert_eq!(second.pepper, first.pepper, "the pepper is kept");
    assert!(second.generation > first.generation);
    assert_eq!(
        answer(&world, "a@example.org").await,
        None,
        "stale entries are swept"
    );
    assert_eq!(
        answer(&world, "new@example.org").await.as_deref(),
        Some("@new:example.org")
    );
}

#[tokio::test]
async fn the_highest_priority_backend_wins_in_the_table() {
    let memory = FakeBackend::new("memory", &[binding("x@example.org", "@memory:example.org")]);
    let own = FakeBackend::new(
        "bindings",
        &[
            binding("x@example.org", "@own:example.org"),
            binding("y@example.org", "@own:example.org"),
        ],
    );
    let world = world(&[memory, own], RotationPolicy::Never);
    world.index.start().await.unwrap();
    assert_eq!(
        answer(&world, "x@example.org").await.as_deref(),
        Some("@memory:example.org")
    );
    assert_eq!(
        answer(&world, "y@example.org").await.as_deref(),
        Some("@own:example.org")
    );
}

#[tokio::test]
async fn a_refresh_adds_and_removes_one_entry_following_the_backends() {
    let memory = FakeBackend::new("memory", &[binding("m@example.org", "@memory:example.org")]);
    let own = FakeBackend::new("bindings", &[]);
    let world = world(&[memory.clone(), own.clone()], RotationPolicy::Never);
    world.index.start().await.unwrap();

    own.set(&binding("new@example.org", "@new:example.org"));
    world
        .index
        .refresh(&email("new@example.org"))
        .await
        .unwrap();
    assert_eq!(
        answer(&world, "new@example.org").await.as_deref(),
        Some("@new:example.org")
    );

    own.unset(&email("new@example.org"));
    world
        .index
        .refresh(&email("new@example.org"))
        .await
        .unwrap();
    assert_eq!(answer(&world, "new@example.org").await, None);

    // Unbinding a 3PID that a higher-priority backend also knows leaves that backend's answer.
    own.set(&binding("m@example.org", "@own:example.org"));
    world.index.refresh(&email("m@example.org")).await.unwrap();
    own.unset(&email("m@example.org"));
    world.index.refresh(&email("m@example.org")).await.unwrap();
    assert_eq!(
        answer(&world, "m@example.org").await.as_deref(),
        Some("@memory:example.org")
    );
}

#[tokio::test]
async fn a_rotation_publishes_a_new_pepper_and_keeps_the_old_table_until_the_next_rebuild() {
    let own = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let world = world(&[own], RotationPolicy::Never);
    world.index.start().await.unwrap();
    let first = world.index.published().unwrap();

    assert!(world.index.rebuild(Rebuild::NewPepper).await.unwrap());
    let second = world.index.published().unwrap();
    assert_eq!(second.pepper, pepper("pepper2"));
    assert_eq!(
        answer(&world, "a@example.org").await.as_deref(),
        Some("@a:example.org")
    );
    // A lookup that checked the old pepper just before the swap still finds its table.
    assert_eq!(world.store.table(&first.pepper).len(), 1);

    world.index.rebuild(Rebuild::NewPepper).await.unwrap();
    assert!(
        world.store.table(&first.pepper).is_empty(),
        "pruned at the next rebuild"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binds_during_a_rebuild_are_in_the_new_table() {
    let own = FakeBackend::new(
        "bindings",
        &(0..7)
            .map(|n| binding(&format!("u{n}@example.org"), "@old:example.org"))
            .collect::<Vec<_>>(),
    );
    let world = Arc::new(world(std::slice::from_ref(&own), RotationPolicy::Never));
    world.index.start().await.unwrap();

    // The backend changes while the rebuild reads it: the refreshes run concurrently with the
    // rebuild, and whatever the interleaving, the published table ends up as the backend is.
    let rebuild = {
        let world = world.clone();
        tokio::spawn(async move { world.index.rebuild(Rebuild::NewPepper).await.unwrap() })
    };
    let mut refreshes = Vec::new();
    for n in 0..7 {
        let address = format!("u{n}@example.org");
        if n % 2 == 0 {
            own.set(&binding(&address, "@new:example.org"));
        } else {
            own.unset(&email(&address));
        }
        let world = world.clone();
        refreshes.push(tokio::spawn(async move {
            world.index.refresh(&email(&address)).await.unwrap();
        }));
    }
    for refresh in refreshes {
        refresh.await.unwrap();
    }
    assert!(rebuild.await.unwrap());
    let table = world.index.published().unwrap();
    assert_eq!(table.pepper, pepper("pepper2"));
    let expected: Vec<_> = (0..7)
        .step_by(2)
        .map(|n| binding(&format!("u{n}@example.org"), "@new:example.org"))
        .collect();
    assert_eq!(world.store.table(&table.pepper), expected);
}

#[tokio::test]
async fn a_failed_rebuild_leaves_the_published_table_answering() {
    let own = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let world = world(std::slice::from_ref(&own), RotationPolicy::Never);
    world.index.start().await.unwrap();
    let first = world.index.published().unwrap();
    own.fail();
    assert!(world.index.rebuild(Rebuild::NewPepper).await.is_err());
    assert_eq!(world.index.published(), Some(first));
    assert_eq!(
        answer(&world, "a@example.org").await.as_deref(),
        Some("@a:example.org")
    );
    // The failure does not leave the index stuck "rebuilding".
    assert!(world.index.rebuild(Rebuild::SamePepper).await.is_err());
}

#[tokio::test]
async fn with_hashing_off_nothing_is_built_or_published() {
    let own = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let mut world = world(&[own], RotationPolicy::PerRequests(1));
    world.index.settings.enabled = false;
    assert!(!world.index.start().await.unwrap());
    assert!(!world.index.rebuild(Rebuild::NewPepper).await.unwrap());
    world.index.refresh(&email("a@example.org")).await.unwrap();
    world.index.count_lookup();
    assert!(!world.index.rotation_due());
    assert_eq!(world.index.published(), None);
    assert!(world.store.rows.lock().unwrap().is_empty());
}

#[tokio::test]
async fn rotation_is_never_due_by_default() {
    let world = world(&[FakeBackend::new("bindings", &[])], RotationPolicy::Never);
    world.index.start().await.unwrap();
    for _ in 0..1000 {
        world.index.count_lookup();
    }
    world.clock.advance(365 * 24 * 3_600_000);
    assert!(!world.index.rotation_due());
}

#[tokio::test]
async fn per_requests_rotation_is_due_after_that_many_lookups() {
    let world = world(
        &[FakeBackend::new("bindings", &[])],
        RotationPolicy::PerRequests(3),
    );
    world.index.start().await.unwrap();
    world.index.count_lookup();
    world.index.count_lookup();
    assert!(!world.index.rotation_due());
    world.index.count_lookup();
    assert!(world.index.rotation_due());
    world.index.rebuild(Rebuild::NewPepper).await.unwrap();
    assert!(!world.index.rotation_due(), "the count starts again");
}

#[tokio::test]
async fn timed_rotation_is_due_when_the_pepper_is_that_old() {
    let every = Duration::from_secs(600);
    let world = world(
        &[FakeBackend::new("bindings", &[])],
        RotationPolicy::Every(every),
    );
    world.index.start().await.unwrap();
    world.clock.advance(599_999);
    assert!(!world.index.rotation_due());
    world.clock.advance(1);
    assert!(world.index.rotation_due());
}
