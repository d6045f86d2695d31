use std::fmt;

use phonenumber::{Mode, country};

/// E.164 allows at most 15 digits.
const MAX_DIGITS: usize = 15;

/// A phone number as the Matrix spec writes it: E.164 digits without the leading `+`
/// (`447911123456`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Msisdn(String);

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMsisdn {
    /// `country` is not an ISO 3166-1 alpha-2 code the numbering plan knows.
    #[error("unknown country code {0:?}")]
    UnknownCountry(String),
    /// The number cannot be parsed, or is not a valid number in that country's numbering plan.
    #[error("not a valid phone number for that country")]
    NotANumber,
    /// A stored or looked-up MSISDN is not 1 to 15 ASCII digits.
    #[error("an msisdn is 1 to 15 digits without '+'")]
    NotDigits,
}

impl Msisdn {
    /// Builds the MSISDN from what `requestToken` sends: the number as dialled in `country`
    /// (ISO 3166-1 alpha-2, any case), checked against that country's numbering plan.
    ///
    /// # Errors
    /// [`InvalidMsisdn::UnknownCountry`] or [`InvalidMsisdn::NotANumber`].
    pub fn from_parts(phone_number: &str, country_code: &str) -> Result<Self, InvalidMsisdn> {
        let id: country::Id = country_code
            .trim()
            .to_ascii_uppercase()
            .parse()
            .map_err(|_| InvalidMsisdn::UnknownCountry(country_code.to_owned()))?;
        // The number alone is user input of unbounded size; the library needs no more than this.
        if phone_number.len() > 64 {
            return Err(InvalidMsisdn::NotANumber);
        }
        let number =
            phonenumber::parse(Some(id), phone_number).map_err(|_| InvalidMsisdn::NotANumber)?;
        if !phonenumber::is_valid(&number) {
            return Err(InvalidMsisdn::NotANumber);
        }
        let e164 = number.format().mode(Mode::E164).to_string();
        Self::parse(e164.trim_start_matches('+'))
    }

    /// Accepts an MSISDN already in canonical form (from storage, a lookup or a binding).
    ///
    /// # Errors
    /// [`InvalidMsisdn::NotDigits`] unless the value is 1 to 15 ASCII digits.
    pub fn parse(digits: &str) -> Result<Self, InvalidMsisdn> {
        if digits.is_empty()
            || digits.len() > MAX_DIGITS
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(InvalidMsisdn::NotDigits);
        }
        Ok(Self(digits.to_owned()))
    }

    /// The digits, without `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ISO 3166-1 alpha-2 region the number belongs to (`GB` for `447911123456`), as the
    /// v1 `requestToken` of another identity server wants it beside the number; `None` when the
    /// numbering plan cannot tell.
    pub fn region(&self) -> Option<String> {
        let number = phonenumber::parse(None, format!("+{}", self.0)).ok()?;
        // Several regions share a calling code (+44: GB, GG, IM, JE); the main one is meant.
        let regions = phonenumber::metadata::DATABASE.by_code(&number.country().code())?;
        regions
            .iter()
            .find(|region| region.is_main_country_for_code())
            .or_else(|| regions.first())
            .map(|region| region.id().to_owned())
    }

    /// The country calling code (`44` for `447911123456`): what the per-country SMS limit is
    /// keyed by (Sydent's `country.ratelimit`); `None` when the numbering plan cannot tell.
    pub fn calling_code(&self) -> Option<u16> {
        let number = phonenumber::parse(None, format!("+{}", self.0)).ok()?;
        Some(number.country().code())
    }

    /// The number in international format for people (`+44 7911 123456`), as requestToken's
    /// `intl_fmt` field expects; falls back to `+digits` when the plan has no format for it.
    pub fn international_format(&self) -> String {
        let plus = format!("+{}", self.0);
        match phonenumber::parse(None, &plus) {
            Ok(number) => number.format().mode(Mode::International).to_string(),
            Err(_) => plus,
        }
    }
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Msisdn {
    // Phone numbers are personal data: debug output (and so logs) keeps only the first digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.0.chars().take(3).collect();
        write!(f, "Msisdn({shown}…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_of_a_number_is_its_country_code() {
        assert_eq!(
            Msisdn::parse("447911123456").unwrap().region().as_deref(),
            Some("GB")
        );
        assert_eq!(
            Msisdn::parse("33612345678").unwrap().region().as_deref(),
            Some("FR")
        );
        assert_eq!(Msisdn::parse("999").unwrap().region(), None);
    }

    #[test]
    fn a_national_number_becomes_e164_digits_without_plus() {
        let msisdn = Msisdn::from_parts("07911 123456", "GB").unwrap();
        assert_eq!(msisdn.as_str(), "447911123456");
    }

    #[test]
    fn the_country_code_is_case_insensitive_and_punctuation_is_ignored() {
        let msisdn = Msisdn::from_parts("(415) 555-2671", "us").unwrap();
        assert_eq!(msisdn.as_str(), "14155552671");
    }

    #[test]
    fn a_number_given_with_its_own_plus_prefix_is_not_doubled() {
        let msisdn = Msisdn::from_parts("+33 6 12 34 56 78", "FR").unwrap();
        assert_eq!(msisdn.as_str(), "33612345678");
    }

    #[test]
    fn an_unknown_country_is_refused() {
        assert_eq!(
            Msisdn::from_parts("0123456", "XX"),
            Err(InvalidMsisdn::UnknownCountry("XX".into()))
        );
    }

    #[test]
    fn numbers_invalid_in_their_country_are_refused() {
        for bad in ["123", "not a number", "07911 123456 999 999", ""] {
            assert_eq!(
                Msisdn::from_parts(bad, "GB"),
                Err(InvalidMsisdn::NotANumber),
                "{bad:?}"
            );
        }
        assert_eq!(
            Msisdn::from_parts(&"1".repeat(1000), "GB"),
            Err(InvalidMsisdn::NotANumber)
        );
    }

    #[test]
    fn canonical_msisdns_must_be_1_to_15_digits() {
        assert!(Msisdn::parse("447911123456").is_ok());
        for bad in ["", "+447911123456", "4477 00", "1234567890123456", "44a"] {
            assert_eq!(Msisdn::parse(bad), Err(InvalidMsisdn::NotDigits), "{bad:?}");
        }
    }

    #[test]
    fn the_international_format_is_readable() {
        let msisdn = Msisdn::parse("447911123456").unwrap();
        assert_eq!(msisdn.international_format(), "+44 7911 123456");
    }

    #[test]
    fn debug_output_hides_most_digits() {
        assert_eq!(
            format!("{:?}", Msisdn::parse("447911123456").unwrap()),
            "Msisdn(447…)"
        );
    }
}
