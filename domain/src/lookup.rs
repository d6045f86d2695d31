//! Hashed 3PID lookups (Identity Service API, "Hashed lookup" / MSC2134): the pepper the server
//! publishes, the `sha256` hash clients send, and the `none` algorithm's clear-text entries.
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::{Medium, ThreePid};

/// The longest pepper accepted (ma1sd's `hashing.pepperLength` has no upper bound; 255 keeps a
/// stored one in any column and a response small).
pub const MAX_PEPPER_LENGTH: usize = 255;

/// The pepper mixed into every `sha256` lookup hash. It is public (`GET /hash_details` hands it to
/// anyone), so it prints in `Debug`; it only stops the pre-computation of hashes across servers
/// and across rotations.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pepper(String);

/// Why a pepper was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a pepper must be 1 to 255 ASCII letters and digits")]
pub struct InvalidPepper;

impl Pepper {
    /// A pepper of 1 to [`MAX_PEPPER_LENGTH`] ASCII letters and digits, the alphabet mxisd, ma1sd
    /// and sydent draw peppers from (so no space can blur the `"<address> <medium> <pepper>"`
    /// string that is hashed).
    ///
    /// # Errors
    /// [`InvalidPepper`].
    pub fn parse(raw: &str) -> Result<Self, InvalidPepper> {
        let valid = (1..=MAX_PEPPER_LENGTH).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric());
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidPepper)
        }
    }

    /// A fresh pepper of `length` letters and digits (clamped to 1..=[`MAX_PEPPER_LENGTH`]),
    /// each picked by `pick(n)`, a uniform random index below `n` from the caller's CSPRNG.
    /// Valid by construction: it cannot fail.
    pub fn generate(length: usize, mut pick: impl FnMut(usize) -> usize) -> Self {
        Self(crate::secrets::random_alphanumeric(
            length.min(MAX_PEPPER_LENGTH),
            &mut pick,
        ))
    }

    /// The pepper as published.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A `sha256` lookup hash: the unpadded URL-safe base64 of SHA-256 over
/// `"<address> <medium> <pepper>"`. Hashes that clients send are opaque strings; they either equal
/// one of the server's or match nothing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LookupHash(String);

impl LookupHash {
    /// The hash of `threepid` under `pepper`, exactly as the specification defines it (the
    /// address in its canonical form, the medium's wire name, single spaces).
    pub fn of(threepid: &ThreePid, pepper: &Pepper) -> Self {
        Self::compute(threepid.address(), &threepid.medium(), pepper)
    }

    fn compute(address: &str, medium: &Medium, pepper: &Pepper) -> Self {
        let digest = Sha256::digest(format!("{address} {medium} {pepper}").as_bytes());
        Self(URL_SAFE_NO_PAD.encode(digest))
    }

    /// A hash as a client sent it, kept as is.
    pub fn from_client(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The hash as it travels.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LookupHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The addresses of a lookup as sent, one after the other in one buffer: a request carries up to
/// `lookup.maxAddresses` of them, and a `String` each was that many allocations on the hottest
/// path of the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addresses {
    text: String,
    /// Where each address ends in `text`.
    ends: Vec<usize>,
}

impl Addresses {
    /// No addresses, with room for `count` of `bytes` in all.
    pub fn with_capacity(count: usize, bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(count),
        }
    }

    /// Adds an address after the others.
    pub fn push(&mut self, address: &str) {
        self.text.push_str(address);
        self.ends.push(self.text.len());
    }

    /// How many addresses there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The address at `position`, if there is one.
    pub fn get(&self, position: usize) -> Option<&str> {
        let end = *self.ends.get(position)?;
        let start = match position.checked_sub(1) {
            Some(previous) => *self.ends.get(previous)?,
            None => 0,
        };
        self.text.get(start..end)
    }

    /// The addresses in the order they were sent.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| self.text.get(start..end).unwrap_or_default())
    }
}

impl<S: AsRef<str>> FromIterator<S> for Addresses {
    fn from_iter<I: IntoIterator<Item = S>>(addresses: I) -> Self {
        let mut all = Self::default();
        for address in addresses {
            all.push(address.as_ref());
        }
        all
    }
}

/// The algorithms of `POST /lookup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LookupAlgorithm {
    /// Clear text `"<address> <medium>"` entries.
    None,
    /// [`LookupHash`]es.
    Sha256,
}

impl LookupAlgorithm {
    /// The algorithm with this wire name (`none`, `sha256`), if Verity knows it.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "none" => Some(Self::None),
            "sha256" => Some(Self::Sha256),
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Sha256 => "sha256",
        }
    }
}

