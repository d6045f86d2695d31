use pretty_assertions::assert_eq;

use super::*;

fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

fn entry(id: &str, name: Option<&str>) -> DirectoryEntry {
    DirectoryEntry::new(user(id), name.map(str::to_owned))
}

fn part(entries: Vec<DirectoryEntry>, limited: bool) -> DirectoryResults {
    DirectoryResults { entries, limited }
}

fn ids(results: &DirectoryResults) -> Vec<&str> {
    results.entries.iter().map(|e| e.user_id.as_str()).collect()
}

#[test]
fn a_term_is_trimmed_and_loses_one_leading_at_sign_as_ma1sd_searched_it() {
    assert_eq!(SearchTerm::parse("  alice ").unwrap().as_str(), "alice");
    assert_eq!(SearchTerm::parse("@ali").unwrap().as_str(), "ali");
    assert_eq!(
        SearchTerm::parse(" @alice:example.org").unwrap().as_str(),
        "alice:example.org"
    );
    assert_eq!(SearchTerm::parse("@@x").unwrap().as_str(), "@x");
    assert!(SearchTerm::parse(" @ ").unwrap().is_empty());
    assert!(SearchTerm::parse("").unwrap().is_empty());
}

#[test]
fn filter_and_pattern_metacharacters_are_kept_as_text() {
    for raw in ["*)(uid=*", "100%_done", "a\\b", "O'Brien", "' OR 1=1 --"] {
        assert_eq!(SearchTerm::parse(raw).unwrap().as_str(), raw);
    }
}

#[test]
fn a_term_longer_than_256_characters_is_refused_and_one_of_256_is_not() {
    let longest = "é".repeat(MAX_SEARCH_TERM_CHARS);
    assert_eq!(SearchTerm::parse(&longest).unwrap().as_str(), longest);
    assert_eq!(
        SearchTerm::parse(&format!("{longest}x")),
        Err(InvalidSearchTerm::TooLong { max: 256 })
    );
    // Spaces around it do not count.
    assert!(SearchTerm::parse(&format!("  {longest}  ")).is_ok());
}

#[test]
fn a_term_with_a_control_character_is_refused() {
    for raw in ["a\0b", "a\nb", "a\u{7f}"] {
        assert_eq!(
            SearchTerm::parse(raw),
            Err(InvalidSearchTerm::ControlCharacter),
            "{raw:?}"
        );
    }
}

#[test]
fn the_limit_defaults_to_10_and_stays_between_0_and_50_as_synapse_keeps_it() {
    assert_eq!(SearchLimit::from_request(None).get(), 10);
    assert_eq!(SearchLimit::from_request(Some(3)).get(), 3);
    assert_eq!(SearchLimit::from_request(Some(500)).get(), 50);
    assert_eq!(SearchLimit::from_request(Some(-4)).get(), 0);
    assert_eq!(SearchLimit::from_request(Some(i64::MAX)).get(), 50);
    assert_eq!(SearchLimit::default(), SearchLimit::from_request(None));
}

#[test]
fn a_blank_display_name_is_none() {
    assert_eq!(entry("@a:example.org", Some("  ")).display_name, None);
    assert_eq!(
        entry("@a:example.org", Some("Alice"))
            .display_name
            .as_deref(),
        Some("Alice")
    );
}

#[test]
fn merging_keeps_each_user_once_in_the_order_first_listed_and_fills_in_what_was_missing() {
    let homeserver = part(
        vec![DirectoryEntry {
            avatar_url: Some("mxc://example.org/a".into()),
            ..entry("@alice:example.org", None)
        }],
        false,
    );
    let ldap = part(
        vec![
            entry("@bob:example.org", Some("Bob")),
            entry("@alice:example.org", Some("Alice Liddell")),
        ],
        false,
    );
    let merged = DirectoryResults::merge([homeserver, ldap], SearchLimit::default(), None);
    assert_eq!(ids(&merged), ["@alice:example.org", "@bob:example.org"]);
    assert_eq!(
        merged.entries[0].display_name.as_deref(),
        Some("Alice Liddell")
    );
    assert_eq!(
        merged.entries[0].avatar_url.as_deref(),
        Some("mxc://example.org/a")
    );
    assert!(!merged.limited);
}

#[test]
fn merging_honours_the_limit_and_says_limited_when_it_leaves_people_out() {
    let a = part(
        vec![entry("@a:x.org", None), entry("@b:x.org", None)],
        false,
    );
    let b = part(
        vec![entry("@b:x.org", None), entry("@c:x.org", None)],
        false,
    );
    let merged = DirectoryResults::merge(
        [a.clone(), b.clone()],
        SearchLimit::from_request(Some(3)),
        None,
    );
    assert_eq!(ids(&merged), ["@a:x.org", "@b:x.org", "@c:x.org"]);
    assert!(!merged.limited, "three people, three places");
    let merged = DirectoryResults::merge([a, b], SearchLimit::from_request(Some(2)), None);
    assert_eq!(ids(&merged), ["@a:x.org", "@b:x.org"]);
    assert!(merged.limited);
}

#[test]
fn limited_is_the_or_of_the_parts() {
    let merged = DirectoryResults::merge(
        [
            part(vec![entry("@a:x.org", None)], false),
            part(vec![], true),
        ],
        SearchLimit::default(),
        None,
    );
    assert!(merged.limited);
}

#[test]
fn the_searcher_is_left_out_as_synapse_leaves_them_out() {
    let merged = DirectoryResults::merge(
        [part(
            vec![entry("@me:x.org", None), entry("@you:x.org", None)],
            false,
        )],
        SearchLimit::default(),
        Some(&user("@me:x.org")),
    );
    assert_eq!(ids(&merged), ["@you:x.org"]);
}

#[test]
fn a_store_answers_within_the_limit() {
    let found = vec![
        entry("@a:x.org", None),
        entry("@a:x.org", Some("A")),
        entry("@b:x.org", None),
    ];
    let results = DirectoryResults::within(found.clone(), SearchLimit::from_request(Some(2)));
    assert_eq!(ids(&results), ["@a:x.org", "@b:x.org"]);
    assert!(!results.limited, "the duplicate is not one more person");
    let results = DirectoryResults::within(found, SearchLimit::from_request(Some(1)));
    assert!(results.limited);
    let results = DirectoryResults::within(
        vec![entry("@a:x.org", None)],
        SearchLimit::from_request(Some(0)),
    );
    assert_eq!(ids(&results), Vec::<&str>::new());
    assert!(results.limited);
}

#[test]
fn a_homeserver_token_never_prints_and_is_cached_by_its_fingerprint() {
    let token = HomeserverAccessToken::parse("syt_YWxpY2U_secret_0a1b2c").unwrap();
    let shown = format!("{token:?}");
    assert!(!shown.contains("secret"), "{shown}");
    assert_eq!(token.fingerprint().as_str().len(), 64);
    assert_ne!(
        token.fingerprint(),
        HomeserverAccessToken::parse("other").unwrap().fingerprint()
    );
    assert!(!token.fingerprint().as_str().contains("secret"));
}

#[test]
fn a_homeserver_token_that_cannot_travel_in_a_header_is_refused() {
    for raw in [
        String::new(),
        "with space".to_owned(),
        "line\nbreak".to_owned(),
        "é".to_owned(),
        "x".repeat(MAX_HOMESERVER_TOKEN_CHARS + 1),
    ] {
        assert!(HomeserverAccessToken::parse(&raw).is_err(), "{raw:?}");
    }
    assert!(HomeserverAccessToken::parse(&"x".repeat(MAX_HOMESERVER_TOKEN_CHARS)).is_ok());
}
