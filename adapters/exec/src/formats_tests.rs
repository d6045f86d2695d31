#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use pretty_assertions::assert_eq;
use verity_domain::{Medium, ThreePid, UserId};

use super::*;

fn email(address: &str) -> ThreePid {
    ThreePid::parse(Medium::Email, address).unwrap()
}

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

const DOMAIN: &str = "example.org";

#[test]
fn without_an_input_type_a_single_lookup_writes_nothing_on_stdin_as_ma1sd() {
    let io = Io::default();
    assert_eq!(
        single_input(&io, &Tokens::default(), &email("a@example.org")),
        None
    );
}

#[test]
fn the_default_json_and_plain_inputs_of_a_single_lookup_are_ma1sds() {
    let threepid = email("a@example.org");
    let json = Io {
        format: Some(Format::Json),
        template: None,
    };
    let written = single_input(&json, &Tokens::default(), &threepid).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(
        parsed,
        serde_json::json!({"medium": "email", "address": "a@example.org"})
    );
    let plain = Io {
        format: Some(Format::Plain),
        template: None,
    };
    assert_eq!(
        single_input(&plain, &Tokens::default(), &threepid).unwrap(),
        "email\na@example.org\n"
    );
}

#[test]
fn a_json_template_gets_its_values_escaped_and_a_plain_one_gets_them_as_they_are() {
    let threepid = ThreePid::parse(Medium::parse("x-custom").unwrap(), "a\"b\\ {medium}").unwrap();
    let json = Io {
        format: Some(Format::Json),
        template: Some(r#"{"who": "{address}", "kind": "{medium}"}"#.into()),
    };
    let written = single_input(&json, &Tokens::default(), &threepid).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(parsed["who"], "a\"b\\ {medium}");
    assert_eq!(parsed["kind"], "x-custom");
    let plain = Io {
        format: Some(Format::Plain),
        template: Some("{address}|{medium}".into()),
    };
    assert_eq!(
        single_input(&plain, &Tokens::default(), &threepid).unwrap(),
        "a\"b\\ {medium}|x-custom"
    );
}

#[test]
fn a_json_single_answer_names_a_localpart_or_a_whole_user_id() {
    let localpart = r#"{"lookup":{"medium":"email","address":"a@example.org","id":{"type":"localpart","value":"alice"}}}"#;
    assert_eq!(
        single_output(Some(Format::Json), localpart, DOMAIN).unwrap(),
        Some(user("@alice:example.org"))
    );
    let mxid = r#"{"lookup":{"id":{"type":"MXID","value":"@bob:other.example"}}}"#;
    assert_eq!(
        single_output(None, mxid, DOMAIN).unwrap(),
        Some(user("@bob:other.example"))
    );
}

#[test]
fn a_blank_answer_an_empty_object_or_an_empty_lookup_is_not_found() {
    for answer in ["", "  \n", "{}", r#"{"lookup":{}}"#, r#"{"lookup":null}"#] {
        assert_eq!(
            single_output(Some(Format::Json), answer, DOMAIN).unwrap(),
            None,
            "{answer:?}"
        );
    }
    assert_eq!(
        single_output(Some(Format::Plain), "\n", DOMAIN).unwrap(),
        None
    );
}

#[test]
fn a_plain_single_answer_is_a_localpart_or_a_type_and_a_value() {
    assert_eq!(
        single_output(Some(Format::Plain), "alice\n", DOMAIN).unwrap(),
        Some(user("@alice:example.org"))
    );
    assert_eq!(
        single_output(Some(Format::Plain), "mxid\n@bob:other.example\n", DOMAIN).unwrap(),
        Some(user("@bob:other.example"))
    );
    assert_eq!(
        single_output(Some(Format::Plain), "\nalice\n", DOMAIN).unwrap(),
        Some(user("@alice:example.org"))
    );
}

#[test]
fn an_answer_that_is_not_one_is_an_error_never_a_user() {
    for (format, answer) in [
        (Format::Json, "not json"),
        (Format::Json, "[1, 2]"),
        (Format::Json, r#"{"lookup":{"medium":"email"}}"#),
        (
            Format::Json,
            r#"{"lookup":{"id":{"type":"uid","value":"alice"}}}"#,
        ),
        (
            Format::Json,
            r#"{"lookup":{"id":{"type":"mxid","value":"alice"}}}"#,
        ),
        (Format::Plain, "a\nb\nc\n"),
        (Format::Plain, "localpart\nnot a localpart:\n"),
        (Format::Plain, "group\nalice\n"),
    ] {
        let read = single_output(Some(format), answer, DOMAIN);
        assert!(read.is_err(), "{answer:?} read as {read:?}");
    }
}

#[test]
fn the_bulk_input_is_json_by_default_and_lines_of_medium_and_address_in_plain() {
    let a = email("a@example.org");
    let b = ThreePid::parse(Medium::Msisdn, "447700900123").unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&bulk_input(&Io::default(), &[&a, &b])).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"lookup": [
            {"medium": "email", "address": "a@example.org"},
            {"medium": "msisdn", "address": "447700900123"},
        ]})
    );
    let plain = Io {
        format: Some(Format::Plain),
        template: None,
    };
    assert_eq!(
        bulk_input(&plain, &[&a, &b]),
        "email\ta@example.org\nmsisdn\t447700900123\n"
    );
}

#[test]
fn a_bulk_answer_is_read_as_bindings_and_invalid_items_are_counted_not_kept() {
    let answer = r#"{"lookup":[
        {"medium":"email","address":"A@Example.org","id":{"type":"localpart","value":"alice"}},
        {"medium":"msisdn","address":"+447700900123","id":{"type":"mxid","value":"@bob:example.org"}},
        {"medium":"email","address":"not an email","id":{"type":"localpart","value":"x"}},
        {"medium":"email","address":"c@example.org"},
        {"medium":"email","address":"d@example.org","id":{"type":"localpart","value":"Bad Localpart:"}}
    ]}"#;
    let (found, invalid) = bulk_output(answer, DOMAIN).unwrap();
    assert_eq!(
        found,
        vec![
            (email("a@example.org"), user("@alice:example.org")),
            (
                ThreePid::parse(Medium::Msisdn, "447700900123").unwrap(),
                user("@bob:example.org")
            ),
        ]
    );
    assert_eq!(invalid, 3);
    assert_eq!(bulk_output("", DOMAIN).unwrap(), (Vec::new(), 0));
    assert!(bulk_output("{\"lookup\": 3}", DOMAIN).is_err());
}
