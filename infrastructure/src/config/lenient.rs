//! Scalars read as leniently as mxisd/ma1sd read them.
//!
//! mxisd loads its YAML with SnakeYAML (YAML 1.1) and maps the result onto its config classes
//! through Gson, which converts between scalar types: `port: '8090'` and `enabled: 'true'` work,
//! `enabled: yes` is a boolean, and an unquoted `password: 12345` becomes the string `"12345"`.
//! serde_norway follows YAML 1.2 and serde is strict, so existing files relying on any of this
//! would be refused; these wrappers accept the same spellings instead.
//!
//! The small readers every section shares (blank text as unset, durations, percent-decoding)
//! live here too, so that no section imports another for them: this module uses none of its
//! siblings.
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};

/// A string, exactly as written: an unquoted number or boolean is the text it was written as.
///
/// The scalar's own text is asked for (`deserialize_str`), not a typed value, so nothing is lost
/// on the way: `version: 1.0` is `"1.0"` (not the float's `"1"`), `password: 0123` is `"0123"`
/// (not the integer 123), `version: 1.10` stays `"1.10"`. `null`, `~` and an empty value still
/// mean "not set" where the key is optional. Mappings and lists are refused as before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            // serde_norway always hands `deserialize_str` the scalar's text; these cover
            // deserializers that do not.
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// The trimmed value, or `None` when absent or blank: ma1sd's example config ships blank
/// placeholders (`name: ''`), and ma1sd treats blank values as absent.
pub fn text(value: Option<Text>) -> Option<String> {
    value
        .map(|Text(s)| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// A boolean; also `'true'`/`'false'` and the YAML 1.1 words `yes`/`no`/`on`/`off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FlagVisitor;
        impl Visitor<'_> for FlagVisitor {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean (true or false)")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
                match v.trim().to_ascii_lowercase().as_str() {
                    "true" | "yes" | "on" => Ok(Flag(true)),
                    "false" | "no" | "off" => Ok(Flag(false)),
                    _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
                }
            }
        }
        deserializer.deserialize_any(FlagVisitor)
    }
}

/// A non-negative integer of type `T`; also a quoted one (`'8090'`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int<T>(pub T);

impl<'de, T: TryFrom<u64>> Deserialize<'de> for Int<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntVisitor<T>(PhantomData<T>);
        impl<T: TryFrom<u64>> Visitor<'_> for IntVisitor<T> {
            type Value = Int<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // `u16`, `u32`, ...: the same words serde uses for its own integer errors.
                f.write_str(std::any::type_name::<T>())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int<T>, E> {
                T::try_from(v)
                    .map(Int)
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int<T>, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Int<T>, E> {
                match v.trim().parse::<u64>() {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::invalid_value(Unexpected::Str(v), &self)),
                }
            }
        }
        deserializer.deserialize_any(IntVisitor(PhantomData))
    }
}

/// A positive duration: a number of seconds, or a string of `<number><unit>` parts with the units
/// `d`, `h`, `m` and `s` (`24h`, `30m`, `90s`, `1h30m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime(pub Duration);

const DURATION_EXPECTED: &str =
    "a positive duration such as `24h`, `30m`, `90s`, `1h30m` or a number of seconds";

impl<'de> Deserialize<'de> for Lifetime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LifetimeVisitor;
        impl Visitor<'_> for LifetimeVisitor {
            type Value = Lifetime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(DURATION_EXPECTED)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Lifetime, E> {
                if v == 0 {
                    return Err(E::invalid_value(Unexpected::Unsigned(v), &self));
                }
                Ok(Lifetime(Duration::from_secs(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Lifetime, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lifetime, E> {
                parse_duration(v)
                    .map(Lifetime)
                    .ok_or_else(|| E::invalid_value(Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_any(LifetimeVisitor)
    }
}

/// A duration that may be zero (which turns the feature off): `0`, `0s`, or a [`Lifetime`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationOrZero(pub Duration);

const DURATION_OR_ZERO_EXPECTED: &str =
    "a duration such as `30s`, `1m` or a number of seconds, or `0` for none";

impl<'de> Deserialize<'de> for DurationOrZero {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationOrZeroVisitor;
        impl Visitor<'_> for DurationOrZeroVisitor {
            type Value = DurationOrZero;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(DURATION_OR_ZERO_EXPECTED)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DurationOrZero, E> {
                Ok(DurationOrZero(Duration::from_secs(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DurationOrZero, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationOrZero, E> {
                if let Some(duration) = parse_duration(v) {
                    return Ok(DurationOrZero(duration));
                }
                // `0`, `0s`, `0m` (what `--dump-config` writes for zero is `0s`).
                let zero = v.trim().starts_with('0')
                    && v.trim()
                        .chars()
                        .all(|c| matches!(c, '0' | 'd' | 'h' | 'm' | 's'));
                if zero {
                    Ok(DurationOrZero(Duration::ZERO))
                } else {
                    Err(E::invalid_value(Unexpected::Str(v), &self))
                }
            }
        }
        deserializer.deserialize_any(DurationOrZeroVisitor)
    }
}

/// Parses `24h`, `1h30m`, `90s` or `90`; `None` for anything else, zero included.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return (seconds > 0).then(|| Duration::from_secs(seconds));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let amount: u64 = digits.parse().ok()?;
        total = total.checked_add(amount.checked_mul(unit)?)?;
        digits.clear();
    }
    // Trailing digits without a unit ("1h30") are ambiguous: refuse rather than guess.
    (digits.is_empty() && total > 0).then(|| Duration::from_secs(total))
}

/// `<n>h`, `<n>m` or `<n>s`, whichever is exact first, for `--dump-config` (hours rather than days
/// because the default reads best as `24h`).
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    [(3_600, 'h'), (60, 'm')]
        .into_iter()
        .find(|(unit, _)| seconds > 0 && seconds.is_multiple_of(*unit))
        .map_or_else(
            || format!("{seconds}s"),
            |(unit, suffix)| format!("{}{suffix}", seconds / unit),
        )
}

/// Decodes `%XX` escapes (the URL's user part is stored encoded).
pub fn percent_decode(encoded: &str) -> String {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| encoded.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
