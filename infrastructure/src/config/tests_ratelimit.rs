//! `ratelimit.*` and `server.trustedProxies`.
use std::num::NonZeroU32;
use std::time::Duration;

use pretty_assertions::assert_eq;
use verity_domain::IpNetwork;

use super::tests::parsed;
use super::*;

fn with(section: &str) -> String {
    format!("matrix: {{domain: example.org}}\n{section}")
}

fn refused(yaml: &str) -> String {
    match parse(yaml) {
        Ok(_) => panic!("the configuration was accepted:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn limits_are_on_by_default_with_sydents_numbers_where_sydent_has_them() {
    let settings = parsed(&with("")).settings.ratelimit;
    assert!(settings.enabled);
    let l = settings.limits;
    assert_eq!(
        (l.email_requester.burst.get(), l.email_requester.period),
        (5, Duration::from_secs(300))
    );
    assert_eq!(
        (
            l.msisdn_destination.burst.get(),
            l.msisdn_destination.period
        ),
        (5, Duration::from_secs(3600))
    );
    assert_eq!(
        (l.msisdn_country.burst.get(), l.msisdn_country.period),
        (50, Duration::from_secs(60))
    );
    assert_eq!(
        (l.invite.burst.get(), l.invite.period),
        (5, Duration::from_secs(300))
    );
    assert!(settings.trusted_proxies.is_empty());
}

#[test]
fn every_limit_can_be_set_and_the_dump_parses_back_the_same() {
    let loaded = parsed(&with(
        "ratelimit:\n  maxKeys: 500\n  email:\n    requester: {burst: 2, perSeconds: 10}\n  \
         msisdn:\n    country: {burst: 7}\n    hourlyBudget: 30\n  lookup: {burst: 50, perSeconds: 0.5}\n",
    ));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let l = loaded.settings.ratelimit.limits;
    assert_eq!(l.max_keys, 500);
    assert_eq!(l.email_requester.burst.get(), 2);
    assert_eq!(l.email_requester.period, Duration::from_secs(10));
    // Only the burst given: the period keeps its default.
    assert_eq!(l.msisdn_country.burst.get(), 7);
    assert_eq!(l.msisdn_country.period, Duration::from_secs(60));
    assert_eq!(l.sms_hourly_budget, NonZeroU32::new(30).unwrap());
    assert_eq!(l.lookup.period, Duration::from_millis(500));
    let yaml = effective_yaml(&loaded.settings);
    assert_eq!(parsed(&yaml).settings.ratelimit, loaded.settings.ratelimit);
}

#[test]
fn limits_are_off_only_when_the_operator_says_so() {
    assert!(
        !parsed(&with("ratelimit: {enabled: false}\n"))
            .settings
            .ratelimit
            .enabled
    );
}

#[test]
fn a_zero_burst_budget_or_period_is_refused_naming_the_key() {
    assert!(refused(&with("ratelimit: {bind: {burst: 0}}\n")).contains("ratelimit.bind.burst"));
    assert!(
        refused(&with("ratelimit: {msisdn: {hourlyBudget: 0}}\n"))
            .contains("ratelimit.msisdn.hourlyBudget")
    );
    assert!(
        refused(&with("ratelimit: {register: {perSeconds: 0}}\n"))
            .contains("ratelimit.register.perSeconds")
    );
}

#[test]
fn server_trusted_proxies_serve_the_limits_and_the_recursive_lookups() {
    let settings = parsed(&with("server: {trustedProxies: ['10.0.0.0/8']}\n")).settings;
    let expected = vec![IpNetwork::parse("10.0.0.0/8").unwrap()];
    assert_eq!(settings.ratelimit.trusted_proxies, expected);
    assert_eq!(
        settings.lookups.recursive.forwarding.trusted_proxies,
        expected
    );
}

#[test]
fn the_older_recursive_trusted_proxies_key_still_works() {
    let settings = parsed(&with(
        "lookup: {recursive: {trustedProxies: ['192.168.1.1']}}\n",
    ))
    .settings;
    assert_eq!(
        settings.ratelimit.trusted_proxies,
        vec![IpNetwork::parse("192.168.1.1").unwrap()]
    );
}

#[test]
fn a_trusted_proxy_that_is_no_network_is_refused_naming_the_key() {
    assert!(
        refused(&with("server: {trustedProxies: ['proxy.internal']}\n"))
            .contains("server.trustedProxies[0]")
    );
}
