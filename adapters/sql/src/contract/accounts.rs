//! What every [`AccountStore`] must do, whatever the database behind it.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{AccountStore, StoreError};
use verity_domain::{AccessToken, Account, Timestamp, TokenFingerprint, UserId};

/// The largest time a signed 64-bit millisecond column holds.
const LAST_STORABLE_MS: u64 = i64::MAX as u64;

pub(crate) fn fingerprint(token: &str) -> TokenFingerprint {
    AccessToken::parse(token).unwrap().fingerprint()
}

pub(crate) fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

/// An account of `@alice:example.org` for `token`, created at 1 000 ms, expiring at `expires_at`.
pub(crate) fn account(token: &str, expires_at: Option<u64>) -> Account {
    Account {
        token: fingerprint(token),
        user_id: user("@alice:example.org"),
        created_at: Timestamp::from_millis(1_000),
        expires_at: expires_at.map(Timestamp::from_millis),
    }
}

async fn insert_all(store: &dyn AccountStore, accounts: &[Account]) {
    for account in accounts {
        store.insert(account).await.unwrap();
    }
}

pub(crate) async fn accounts_round_trip_with_and_without_expiry(store: &dyn AccountStore) {
    let all = [
        account("expiring", Some(86_400_000)),
        account("forever", None),
        Account {
            user_id: user("@Historic.User/+=:matrix.example.org:8448"),
            created_at: Timestamp::from_millis(0),
            ..account("edges", Some(LAST_STORABLE_MS))
        },
    ];
    insert_all(store, &all).await;
    for expected in &all {
        let found = store.find(&expected.token).await.unwrap();
        assert_eq!(found.as_ref(), Some(expected));
    }
}

pub(crate) async fn inserting_an_existing_fingerprint_is_a_conflict_and_keeps_the_original(
    store: &dyn AccountStore,
) {
    let original = account("dup", Some(5_000));
    store.insert(&original).await.unwrap();
    let intruder = Account {
        user_id: user("@mallory:example.org"),
        created_at: Timestamp::from_millis(2_000),
        ..account("dup", None)
    };
    let err = store.insert(&intruder).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    assert_eq!(
        store.find(&fingerprint("dup")).await.unwrap(),
        Some(original)
    );
}

pub(crate) async fn finding_an_unknown_token_returns_none(store: &dyn AccountStore) {
    store.insert(&account("known", None)).await.unwrap();
    assert_eq!(store.find(&fingerprint("unknown")).await.unwrap(), None);
}

pub(crate) async fn delete_returns_true_then_false_and_spares_the_others(store: &dyn AccountStore) {
    let neighbour = account("neighbour", None);
    insert_all(store, &[account("leaving", None), neighbour.clone()]).await;
    assert!(store.delete(&fingerprint("leaving")).await.unwrap());
    assert_eq!(store.find(&fingerprint("leaving")).await.unwrap(), None);
    assert!(!store.delete(&fingerprint("leaving")).await.unwrap());
    assert!(!store.delete(&fingerprint("never-existed")).await.unwrap());
    assert_eq!(store.find(&neighbour.token).await.unwrap(), Some(neighbour));
}

pub(crate) async fn purge_deletes_exactly_the_accounts_expired_at_or_before_now(
    store: &dyn AccountStore,
) {
    let now = 10_000;
    let cases = [
        ("expired-long-ago", Some(1), false),
        ("expires-just-before", Some(now - 1), false),
        ("expires-exactly-now", Some(now), false),
        ("expires-just-after", Some(now + 1), true),
        ("expires-much-later", Some(LAST_STORABLE_MS), true),
        ("never-expires", None, true),
    ];
    for (token, expires_at, _) in cases {
        store.insert(&account(token, expires_at)).await.unwrap();
    }
    let purged = store.purge_expired(Timestamp::from_millis(now)).await;
    assert_eq!(purged.unwrap(), 3);
    for (token, _, kept) in cases {
        let found = store.find(&fingerprint(token)).await.unwrap();
        assert_eq!(found.is_some(), kept, "{token}");
    }
    let again = store.purge_expired(Timestamp::from_millis(now)).await;
    assert_eq!(again.unwrap(), 0);
}

pub(crate) async fn a_now_past_every_storable_time_purges_every_expiring_account_only(
    store: &dyn AccountStore,
) {
    insert_all(
        store,
        &[
            account("early", Some(0)),
            account("last", Some(LAST_STORABLE_MS)),
            account("forever", None),
        ],
    )
    .await;
    let purged = store.purge_expired(Timestamp::from_millis(u64::MAX)).await;
    assert_eq!(purged.unwrap(), 2);
    assert!(store.find(&fingerprint("forever")).await.unwrap().is_some());
}

pub(crate) async fn accounts_of_different_users_are_independent(store: &dyn AccountStore) {
    let alice_phone = account("alice-phone", None);
    let alice_laptop = account("alice-laptop", Some(50_000));
    let bob = Account {
        user_id: user("@bob:other.example"),
        ..account("bob-phone", Some(50_000))
    };
    insert_all(store, &[alice_phone.clone(), alice_laptop, bob.clone()]).await;
    assert!(store.delete(&fingerprint("alice-laptop")).await.unwrap());
    assert_eq!(
        store.find(&alice_phone.token).await.unwrap(),
        Some(alice_phone)
    );
    assert_eq!(store.find(&bob.token).await.unwrap(), Some(bob));
}

pub(crate) async fn a_time_past_the_storable_range_is_refused_rather_than_wrapped(
    store: &dyn AccountStore,
) {
    let too_late = account("too-late", Some(LAST_STORABLE_MS + 1));
    let err = store.insert(&too_late).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt(what) if what.contains("expires_at")),
        "{err:?}"
    );
    assert_eq!(store.find(&too_late.token).await.unwrap(), None);
}
