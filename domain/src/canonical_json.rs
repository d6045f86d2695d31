//! Canonical JSON (Matrix specification, appendix "Canonical JSON"): the one byte encoding of a JSON
//! value that signatures are computed over.
//!
//! The shortest UTF-8 encoding: no insignificant white space, object keys sorted by Unicode code
//! point (the same order as sorting their UTF-8 bytes, which `str`'s `Ord` does), non-ASCII
//! characters written raw, only the escapes the appendix's grammar allows (`\"`, `\\`, `\b`, `\f`,
//! `\n`, `\r`, `\t` and lowercase `\u00xx` for the other control characters), and only integers in
//! `[-(2^53)+1, (2^53)-1]`. A number that is an integer written with an exponent or a sign (`1e10`,
//! `-0`) is written as that integer, as the appendix's examples require; any other number is
//! refused, never rounded.
use std::fmt::Write as _;

use serde_json::{Number, Value};

/// The largest magnitude canonical JSON allows: `2^53 - 1`, exact in an IEEE double.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Why a value has no canonical encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalJsonError {
    /// A number with a fractional part, or one that is not finite.
    #[error("canonical JSON allows only integers, found {0}")]
    NotAnInteger(String),
    /// An integer outside `[-(2^53)+1, (2^53)-1]`.
    #[error("canonical JSON allows integers within ±(2^53-1) only, found {0}")]
    OutOfRange(String),
}

/// The canonical encoding of `value`.
///
/// # Errors
/// [`CanonicalJsonError`] when a number (at any depth) is not an integer within ±(2^53−1).
pub fn canonical_json(value: &Value) -> Result<String, CanonicalJsonError> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out)
}

