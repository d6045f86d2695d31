//! What every [`TermsStore`] must do, whatever the database behind it.
use std::collections::BTreeSet;

use pretty_assertions::assert_eq;
use verity_application::ports::driven::{StoreError, TermsStore};
use verity_domain::Timestamp;

use super::accounts::user;

fn urls(raw: &[&str]) -> Vec<String> {
    raw.iter().map(|&url| url.to_owned()).collect()
}

fn set(raw: &[&str]) -> BTreeSet<String> {
    raw.iter().map(|&url| url.to_owned()).collect()
}

const AT: Timestamp = Timestamp::from_millis(1_000);

pub(crate) async fn a_user_who_accepted_nothing_has_an_empty_set(store: &dyn TermsStore) {
    let alice = user("@alice:example.org");
    assert_eq!(store.accepted(&alice).await.unwrap(), BTreeSet::new());
    // Accepting nothing records nothing, and is not an error.
    store.accept(&alice, &[], AT).await.unwrap();
    assert_eq!(store.accepted(&alice).await.unwrap(), BTreeSet::new());
}

pub(crate) async fn accepting_again_is_not_an_error_and_changes_nothing(store: &dyn TermsStore) {
    let alice = user("@alice:example.org");
    let tos = urls(&["https://example.org/tos-v1"]);
    store.accept(&alice, &tos, AT).await.unwrap();
    store.accept(&alice, &tos, AT).await.unwrap();
    store
        .accept(&alice, &tos, Timestamp::from_millis(9_000))
        .await
        .unwrap();
    // Old and new URLs together: only the new one is added.
    let both = urls(&["https://example.org/tos-v1", "https://example.org/privacy"]);
    store.accept(&alice, &both, AT).await.unwrap();
    assert_eq!(
        store.accepted(&alice).await.unwrap(),
        set(&["https://example.org/privacy", "https://example.org/tos-v1"])
    );
}

pub(crate) async fn acceptances_are_per_user(store: &dyn TermsStore) {
    let alice = user("@alice:example.org");
    let bob = user("@bob:example.org");
    let alice_elsewhere = user("@alice:other.example");
    store
        .accept(&alice, &urls(&["https://example.org/tos"]), AT)
        .await
        .unwrap();
    store
        .accept(&bob, &urls(&["https://example.org/privacy"]), AT)
        .await
        .unwrap();
    assert_eq!(
        store.accepted(&alice).await.unwrap(),
        set(&["https://example.org/tos"])
    );
    assert_eq!(
        store.accepted(&bob).await.unwrap(),
        set(&["https://example.org/privacy"])
    );
    assert_eq!(
        store.accepted(&alice_elsewhere).await.unwrap(),
        BTreeSet::new()
    );
}

pub(crate) async fn several_urls_are_accepted_at_once(store: &dyn TermsStore) {
    let alice = user("@alice:example.org");
    let several = urls(&[
        "https://example.org/tos/en",
        "https://example.org/tos/fr",
        "https://example.org/privacy?lang=en&v=2",
        // The same URL twice in one call is one acceptance, not a conflict.
        "https://example.org/tos/en",
    ]);
    store.accept(&alice, &several, AT).await.unwrap();
    assert_eq!(
        store.accepted(&alice).await.unwrap(),
        set(&[
            "https://example.org/privacy?lang=en&v=2",
            "https://example.org/tos/en",
            "https://example.org/tos/fr",
        ])
    );
}

pub(crate) async fn more_urls_than_one_statement_binds_are_all_accepted(store: &dyn TermsStore) {
    let alice = user("@alice:example.org");
    let many: Vec<String> = (0..1_000)
        .map(|n| format!("https://example.org/doc/{n}"))
        .collect();
    store.accept(&alice, &many, AT).await.unwrap();
    let accepted = store.accepted(&alice).await.unwrap();
    assert_eq!(accepted, many.into_iter().collect());
}

pub(crate) async fn a_time_past_the_storable_range_is_refused_and_records_nothing(
    store: &dyn TermsStore,
) {
    let alice = user("@alice:example.org");
    let too_late = Timestamp::from_millis(i64::MAX as u64 + 1);
    let err = store
        .accept(&alice, &urls(&["https://example.org/tos"]), too_late)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt(what) if what.contains("accepted_at")),
        "{err:?}"
    );
    assert_eq!(store.accepted(&alice).await.unwrap(), BTreeSet::new());
}

/// Several tasks accepting the same URLs for the same user at once, as a client retrying does:
/// every call succeeds and the set is the same. Generic: each task needs its own handle.
pub(crate) async fn concurrent_acceptances_of_the_same_urls_all_succeed<S>(store: &S)
where
    S: TermsStore + Clone + 'static,
{
    let wanted = urls(&["https://example.org/tos", "https://example.org/privacy"]);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..8 {
        let (store, wanted) = (store.clone(), wanted.clone());
        tasks.spawn(async move {
            let alice = user("@alice:example.org");
            store
                .accept(&alice, &wanted, Timestamp::from_millis(n))
                .await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task").expect("accept");
    }
    let accepted = store.accepted(&user("@alice:example.org")).await.unwrap();
    assert_eq!(accepted, wanted.into_iter().collect());
}
