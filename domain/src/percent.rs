//! Percent-encoding of one URL component (a query value, a path segment), as the links Verity
//! writes into emails and pages need it.

/// `value` with every byte but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`) written
/// as `%XX` (upper-case hex): a space is `%20`, never `+`, so the result is right in a path as in
/// a query.
pub fn percent_encode(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                encoded.push(char::from(byte));
            }
            _ => {
                encoded.push('%');
                encoded.push(char::from(HEX[usize::from(byte >> 4)]));
                encoded.push(char::from(HEX[usize::from(byte & 0x0F)]));
            }
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::percent_encode;

    #[test]
    fn unreserved_characters_stay_as_they_are() {
        let unreserved = "ABCXYZabcxyz0189-._~";
        assert_eq!(percent_encode(unreserved), unreserved);
    }

    #[test]
    fn everything_else_is_percent_encoded_in_upper_case_with_spaces_as_percent_20() {
        assert_eq!(
            percent_encode("a b+c&d=e/f?g#h%i"),
            "a%20b%2Bc%26d%3De%2Ff%3Fg%23h%25i"
        );
        assert_eq!(percent_encode("@:!*'()"), "%40%3A%21%2A%27%28%29");
    }

    #[test]
    fn non_ascii_text_is_encoded_byte_by_byte_in_utf_8() {
        assert_eq!(percent_encode("é€"), "%C3%A9%E2%82%AC");
        assert_eq!(percent_encode(""), "");
    }
}