fn write_value(out: &mut String, value: &Value) -> Result<(), CanonicalJsonError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => {
            let integer = canonical_integer(number)?;
            // Writing to a String cannot fail.
            let _ = write!(out, "{integer}");
        }
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(members) => {
            // Sorted here rather than trusting the map's order, which a serde_json feature
            // (`preserve_order`) turned on anywhere in the build would change.
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, member)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, member)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// The integer a JSON number stands for, within the allowed range.
fn canonical_integer(number: &Number) -> Result<i64, CanonicalJsonError> {
    let out_of_range = || CanonicalJsonError::OutOfRange(number.to_string());
    let integer = if let Some(value) = number.as_i64() {
        value
    } else if number.is_u64() {
        // Only values above i64::MAX are u64 but not i64: far out of range.
        return Err(out_of_range());
    } else {
        let float = number.as_f64().unwrap_or(f64::NAN);
        if !float.is_finite() || float.fract() != 0.0 {
            return Err(CanonicalJsonError::NotAnInteger(number.to_string()));
        }
        // Integral and finite; compared as a float first so the cast below cannot saturate.
        #[allow(clippy::cast_precision_loss)] // 2^53 - 1 is exact in a double.
        let limit = MAX_SAFE_INTEGER as f64;
        if float.abs() > limit {
            return Err(out_of_range());
        }
        #[allow(clippy::cast_possible_truncation)] // Integral and within ±2^53: exact.
        let integer = float as i64;
        integer // `-0.0` becomes 0 here.
    };
    if integer.abs() > MAX_SAFE_INTEGER {
        return Err(out_of_range());
    }
    Ok(integer)
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;

    fn canonical(input: &str) -> String {
        let value: Value = serde_json::from_str(input).unwrap();
        canonical_json(&value).unwrap()
    }

    /// Every input/output pair of the appendix's "Examples", inputs as the appendix writes them.
    #[test]
    fn the_appendix_examples_canonicalise_as_the_specification_says() {
        let pairs = [
            ("{}", "{}"),
            (
                "{\n    \"one\": 1,\n    \"two\": \"Two\"\n}",
                r#"{"one":1,"two":"Two"}"#,
            ),
            (
                "{\n    \"b\": \"2\",\n    \"a\": \"1\"\n}",
                r#"{"a":"1","b":"2"}"#,
            ),
            (r#"{"b":"2","a":"1"}"#, r#"{"a":"1","b":"2"}"#),
            (
                r#"{
                    "auth": {
                        "success": true,
                        "mxid": "@john.doe:example.com",
                        "profile": {
                            "display_name": "John Doe",
                            "three_pids": [
                                {"medium": "email", "address": "john.doe@example.org"},
                                {"medium": "msisdn", "address": "123456789"}
                            ]
                        }
                    }
                }"#,
                r#"{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}"#,
            ),
            ("{\n    \"a\": \"日本語\"\n}", "{\"a\":\"日本語\"}"),
            ("{\n    \"本\": 2,\n    \"日\": 1\n}", "{\"日\":1,\"本\":2}"),
            ("{\n    \"a\": \"\\u65E5\"\n}", "{\"a\":\"日\"}"),
            ("{\n    \"a\": null\n}", r#"{"a":null}"#),
            (
                "{\n    \"a\": -0,\n    \"b\": 1e10\n}",
                r#"{"a":0,"b":10000000000}"#,
            ),
        ];
        for (input, expected) in pairs {
            assert_eq!(canonical(input), expected, "{input}");
        }
    }

    #[test]
    fn keys_sort_by_code_point_not_by_utf16_unit() {
        // U+FF61 sorts before U+1F600 by code point, but after it by UTF-16 code unit (a
        // surrogate pair starts with 0xD83D).
        let value = json!({"\u{1F600}": 1, "\u{FF61}": 2, "a": 3, "B": 4});
        assert_eq!(
            canonical_json(&value).unwrap(),
            "{\"B\":4,\"a\":3,\"\u{FF61}\":2,\"\u{1F600}\":1}"
        );
    }

    #[test]
    fn only_the_grammar_escapes_are_used_with_lowercase_hex() {
        let value = json!("q\" b\\ \u{8}\u{c}\n\r\t \u{0} \u{1f} \u{7f} / é \u{2028}");
        assert_eq!(
            canonical_json(&value).unwrap(),
            "\"q\\\" b\\\\ \\b\\f\\n\\r\\t \\u0000 \\u001f \u{7f} / é \u{2028}\""
        );
    }

    #[test]
    fn arrays_keep_their_order_and_nested_objects_are_sorted() {
        let value = json!([3, {"z": [], "y": {}}, "x", true, false, null]);
        assert_eq!(
            canonical_json(&value).unwrap(),
            r#"[3,{"y":{},"z":[]},"x",true,false,null]"#
        );
    }

    #[test]
    fn integers_at_the_limits_pass_and_beyond_them_fail() {
        let max = MAX_SAFE_INTEGER;
        assert_eq!(canonical_json(&json!(max)).unwrap(), max.to_string());
        assert_eq!(canonical_json(&json!(-max)).unwrap(), (-max).to_string());
        for too_big in [json!(max + 1), json!(-max - 1), json!(u64::MAX)] {
            assert!(
                matches!(
                    canonical_json(&too_big),
                    Err(CanonicalJsonError::OutOfRange(_))
                ),
                "{too_big}"
            );
        }
        assert!(matches!(
            canonical_json(&json!({"deep": [1e300]})),
            Err(CanonicalJsonError::OutOfRange(_))
        ));
    }

    #[test]
    fn fractions_are_refused_wherever_they_are() {
        for value in [json!(1.5), json!({"a": [0.1]}), json!({"a": {"b": -2.25}})] {
            assert!(
                matches!(
                    canonical_json(&value),
                    Err(CanonicalJsonError::NotAnInteger(_))
                ),
                "{value}"
            );
        }
    }

    #[test]
    fn integral_floats_are_written_as_integers() {
        assert_eq!(canonical("[1.0, -0.0, 2E3, 1e0]"), "[1,0,2000,1]");
    }
}
