use std::sync::Arc;
use std::time::Duration;

use pretty_assertions::assert_eq;

use verity_domain::LookupHash;

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

/// What the published table answers for `address`: `Ok(None)` when it is not bound.
fn lookup(world: &World, address: &str) -> Result<Option<String>, Unanswered> {
    let table = world.index.published().unwrap();
    let hash = LookupHash::of(&email(address), &table.pepper);
    Ok(world
        .index
        .find(
            table.pepper.as_str(),
            &Addresses::from_iter([hash.as_str()]),
        )?
        .first()
        .map(|(_, user)| user.as_str().to_owned()))
}

fn answer(world: &World, address: &str) -> Option<String> {
    lookup(world, address).unwrap()
}

/// Started and built, as after the background build of a start.
async fn started(world: &World) {
    assert!(world.index.start().await.unwrap(), "a build is due");
    assert!(world.index.rebuild(Rebuild::SamePepper).await.unwrap());
}

#[tokio::test]
async fn the_first_start_stores_a_new_pepper_at_once_and_answers_not_ready_until_its_table_is_built()
 {
    let own = FakeBackend::new(
        "bindings",
        &[
            binding("a@example.org", "@a:example.org"),
            binding("b@example.org", "@b:example.org"),
            binding("c@example.org", "@c:example.org"),
        ],
    );
    let world = world(&[own], RotationPolicy::Never);
    assert!(world.index.start().await.unwrap(), "a build is due");
    let table = world.index.published().unwrap();
    assert_eq!(table.pepper, pepper("pepper1"));
    assert_eq!(
        world.store.published.lock().unwrap().clone(),
        Some(table.clone()),
        "stored before any client is given it"
    );
    assert!(!world.index.is_ready());
    assert!(world.index.build_due());
    assert_eq!(lookup(&world, "c@example.org"), Err(Unanswered::NotReady));
    assert_eq!(
        lookup(&world, "nobody@example.org"),
        Err(Unanswered::NotReady)
    );

    assert!(world.index.rebuild(Rebuild::SamePepper).await.unwrap());
    assert!(world.index.is_ready());
    assert!(!world.index.build_due());
    assert_eq!(world.index.published().unwrap().pepper, table.pepper);
    assert_eq!(
        answer(&world, "c@example.org").as_deref(),
        Some("@c:example.org")
    );
    assert_eq!(answer(&world, "nobody@example.org"), None);
    assert!(
        world.store.rows.lock().unwrap().is_empty(),
        "the table is not written to the store"
    );
}

#[tokio::test]
async fn a_restart_keeps_the_stored_pepper_and_builds_its_table_from_the_backends_as_they_are() {
    let own = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let world = world(std::slice::from_ref(&own), RotationPolicy::Never);
    started(&world).await;
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
    let world = World {
        index: restarted,
        ..world
    };
    assert!(world.index.start().await.unwrap(), "a build is due");
    assert_eq!(world.index.published(), Some(first.clone()));
    assert_eq!(lookup(&world, "new@example.org"), Err(Unanswered::NotReady));

    assert!(world.index.rebuild(Rebuild::SamePepper).await.unwrap());
    assert_eq!(
        world.index.published().unwrap().pepper,
        first.pepper,
        "the pepper is kept"
    );
    assert_eq!(answer(&world, "a@example.org"), None);
    assert_eq!(
        answer(&world, "new@example.org").as_deref(),
        Some("@new:example.org")
    );
}

