use std::net::IpAddr;
use std::time::Duration;

use pretty_assertions::assert_eq;

use super::*;
use crate::{EmailAddress, Msisdn};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn email(address: &str) -> ThreePid {
    ThreePid::Email(EmailAddress::parse(address).unwrap())
}

#[test]
fn ipv6_requesters_in_one_slash_64_share_a_key() {
    assert_eq!(
        RequesterKey::address(ip("2001:db8:1:2:aaaa::1")),
        RequesterKey::address(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"))
    );
    assert_ne!(
        RequesterKey::address(ip("2001:db8:1:2::1")),
        RequesterKey::address(ip("2001:db8:1:3::1"))
    );
}

#[test]
fn an_ipv4_mapped_requester_is_its_ipv4_address() {
    assert_eq!(
        RequesterKey::address(ip("::ffff:198.51.100.7")),
        RequesterKey::Address(ip("198.51.100.7"))
    );
    assert_ne!(
        RequesterKey::address(ip("198.51.100.7")),
        RequesterKey::address(ip("198.51.100.8"))
    );
}

#[test]
fn an_unknown_address_is_the_unknown_requester() {
    assert_eq!(RequesterKey::of(None), RequesterKey::Unknown);
}

#[test]
fn an_sms_request_counts_requester_number_country_and_budget_in_that_order() {
    let number = ThreePid::Msisdn(Msisdn::parse("447911123456").unwrap());
    let requester = RequesterKey::Account(user("@alice:example.org"));
    let keys: Vec<LimitKey> = LimitedRequest::RequestToken(number.clone())
        .checks(&requester)
        .into_iter()
        .map(|check| check.key)
        .collect();
    assert_eq!(
        keys,
        vec![
            LimitKey::Requester(LimitClass::MsisdnToken, requester),
            LimitKey::Destination(number),
            LimitKey::Country(44),
            LimitKey::SmsBudget,
        ]
    );
}

#[test]
fn an_email_request_counts_requester_then_address() {
    let address = email("bob@example.org");
    let requester = RequesterKey::address(ip("198.51.100.7"));
    let checks = LimitedRequest::RequestToken(address.clone()).checks(&requester);
    assert_eq!(
        checks,
        vec![
            LimitCheck {
                key: LimitKey::Requester(LimitClass::EmailToken, requester),
                cost: 1
            },
            LimitCheck {
                key: LimitKey::Destination(address),
                cost: 1
            },
        ]
    );
}

#[test]
fn a_v2_invite_counts_its_sender_once() {
    let sender = user("@alice:example.org");
    let address = email("bob@example.org");
    let request = LimitedRequest::StoreInvite {
        sender: sender.clone(),
        threepid: address.clone(),
    };
    let checks = request.checks(&RequesterKey::Account(sender.clone()));
    assert_eq!(checks.len(), 2);
    let v1 = request.checks(&RequesterKey::address(ip("198.51.100.7")));
    assert_eq!(
        v1[1].key,
        LimitKey::Requester(LimitClass::Invite, RequesterKey::Account(sender))
    );
    assert_eq!(v1[2].key, LimitKey::Destination(address));
}

#[test]
fn a_lookup_costs_its_number_of_addresses_and_at_least_one() {
    let requester = RequesterKey::Unknown;
    assert_eq!(LimitedRequest::Lookup(250).checks(&requester)[0].cost, 250);
    assert_eq!(LimitedRequest::Lookup(0).checks(&requester)[0].cost, 1);
}

#[test]
fn retry_after_rounds_up_and_is_never_zero() {
    let wait = RetryAfter::new(Duration::from_micros(1_000_001));
    assert_eq!(wait.as_millis(), 1001);
    assert_eq!(wait.as_secs_ceil(), 2);
    assert_eq!(RetryAfter::new(Duration::ZERO).as_millis(), 1);
    assert_eq!(RetryAfter::new(Duration::ZERO).as_secs_ceil(), 1);
}

#[test]
fn a_notification_is_paid_by_its_destination_whoever_caused_it() {
    let keys = |threepid: &ThreePid| -> Vec<LimitKey> {
        LimitedRequest::Notification(threepid.clone())
            .checks(&RequesterKey::Account(user("@mallory:example.org")))
            .into_iter()
            .map(|check| check.key)
            .collect()
    };
    let address = email("victim@example.org");
    assert_eq!(keys(&address), vec![LimitKey::Destination(address.clone())]);
    let number = ThreePid::Msisdn(Msisdn::parse("447911123456").unwrap());
    assert_eq!(
        keys(&number),
        vec![
            LimitKey::Destination(number.clone()),
            LimitKey::Country(44),
            LimitKey::SmsBudget,
        ]
    );
}

#[test]
fn a_failed_login_counts_against_its_user_first_then_its_source() {
    let source = RequesterKey::address(ip("127.0.0.1"));
    let checks = LimitedRequest::FailedLogin(user("@alice:example.org")).checks(&source);
    assert_eq!(
        checks,
        vec![
            LimitCheck {
                key: LimitKey::FailedLoginOf(user("@alice:example.org")),
                cost: 1,
            },
            LimitCheck {
                key: LimitKey::Requester(LimitClass::FailedLogin, source.clone()),
                cost: 1,
            },
        ]
    );
}

#[test]
fn the_failed_logins_of_one_user_are_counted_together_whatever_the_case_it_was_typed_in() {
    let source = RequesterKey::address(ip("127.0.0.1"));
    let typed = |id| LimitedRequest::FailedLogin(user(id)).checks(&source);
    assert_eq!(typed("@Alice:Example.ORG"), typed("@alice:example.org"));
    assert_eq!(typed("@ALICE:example.org"), typed("@alice:example.org"));
}
