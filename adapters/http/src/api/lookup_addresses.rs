//! The `addresses` of a v2 lookup, read by serde straight into one buffer ([`Addresses`]) rather
//! than a `String` each; documented as the array of strings it is.
use std::borrow::Cow;
use std::fmt;

use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromJSON, ParseResult, ToJSON, Type};
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;
use verity_domain::Addresses;

/// A lookup's addresses as sent.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AddressList(pub Addresses);

impl Type for AddressList {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        Vec::<String>::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        Vec::<String>::schema_ref()
    }

    fn register(registry: &mut Registry) {
        Vec::<String>::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(std::iter::once(self))
    }
}

/// poem-openapi's reading, which only the document's tests use (the handler reads with serde).
impl ParseFromJSON for AddressList {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        Vec::<String>::parse_from_json(value)
            .map(|list| Self(list.into_iter().collect()))
            .map_err(poem_openapi::types::ParseError::propagate)
    }
}

impl ToJSON for AddressList {
    fn to_json(&self) -> Option<Value> {
        Some(Value::Array(
            self.0.iter().map(|a| Value::String(a.to_owned())).collect(),
        ))
    }
}

impl<'de> serde::Deserialize<'de> for AddressList {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(ListVisitor).map(Self)
    }
}

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = Addresses;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Addresses, A::Error> {
        // Sized for the usual 43-character hashes.
        let count = seq.size_hint().unwrap_or(0);
        let mut addresses = Addresses::with_capacity(count, count * 43);
        while seq.next_element_seed(Push(&mut addresses))?.is_some() {}
        Ok(addresses)
    }
}

/// Appends one string of the array to the buffer as the parser hands it over (borrowed from the
/// body, or unescaped into the parser's scratch space): no `String` of its own. serde's own
/// `Cow<str>` would always allocate one.
struct Push<'a>(&'a mut Addresses);

impl<'de> DeserializeSeed<'de> for Push<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Push<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, address: &str) -> Result<(), E> {
        self.0.push(address);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_with_and_without_escapes_are_read_exactly_and_anything_but_strings_is_refused() {
        let read: AddressList =
            serde_json::from_str(r#"["plain", "esc\"aped\u00e9", "", "plain"]"#).unwrap();
        assert_eq!(
            read.0.iter().collect::<Vec<_>>(),
            ["plain", "esc\"aped\u{e9}", "", "plain"]
        );
        for bad in ["[1]", "[null]", "[[\"a\"]]", "\"a\"", "{}"] {
            assert!(serde_json::from_str::<AddressList>(bad).is_err(), "{bad}");
        }
    }
}
