use poem_openapi::types::ParseFromJSON;
use serde_json::{Value, json};

use super::*;

fn send_attempt(value: Value) -> Result<u64, String> {
    let parsed = SendAttemptValue::parse_from_json(Some(value)).map_err(|e| e.into_message())?;
    parsed
        .parse()
        .map(SendAttempt::value)
        .map_err(|error| format!("{error:?}"))
}

#[test]
fn send_attempt_takes_the_documented_integers_and_digit_strings() {
    assert_eq!(send_attempt(json!(0)), Ok(0));
    assert_eq!(
        send_attempt(json!(9_007_199_254_740_991_u64)),
        Ok(9_007_199_254_740_991)
    );
    assert_eq!(send_attempt(json!("1")), Ok(1));
    assert_eq!(
        send_attempt(json!("9999999999999999999")),
        Ok(9_999_999_999_999_999_999)
    );
}

#[test]
fn send_attempt_refuses_what_the_document_does_not_allow() {
    for value in [
        json!(9_007_199_254_740_992_u64),
        json!(u64::MAX),
        json!(-1),
        json!(1.5),
        json!(""),
        json!(" 1"),
        json!("+1"),
        json!("-1"),
        json!("10000000000000000000"),
        json!("one"),
    ] {
        let error = send_attempt(value.clone()).expect_err(&value.to_string());
        assert!(error.contains("send_attempt"), "{value}: {error}");
    }
}
