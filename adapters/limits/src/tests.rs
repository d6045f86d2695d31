use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::FakeRelativeClock;
use pretty_assertions::assert_eq;
use verity_application::ports::driven::RateLimiter;
use verity_domain::{
    EmailAddress, LimitClass, LimitKey, Msisdn, RequesterKey, RetryAfter, ThreePid, UserId,
};

use super::{GovernorLimiter, Limit, LimitSettings};

fn limit(burst: u32, secs: u64) -> Limit {
    Limit::new(NonZeroU32::new(burst).unwrap(), Duration::from_secs(secs))
}

fn settings() -> LimitSettings {
    LimitSettings {
        email_requester: limit(5, 300),
        email_destination: limit(3, 600),
        msisdn_requester: limit(5, 300),
        msisdn_destination: limit(5, 3600),
        msisdn_country: limit(50, 60),
        sms_hourly_budget: NonZeroU32::new(2).unwrap(),
        invite: limit(5, 300),
        register: limit(10, 10),
        submit_token: limit(30, 2),
        bind: limit(20, 10),
        lookup: limit(100, 1),
        login_source: limit(4, 1),
        login_user: limit(2, 60),
        directory: limit(3, 1),
        max_keys: 1000,
    }
}

fn limiter(settings: &LimitSettings) -> (GovernorLimiter<FakeRelativeClock>, FakeRelativeClock) {
    let clock = FakeRelativeClock::default();
    (GovernorLimiter::with_clock(settings, clock.clone()), clock)
}

fn account(name: &str) -> LimitKey {
    LimitKey::Requester(
        LimitClass::EmailToken,
        RequesterKey::Account(UserId::parse(&format!("@{name}:example.org")).unwrap()),
    )
}

fn address(ip: &str) -> LimitKey {
    LimitKey::Requester(
        LimitClass::EmailToken,
        RequesterKey::address(ip.parse().unwrap()),
    )
}

#[test]
fn a_requester_gets_its_burst_then_waits_one_period() {
    let (limits, _clock) = limiter(&settings());
    for _ in 0..5 {
        assert_eq!(limits.check(&account("alice"), 1), Ok(()));
    }
    assert_eq!(
        limits.check(&account("alice"), 1),
        Err(RetryAfter::new(Duration::from_secs(300)))
    );
    // Another requester has its own allowance.
    assert_eq!(limits.check(&account("bob"), 1), Ok(()));
}

#[test]
fn the_allowance_refills_one_request_per_period() {
    let (limits, clock) = limiter(&settings());
    for _ in 0..5 {
        limits.check(&account("alice"), 1).unwrap();
    }
    clock.advance(Duration::from_secs(200));
    assert_eq!(
        limits.check(&account("alice"), 1),
        Err(RetryAfter::new(Duration::from_secs(100)))
    );
    clock.advance(Duration::from_secs(100));
    assert_eq!(limits.check(&account("alice"), 1), Ok(()));
    assert!(limits.check(&account("alice"), 1).is_err());
}

#[test]
fn addresses_in_one_ipv6_slash_64_share_an_allowance() {
    let (limits, _clock) = limiter(&settings());
    for host in 1..=5 {
        limits
            .check(&address(&format!("2001:db8::{host}")), 1)
            .unwrap();
    }
    assert!(limits.check(&address("2001:db8::ffff:1"), 1).is_err());
    assert_eq!(limits.check(&address("2001:db8:0:1::1"), 1), Ok(()));
}

#[test]
fn a_cost_above_the_burst_empties_the_allowance_instead_of_never_passing() {
    let (limits, clock) = limiter(&settings());
    let lookups = LimitKey::Requester(LimitClass::Lookup, RequesterKey::Unknown);
    assert_eq!(limits.check(&lookups, 5000), Ok(()));
    assert!(limits.check(&lookups, 1).is_err());
    clock.advance(Duration::from_secs(10));
    assert_eq!(limits.check(&lookups, 10), Ok(()));
    assert!(limits.check(&lookups, 1).is_err());
}

#[test]
fn each_destination_has_its_own_allowance_by_medium() {
    let (limits, _clock) = limiter(&settings());
    let email = LimitKey::Destination(ThreePid::Email(
        EmailAddress::parse("v@example.org").unwrap(),
    ));
    let phone = LimitKey::Destination(ThreePid::Msisdn(Msisdn::parse("447911123456").unwrap()));
    for _ in 0..3 {
        limits.check(&email, 1).unwrap();
    }
    assert_eq!(
        limits.check(&email, 1),
        Err(RetryAfter::new(Duration::from_secs(600)))
    );
    for _ in 0..5 {
        limits.check(&phone, 1).unwrap();
    }
    assert_eq!(
        limits.check(&phone, 1),
        Err(RetryAfter::new(Duration::from_secs(3600)))
    );
}

#[test]
fn the_sms_budget_is_shared_by_every_number_and_refills_over_the_hour() {
    let (limits, clock) = limiter(&settings());
    assert_eq!(limits.check(&LimitKey::SmsBudget, 1), Ok(()));
    assert_eq!(limits.check(&LimitKey::SmsBudget, 1), Ok(()));
    assert_eq!(
        limits.check(&LimitKey::SmsBudget, 1),
        Err(RetryAfter::new(Duration::from_secs(1800)))
    );
    clock.advance(Duration::from_secs(1800));
    assert_eq!(limits.check(&LimitKey::SmsBudget, 1), Ok(()));
}

