use std::sync::{Arc, Mutex};
use std::time::Duration;

use mockall::Sequence;
use mockall::predicate::eq;
use pretty_assertions::assert_eq;
use verity_domain::{
    EmailAddress, IpNetwork, LimitClass, LimitKey, LimitedRequest, Msisdn, Requester, RequesterKey,
    RetryAfter, ThreePid, UserId,
};

use super::LimitService;
use crate::ports::driven::MockRateLimiter;
use crate::ports::driving::{Caller, LimitExceeded, Limits};

fn proxies() -> Arc<[IpNetwork]> {
    Arc::from(vec![IpNetwork::parse("10.0.0.0/8").unwrap()])
}

fn phone() -> ThreePid {
    ThreePid::Msisdn(Msisdn::parse("447911123456").unwrap())
}

fn alice() -> UserId {
    UserId::parse("@alice:example.org").unwrap()
}

#[test]
fn a_refused_destination_stops_before_the_country_and_the_sms_budget() {
    let mut limiter = MockRateLimiter::new();
    let mut order = Sequence::new();
    let requester = LimitKey::Requester(LimitClass::MsisdnToken, RequesterKey::Account(alice()));
    limiter
        .expect_check()
        .with(eq(requester), eq(1))
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _| Ok(()));
    limiter
        .expect_check()
        .with(eq(LimitKey::Destination(phone())), eq(1))
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _| Err(RetryAfter::new(Duration::from_secs(60))));
    // No expectation for the country or the budget: a call to either fails the test.
    let limits = LimitService::new(Arc::new(limiter), proxies());

    let refused = limits.admit(
        &Caller::Account(alice()),
        &LimitedRequest::RequestToken(phone()),
    );

    assert_eq!(
        refused,
        Err(LimitExceeded(RetryAfter::new(Duration::from_secs(60))))
    );
}

#[test]
fn a_client_behind_a_trusted_proxy_is_counted_by_its_forwarded_address() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut limiter = MockRateLimiter::new();
    let record = seen.clone();
    limiter.expect_check().returning(move |key, _| {
        record.lock().unwrap().push(key.clone());
        Ok(())
    });
    let limits = LimitService::new(Arc::new(limiter), proxies());
    let behind_proxy = Requester::new(Some("10.0.0.2".parse().unwrap()), ["198.51.100.7"]);
    let direct = Requester::new(Some("203.0.113.9".parse().unwrap()), ["198.51.100.7"]);

    limits
        .admit(&Caller::Client(behind_proxy), &LimitedRequest::Register)
        .unwrap();
    limits
        .admit(&Caller::Client(direct), &LimitedRequest::Register)
        .unwrap();

    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            LimitKey::Requester(
                LimitClass::Register,
                RequesterKey::address("198.51.100.7".parse().unwrap())
            ),
            // Not a trusted proxy: its X-Forwarded-For is the client's claim, not believed.
            LimitKey::Requester(
                LimitClass::Register,
                RequesterKey::address("203.0.113.9".parse().unwrap())
            ),
        ]
    );
}

#[test]
fn a_lookup_is_counted_by_its_number_of_addresses() {
    let mut limiter = MockRateLimiter::new();
    limiter
        .expect_check()
        .with(
            eq(LimitKey::Requester(
                LimitClass::Lookup,
                RequesterKey::Account(alice()),
            )),
            eq(120),
        )
        .times(1)
        .returning(|_, _| Ok(()));
    let limits = LimitService::new(Arc::new(limiter), proxies());

    let admitted = limits.admit(&Caller::Account(alice()), &LimitedRequest::Lookup(120));

    assert_eq!(admitted, Ok(()));
}

#[test]
fn an_invite_counts_the_address_whoever_sends_it() {
    let address = ThreePid::Email(EmailAddress::parse("victim@example.org").unwrap());
    let mut limiter = MockRateLimiter::new();
    limiter
        .expect_check()
        .withf(|key, _| matches!(key, LimitKey::Requester(LimitClass::Invite, _)))
        .returning(|_, _| Ok(()));
    limiter
        .expect_check()
        .with(eq(LimitKey::Destination(address.clone())), eq(1))
        .times(1)
        .returning(|_, _| Err(RetryAfter::new(Duration::from_secs(1))));
    let limits = LimitService::new(Arc::new(limiter), proxies());

    let refused = limits.admit(
        &Caller::Account(alice()),
        &LimitedRequest::StoreInvite {
            sender: alice(),
            threepid: address,
        },
    );

    assert!(refused.is_err());
}
