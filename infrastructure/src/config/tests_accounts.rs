//! `accountConfig`, `policy` (terms of service) and `session.nextLink`.
use std::collections::BTreeMap;
use std::time::Duration;

use pretty_assertions::assert_eq;
use verity_domain::{PolicyDocument, TermsPolicy};

use super::tests::parsed;
use super::*;

const DOMAIN: &str = "matrix: {domain: example.org}\n";

/// ma1sd's documented `policy` block, with a second policy and language.
const MA1SD_POLICY: &str = "
policy:
  policies:
    term_name:
      version: 1.0
      terms:
        en:
          name: Term name
          url: https://ma1sd.host.tld/term_en.html
        de:
          name: Term name de
          url: https://ma1sd.host.tld/term_de.html
      regexp:
        - '/_matrix/identity/v2/account.*'
        - '/_matrix/identity/v2/hash_details'
        - '/_matrix/identity/v2/lookup'
    privacy:
      version: '2024-05'
      terms:
        en: {name: Privacy notice, url: 'https://example.org/privacy/2024-05/en'}
        fr: {name: Avis de confidentialité, url: 'http://example.org/privacy/2024-05/fr'}
";

fn document(name: &str, url: &str) -> PolicyDocument {
    PolicyDocument {
        name: name.to_owned(),
        url: url.to_owned(),
    }
}

