//! Every key Verity reads, found in the raw model itself rather than listed by hand: adding a
//! field to a `Raw*` struct makes it a known key, which `tests_every_key` then wants set in a
//! guard file, surviving the dump and documented.
//!
//! The raw structs are deserialized from [`Probe`], a deserializer with no document behind it
//! that walks down one path of keys and reports what the value at its end asks for: a struct
//! (with its field names, aliases included), a map, a list or a plain value. One walk per key is
//! cheap (the whole model is a few hundred keys) and happens once, on first use.
//!
//! A value read as "one of two shapes" (an untagged enum such as a template's
//! `session.validation`, a path or `{local, remote}`) asks for any value: it is one key here,
//! and the keys inside it are not known one by one.
use std::cell::RefCell;
use std::fmt;
use std::sync::LazyLock;

use serde::Deserialize;
use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};

use super::raw::RawConfig;

/// A list's items in a key path (`memory.identities[*].username`).
const ITEM: &str = "[*]";
/// A name the operator chooses, a map's key, in a key path (`policy.policies.*.version`).
const NAME: &str = "*";
/// No key of the model is nested this deep; a guard against a type that refers to itself.
const MAX_DEPTH: usize = 16;

/// Every section and key Verity reads, in the order of the raw structs' fields; `*` stands for a
/// name chosen by the operator (a policy, a language), `[*]` for a list's items. A map or a list
/// is a key of its own, and so is every field of the structs it holds.
pub fn known_keys() -> &'static [String] {
    static KEYS: LazyLock<Vec<String>> = LazyLock::new(|| {
        let mut keys = Vec::new();
        walk(&mut Vec::new(), &mut keys);
        keys
    });
    &KEYS
}

/// What the value at the end of a path asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A struct with these fields.
    Struct(&'static [&'static str]),
    /// A map from names the operator chooses.
    Map,
    /// A list.
    Seq,
    /// Anything else: a string, a number, a boolean, or one of several shapes.
    Value,
}

/// Records the shape at `path` and its keys below into `keys`.
fn walk(path: &mut Vec<&'static str>, keys: &mut Vec<String>) {
    let Some(shape) = shape_at(path) else {
        return;
    };
    // The item of a list or a map is not a key itself; the keys of the struct it holds are.
    if !path.is_empty() && !matches!(path.last(), Some(&(ITEM | NAME))) {
        keys.push(render(path));
    }
    if path.len() >= MAX_DEPTH {
        return;
    }
    match shape {
        Shape::Struct(fields) => {
            for &field in fields {
                path.push(field);
                walk(path, keys);
                path.pop();
            }
        }
        Shape::Map | Shape::Seq => {
            path.push(if shape == Shape::Map { NAME } else { ITEM });
            if matches!(shape_at(path), Some(Shape::Struct(_))) {
                walk(path, keys);
            }
            path.pop();
        }
        Shape::Value => {}
    }
}

/// `["memory", "identities", "[*]", "username"]` -> `memory.identities[*].username`.
fn render(path: &[&str]) -> String {
    let mut key = String::new();
    for segment in path {
        if *segment != ITEM && !key.is_empty() {
            key.push('.');
        }
        key.push_str(segment);
    }
    key
}

/// The shape of the value at `path` in [`RawConfig`]; `None` when the path leads nowhere.
fn shape_at(path: &[&'static str]) -> Option<Shape> {
    let found = RefCell::new(None);
    // The walk always ends in an error (there is no value to give); what it found is recorded.
    let _ = RawConfig::deserialize(Probe {
        rest: path,
        found: &found,
    });
    found.into_inner()
}

/// How every walk ends: at the value probed, or on a path the model does not have.
#[derive(Debug)]
struct Stop(String);

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

/// A deserializer that offers the keys of `rest`, one at a time, and records in `found` what the
/// value after the last one asks for.
struct Probe<'a> {
    rest: &'a [&'static str],
    found: &'a RefCell<Option<Shape>>,
}

impl Probe<'_> {
    fn reached<T>(self, shape: Shape) -> Result<T, Stop> {
        if self.rest.is_empty() {
            *self.found.borrow_mut() = Some(shape);
            Err(Stop("reached".into()))
        } else {
            Err(Stop(format!("{shape:?} has no key {:?}", self.rest[0])))
        }
    }
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Stop> {
        self.reached(Shape::Value)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Stop> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Stop> {
        match self.rest.split_first() {
            Some((key, rest)) => visitor.visit_map(Entry {
                key: Some(key),
                rest,
                found: self.found,
            }),
            None => self.reached(Shape::Struct(fields)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        match self.rest.split_first() {
            Some((key, rest)) => visitor.visit_map(Entry {
                key: Some(key),
                rest,
                found: self.found,
            }),
            None => self.reached(Shape::Map),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        match self.rest.split_first() {
            Some((&ITEM, rest)) => visitor.visit_seq(Item {
                rest: Some(rest),
                found: self.found,
            }),
            _ => self.reached(Shape::Seq),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct tuple tuple_struct enum identifier ignored_any
    }
}

/// A mapping with one key, whose value is probed further.
struct Entry<'a> {
    key: Option<&'static str>,
    rest: &'a [&'static str],
    found: &'a RefCell<Option<Shape>>,
}

impl<'de> MapAccess<'de> for Entry<'_> {
    type Error = Stop;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Stop> {
        match self.key.take() {
            Some(key) => seed
                .deserialize(IntoDeserializer::<Stop>::into_deserializer(key))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Stop> {
        seed.deserialize(Probe {
            rest: self.rest,
            found: self.found,
        })
    }
}

/// A list with one item, which is probed further.
struct Item<'a> {
    rest: Option<&'a [&'static str]>,
    found: &'a RefCell<Option<Shape>>,
}

impl<'de> SeqAccess<'de> for Item<'_> {
    type Error = Stop;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Stop> {
        match self.rest.take() {
            Some(rest) => seed
                .deserialize(Probe {
                    rest,
                    found: self.found,
                })
                .map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::known_keys;

    #[test]
    fn the_known_keys_are_the_raw_models_sections_fields_and_the_fields_inside_lists_and_maps() {
        let keys = known_keys();
        for key in [
            "matrix",
            "matrix.identity.servers",
            "server.publicUrl",
            "storage.provider.postgresql.maxConnections",
            "memory.identities",
            "memory.identities[*].threepids[*].medium",
            "policy.policies.*.terms.*.url",
            "dns.overwrite.homeserver.federation[*].value",
            "threepid.medium.msisdn.connectors.twilio.account_sid",
            "threepid.medium.msisdn.connectors.twilio.accountSid",
            "synapseSql.identity.priority",
        ] {
            assert!(
                keys.iter().any(|k| k == key),
                "{key} is missing from {keys:#?}"
            );
        }
        // The items themselves are not keys, nor are the values of a map of lists.
        for not_a_key in [
            "memory.identities[*]",
            "policy.policies.*",
            "matrix.identity.servers.*",
        ] {
            assert!(!keys.iter().any(|k| k == not_a_key), "{not_a_key}");
        }
    }
}
