use std::fmt;

/// The kind of a third-party identifier.
///
/// `email` and `msisdn` are the two media the Matrix spec defines. Deployments may use other media
/// (mxisd's LDAP and REST backends did), so any other well-formed name is kept as an opaque
/// [`Medium::Other`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Medium {
    /// An email address.
    Email,
    /// A phone number in E.164 form.
    Msisdn,
    /// Any other medium, by its lower-case name.
    Other(String),
}

/// Why a medium name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid medium name: must be 1 to 32 characters of a-z, 0-9, '.', '_' or '-'")]
pub struct InvalidMedium;

impl Medium {
    /// Parses a medium name as it appears on the wire (`"email"`, `"msisdn"`, ...).
    ///
    /// # Errors
    /// [`InvalidMedium`] when the name is empty, longer than 32 characters or uses characters
    /// outside `[a-z0-9._-]`.
    pub fn parse(name: &str) -> Result<Self, InvalidMedium> {
        match name {
            "email" => Ok(Self::Email),
            "msisdn" => Ok(Self::Msisdn),
            other => {
                let well_formed = !other.is_empty()
                    && other.len() <= 32
                    && other.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    });
                if well_formed {
                    Ok(Self::Other(other.to_owned()))
                } else {
                    Err(InvalidMedium)
                }
            }
        }
    }

    /// The wire name of this medium.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Email => "email",
            Self::Msisdn => "msisdn",
            Self::Other(name) => name,
        }
    }
}

impl fmt::Display for Medium {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_spec_media_parse_to_their_variants() {
        assert_eq!(Medium::parse("email"), Ok(Medium::Email));
        assert_eq!(Medium::parse("msisdn"), Ok(Medium::Msisdn));
    }

    #[test]
    fn a_well_formed_custom_medium_is_kept_as_an_opaque_name() {
        assert_eq!(
            Medium::parse("matrix.id"),
            Ok(Medium::Other("matrix.id".into()))
        );
        assert_eq!(
            Medium::parse("matrix.id").map(|m| m.to_string()).as_deref(),
            Ok("matrix.id")
        );
    }

    #[test]
    fn malformed_medium_names_are_refused() {
        for bad in ["", "Email", "e mail", "mail/x", "ü", &"x".repeat(33)] {
            assert_eq!(Medium::parse(bad), Err(InvalidMedium), "{bad:?}");
        }
    }
}
