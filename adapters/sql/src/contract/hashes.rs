//! What every [`HashStore`] must do, whatever the database behind it.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{Binding, HashEntry, HashStore, HashTable, StoreError};
use verity_domain::{LookupHash, Pepper};

use super::bindings::binding;

fn pepper(raw: &str) -> Pepper {
    Pepper::parse(raw).unwrap()
}

fn table(raw: &str, generation: u64) -> HashTable {
    HashTable {
        pepper: pepper(raw),
        generation,
    }
}

fn entry(table: &HashTable, b: &Binding) -> HashEntry {
    HashEntry {
        hash: LookupHash::of(&b.threepid, &table.pepper),
        binding: b.clone(),
    }
}

fn alice() -> Binding {
    binding("email", "alice@example.org", "@alice:example.org")
}

fn bob() -> Binding {
    binding("msisdn", "447911123456", "@bob:example.org")
}

/// The bindings `table`'s pepper answers for `asked`, sorted.
async fn answers(store: &dyn HashStore, pepper: &Pepper, asked: &[&Binding]) -> Vec<Binding> {
    let hashes: Vec<LookupHash> = asked
        .iter()
        .map(|b| LookupHash::of(&b.threepid, pepper))
        .collect();
    let mut found: Vec<Binding> = store
        .find(pepper, &hashes)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            assert_eq!(e.hash, LookupHash::of(&e.binding.threepid, pepper));
            e.binding
        })
        .collect();
    found.sort();
    found
}

pub(crate) async fn nothing_is_published_in_a_new_store(store: &dyn HashStore) {
    assert_eq!(store.published().await.unwrap(), None);
    assert_eq!(answers(store, &pepper("p1"), &[&alice()]).await, vec![]);
}

pub(crate) async fn entries_are_put_found_and_removed(store: &dyn HashStore) {
    let t = table("p1", 1);
    store
        .put(&t, &[entry(&t, &alice()), entry(&t, &bob())])
        .await
        .unwrap();
    let mut both = vec![alice(), bob()];
    both.sort();
    assert_eq!(answers(store, &t.pepper, &[&alice(), &bob()]).await, both);
    // Only what was asked.
    assert_eq!(answers(store, &t.pepper, &[&bob()]).await, vec![bob()]);
    store
        .remove(&t.pepper, &LookupHash::of(&alice().threepid, &t.pepper))
        .await
        .unwrap();
    assert_eq!(
        answers(store, &t.pepper, &[&alice(), &bob()]).await,
        vec![bob()]
    );
    // Removing what is not there is not an error.
    store
        .remove(&t.pepper, &LookupHash::from_client("nothing"))
        .await
        .unwrap();
    store.put(&t, &[]).await.unwrap();
}

pub(crate) async fn putting_a_hash_again_replaces_its_binding(store: &dyn HashStore) {
    let t = table("p1", 1);
    store.put(&t, &[entry(&t, &alice())]).await.unwrap();
    let moved = binding("email", "alice@example.org", "@new:example.org");
    store.put(&t, &[entry(&t, &moved)]).await.unwrap();
    assert_eq!(answers(store, &t.pepper, &[&alice()]).await, vec![moved]);
}

pub(crate) async fn the_tables_of_two_peppers_are_separate(store: &dyn HashStore) {
    let (one, two) = (table("p1", 1), table("p2", 1));
    store.put(&one, &[entry(&one, &alice())]).await.unwrap();
    store.put(&two, &[entry(&two, &bob())]).await.unwrap();
    assert_eq!(
        answers(store, &one.pepper, &[&alice(), &bob()]).await,
        vec![alice()]
    );
    // The hash of a pepper asked under another pepper matches nothing.
    let hash = LookupHash::of(&alice().threepid, &one.pepper);
    assert_eq!(store.find(&two.pepper, &[hash]).await.unwrap(), vec![]);
    assert_eq!(store.prune_other_peppers(&two.pepper).await.unwrap(), 1);
    assert_eq!(answers(store, &one.pepper, &[&alice()]).await, vec![]);
    assert_eq!(answers(store, &two.pepper, &[&bob()]).await, vec![bob()]);
}

