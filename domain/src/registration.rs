//! Registration control (ma1sd's `register.policy`): whether a 3PID may be used to register an
//! account on the homeserver, when the homeserver's `register/{medium}/requestToken` is routed
//! through Verity.
//!
//! The order is ma1sd's: a 3PID with a pending invite is allowed when `invite` is on; then the
//! medium's blacklist refuses, then its whitelist allows; otherwise `allowed` decides. Two things
//! differ from ma1sd, both on the side of refusing: ma1sd turned the email domain `*example.org`
//! into the regex `(.*)example\.org`, which also matched `evilexample.org`; here it means
//! `example.org` and its subdomains only. And every rule is matched against the canonical
//! address (emails in lower case, phone numbers as E.164 digits without `+`), so a rule cannot be
//! dodged by writing the address in capitals.
use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;

use crate::{Medium, ThreePid};

/// An email domain rule, in ma1sd's notation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainRule {
    /// `example.org`: that domain only.
    Exact(String),
    /// `*example.org`: the domain and any subdomain.
    WithSubdomains(String),
    /// `.example.org`: subdomains only.
    SubdomainsOnly(String),
}

/// Why a registration rule was refused when the configuration was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRegistrationRule {
    /// The domain rule is empty or not a domain name.
    #[error("`{0}` is not a domain rule: write `example.org`, `*example.org` or `.example.org`")]
    Domain(String),
    /// The pattern is not a regular expression this server understands.
    #[error("`{pattern}` is not a valid regular expression: {reason}")]
    Pattern {
        /// The pattern as configured.
        pattern: String,
        /// The regex engine's complaint.
        reason: String,
    },
}

impl DomainRule {
    /// Parses `example.org`, `*example.org` or `.example.org` (case-insensitive).
    ///
    /// # Errors
    /// [`InvalidRegistrationRule::Domain`] for an empty rule or one with characters a domain
    /// cannot have.
    pub fn parse(raw: &str) -> Result<Self, InvalidRegistrationRule> {
        let rule = raw.trim().to_ascii_lowercase();
        let (make, domain): (fn(String) -> Self, &str) = if let Some(rest) = rule.strip_prefix('*')
        {
            (Self::WithSubdomains, rest.strip_prefix('.').unwrap_or(rest))
        } else if let Some(rest) = rule.strip_prefix('.') {
            (Self::SubdomainsOnly, rest)
        } else {
            (Self::Exact, rule.as_str())
        };
        let valid = !domain.is_empty()
            && domain.len() <= 253
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b >= 0x80)
            });
        if !valid {
            return Err(InvalidRegistrationRule::Domain(raw.to_owned()));
        }
        Ok(make(domain.to_owned()))
    }

    /// Whether `domain` (lower case) is covered by the rule.
    pub fn matches(&self, domain: &str) -> bool {
        let below = |parent: &str| {
            domain
                .strip_suffix(parent)
                .is_some_and(|head| head.len() > 1 && head.ends_with('.'))
        };
        match self {
            Self::Exact(rule) => domain == rule,
            Self::WithSubdomains(rule) => domain == rule || below(rule),
            Self::SubdomainsOnly(rule) => below(rule),
        }
    }
}

/// A regular expression that must match a whole address (Java's `Matcher.matches`, as ma1sd).
#[derive(Clone)]
pub struct AddressPattern {
    source: String,
    regex: Regex,
}

impl AddressPattern {
    /// Compiles `pattern`, anchored at both ends.
    ///
    /// # Errors
    /// [`InvalidRegistrationRule::Pattern`] when the regex engine refuses it (Java features such as
    /// look-around and back-references are not supported).
    pub fn parse(pattern: &str) -> Result<Self, InvalidRegistrationRule> {
        let refused = |error: regex::Error| InvalidRegistrationRule::Pattern {
            pattern: pattern.to_owned(),
            reason: error.to_string(),
        };
        // Compiled alone first: `a)|(.*` is not a regex, but wrapped in `^(?:…)$` it would be
        // one that matches everything.
        Regex::new(pattern).map_err(refused)?;
        let regex = Regex::new(&format!("^(?:{pattern})$")).map_err(refused)?;
        Ok(Self {
            source: pattern.to_owned(),
            regex,
        })
    }

