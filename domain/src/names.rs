use std::fmt;

/// Why a configured name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidName {
    /// Not a DNS domain name.
    #[error(
        "{0:?} is not a domain name (letters, digits and inner hyphens in dot-separated labels)"
    )]
    Domain(String),
    /// Not a usable identity server label.
    #[error("{0:?} is not a server label (1 to 64 characters of letters, digits, '.', '_' or '-')")]
    Label(String),
}

/// The Matrix domain Verity serves (`matrix.domain`): the server part of its users' Matrix IDs and
/// the email domain whose addresses are *local*.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MatrixDomain(String);

impl MatrixDomain {
    /// Parses a domain name, case-folding it so comparisons with email domains are exact.
    ///
    /// # Errors
    /// [`InvalidName::Domain`] unless it is dot-separated labels of 1 to 63 letters, digits or inner
    /// hyphens, 253 bytes at most.
    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        let folded = caseless::default_case_fold_str(raw.trim());
        let valid = !folded.is_empty()
            && folded.len() <= 253
            && folded.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if valid {
            Ok(Self(folded))
        } else {
            Err(InvalidName::Domain(raw.to_owned()))
        }
    }

    /// The canonical (folded) domain.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MatrixDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The label of a list of identity servers in `matrix.identity.servers` (`root` by default), by which
/// policies name the server a remote session goes to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerLabel(String);

impl ServerLabel {
    /// Parses a label.
    ///
    /// # Errors
    /// [`InvalidName::Label`] unless it is 1 to 64 characters of ASCII letters, digits, `.`, `_`
    /// or `-`.
    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        let valid = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidName::Label(raw.to_owned()))
        }
    }

    /// The label as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServerLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_domains_are_case_folded() {
        assert_eq!(
            MatrixDomain::parse(" Example.ORG ").unwrap().as_str(),
            "example.org"
        );
        assert_eq!(
            MatrixDomain::parse("localhost").unwrap().as_str(),
            "localhost"
        );
    }

    #[test]
    fn things_that_are_not_domain_names_are_refused() {
        for bad in [
            "",
            "example.org:8448",
            "https://example.org",
            "a..b",
            "-a.b",
            "a b",
            "a/b",
        ] {
            assert!(MatrixDomain::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn server_labels_are_short_plain_names() {
        assert!(ServerLabel::parse("root").is_ok());
        assert!(ServerLabel::parse("matrix-org").is_ok());
        for bad in ["", "has space", "ü", &"l".repeat(65)] {
            assert!(ServerLabel::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
