use verity_domain::{AccessToken, UserId};

use super::*;

const T0: u64 = 1_700_000_000_000;
const LIFETIME: Duration = Duration::from_secs(10);

fn at(millis_after_t0: u64) -> Timestamp {
    Timestamp::from_millis(T0 + millis_after_t0)
}

fn account(n: usize) -> Account {
    Account {
        token: AccessToken::parse(&format!("token-{n}"))
            .unwrap()
            .fingerprint(),
        user_id: UserId::parse(&format!("@user{n}:example.org")).unwrap(),
        created_at: at(0),
        expires_at: None,
    }
}

#[test]
fn a_cached_account_is_served_until_its_lifetime_runs_out() {
    let cache = AccountCache::new(LIFETIME, 10);
    cache.put(account(1), at(0));
    assert_eq!(
        cache.get(&account(1).token, at(9_999)),
        Some((account(1), false))
    );
    assert_eq!(cache.get(&account(1).token, at(10_000)), None);
    assert_eq!(cache.len(), 0, "the entry that ran out is dropped");
}

#[test]
fn an_unknown_token_is_not_served() {
    let cache = AccountCache::new(LIFETIME, 10);
    cache.put(account(1), at(0));
    assert_eq!(cache.get(&account(2).token, at(0)), None);
}

#[test]
fn a_removed_account_is_not_served() {
    let cache = AccountCache::new(LIFETIME, 10);
    cache.put(account(1), at(0));
    cache.remove(&account(1).token);
    assert_eq!(cache.get(&account(1).token, at(1)), None);
}

#[test]
fn a_full_cache_evicts_the_oldest_entry() {
    let cache = AccountCache::new(LIFETIME, 3);
    for n in 0..5 {
        cache.put(account(n), at(n as u64));
    }
    assert_eq!(cache.len(), 3);
    assert_eq!(cache.get(&account(0).token, at(5)), None);
    assert_eq!(cache.get(&account(1).token, at(5)), None);
    for n in 2..5 {
        assert_eq!(
            cache.get(&account(n).token, at(5)),
            Some((account(n), false))
        );
    }
}

#[test]
fn entries_that_ran_out_are_evicted_when_another_is_cached() {
    let cache = AccountCache::new(LIFETIME, 10);
    cache.put(account(1), at(0));
    cache.put(account(2), at(1));
    cache.put(account(3), at(10_001));
    assert_eq!(cache.len(), 1);
}

#[test]
fn caching_an_account_again_renews_it_and_keeps_one_entry() {
    let cache = AccountCache::new(LIFETIME, 2);
    cache.put(account(1), at(0));
    cache.put(account(2), at(1));
    cache.put(account(1), at(5_000));
    cache.put(account(3), at(5_001));
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.get(&account(2).token, at(5_002)), None, "the oldest");
    assert_eq!(
        cache.get(&account(1).token, at(14_999)),
        Some((account(1), false))
    );
}

#[test]
fn many_logouts_do_not_grow_the_queue_past_twice_the_capacity() {
    let cache = AccountCache::new(LIFETIME, 4);
    cache.put(account(0), at(0));
    for n in 1..1_000 {
        cache.put(account(n), at(1));
        cache.remove(&account(n).token);
    }
    assert_eq!(cache.len(), 1);
    assert!(cache.queued() <= 8, "{} pushes queued", cache.queued());
}

#[test]
fn a_zero_lifetime_or_capacity_caches_nothing() {
    for cache in [
        AccountCache::new(Duration::ZERO, 10),
        AccountCache::new(LIFETIME, 0),
    ] {
        cache.put(account(1), at(0));
        assert_eq!(cache.get(&account(1).token, at(0)), None);
        assert_eq!(cache.len(), 0);
    }
}