fn policy(name: &str, version: &str, translations: [(&str, PolicyDocument); 2]) -> TermsPolicy {
    TermsPolicy {
        name: name.to_owned(),
        version: version.to_owned(),
        translations: translations
            .into_iter()
            .map(|(language, doc)| (language.to_owned(), doc))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn refused_with(yaml: &str, key: &str, says: &str) {
    let error = match parse(&format!("{DOMAIN}{yaml}")) {
        Ok(loaded) => panic!("accepted: {:?}\n---\n{yaml}", loaded.settings.accounts),
        Err(e) => e,
    };
    let shown = error.to_string();
    assert_eq!(error.key(), Some(key), "{shown}");
    assert!(
        shown.starts_with(key),
        "{shown:?} does not start with {key}"
    );
    assert!(shown.contains(says), "{shown:?} does not say {says:?}");
}

#[test]
fn by_default_only_the_trusted_domain_registers_tokens_last_until_logout_no_terms_no_redirects() {
    let loaded = parsed(DOMAIN);
    let s = &loaded.settings;
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert!(s.accounts.allow_only_trusted_domain);
    assert_eq!(s.accounts.token_lifetime, None);
    assert_eq!(s.accounts.cache_lifetime, Duration::from_secs(10));
    assert!(s.accounts.policies.is_empty());
    assert!(s.session.next_link_allowed.is_empty());

    let headers_only = parsed(&format!(
        "{DOMAIN}accountConfig:\npolicy:\n  policies:\nsession:\n  nextLink:\n    allowed:\n"
    ));
    assert!(
        headers_only.warnings.is_empty(),
        "{:?}",
        headers_only.warnings
    );
    assert!(headers_only.settings.accounts.policies.is_empty());
    assert!(headers_only.settings.session.next_link_allowed.is_empty());
}

#[test]
fn account_config_is_read_with_ma1sd_names_and_a_token_lifetime() {
    let s = parsed(&format!(
        "{DOMAIN}accountConfig:\n  allowOnlyTrustDomains: 'false'\n  tokenLifetime: 30d\n"
    ))
    .settings;
    assert!(!s.accounts.allow_only_trusted_domain);
    assert_eq!(
        s.accounts.token_lifetime,
        Some(Duration::from_secs(30 * 86_400))
    );
    let ten_years = parsed(&format!(
        "{DOMAIN}accountConfig: {{tokenLifetime: 3650d}}\n"
    ));
    assert_eq!(
        ten_years.settings.accounts.token_lifetime,
        Some(Duration::from_secs(3_650 * 86_400))
    );
}

#[test]
fn the_account_cache_lifetime_is_a_duration_up_to_five_minutes_and_zero_turns_it_off() {
    for (lifetime, seconds) in [("30s", 30), ("1m", 60), ("5m", 300), ("20", 20)] {
        let s = parsed(&format!(
            "{DOMAIN}accountConfig: {{cacheLifetime: {lifetime}}}\n"
        ))
        .settings;
        assert_eq!(
            s.accounts.cache_lifetime,
            Duration::from_secs(seconds),
            "{lifetime}"
        );
    }
    for off in ["0", "'0'", "0s"] {
        let s = parsed(&format!(
            "{DOMAIN}accountConfig: {{cacheLifetime: {off}}}\n"
        ))
        .settings;
        assert_eq!(s.accounts.cache_lifetime, Duration::ZERO, "{off}");
    }
}

#[test]
fn a_ma1sd_policy_block_with_two_policies_and_two_languages_becomes_terms_policies_in_name_order() {
    let loaded = parsed(&format!("{DOMAIN}{MA1SD_POLICY}"));
    assert_eq!(
        loaded.settings.accounts.policies,
        [
            policy(
                "privacy",
                "2024-05",
                [
                    (
                        "en",
                        document("Privacy notice", "https://example.org/privacy/2024-05/en")
                    ),
                    (
                        "fr",
                        document(
                            "Avis de confidentialité",
                            "http://example.org/privacy/2024-05/fr"
                        )
                    ),
                ]
            ),
            policy(
                "term_name",
                "1.0",
                [
                    (
                        "de",
                        document("Term name de", "https://ma1sd.host.tld/term_de.html")
                    ),
                    (
                        "en",
                        document("Term name", "https://ma1sd.host.tld/term_en.html")
                    ),
                ]
            ),
        ]
    );
}

#[test]
fn a_version_written_as_a_yaml_number_keeps_the_text_it_was_written_as() {
    for (written, read) in [
        ("1.0", "1.0"),
        ("1.10", "1.10"),
        ("2", "2"),
        ("'1.0'", "1.0"),
    ] {
        let s = parsed(&format!(
            "{DOMAIN}policy: {{policies: {{tos: {{version: {written}, \
             terms: {{en: {{name: ToS, url: 'https://example.org/tos'}}}}}}}}}}\n"
        ))
        .settings;
        assert_eq!(s.accounts.policies[0].version, read, "written {written}");
    }
}

#[test]
fn a_policy_regexp_is_ignored_with_a_warning_that_says_which_endpoints_are_gated() {
    let loaded = parsed(&format!("{DOMAIN}{MA1SD_POLICY}"));
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    let warning = &loaded.warnings[0];
    assert!(
        matches!(warning, ConfigWarning::Ignored { path, .. } if path == "policy.policies.term_name.regexp"),
        "{warning:?}"
    );
    let shown = warning.to_string();
    assert!(
        shown.starts_with("`policy.policies.term_name.regexp` is ignored: "),
        "{shown}"
    );
    for says in [
        "POST /account/logout and POST /terms",
        "Identity Service API",
    ] {
        assert!(shown.contains(says), "{shown:?} does not say {says:?}");
    }
    // Written as an empty list it is still a setting Verity does not follow.
    let empty = parsed(&format!(
        "{DOMAIN}policy: {{policies: {{tos: {{version: 1, regexp: [], \
         terms: {{en: {{name: ToS, url: 'https://example.org/tos'}}}}}}}}}}\n"
    ));
    assert_eq!(empty.warnings[0].path(), "policy.policies.tos.regexp");
}

#[test]
fn the_ma1sd_sections_are_read_now_and_typos_in_them_get_a_suggestion_in_place() {
    let loaded = parsed(&format!(
        "{DOMAIN}accountConfig: {{allowOnlyTrustDomain: true}}\n\
         policy: {{policies: {{tos: {{version: 1, versoin: 2, \
         terms: {{en: {{name: ToS, ulr: x, url: 'https://example.org/tos'}}}}}}}}}}\n\
         session: {{nextLink: {{allow: []}}}}\n"
    ));
    let shown: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "unknown configuration key `accountConfig.allowOnlyTrustDomain` is ignored \
             (did you mean `accountConfig.allowOnlyTrustDomains`?)",
            "unknown configuration key `policy.policies.tos.versoin` is ignored \
             (did you mean `policy.policies.tos.version`?)",
            "unknown configuration key `policy.policies.tos.terms.en.ulr` is ignored \
             (did you mean `policy.policies.tos.terms.en.url`?)",
            "unknown configuration key `session.nextLink.allow` is ignored \
             (did you mean `session.nextLink.allowed`?)",
        ]
    );
}

