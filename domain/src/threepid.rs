use std::fmt;

use crate::{EmailAddress, InvalidEmail, InvalidMsisdn, Medium, Msisdn};

/// A third-party identifier in canonical form: what is validated, bound and looked up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ThreePid {
    /// An email address.
    Email(EmailAddress),
    /// A phone number.
    Msisdn(Msisdn),
    /// A 3PID of a custom medium, whose address is kept as given (trimmed).
    Other {
        /// The medium's name.
        medium: Medium,
        /// The address, opaque to Verity.
        address: String,
    },
}

/// Why a (medium, address) pair is not a valid 3PID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidThreePid {
    /// The email address is invalid.
    #[error(transparent)]
    Email(#[from] InvalidEmail),
    /// The phone number is invalid.
    #[error(transparent)]
    Msisdn(#[from] InvalidMsisdn),
    /// The address of a custom medium is empty, too long or contains control characters.
    #[error("invalid address for a custom medium")]
    Other,
}

impl ThreePid {
    /// Parses an address already written in its medium's canonical wire form (as in lookups and
    /// bindings): emails are canonicalised, msisdns must be E.164 digits.
    ///
    /// # Errors
    /// An [`InvalidThreePid`] naming the medium-specific reason.
    pub fn parse(medium: Medium, address: &str) -> Result<Self, InvalidThreePid> {
        match medium {
            Medium::Email => Ok(Self::Email(EmailAddress::parse(address)?)),
            Medium::Msisdn => Ok(Self::Msisdn(Msisdn::parse(address)?)),
            Medium::Other(_) => {
                let address = address.trim();
                if address.is_empty()
                    || address.len() > 512
                    || address.chars().any(char::is_control)
                {
                    return Err(InvalidThreePid::Other);
                }
                Ok(Self::Other {
                    medium,
                    address: address.to_owned(),
                })
            }
        }
    }

    /// The medium of this 3PID.
    pub fn medium(&self) -> Medium {
        match self {
            Self::Email(_) => Medium::Email,
            Self::Msisdn(_) => Medium::Msisdn,
            Self::Other { medium, .. } => medium.clone(),
        }
    }

    /// The canonical address.
    pub fn address(&self) -> &str {
        match self {
            Self::Email(email) => email.as_str(),
            Self::Msisdn(msisdn) => msisdn.as_str(),
            Self::Other { address, .. } => address,
        }
    }
}

impl From<EmailAddress> for ThreePid {
    fn from(email: EmailAddress) -> Self {
        Self::Email(email)
    }
}

impl From<Msisdn> for ThreePid {
    fn from(msisdn: Msisdn) -> Self {
        Self::Msisdn(msisdn)
    }
}

impl fmt::Display for ThreePid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.medium(), self.address())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_3pids_are_canonicalised_on_parse() {
        let pid = ThreePid::parse(Medium::Email, "Bob@Example.org").unwrap();
        assert_eq!(
            (pid.medium(), pid.address()),
            (Medium::Email, "bob@example.org")
        );
    }

    #[test]
    fn msisdn_3pids_must_already_be_e164_digits() {
        assert!(ThreePid::parse(Medium::Msisdn, "447911123456").is_ok());
        assert!(matches!(
            ThreePid::parse(Medium::Msisdn, "+44 7911 123456"),
            Err(InvalidThreePid::Msisdn(_))
        ));
    }

    #[test]
    fn custom_media_keep_their_trimmed_address() {
        let medium = Medium::parse("matrix.id").unwrap();
        let pid = ThreePid::parse(medium.clone(), " Some-ID ").unwrap();
        assert_eq!((pid.medium(), pid.address()), (medium.clone(), "Some-ID"));
        assert_eq!(
            ThreePid::parse(medium.clone(), " "),
            Err(InvalidThreePid::Other)
        );
        assert_eq!(ThreePid::parse(medium, "a\nb"), Err(InvalidThreePid::Other));
    }

    #[test]
    fn display_joins_medium_and_address() {
        let pid = ThreePid::parse(Medium::Email, "a@b.c").unwrap();
        assert_eq!(pid.to_string(), "email:a@b.c");
    }
}