    /// Whether the whole of `address` matches.
    pub fn matches(&self, address: &str) -> bool {
        self.regex.is_match(address)
    }

    /// The pattern as configured.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl fmt::Debug for AddressPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AddressPattern({:?})", self.source)
    }
}

impl PartialEq for AddressPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for AddressPattern {}

/// One medium's rules: `register.policy.threepid.<medium>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediumRules {
    /// `pattern.blacklist`: addresses refused.
    pub blacklisted_patterns: Vec<AddressPattern>,
    /// `pattern.whitelist`: addresses allowed.
    pub whitelisted_patterns: Vec<AddressPattern>,
    /// `domain.blacklist` (email only): domains refused.
    pub blacklisted_domains: Vec<DomainRule>,
    /// `domain.whitelist` (email only): domains allowed.
    pub whitelisted_domains: Vec<DomainRule>,
}

impl MediumRules {
    fn listed(
        &self,
        threepid: &ThreePid,
        patterns: &[AddressPattern],
        domains: &[DomainRule],
    ) -> bool {
        let address = threepid.address();
        let by_domain = match threepid {
            ThreePid::Email(email) => domains.iter().any(|rule| rule.matches(email.domain())),
            _ => false,
        };
        by_domain || patterns.iter().any(|pattern| pattern.matches(address))
    }
}

/// Why a 3PID may or may not register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationDecision {
    /// A pending invite was sent to it and `invite` is on.
    AllowedForInvite,
    /// Its medium's whitelist lists it.
    Whitelisted,
    /// Its medium's blacklist lists it.
    Blacklisted,
    /// No rule names it: `allowed` decided.
    Default {
        /// `register.policy.allowed`.
        allowed: bool,
    },
}

impl RegistrationDecision {
    /// Whether the registration may go on.
    pub fn is_allowed(self) -> bool {
        match self {
            Self::AllowedForInvite | Self::Whitelisted => true,
            Self::Blacklisted => false,
            Self::Default { allowed } => allowed,
        }
    }
}

/// `register.policy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationPolicy {
    /// `allowed`: the decision when no rule names the 3PID (ma1sd's default: false).
    pub allowed: bool,
    /// `invite`: whether a 3PID with a pending invite may register (default: true).
    pub invite: bool,
    /// `threepid.<medium>`.
    pub rules: BTreeMap<Medium, MediumRules>,
}

impl Default for RegistrationPolicy {
    /// ma1sd's defaults: only 3PIDs with a pending invite may register.
    fn default() -> Self {
        Self {
            allowed: false,
            invite: true,
            rules: BTreeMap::new(),
        }
    }
}

impl RegistrationPolicy {
    /// Whether the decision needs to know if `threepid` has a pending invite (so that the store
    /// is asked only when the answer matters).
    pub fn asks_for_invites(&self) -> bool {
        self.invite
    }

    /// Decides for `threepid`; `has_pending_invite` is whether an invite to it is pending.
    pub fn decide(&self, threepid: &ThreePid, has_pending_invite: bool) -> RegistrationDecision {
        if self.invite && has_pending_invite {
            return RegistrationDecision::AllowedForInvite;
        }
        if let Some(rules) = self.rules.get(&threepid.medium()) {
            if rules.listed(
                threepid,
                &rules.blacklisted_patterns,
                &rules.blacklisted_domains,
            ) {
                return RegistrationDecision::Blacklisted;
            }
            if rules.listed(
                threepid,
                &rules.whitelisted_patterns,
                &rules.whitelisted_domains,
            ) {
                return RegistrationDecision::Whitelisted;
            }
        }
        RegistrationDecision::Default {
            allowed: self.allowed,
        }
    }
}

#[cfg(test)]
#[path = "registration_tests.rs"]
mod tests;
