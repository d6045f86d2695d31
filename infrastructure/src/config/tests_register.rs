//! `register.policy.*`: ma1sd's keys, its defaults, and the rules refused at start-up.
use std::collections::BTreeMap;

use pretty_assertions::assert_eq;
use verity_domain::{
    AddressPattern, DomainRule, Medium, MediumRules, RegistrationPolicy, ThreePid,
};

use crate::config::tests::parsed;
use crate::config::{ConfigWarning, effective_yaml, parse};

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
fn without_a_register_section_only_invited_addresses_may_register_as_in_ma1sd() {
    assert_eq!(
        parsed(&with("")).settings.register,
        RegistrationPolicy::default()
    );
    let policy = RegistrationPolicy::default();
    assert!(!policy.allowed && policy.invite && policy.rules.is_empty());
}

#[test]
fn the_example_of_ma1sds_documentation_under_the_key_ma1sd_reads() {
    let policy = parsed(&with(
        "register:\n  policy:\n    allowed: true\n    invite: false\n    threepid:\n      email:\n        domain:\n          whitelist: ['*example.org', '.example.net', 'example.com']\n          blacklist: [bad.example.org]\n        pattern:\n          blacklist: ['.*\\+spam@.*']\n      msisdn:\n        pattern:\n          whitelist: ['44\\d+']\n",
    ))
    .settings
    .register;
    let email = MediumRules {
        whitelisted_domains: vec![
            DomainRule::WithSubdomains("example.org".into()),
            DomainRule::SubdomainsOnly("example.net".into()),
            DomainRule::Exact("example.com".into()),
        ],
        blacklisted_domains: vec![DomainRule::Exact("bad.example.org".into())],
        blacklisted_patterns: vec![AddressPattern::parse(".*\\+spam@.*").unwrap()],
        whitelisted_patterns: vec![],
    };
    let msisdn = MediumRules {
        whitelisted_patterns: vec![AddressPattern::parse("44\\d+").unwrap()],
        ..MediumRules::default()
    };
    assert_eq!(
        policy,
        RegistrationPolicy {
            allowed: true,
            invite: false,
            rules: BTreeMap::from([(Medium::Email, email), (Medium::Msisdn, msisdn)]),
        }
    );
    let spam = ThreePid::parse(Medium::Email, "eve+spam@example.org").unwrap();
    assert!(!policy.decide(&spam, false).is_allowed());
}

#[test]
fn the_keys_of_ma1sds_documentation_that_ma1sd_never_read_are_warned_about_not_applied() {
    let loaded = parse(&with(
        "register:\n  allowed: true\n  threepid:\n    email:\n      domain:\n        whitelist: ['*example.org']\n",
    ))
    .unwrap();
    assert_eq!(loaded.settings.register, RegistrationPolicy::default());
    let ignored: Vec<&str> = loaded
        .warnings
        .iter()
        .filter_map(|warning| match warning {
            ConfigWarning::Ignored { path, reason } if reason.contains("register.policy") => {
                Some(path.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(ignored, ["register.allowed", "register.threepid"]);
}

#[test]
fn rules_that_cannot_work_stop_the_start_with_the_key_that_holds_them() {
    let domain_on_phone = refused(&with(
        "register: {policy: {threepid: {msisdn: {domain: {whitelist: [example.org]}}}}}",
    ));
    assert!(
        domain_on_phone.contains("register.policy.threepid.msisdn.domain"),
        "{domain_on_phone}"
    );
    let bad_regex = refused(&with(
        "register: {policy: {threepid: {email: {pattern: {whitelist: ['ok@example.org', '(?<=x)y']}}}}}",
    ));
    assert!(
        bad_regex.contains("register.policy.threepid.email.pattern.whitelist[1]"),
        "{bad_regex}"
    );
    let bad_domain = refused(&with(
        "register: {policy: {threepid: {email: {domain: {blacklist: ['exa mple.org']}}}}}",
    ));
    assert!(
        bad_domain.contains("register.policy.threepid.email.domain.blacklist[0]"),
        "{bad_domain}"
    );
    let bad_medium = refused(&with("register: {policy: {threepid: {'E Mail': {}}}}"));
    assert!(
        bad_medium.contains("register.policy.threepid.E Mail"),
        "{bad_medium}"
    );
}

#[test]
fn the_dump_parses_back_to_the_same_policy() {
    let yaml = with(
        "register: {policy: {allowed: true, threepid: {email: {domain: {whitelist: ['*Example.org', .example.net]}, pattern: {blacklist: ['x.*']}}, msisdn: {pattern: {whitelist: ['1\\d+']}}}}}",
    );
    let settings = parsed(&yaml).settings;
    let again = parsed(&effective_yaml(&settings)).settings;
    assert_eq!(again.register, settings.register);
}