#[test]
fn next_link_prefixes_are_absolute_http_urls_kept_in_normal_form() {
    let s = parsed(&format!(
        "{DOMAIN}session:\n  nextLink:\n    allowed:\n      - https://app.element.io/\n\
         \x20     - ' https://Example.ORG:8443/welcome '\n      - http://localhost:8080\n"
    ))
    .settings;
    assert_eq!(
        s.session.next_link_allowed,
        [
            "https://app.element.io/",
            "https://example.org:8443/welcome",
            "http://localhost:8080/"
        ]
    );
}

#[test]
fn a_cache_lifetime_that_is_no_duration_or_longer_than_five_minutes_is_refused() {
    for (lifetime, says) in [
        ("-1", "or `0` for none"),
        ("10x", "or `0` for none"),
        ("0x", "or `0` for none"),
        ("301", "longer than 5 minutes"),
        ("1h", "longer than 5 minutes"),
    ] {
        refused_with(
            &format!("accountConfig: {{cacheLifetime: {lifetime}}}\n"),
            "accountConfig.cacheLifetime",
            says,
        );
    }
}

#[test]
fn every_accounts_terms_and_redirect_error_names_its_key() {
    let terms = |en: &str| {
        format!("policy: {{policies: {{privacy: {{version: 1, terms: {{en: {en}}}}}}}}}\n")
    };
    refused_with(
        &terms("{name: Privacy}"),
        "policy.policies.privacy.terms.en.url",
        "is required",
    );
    refused_with(
        &terms("{name: Privacy, url: 'ftp://example.org/privacy'}"),
        "policy.policies.privacy.terms.en.url",
        "http:// or https://",
    );
    refused_with(
        &terms("{name: Privacy, url: '/privacy.html'}"),
        "policy.policies.privacy.terms.en.url",
        "not an absolute URL",
    );
    refused_with(
        &terms("{url: 'https://example.org/privacy'}"),
        "policy.policies.privacy.terms.en.name",
        "is required",
    );
    refused_with(
        &terms("~"),
        "policy.policies.privacy.terms.en.name",
        "is required",
    );
    refused_with(
        "policy: {policies: {privacy: {terms: {en: {name: P, url: 'https://example.org/p'}}}}}\n",
        "policy.policies.privacy.version",
        "is required",
    );
    refused_with(
        "policy: {policies: {privacy: {version: ''}}}\n",
        "policy.policies.privacy.version",
        "is required",
    );
    for empty in ["{version: 1}", "{version: 1, terms: {}}", "~"] {
        let key = if empty == "~" { "version" } else { "terms" };
        refused_with(
            &format!("policy: {{policies: {{privacy: {empty}}}}}\n"),
            &format!("policy.policies.privacy.{key}"),
            "is required",
        );
    }
    refused_with(
        "policy: {policies: {privacy: {version: 1, terms: {version: {name: P, url: 'https://e.org/'}}}}}\n",
        "policy.policies.privacy.terms.version",
        "cannot be a language",
    );
    refused_with(
        "policy: {policies: {privacy: {version: 1, terms: {'en GB': {name: P, url: 'https://e.org/'}}}}}\n",
        "policy.policies.privacy.terms.en GB",
        "language code",
    );
    for (lifetime, says) in [
        ("0", "expected a positive duration"),
        ("'0s'", "expected a positive duration"),
        ("1w", "expected a positive duration"),
        ("3651d", "longer than 10 years"),
        ("315360001", "longer than 10 years"),
    ] {
        refused_with(
            &format!("accountConfig: {{tokenLifetime: {lifetime}}}\n"),
            "accountConfig.tokenLifetime",
            says,
        );
    }
    refused_with(
        "accountConfig: {allowOnlyTrustDomains: maybe}\n",
        "accountConfig.allowOnlyTrustDomains",
        "expected a boolean",
    );
    for (prefix, says) in [
        ("app.element.io", "not an absolute URL"),
        ("'javascript:alert(1)'", "http:// or https://"),
        ("'file:///etc/passwd'", "http:// or https://"),
        ("'https://app.element.io/?next=1'", "query"),
        ("'https://app.element.io/#/home'", "fragment"),
        ("'https://user:pw@app.element.io/'", "user name or password"),
        ("''", "must not be blank"),
    ] {
        refused_with(
            &format!("session: {{nextLink: {{allowed: ['https://ok.example/', {prefix}]}}}}\n"),
            "session.nextLink.allowed[1]",
            says,
        );
    }
}

