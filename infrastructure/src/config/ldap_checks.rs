//! The checks of `ldap.*` values that go into LDAP requests as written: filters, attribute
//! names and media.
use super::super::error::ConfigError;
use super::super::lenient::{Text, text};
use verity_domain::Medium;

/// A medium name as Verity spells media (lower case).
pub(super) fn medium(name: &str, key: &str) -> Result<(), ConfigError> {
    match Medium::parse(name) {
        Ok(medium) if medium.as_str() == name => Ok(()),
        Ok(_) => Err(ConfigError::invalid(
            key,
            format!("write the medium in lower case: `{}`", name.to_lowercase()),
        )),
        Err(e) => Err(ConfigError::invalid(key, e.to_string())),
    }
}

/// Attribute names, each checked.
pub(super) fn attribute_list(
    list: Option<Vec<Text>>,
    key: &str,
) -> Result<Vec<String>, ConfigError> {
    list.unwrap_or_default()
        .into_iter()
        .enumerate()
        .filter_map(|(index, name)| text(Some(name)).map(|name| (index, name)))
        .map(|(index, name)| attribute_name(name, &format!("{key}[{index}]")))
        .collect()
}

/// An attribute description (RFC 4512: a name of letters, digits and hyphens starting with a
/// letter, or a numeric OID, with `;options`): attribute names go into filters as written.
pub(super) fn attribute_name(name: String, key: &str) -> Result<String, ConfigError> {
    let base = name.split(';').next().unwrap_or_default();
    let descriptor = base.starts_with(|c: char| c.is_ascii_alphabetic())
        && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let oid = !base.is_empty()
        && base
            .split('.')
            .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()));
    let options = name
        .split(';')
        .skip(1)
        .all(|o| !o.is_empty() && o.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if (descriptor || oid) && options {
        Ok(name)
    } else {
        Err(ConfigError::invalid(
            key,
            format!("{name:?} is not an LDAP attribute name (letters, digits and '-')"),
        ))
    }
}

/// A search filter, checked for the shape RFC 4515 gives every filter: wrapped in parentheses
/// that balance. `None` when blank.
pub(super) fn filter(value: Option<Text>, key: &str) -> Result<Option<String>, ConfigError> {
    let Some(filter) = text(value) else {
        return Ok(None);
    };
    let mut depth: usize = 0;
    let mut balanced = filter.starts_with('(') && filter.ends_with(')');
    for (at, c) in filter.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => match depth.checked_sub(1) {
                Some(d) => {
                    depth = d;
                    // Closed before the end: `(a=1)(b=2)` is two filters, not one.
                    if d == 0 && at + 1 != filter.len() {
                        balanced = false;
                    }
                }
                None => balanced = false,
            },
            _ => {}
        }
    }
    if balanced && depth == 0 {
        Ok(Some(filter))
    } else {
        Err(ConfigError::invalid(
            key,
            format!(
                "{filter:?} is not one LDAP filter: write it in parentheses, e.g. \
                 (objectClass=person) or (&(objectClass=person)(mail=*))"
            ),
        ))
    }
}