impl fmt::Display for LookupAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an entry of a `none` lookup is not `"<address> <medium>"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("each address of a `none` lookup must be \"<address> <medium>\", separated by one space")]
pub struct MalformedPlainEntry;

/// What a `none` entry names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlainEntry {
    /// A well-formed 3PID, in canonical form.
    ThreePid(ThreePid),
    /// Two words, but not a 3PID this server could hold (an unknown medium's syntax, an invalid
    /// email): it matches nothing.
    Unknown,
}

impl PlainEntry {
    /// Parses `"<address> <medium>"` as sydent does: the entry must split on whitespace into
    /// exactly two parts, so an address containing a space is refused. The address is then
    /// brought into its canonical form (emails are case-folded), as every 3PID is bound in that
    /// form.
    ///
    /// # Errors
    /// [`MalformedPlainEntry`] unless the entry has exactly two parts.
    pub fn parse(entry: &str) -> Result<Self, MalformedPlainEntry> {
        let mut parts = entry.split_whitespace();
        let (Some(address), Some(medium), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(MalformedPlainEntry);
        };
        let threepid = Medium::parse(medium)
            .ok()
            .and_then(|medium| ThreePid::parse(medium, address).ok());
        Ok(threepid.map_or(Self::Unknown, Self::ThreePid))
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn pepper(raw: &str) -> Pepper {
        Pepper::parse(raw).unwrap()
    }

    #[test]
    fn a_generated_pepper_is_valid_and_of_a_clamped_length() {
        for (asked, got) in [(0, 1), (20, 20), (255, 255), (10_000, 255)] {
            let generated = Pepper::generate(asked, |_| usize::MAX);
            assert_eq!(generated.as_str().len(), got);
            assert_eq!(Pepper::parse(generated.as_str()), Ok(generated));
        }
    }

    fn threepid(medium: &str, address: &str) -> ThreePid {
        ThreePid::parse(Medium::parse(medium).unwrap(), address).unwrap()
    }

    #[test]
    fn hashes_match_the_specification_test_vectors() {
        // Identity Service API, "Hashed lookup"; checked independently with Python's hashlib.
        let spec = pepper("matrixrocks");
        assert_eq!(
            LookupHash::of(&threepid("email", "alice@example.com"), &spec).as_str(),
            "4kenr7N9drpCJ4AfalmlGQVsOn3o2RHjkADUpXJWZUc"
        );
        assert_eq!(
            LookupHash::of(&threepid("msisdn", "18005552067"), &spec).as_str(),
            "nlo35_T5fzSGZzJApqu8lgIudJvmOQtDaHtr-I4rU7I"
        );
    }

    #[test]
    fn hashes_use_the_canonical_address_and_the_url_safe_alphabet_without_padding() {
        // python3: base64.urlsafe_b64encode(sha256(b"strauss@example.org email Zx81pQ0s3cReT"))
        let pepper = pepper("Zx81pQ0s3cReT");
        let hash = LookupHash::of(&threepid("email", "Strauß@Example.org"), &pepper);
        assert_eq!(hash.as_str(), "chuUY5G07muK1eCYGuUbg5SULrpUTb1GU8w3xyc2ujU");
        let phone = LookupHash::of(&threepid("msisdn", "447911123456"), &pepper);
        assert_eq!(
            phone.as_str(),
            "WdEJ1bP0yqzJBV4nUnigrk3rsDurqhci3epvt1vrCtU"
        );
        assert!(!phone.as_str().contains(['=', '+', '/']));
    }

    #[test]
    fn another_pepper_gives_another_hash() {
        let alice = threepid("email", "alice@example.com");
        assert_ne!(
            LookupHash::of(&alice, &pepper("matrixrocks")),
            LookupHash::of(&alice, &pepper("matrixrolls"))
        );
    }

    #[test]
    fn peppers_are_ascii_letters_and_digits_only() {
        assert!(Pepper::parse("abcXYZ019").is_ok());
        assert!(Pepper::parse(&"a".repeat(MAX_PEPPER_LENGTH)).is_ok());
        for bad in ["", "with space", "pepper!", "päpper", &"a".repeat(256)] {
            assert_eq!(Pepper::parse(bad), Err(InvalidPepper), "{bad:?}");
        }
    }

    #[test]
    fn a_pepper_is_public_and_prints_in_debug() {
        assert_eq!(format!("{:?}", pepper("abc")), "Pepper(\"abc\")");
    }

    #[test]
    fn only_none_and_sha256_are_algorithms() {
        assert_eq!(LookupAlgorithm::parse("none"), Some(LookupAlgorithm::None));
        assert_eq!(
            LookupAlgorithm::parse("sha256"),
            Some(LookupAlgorithm::Sha256)
        );
        assert_eq!(LookupAlgorithm::parse("SHA256"), None);
        assert_eq!(LookupAlgorithm::parse("md5"), None);
    }

    #[test]
    fn plain_entries_are_an_address_and_a_medium_in_canonical_form() {
        assert_eq!(
            PlainEntry::parse("Alice@Example.org email"),
            Ok(PlainEntry::ThreePid(threepid("email", "alice@example.org")))
        );
        assert_eq!(
            PlainEntry::parse("447911123456 msisdn"),
            Ok(PlainEntry::ThreePid(threepid("msisdn", "447911123456")))
        );
    }

    #[test]
    fn addresses_come_back_in_order_each_exactly_as_pushed_empty_ones_and_repeats_included() {
        let sent = ["h1", "", "h\u{e9}\"2", "h1"];
        let addresses: Addresses = sent.iter().collect();
        assert_eq!(addresses.len(), 4);
        assert!(!addresses.is_empty());
        assert_eq!(addresses.iter().collect::<Vec<_>>(), sent);
        let by_position: Vec<_> = (0..5).map(|i| addresses.get(i)).collect();
        assert_eq!(
            by_position,
            [Some("h1"), Some(""), Some("h\u{e9}\"2"), Some("h1"), None]
        );
        assert!(Addresses::with_capacity(8, 64).is_empty());
        assert_eq!(Addresses::default().iter().count(), 0);
    }

    #[test]
    fn plain_entries_that_are_not_two_words_are_malformed() {
        for bad in ["alice@example.org", "a b email", "", "   "] {
            assert_eq!(PlainEntry::parse(bad), Err(MalformedPlainEntry), "{bad:?}");
        }
    }

    #[test]
    fn plain_entries_naming_no_valid_3pid_match_nothing() {
        for unknown in ["not-an-email email", "+44 msisdn", "x Medium!"] {
            assert_eq!(
                PlainEntry::parse(unknown),
                Ok(PlainEntry::Unknown),
                "{unknown:?}"
            );
        }
    }
}
