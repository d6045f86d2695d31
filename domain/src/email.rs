use std::fmt;

/// The longest address SMTP can carry in a path (RFC 5321 §4.5.3.1.3, minus the angle brackets).
const MAX_ADDRESS_BYTES: usize = 254;
/// The longest local part SMTP allows (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL_PART_BYTES: usize = 64;
/// The longest DNS label (RFC 1035 §2.3.4).
const MAX_LABEL_BYTES: usize = 63;

/// A canonical email address: one bare `local@domain`, Unicode case-folded as the Matrix spec
/// requires since v1.1 (MSC2265).
///
/// The canonical form is the only form Verity ever handles: the address mailed, validated, bound and
/// looked up is byte-for-byte this string, which closes the two-`@` hole of CVE-2019-11340 and the
/// case-folding homograph gap (the mailbox that receives the token is the folded one).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmailAddress {
    address: String,
    at: usize,
}

/// Why an email address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEmail {
    /// The address is empty after trimming.
    #[error("the email address is empty")]
    Empty,
    /// The address is longer than SMTP allows.
    #[error("the email address is longer than {MAX_ADDRESS_BYTES} bytes")]
    TooLong,
    /// The address contains a control character (CR, LF, NUL, ...) or inner white space.
    #[error("the email address contains white space or a control character")]
    ForbiddenCharacter,
    /// The address does not contain exactly one `@`.
    #[error("the email address must contain exactly one '@'")]
    NotOneAt,
    /// The part before the `@` is empty, too long or not a dot-atom.
    #[error("the part before '@' is not a valid local part")]
    InvalidLocalPart,
    /// The part after the `@` is not a domain name.
    #[error("the part after '@' is not a valid domain name")]
    InvalidDomain,
}

impl EmailAddress {
    /// Parses and canonicalises an address as a client sent it.
    ///
    /// Leading and trailing white space is trimmed, then the whole address is Unicode case-folded
    /// (`Strauß@Example.com` becomes `strauss@example.com`). Display names, angle brackets, quoted
    /// local parts, IP-literal domains, control characters and inner white space are refused rather
    /// than interpreted.
    ///
    /// # Errors
    /// An [`InvalidEmail`] saying which rule the address breaks.
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(InvalidEmail::Empty);
        }
        // Checked before folding so an oversized input costs no folding work.
        if trimmed.len() > MAX_ADDRESS_BYTES * 4 {
            return Err(InvalidEmail::TooLong);
        }
        if trimmed.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(InvalidEmail::ForbiddenCharacter);
        }
        // Folding ASCII is lower-casing it (the Unicode tables fold nothing else there), at a
        // fraction of the cost: building the lookup table folds every stored address.
        let address = if trimmed.is_ascii() {
            trimmed.to_ascii_lowercase()
        } else {
            caseless::default_case_fold_str(trimmed)
        };
        if address.len() > MAX_ADDRESS_BYTES {
            return Err(InvalidEmail::TooLong);
        }
        let mut ats = address.match_indices('@');
        let (Some((at, _)), None) = (ats.next(), ats.next()) else {
            return Err(InvalidEmail::NotOneAt);
        };
        let (local, domain) = (&address[..at], &address[at + 1..]);
        if !is_dot_atom(local) || local.len() > MAX_LOCAL_PART_BYTES {
            return Err(InvalidEmail::InvalidLocalPart);
        }
        if !is_domain_name(domain) {
            return Err(InvalidEmail::InvalidDomain);
        }
        Ok(Self { address, at })
    }

    /// The canonical address.
    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        &self.address[..self.at]
    }

    /// The domain, after the `@` (already lower-case).
    pub fn domain(&self) -> &str {
        &self.address[self.at + 1..]
    }
}

/// RFC 5322 dot-atom over `atext`, extended with non-ASCII characters as RFC 6531 allows.
fn is_dot_atom(local: &str) -> bool {
    const ATEXT_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";
    !local.is_empty()
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_alphanumeric() || !c.is_ascii() || ATEXT_SPECIALS.contains(c))
        })
}

/// Dot-separated labels of letters, digits and inner hyphens (non-ASCII letters allowed for IDNs).
fn is_domain_name(domain: &str) -> bool {
    !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= MAX_LABEL_BYTES
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}

