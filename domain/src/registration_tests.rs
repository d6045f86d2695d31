//! The registration policy: ma1sd's order (invite, blacklist, whitelist, default) and the domain
//! rules of its documentation, with the `*example.org` hole closed.

use pretty_assertions::assert_eq;

use super::*;
use crate::{EmailAddress, Msisdn};

fn email(address: &str) -> ThreePid {
    ThreePid::Email(EmailAddress::parse(address).unwrap())
}

fn phone(digits: &str) -> ThreePid {
    ThreePid::Msisdn(Msisdn::parse(digits).unwrap())
}

fn domains(rules: &[&str]) -> Vec<DomainRule> {
    rules
        .iter()
        .map(|rule| DomainRule::parse(rule).unwrap())
        .collect()
}

fn patterns(rules: &[&str]) -> Vec<AddressPattern> {
    rules
        .iter()
        .map(|rule| AddressPattern::parse(rule).unwrap())
        .collect()
}

fn email_policy(rules: MediumRules) -> RegistrationPolicy {
    RegistrationPolicy {
        rules: BTreeMap::from([(Medium::Email, rules)]),
        ..RegistrationPolicy::default()
    }
}

#[test]
fn the_documented_domain_table_holds() {
    let cases = [
        ("*example.org", "example.org", true),
        ("*example.org", "sub.example.org", true),
        (".example.org", "example.org", false),
        (".example.org", "sub.example.org", true),
        ("example.org", "example.org", true),
        ("example.org", "sub.example.org", false),
    ];
    for (rule, domain, expected) in cases {
        assert_eq!(
            DomainRule::parse(rule).unwrap().matches(domain),
            expected,
            "{rule} against {domain}"
        );
    }
}

#[test]
fn a_wildcard_domain_does_not_match_a_domain_that_merely_ends_with_the_same_letters() {
    let rule = DomainRule::parse("*example.org").unwrap();
    assert!(!rule.matches("evilexample.org"));
    assert!(
        !DomainRule::parse(".example.org")
            .unwrap()
            .matches("evilexample.org")
    );
}

#[test]
fn domain_rules_are_case_insensitive_and_refuse_what_is_not_a_domain() {
    assert_eq!(
        DomainRule::parse(" *Example.ORG ").unwrap(),
        DomainRule::WithSubdomains("example.org".into())
    );
    for bad in [
        "",
        "*",
        ".",
        "a..b",
        "exa mple.org",
        "example.org/",
        "@example.org",
    ] {
        assert!(DomainRule::parse(bad).is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn by_default_only_a_pending_invite_may_register() {
    let policy = RegistrationPolicy::default();
    let address = email("alice@example.org");
    assert_eq!(
        policy.decide(&address, true),
        RegistrationDecision::AllowedForInvite
    );
    assert!(!policy.decide(&address, false).is_allowed());
}

#[test]
fn an_invite_does_not_help_when_invites_are_not_allowed_to_register() {
    let policy = RegistrationPolicy {
        invite: false,
        ..RegistrationPolicy::default()
    };
    assert!(!policy.asks_for_invites());
    assert_eq!(
        policy.decide(&email("alice@example.org"), true),
        RegistrationDecision::Default { allowed: false }
    );
}

#[test]
fn the_blacklist_wins_over_the_whitelist() {
    let policy = email_policy(MediumRules {
        whitelisted_domains: domains(&["*example.org"]),
        blacklisted_domains: domains(&["bad.example.org"]),
        ..MediumRules::default()
    });
    assert_eq!(
        policy.decide(&email("eve@bad.example.org"), false),
        RegistrationDecision::Blacklisted
    );
    assert_eq!(
        policy.decide(&email("bob@good.example.org"), false),
        RegistrationDecision::Whitelisted
    );
    assert_eq!(
        policy.decide(&email("carol@example.com"), false),
        RegistrationDecision::Default { allowed: false }
    );
}

#[test]
fn a_pending_invite_is_allowed_even_from_a_blacklisted_domain_as_in_ma1sd() {
    let policy = email_policy(MediumRules {
        blacklisted_domains: domains(&["example.org"]),
        ..MediumRules::default()
    });
    assert!(
        policy
            .decide(&email("alice@example.org"), true)
            .is_allowed()
    );
}

#[test]
fn patterns_match_the_whole_canonical_address() {
    let policy = email_policy(MediumRules {
        whitelisted_patterns: patterns(&["[a-z]+@example\\.org"]),
        ..MediumRules::default()
    });
    // The address is canonical (lower case) before it is matched.
    assert!(
        policy
            .decide(&email("Alice@Example.org"), false)
            .is_allowed()
    );
    // Anchored: a match inside the address is not a match.
    assert!(
        !policy
            .decide(&email("alice@example.org.evil.com"), false)
            .is_allowed()
    );
    assert!(
        !policy
            .decide(&email("alice1@example.org"), false)
            .is_allowed()
    );
}

#[test]
fn phone_numbers_are_matched_as_e164_digits_without_the_plus() {
    let policy = RegistrationPolicy {
        allowed: true,
        rules: BTreeMap::from([(
            Medium::Msisdn,
            MediumRules {
                blacklisted_patterns: patterns(&["1900\\d+"]),
                ..MediumRules::default()
            },
        )]),
        ..RegistrationPolicy::default()
    };
    assert_eq!(
        policy.decide(&phone("19005550123"), false),
        RegistrationDecision::Blacklisted
    );
    assert_eq!(
        policy.decide(&phone("447700900123"), false),
        RegistrationDecision::Default { allowed: true }
    );
}

#[test]
fn rules_of_another_medium_do_not_apply() {
    let policy = email_policy(MediumRules {
        whitelisted_patterns: patterns(&[".*"]),
        ..MediumRules::default()
    });
    assert!(!policy.decide(&phone("447700900123"), false).is_allowed());
}

#[test]
fn a_pattern_the_engine_cannot_compile_is_refused_with_the_reason() {
    let error = AddressPattern::parse("(?<=a)b").unwrap_err();
    assert!(
        matches!(&error, InvalidRegistrationRule::Pattern { pattern, .. } if pattern == "(?<=a)b"),
        "{error:?}"
    );
    // An unbalanced group cannot escape the anchoring either.
    assert!(AddressPattern::parse("a)|(.*").is_err());
}