#[tokio::test]
async fn the_hash_rows_earlier_versions_stored_are_deleted_once_the_table_is_built() {
    let own = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let world = world(&[own], RotationPolicy::Never);
    let stored = HashTable {
        pepper: pepper("stored"),
        generation: 5,
    };
    *world.store.published.lock().unwrap() = Some(stored.clone());
    let row = |pepper: &str| {
        let binding = binding("old@example.org", "@old:example.org");
        let hash = LookupHash::of(&binding.threepid, &self::pepper(pepper));
        ((pepper.to_owned(), hash.as_str().to_owned()), (binding, 5))
    };
    world
        .store
        .rows
        .lock()
        .unwrap()
        .extend([row("stored"), row("older")]);

    started(&world).await;
    assert_eq!(world.index.published().unwrap().pepper, stored.pepper);
    assert!(world.store.rows.lock().unwrap().is_empty());
    assert_eq!(
        answer(&world, "old@example.org"),
        None,
        "answered from the backends' feeds"
    );
    assert_eq!(
        answer(&world, "a@example.org").as_deref(),
        Some("@a:example.org")
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
    started(&world).await;
    assert_eq!(
        answer(&world, "x@example.org").as_deref(),
        Some("@memory:example.org")
    );
    assert_eq!(
        answer(&world, "y@example.org").as_deref(),
        Some("@own:example.org")
    );
}

#[tokio::test]
async fn a_refresh_adds_and_removes_one_entry_following_the_backends() {
    let memory = FakeBackend::new("memory", &[binding("m@example.org", "@memory:example.org")]);
    let own = FakeBackend::new("bindings", &[]);
    let world = world(&[memory.clone(), own.clone()], RotationPolicy::Never);
    started(&world).await;

    own.set(&binding("new@example.org", "@new:example.org"));
    world
        .index
        .refresh(&email("new@example.org"))
        .await
        .unwrap();
    assert_eq!(
        answer(&world, "new@example.org").as_deref(),
        Some("@new:example.org")
    );

    own.unset(&email("new@example.org"));
    world
        .index
        .refresh(&email("new@example.org"))
        .await
        .unwrap();
    assert_eq!(answer(&world, "new@example.org"), None);

    // Unbinding a 3PID that a higher-priority backend also knows leaves that backend's answer.
    own.set(&binding("m@example.org", "@own:example.org"));
    world.index.refresh(&email("m@example.org")).await.unwrap();
    own.unset(&email("m@example.org"));
    world.index.refresh(&email("m@example.org")).await.unwrap();
    assert_eq!(
        answer(&world, "m@example.org").as_deref(),
        Some("@memory:example.org")
    );
}

#[tokio::test]
async fn a_bind_before_the_first_build_is_in_the_built_table() {
    let own = FakeBackend::new("bindings", &[]);
    let world = world(std::slice::from_ref(&own), RotationPolicy::Never);
    world.index.start().await.unwrap();
    own.set(&binding("early@example.org", "@early:example.org"));
    world
        .index
        .refresh(&email("early@example.org"))
        .await
        .unwrap();
    assert_eq!(
        lookup(&world, "early@example.org"),
        Err(Unanswered::NotReady)
    );
    world.index.rebuild(Rebuild::SamePepper).await.unwrap();
    assert_eq!(
        answer(&world, "early@example.org").as_deref(),
        Some("@early:example.org")
    );
}

#[tokio::test]
async fn a_rotation_swaps_in_a_new_stored_pepper_with_its_complete_table() {
    let own = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let world = world(&[own], RotationPolicy::Never);
    started(&world).await;
    let first = world.index.published().unwrap();

    assert!(world.index.rebuild(Rebuild::NewPepper).await.unwrap());
    let second = world.index.published().unwrap();
    assert_eq!(second.pepper, pepper("pepper2"));
    assert!(second.generation > first.generation);
    assert_eq!(
        world.store.published.lock().unwrap().clone(),
        Some(second.clone())
    );
    assert_eq!(
        answer(&world, "a@example.org").as_deref(),
        Some("@a:example.org")
    );
    // A lookup that checked the old pepper just before the swap is told the new one.
    let hash = LookupHash::of(&email("a@example.org"), &first.pepper);
    assert_eq!(
        world.index.find(
            first.pepper.as_str(),
            &Addresses::from_iter([hash.as_str()])
        ),
        Err(Unanswered::OtherPepper("pepper2".into()))
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
    started(&world).await;

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
    assert_eq!(world.index.published().unwrap().pepper, pepper("pepper2"));
    for n in 0..7 {
        let expected = (n % 2 == 0).then(|| "@new:example.org".to_owned());
        assert_eq!(
            answer(&world, &format!("u{n}@example.org")),
            expected,
            "u{n}"
        );
    }
}

#[tokio::test]
async fn a_failed_first_build_leaves_lookups_not_ready_and_a_build_due() {
    let own = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let world = world(std::slice::from_ref(&own), RotationPolicy::Never);
    world.index.start().await.unwrap();
    own.fail();
    assert!(world.index.rebuild(Rebuild::SamePepper).await.is_err());
    assert_eq!(lookup(&world, "a@example.org"), Err(Unanswered::NotReady));
    assert!(world.index.build_due(), "the build is tried again");
}

#[tokio::test]
async fn a_failed_rotation_leaves_the_published_pepper_and_table_answering() {
    let own = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let world = world(std::slice::from_ref(&own), RotationPolicy::Never);
    started(&world).await;
    let first = world.index.published().unwrap();
    own.fail();
    assert!(world.index.rebuild(Rebuild::NewPepper).await.is_err());
    assert_eq!(world.index.published(), Some(first.clone()));
    assert_eq!(world.store.published.lock().unwrap().clone(), Some(first));
    assert_eq!(
        answer(&world, "a@example.org").as_deref(),
        Some("@a:example.org")
    );
    assert!(!world.index.build_due());
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
    assert!(!world.index.build_due());
    assert_eq!(world.index.published(), None);
    assert_eq!(world.store.published.lock().unwrap().clone(), None);
}

#[tokio::test]
async fn rotation_is_never_due_by_default() {
    let world = world(&[FakeBackend::new("bindings", &[])], RotationPolicy::Never);
    started(&world).await;
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

#[path = "hash_index_feed_tests.rs"]
mod feed;
