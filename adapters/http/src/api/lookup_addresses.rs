//! The `addresses` of a v2 lookup, read by serde straight into one buffer ([`Addresses`]) rather
//! than a `String` each; documented as the array of strings it is.
use std::borrow::Cow;
use std::fmt;

use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromJSON, ParseResult, ToJSON, Type};
use serde::de::{SeqAccess, Visitor};
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
        // Borrowed from the body where it has no escapes; copied into the one buffer either way.
        while let Some(address) = seq.next_element::<Cow<'de, str>>()? {
            addresses.push(&address);
        }
        Ok(addresses)
    }
}
