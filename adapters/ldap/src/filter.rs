//! Search filters (RFC 4515): every value from a request is escaped before it goes into one, so a
//! 3PID such as `*)(uid=*` is a value to match, never filter syntax (mxisd inserted 3PIDs raw).
use std::fmt::Write as _;

/// `value` escaped for an assertion value of a filter (RFC 4515 section 3): `*`, `(`, `)`, `\`
/// and NUL as `\2a`, `\28`, `\29`, `\5c` and `\00`, and, beyond what the RFC requires, every other
/// control character and every byte outside ASCII as `\xx` too, so that the filter text is plain
/// printable ASCII whatever the value holds.
pub fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_graphic() && !matches!(byte, b'*' | b'(' | b')' | b'\\') || byte == b' ' {
            escaped.push(char::from(byte));
        } else {
            let _ = write!(escaped, "\\{byte:02x}");
        }
    }
    escaped
}

/// `filter` as one parenthesised filter: an operator may write `objectClass=person` (ma1sd
/// accepted it) for `(objectClass=person)`.
fn parenthesised(filter: &str) -> String {
    let filter = filter.trim();
    if filter.starts_with('(') {
        filter.to_owned()
    } else {
        format!("({filter})")
    }
}

/// `query` restricted by the operator's `filter` (none when empty): `(&filter query)`.
pub fn and_filter(filter: &str, query: &str) -> String {
    if filter.trim().is_empty() {
        query.to_owned()
    } else {
        format!("(&{}{query})", parenthesised(filter))
    }
}

/// The OR of `terms`, or the single term alone.
pub fn any_of(terms: &[String]) -> String {
    match terms {
        [one] => one.clone(),
        _ => format!("(|{})", terms.concat()),
    }
}

/// An equality match of `attribute` with `value` (escaped).
pub fn equals(attribute: &str, value: &str) -> String {
    format!("({attribute}={})", escape(value))
}

/// A presence match: any entry with `attribute`.
pub fn present(attribute: &str) -> String {
    format!("({attribute}=*)")
}

/// The candidates of a phone lookup in `attribute`: values holding the E.164 `digits` in order,
/// whatever stands between and around them (`(telephoneNumber=*1*2*0*2*...*3*)`).
///
/// The directory cannot put its values in canonical form before comparing (Active Directory
/// compares phone numbers as plain strings; OpenLDAP's `telephoneNumberMatch` only drops spaces
/// and hyphens), and operators store `+1 (202) 555-0143`, `+12025550143`, `1 202-555-0143` or
/// `+44 (0)20 ...`. A substring filter of every digit, in order, finds every such spelling; the
/// candidates are then put in canonical form here and compared exactly, so the near misses it
/// lets through (a longer number holding the same digits) are dropped.
pub fn phone_candidates(attribute: &str, digits: &str) -> String {
    let mut filter = format!("({attribute}=*");
    for digit in digits.chars().filter(char::is_ascii_digit) {
        filter.push(digit);
        filter.push('*');
    }
    filter.push(')');
    filter
}

/// `template` (an operator's `identity.medium.<medium>` query) with every `token` replaced by
/// the escaped `value`.
pub fn substitute(template: &str, token: &str, value: &str) -> String {
    if token.is_empty() {
        return template.to_owned();
    }
    template.replace(token, &escape(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_characters_rfc_4515_reserves_are_escaped() {
        assert_eq!(escape("*"), "\\2a");
        assert_eq!(escape("("), "\\28");
        assert_eq!(escape(")"), "\\29");
        assert_eq!(escape("\\"), "\\5c");
        assert_eq!(escape("a\0b"), "a\\00b");
        assert_eq!(escape("*)(uid=*"), "\\2a\\29\\28uid=\\2a");
    }

    #[test]
    fn plain_addresses_are_left_as_they_are() {
        assert_eq!(
            escape("alice.smith+tag@example.org"),
            "alice.smith+tag@example.org"
        );
        assert_eq!(escape("+1 (202)"), "+1 \\28202\\29");
    }

    #[test]
    fn controls_and_bytes_outside_ascii_are_escaped_byte_by_byte() {
        assert_eq!(escape("\u{e9}\n"), "\\c3\\a9\\0a");
    }

    #[test]
    fn an_injection_stays_inside_its_assertion() {
        let filter = and_filter("objectClass=person", &equals("mail", "x)(|(uid=*"));
        assert_eq!(
            filter,
            "(&(objectClass=person)(mail=x\\29\\28|\\28uid=\\2a))"
        );
    }

    #[test]
    fn no_operator_filter_leaves_the_query_alone() {
        assert_eq!(and_filter("  ", "(mail=a)"), "(mail=a)");
        assert_eq!(any_of(&["(a=1)".to_owned()]), "(a=1)");
        assert_eq!(
            any_of(&["(a=1)".to_owned(), "(b=2)".to_owned()]),
            "(|(a=1)(b=2))"
        );
    }

    #[test]
    fn phone_candidates_hold_every_digit_in_order() {
        assert_eq!(phone_candidates("mobile", "1202"), "(mobile=*1*2*0*2*)");
    }

    #[test]
    fn a_custom_query_gets_the_escaped_value_for_every_token() {
        assert_eq!(
            substitute("(|(a=%3pid)(b=%3pid))", "%3pid", "*"),
            "(|(a=\\2a)(b=\\2a))"
        );
    }
}
