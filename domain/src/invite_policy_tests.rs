use pretty_assertions::assert_eq;

use super::*;

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

fn sender(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

fn blocklist() -> InviteBlocklist {
    InviteBlocklist::new(
        strings(&["Viagra", "  ", "http", "STRASSE"]),
        strings(&["!spam:example.org"]),
        strings(&["Evil.Example", "bad.example:8448"]),
    )
}

#[test]
fn a_blocklisted_room_or_homeserver_is_refused() {
    let list = blocklist();
    let alice = sender("@alice:example.org");
    assert_eq!(
        list.refusal("!spam:example.org", &alice, &[]),
        Some(InviteRefusal::Room)
    );
    assert_eq!(list.refusal("!ok:example.org", &alice, &[]), None);
    for server in ["evil.example", "EVIL.example", "bad.example:8448"] {
        assert_eq!(
            list.refusal("!ok:example.org", &sender(&format!("@m:{server}")), &[]),
            Some(InviteRefusal::Homeserver),
            "{server}"
        );
    }
    // The port is part of the name, as Sydent compares it.
    assert_eq!(list.refusal("!ok:x", &sender("@m:bad.example"), &[]), None);
}

#[test]
fn a_keyword_matches_any_field_without_case_and_by_full_case_folding() {
    let list = blocklist();
    let alice = sender("@alice:example.org");
    let refused = list.refusal(
        "!r:x",
        &alice,
        &[
            ("room_name", "Cheap"),
            ("sender_display_name", "buy vIaGrA now"),
        ],
    );
    assert_eq!(
        refused,
        Some(InviteRefusal::Keyword {
            field: "sender_display_name".into(),
            keyword: "viagra".into()
        })
    );
    // "ß" folds to "ss", as Python's casefold (Sydent) does.
    assert!(
        list.refusal("!r:x", &alice, &[("room_name", "Hauptstraße")])
            .is_some()
    );
    assert_eq!(
        list.refusal("!r:x", &alice, &[("room_name", "Tea room")]),
        None
    );
}

#[test]
fn the_web_client_location_is_checked_without_its_scheme() {
    let list = blocklist();
    let alice = sender("@alice:example.org");
    for url in [
        "https://app.element.io",
        "http://app.element.io",
        "HTTPS://app.element.io",
    ] {
        assert_eq!(
            list.refusal("!r:x", &alice, &[(WEB_CLIENT_LOCATION, url)]),
            None,
            "{url}"
        );
    }
    // Elsewhere in the URL, and in other fields, the keyword still counts.
    assert!(
        list.refusal(
            "!r:x",
            &alice,
            &[(WEB_CLIENT_LOCATION, "https://http.example")]
        )
        .is_some()
    );
    assert!(
        list.refusal("!r:x", &alice, &[("room_avatar_url", "https://a.example")])
            .is_some()
    );
}

#[test]
fn an_empty_blocklist_refuses_nothing() {
    let list = InviteBlocklist::default();
    assert_eq!(
        list.refusal(
            "!r:x",
            &sender("@a:b.example"),
            &[("room_name", "anything")]
        ),
        None
    );
}

#[test]
fn control_and_bidi_override_characters_are_forbidden_but_text_and_marks_are_not() {
    for bad in [
        "\u{1b}[31m",
        "bell\u{7}",
        "back\u{8}",
        "tab\t",
        "line\nbreak",
        "cr\r",
        "del\u{7f}",
        "c1\u{85}",
        "\u{202E}evil",
        "iso\u{2067}late",
    ] {
        assert!(forbidden_invite_char(bad).is_some(), "{bad:?}");
    }
    for good in ["Tea & Cake", "Ünïcødé 🎉", "שלום\u{200F}", "日本語の部屋"] {
        assert_eq!(forbidden_invite_char(good), None, "{good:?}");
    }
}