pub(crate) async fn publishing_records_the_table_and_sweeps_older_generations_of_its_pepper(
    store: &dyn HashStore,
) {
    let old = table("p1", 1);
    let other = table("p0", 1);
    store
        .put(&old, &[entry(&old, &alice()), entry(&old, &bob())])
        .await
        .unwrap();
    store.put(&other, &[entry(&other, &alice())]).await.unwrap();
    store.publish(&old).await.unwrap();
    assert_eq!(store.published().await.unwrap(), Some(old.clone()));

    // A rebuild under the same pepper sees alice again, not bob.
    let new = table("p1", 2);
    store.put(&new, &[entry(&new, &alice())]).await.unwrap();
    assert_eq!(
        answers(store, &new.pepper, &[&alice(), &bob()]).await.len(),
        2,
        "nothing is swept before the publication"
    );
    store.publish(&new).await.unwrap();
    assert_eq!(store.published().await.unwrap(), Some(new.clone()));
    assert_eq!(
        answers(store, &new.pepper, &[&alice(), &bob()]).await,
        vec![alice()]
    );
    // Other peppers are left for prune_other_peppers.
    assert_eq!(
        answers(store, &other.pepper, &[&alice()]).await,
        vec![alice()]
    );
}

pub(crate) async fn a_lookup_beyond_one_statement_finds_every_hash(store: &dyn HashStore) {
    let t = table("p1", 7);
    let bindings: Vec<Binding> = (0..1_234)
        .map(|n| binding("email", &format!("u{n}@example.org"), "@u:example.org"))
        .collect();
    let entries: Vec<HashEntry> = bindings.iter().map(|b| entry(&t, b)).collect();
    store.put(&t, &entries).await.unwrap();
    let asked: Vec<&Binding> = bindings.iter().collect();
    assert_eq!(answers(store, &t.pepper, &asked).await.len(), 1_234);
}

pub(crate) async fn a_generation_past_the_storable_range_is_refused(store: &dyn HashStore) {
    let t = table("p1", i64::MAX as u64 + 1);
    let err = store.put(&t, &[entry(&t, &alice())]).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt(what) if what.contains("generation")),
        "{err:?}"
    );
    let err = store.publish(&t).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert_eq!(store.published().await.unwrap(), None);
}

/// Readers asking which table is published while tables are published one after the other only
/// ever see whole publications, in order; and the entries of the published generation are there.
pub(crate) async fn concurrent_first_publications_all_get_the_one_that_landed<S>(store: &S)
where
    S: HashStore + Clone + 'static,
{
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let mut starts = tokio::task::JoinSet::new();
    for n in 0..8 {
        let (store, start) = (store.clone(), start.clone());
        starts.spawn(async move {
            start.wait().await;
            store
                .publish_first(&table(&format!("p{n}"), 1))
                .await
                .unwrap()
        });
    }
    let got = starts.join_all().await;
    let published = store.published().await.unwrap().unwrap();
    assert!(
        got.iter().all(|t| t == &published),
        "{got:?} vs {published:?}"
    );
    // Later: the published table stays, whatever is offered.
    assert_eq!(
        store.publish_first(&table("late", 1)).await.unwrap(),
        published
    );
}

pub(crate) async fn concurrent_readers_see_each_publication_whole<S>(store: &S)
where
    S: HashStore + Clone + 'static,
{
    let first = table("p1", 1);
    store.put(&first, &[entry(&first, &alice())]).await.unwrap();
    store.publish(&first).await.unwrap();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for generation in 2..=30 {
                let t = table("p1", generation);
                store.put(&t, &[entry(&t, &alice())]).await.unwrap();
                store.publish(&t).await.unwrap();
            }
        })
    };
    let mut readers = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let store = store.clone();
        readers.spawn(async move {
            let mut last = 0;
            for _ in 0..50 {
                let published = store.published().await.unwrap().unwrap();
                assert!(published.generation >= last, "publications never go back");
                last = published.generation;
                // alice is in every generation: whatever is published answers for her.
                let hash = LookupHash::of(&alice().threepid, &published.pepper);
                assert_eq!(
                    store.find(&published.pepper, &[hash]).await.unwrap().len(),
                    1
                );
            }
        });
    }
    writer.await.unwrap();
    while let Some(done) = readers.join_next().await {
        done.expect("reader");
    }
    assert_eq!(store.published().await.unwrap(), Some(table("p1", 30)));
}

/// Several tasks writing overlapping entries at once (a rebuild and refreshes): all succeed.
pub(crate) async fn concurrent_puts_of_the_same_hashes_all_succeed<S>(store: &S)
where
    S: HashStore + Clone + 'static,
{
    let t = table("p1", 1);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..8 {
        let store = store.clone();
        let t = t.clone();
        tasks.spawn(async move {
            let owner = binding("email", "alice@example.org", &format!("@u{n}:example.org"));
            let entries = vec![entry(&t, &owner), entry(&t, &bob())];
            store.put(&t, &entries).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task").expect("put");
    }
    assert_eq!(
        answers(store, &t.pepper, &[&alice(), &bob()]).await.len(),
        2
    );
}