#[test]
fn beyond_the_key_cap_new_keys_share_one_allowance_and_known_keys_keep_theirs() {
    let mut capped = settings();
    capped.max_keys = 3;
    let (limits, _clock) = limiter(&capped);
    for name in ["a", "b", "c"] {
        limits.check(&account(name), 1).unwrap();
    }
    // Full: d, e ... share the overflow entry, five requests in all.
    for name in ["d", "e", "f", "g", "h"] {
        assert_eq!(limits.check(&account(name), 1), Ok(()));
    }
    assert!(limits.check(&account("i"), 1).is_err());
    // A known key is still counted on its own.
    assert_eq!(limits.check(&account("a"), 1), Ok(()));
    assert!(limits.keys() <= 4 + 10, "bounded");
}

#[test]
fn housekeeping_drops_only_entries_that_are_as_good_as_fresh() {
    let (limits, clock) = limiter(&settings());
    for _ in 0..5 {
        limits.check(&account("busy"), 1).unwrap();
    }
    limits.check(&account("idle"), 1).unwrap();
    let before = limits.keys();
    // governor keeps an entry one period past its repayment, to be safe: idle's one request
    // is repaid at 300 s, busy's five at 1500 s.
    clock.advance(Duration::from_secs(700));
    limits.housekeep();
    assert_eq!(limits.keys(), before - 1);
    // busy's state was kept: two of its five are repaid by now, not all five.
    assert!(limits.check(&account("busy"), 1).is_ok());
    assert!(limits.check(&account("busy"), 1).is_ok());
    assert!(limits.check(&account("busy"), 1).is_err());
}

/// Collects what is logged while the guard lives.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn errors(&self) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|line| line.contains("ERROR") && line.contains("hourlyBudget"))
            .count()
    }
}

#[test]
fn a_spent_sms_budget_is_logged_as_an_error_at_most_once_an_hour() {
    use tracing_subscriber::util::SubscriberInitExt as _;
    let logs = Captured::default();
    let writer = logs.clone();
    let _guard = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish()
        .set_default();
    let (limits, clock) = limiter(&settings());
    for _ in 0..2 {
        limits.check(&LimitKey::SmsBudget, 1).unwrap();
    }
    assert_eq!(logs.errors(), 0, "not spent yet");
    for _ in 0..3 {
        assert!(limits.check(&LimitKey::SmsBudget, 1).is_err());
    }
    assert_eq!(logs.errors(), 1, "once, however many are refused");
    clock.advance(Duration::from_secs(3600));
    for _ in 0..3 {
        limits.check(&LimitKey::SmsBudget, 1).ok();
    }
    assert_eq!(logs.errors(), 2, "again an hour later, while still spent");
}

fn failed_logins_of(name: &str) -> LimitKey {
    LimitKey::FailedLoginOf(UserId::parse(&format!("@{name}:example.org")).unwrap())
}

#[test]
fn a_refund_gives_back_what_a_check_counted_and_never_more_than_the_whole_allowance() {
    let (limits, _clock) = limiter(&settings());
    let alice = failed_logins_of("alice");
    limits.check(&alice, 1).unwrap();
    limits.check(&alice, 1).unwrap();
    let refused = Err(RetryAfter::new(Duration::from_secs(60)));
    assert_eq!(limits.check(&alice, 1), refused);
    // One given back: one more passes, then the allowance is spent again.
    limits.refund(&alice, 1);
    assert_eq!(limits.check(&alice, 1), Ok(()));
    assert_eq!(limits.check(&alice, 1), refused);
    // Giving back more than was counted restores the whole allowance, no more.
    for _ in 0..10 {
        limits.refund(&alice, 1);
    }
    limits.check(&alice, 1).unwrap();
    limits.check(&alice, 1).unwrap();
    assert_eq!(limits.check(&alice, 1), refused);
    // A key never counted holds nothing to give back and gets no entry.
    let before = limits.keys();
    limits.refund(&failed_logins_of("bob"), 1);
    assert_eq!(limits.keys(), before);
}

#[test]
fn failed_logins_are_counted_per_user_and_per_source_with_their_own_limits() {
    let (limits, clock) = limiter(&settings());
    for _ in 0..2 {
        limits.check(&failed_logins_of("alice"), 1).unwrap();
    }
    assert!(limits.check(&failed_logins_of("alice"), 1).is_err());
    assert_eq!(limits.check(&failed_logins_of("bob"), 1), Ok(()));
    let source = LimitKey::Requester(
        LimitClass::FailedLogin,
        RequesterKey::address("127.0.0.1".parse().unwrap()),
    );
    for _ in 0..4 {
        limits.check(&source, 1).unwrap();
    }
    assert_eq!(
        limits.check(&source, 1),
        Err(RetryAfter::new(Duration::from_secs(1)))
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(limits.check(&source, 1), Ok(()));
}