#[test]
fn the_effective_yaml_round_trips_accounts_terms_and_redirects() {
    let first = parsed(&format!(
        "{DOMAIN}{MA1SD_POLICY}accountConfig: {{allowOnlyTrustDomains: false, \
         tokenLifetime: 1d, cacheLifetime: 30s}}\nsession: {{nextLink: {{allowed: ['https://app.element.io']}}}}\n"
    ))
    .settings;
    let yaml = effective_yaml(&first);
    for shows in [
        "allowOnlyTrustDomains: false",
        "tokenLifetime: 24h",
        "cacheLifetime: 30s",
        "- https://app.element.io/",
        "version: '1.0'",
        "url: https://ma1sd.host.tld/term_de.html",
    ] {
        assert!(yaml.contains(shows), "{shows:?} missing from\n{yaml}");
    }
    assert!(!yaml.contains("regexp"), "{yaml}");
    let again = parsed(&yaml);
    assert!(again.warnings.is_empty(), "{:?}", again.warnings);
    assert_eq!(again.settings.accounts.policies, first.accounts.policies);
    assert_eq!(
        again.settings.accounts.token_lifetime,
        first.accounts.token_lifetime
    );
    assert_eq!(
        again.settings.accounts.cache_lifetime,
        Duration::from_secs(30)
    );
    assert!(!again.settings.accounts.allow_only_trusted_domain);
    assert_eq!(
        again.settings.session.next_link_allowed,
        first.session.next_link_allowed
    );
    assert_eq!(effective_yaml(&again.settings), yaml);

    let defaults = effective_yaml(&parsed(DOMAIN).settings);
    for shows in [
        "allowOnlyTrustDomains: true",
        "tokenLifetime: null",
        "cacheLifetime: 10s",
        "policies: {}",
        "allowed: []",
    ] {
        assert!(
            defaults.contains(shows),
            "{shows:?} missing from\n{defaults}"
        );
    }
    let again = parsed(&defaults);
    assert_eq!(again.settings.accounts.token_lifetime, None);
    assert_eq!(effective_yaml(&again.settings), defaults);

    let off = parsed(&format!("{DOMAIN}accountConfig: {{cacheLifetime: 0}}\n")).settings;
    let yaml = effective_yaml(&off);
    assert!(yaml.contains("cacheLifetime: 0s"), "{yaml}");
    assert_eq!(
        parsed(&yaml).settings.accounts.cache_lifetime,
        Duration::ZERO
    );
}