impl fmt::Debug for EmailAddress {
    // Addresses are personal data: debug output (and so logs) shows only the domain.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress(…@{})", self.domain())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(raw: &str) -> String {
        EmailAddress::parse(raw).unwrap().as_str().to_owned()
    }

    #[test]
    fn addresses_are_trimmed_and_case_folded() {
        assert_eq!(canonical("  Alice@Example.COM \n"), "alice@example.com");
        assert_eq!(canonical("Strauß@Example.com"), "strauss@example.com");
    }

    #[test]
    fn local_part_and_domain_are_split_at_the_at_sign() {
        let email = EmailAddress::parse("First.Last+tag@Mail.Example.org").unwrap();
        assert_eq!(email.local_part(), "first.last+tag");
        assert_eq!(email.domain(), "mail.example.org");
    }

    #[test]
    fn internationalised_addresses_are_accepted() {
        assert_eq!(canonical("Jörg@Bücher.example"), "jörg@bücher.example");
    }

    #[test]
    fn an_address_with_two_at_signs_is_refused() {
        // CVE-2019-11340: never validate one address while mailing another.
        assert_eq!(
            EmailAddress::parse("user@bad.example.net@good.example.com"),
            Err(InvalidEmail::NotOneAt)
        );
    }

    #[test]
    fn display_names_brackets_and_mailto_forms_are_refused() {
        for bad in [
            "Alice <alice@example.com>",
            "<alice@example.com>",
            "mailto:alice@example.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn control_characters_and_inner_white_space_are_refused() {
        for bad in [
            "alice@example.com\r\nBcc: eve@evil.example",
            "al ice@example.com",
            "alice\u{0}@example.com",
        ] {
            assert_eq!(
                EmailAddress::parse(bad),
                Err(InvalidEmail::ForbiddenCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn empty_parts_are_refused() {
        assert_eq!(EmailAddress::parse("  "), Err(InvalidEmail::Empty));
        assert_eq!(
            EmailAddress::parse("@example.com"),
            Err(InvalidEmail::InvalidLocalPart)
        );
        assert_eq!(
            EmailAddress::parse("alice@"),
            Err(InvalidEmail::InvalidDomain)
        );
        assert_eq!(EmailAddress::parse("alice"), Err(InvalidEmail::NotOneAt));
    }

    #[test]
    fn malformed_local_parts_and_domains_are_refused() {
        for bad in [
            "a..b@example.com",
            ".a@example.com",
            "a.@example.com",
            "\"ab\"@example.com",
        ] {
            assert_eq!(
                EmailAddress::parse(bad),
                Err(InvalidEmail::InvalidLocalPart),
                "{bad:?}"
            );
        }
        for bad in [
            "a@exa_mple.com",
            "a@-example.com",
            "a@example..com",
            "a@[127.0.0.1]",
        ] {
            assert_eq!(
                EmailAddress::parse(bad),
                Err(InvalidEmail::InvalidDomain),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn addresses_over_254_bytes_are_refused_and_254_is_accepted() {
        let domain = format!(
            "{}.{}.{}.{}",
            "d".repeat(63),
            "d".repeat(63),
            "d".repeat(63),
            "d".repeat(60)
        );
        let longest = format!("{}@{domain}", "l".repeat(254 - domain.len() - 1));
        assert_eq!(longest.len(), 254);
        assert!(EmailAddress::parse(&longest).is_ok());
        let too_long = format!("l{longest}");
        assert_eq!(EmailAddress::parse(&too_long), Err(InvalidEmail::TooLong));
        assert_eq!(
            EmailAddress::parse(&"x".repeat(10_000)),
            Err(InvalidEmail::TooLong)
        );
    }

    #[test]
    fn local_parts_over_64_bytes_are_refused() {
        let bad = format!("{}@example.com", "l".repeat(65));
        assert_eq!(
            EmailAddress::parse(&bad),
            Err(InvalidEmail::InvalidLocalPart)
        );
    }

    #[test]
    fn debug_output_hides_the_local_part() {
        let email = EmailAddress::parse("secret.person@example.com").unwrap();
        assert_eq!(format!("{email:?}"), "EmailAddress(…@example.com)");
    }
}
