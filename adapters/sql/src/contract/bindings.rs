//! What every [`BindingStore`] must do, and the same table as the `bindings` identity backend.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{Binding, BindingStore, IdentityBackend, StoreError};
use verity_domain::{Timestamp, UserId};

use super::accounts::user;
use super::sessions::threepid;

pub(crate) fn binding(medium: &str, address: &str, mxid: &str) -> Binding {
    Binding {
        threepid: threepid(medium, address),
        user_id: user(mxid),
    }
}

const AT: Timestamp = Timestamp::from_millis(1_000);

/// Every binding through the feed, `page` at a time.
pub(crate) async fn everything<S: BindingStore + ?Sized>(store: &S, page: u32) -> Vec<Binding> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let next = store.feed(after.clone(), page).await.unwrap();
        assert!(
            next.len() <= page as usize,
            "a page is at most `limit` long"
        );
        let Some(last) = next.last() else {
            return all;
        };
        after = Some(last.threepid.clone());
        all.extend(next);
    }
}

pub(crate) async fn a_binding_round_trips_for_every_medium(store: &dyn BindingStore) {
    let bindings = [
        binding("email", "alice@example.org", "@alice:example.org"),
        binding("msisdn", "447911123456", "@alice:example.org"),
        binding("matrix.id", "Some ID", "@bob:other.example:8448"),
    ];
    for b in &bindings {
        store.bind(b, AT).await.unwrap();
    }
    for b in &bindings {
        assert_eq!(
            store.find(&b.threepid).await.unwrap(),
            Some(b.user_id.clone())
        );
    }
    assert_eq!(
        store
            .find(&threepid("email", "bob@example.org"))
            .await
            .unwrap(),
        None
    );
}

pub(crate) async fn binding_a_bound_3pid_again_replaces_its_user(store: &dyn BindingStore) {
    let old = binding("email", "alice@example.org", "@old:example.org");
    let new = binding("email", "alice@example.org", "@new:example.org");
    store.bind(&old, AT).await.unwrap();
    store
        .bind(&new, Timestamp::from_millis(2_000))
        .await
        .unwrap();
    assert_eq!(
        store.find(&new.threepid).await.unwrap(),
        Some(new.user_id.clone())
    );
    assert_eq!(everything(store, 10).await, vec![new]);
}

pub(crate) async fn unbind_removes_the_binding_of_that_user_only(store: &dyn BindingStore) {
    let alice = binding("email", "alice@example.org", "@alice:example.org");
    let bob = binding("email", "bob@example.org", "@bob:example.org");
    store.bind(&alice, AT).await.unwrap();
    store.bind(&bob, AT).await.unwrap();
    // Another user's claim on alice's address removes nothing.
    let mallory = binding("email", "alice@example.org", "@mallory:example.org");
    assert!(!store.unbind(&mallory, AT).await.unwrap());
    assert!(store.unbind(&alice, AT).await.unwrap());
    assert!(!store.unbind(&alice, AT).await.unwrap(), "already gone");
    assert_eq!(store.find(&alice.threepid).await.unwrap(), None);
    assert_eq!(everything(store, 10).await, vec![bob]);
}

pub(crate) async fn a_time_past_the_storable_range_is_refused_and_binds_nothing(
    store: &dyn BindingStore,
) {
    let b = binding("email", "alice@example.org", "@alice:example.org");
    let err = store
        .bind(&b, Timestamp::from_millis(i64::MAX as u64 + 1))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt(what) if what.contains("created_at")),
        "{err:?}"
    );
    assert_eq!(store.find(&b.threepid).await.unwrap(), None);
}

/// The table is the `bindings` backend too; what every backend must answer is the identity
/// backend contract (`super::identity`).
pub(crate) async fn the_bindings_backend_is_named_bindings(store: &dyn IdentityBackend) {
    assert_eq!(store.name(), "bindings");
}

/// The v1 lookup hands out the association made at bind time: the backend says when the 3PID
/// was (last) bound.
pub(crate) async fn the_bindings_backend_says_when_each_3pid_was_bound<S>(store: &S)
where
    S: BindingStore + IdentityBackend,
{
    let b = binding("email", "when@example.org", "@when:example.org");
    BindingStore::bind(store, &b, AT).await.unwrap();
    let published = store.lookup_published(&b.threepid).await.unwrap().unwrap();
    assert_eq!(published.user_id, b.user_id);
    assert_eq!(published.since, Some(AT));
    let later = Timestamp::from_millis(AT.as_millis() + 5_000);
    let rebound = binding("email", "when@example.org", "@other:example.org");
    BindingStore::bind(store, &rebound, later).await.unwrap();
    let published = store.lookup_published(&b.threepid).await.unwrap().unwrap();
    assert_eq!(published.user_id, rebound.user_id);
    assert_eq!(published.since, Some(later));
    assert_eq!(
        store
            .lookup_published(&threepid("email", "nobody@example.org"))
            .await
            .unwrap(),
        None
    );
}

/// Many tasks binding one 3PID to different users at once: every bind succeeds and exactly one
/// binding is left, the one `find` reports.
pub(crate) async fn concurrent_binds_of_one_3pid_leave_exactly_one<S>(store: &S)
where
    S: BindingStore + Clone + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..8 {
        let store = store.clone();
        tasks.spawn(async move {
            let b = binding("email", "alice@example.org", &format!("@u{n}:example.org"));
            store.bind(&b, Timestamp::from_millis(n)).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task").expect("bind");
    }
    let left = everything(store, 10).await;
    assert_eq!(left.len(), 1);
    let found: Option<UserId> = store
        .find(&threepid("email", "alice@example.org"))
        .await
        .unwrap();
    assert_eq!(found, Some(left[0].user_id.clone()));
}

/// Binds and unbinds of many 3PIDs interleaved: each 3PID ends as its last operation left it.
pub(crate) async fn concurrent_binds_and_unbinds_end_as_each_3pid_last_left_it<S>(store: &S)
where
    S: BindingStore + Clone + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..16 {
        let store = store.clone();
        tasks.spawn(async move {
            let b = binding("email", &format!("u{n}@example.org"), "@u:example.org");
            store.bind(&b, AT).await?;
            if n % 2 == 0 {
                store.unbind(&b, AT).await?;
            }
            Ok::<_, StoreError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task").expect("bind/unbind");
    }
    let left: Vec<String> = everything(store, 5)
        .await
        .into_iter()
        .map(|b| b.threepid.address().to_owned())
        .collect();
    let mut expected: Vec<String> = (0..16)
        .filter(|n| n % 2 == 1)
        .map(|n| format!("u{n}@example.org"))
        .collect();
    expected.sort();
    assert_eq!(left, expected);
}

/// The table is sized from the count the backend gives: exactly the bindings held (the port
/// allows an estimate; this backend counts), after binds and an unbind.
pub(crate) async fn the_raw_feed_counts_every_binding<S>(store: &S)
where
    S: BindingStore + IdentityBackend,
{
    assert_eq!(store.feed_len().await.unwrap(), Some(0));
    let mut bound = Vec::new();
    for n in 0..45 {
        let b = binding("email", &format!("u{n:02}@example.org"), "@u:example.org");
        BindingStore::bind(store, &b, AT).await.unwrap();
        bound.push(b);
    }
    BindingStore::bind(store, &bound[3], AT).await.unwrap();
    assert_eq!(
        store.feed_len().await.unwrap(),
        Some(45),
        "a rebind adds none"
    );
    assert!(BindingStore::unbind(store, &bound[0], AT).await.unwrap());
    assert_eq!(store.feed_len().await.unwrap(), Some(44));
}
