//! `register.policy.*` (mxisd/ma1sd): registration control, applied to the homeserver's
//! `register/{medium}/requestToken` routed through Verity. See docs/registration.md.
//!
//! ma1sd's code reads `register.policy.{allowed, invite, threepid}`; its documentation wrote
//! `register.{allowed, invite, threepid}`, which ma1sd never read: those keys get a warning that
//! says where they go (`keys::IGNORED_KEYS`), rather than a policy that ma1sd never applied.
use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use verity_domain::{
    AddressPattern, DomainRule, InvalidRegistrationRule, Medium, MediumRules, RegistrationPolicy,
};

use super::error::ConfigError;
use super::lenient::{Flag, Text};

/// `register`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawRegister {
    pub policy: Option<RawRegisterPolicy>,
    /// ma1sd's documentation's spelling of `policy.allowed` (never read by ma1sd).
    pub allowed: Option<IgnoredAny>,
    /// ma1sd's documentation's spelling of `policy.invite`.
    pub invite: Option<IgnoredAny>,
    /// ma1sd's documentation's spelling of `policy.threepid`.
    pub threepid: Option<IgnoredAny>,
}

/// `register.policy`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawRegisterPolicy {
    pub allowed: Option<Flag>,
    pub invite: Option<Flag>,
    pub threepid: Option<BTreeMap<String, RawMediumPolicy>>,
}

/// `register.policy.threepid.<medium>`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawMediumPolicy {
    pub pattern: Option<RawLists>,
    /// Email only.
    pub domain: Option<RawLists>,
}

/// A `whitelist` and a `blacklist`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawLists {
    pub whitelist: Option<Vec<Text>>,
    pub blacklist: Option<Vec<Text>>,
}

/// `register.policy` as the registration gate takes it (ma1sd's defaults: only 3PIDs with a
/// pending invite may register).
///
/// # Errors
/// A [`ConfigError`] naming the key of a medium that is not one, a domain rule on another medium
/// than email, or a rule that does not parse.
pub fn resolve(raw: &RawRegister) -> Result<RegistrationPolicy, ConfigError> {
    let Some(policy) = &raw.policy else {
        return Ok(RegistrationPolicy::default());
    };
    let defaults = RegistrationPolicy::default();
    let mut rules = BTreeMap::new();
    for (name, medium_policy) in policy.threepid.iter().flatten() {
        let key = format!("register.policy.threepid.{name}");
        let medium =
            Medium::parse(name).map_err(|error| ConfigError::invalid(&key, error.to_string()))?;
        if medium_policy.domain.is_some() && medium != Medium::Email {
            return Err(ConfigError::invalid(
                format!("{key}.domain"),
                "domain rules apply to email addresses only: use `pattern` for this medium",
            ));
        }
        let patterns = |list: Option<&Vec<Text>>, which: &str| {
            parse_all(
                list,
                &format!("{key}.pattern.{which}"),
                AddressPattern::parse,
            )
        };
        let domains = |list: Option<&Vec<Text>>, which: &str| {
            parse_all(list, &format!("{key}.domain.{which}"), DomainRule::parse)
        };
        let pattern = medium_policy.pattern.as_ref();
        let domain = medium_policy.domain.as_ref();
        rules.insert(
            medium,
            MediumRules {
                blacklisted_patterns: patterns(
                    pattern.and_then(|p| p.blacklist.as_ref()),
                    "blacklist",
                )?,
                whitelisted_patterns: patterns(
                    pattern.and_then(|p| p.whitelist.as_ref()),
                    "whitelist",
                )?,
                blacklisted_domains: domains(
                    domain.and_then(|d| d.blacklist.as_ref()),
                    "blacklist",
                )?,
                whitelisted_domains: domains(
                    domain.and_then(|d| d.whitelist.as_ref()),
                    "whitelist",
                )?,
            },
        );
    }
    Ok(RegistrationPolicy {
        allowed: policy.allowed.map_or(defaults.allowed, |Flag(on)| on),
        invite: policy.invite.map_or(defaults.invite, |Flag(on)| on),
        rules,
    })
}

fn parse_all<T>(
    list: Option<&Vec<Text>>,
    key: &str,
    parse: fn(&str) -> Result<T, InvalidRegistrationRule>,
) -> Result<Vec<T>, ConfigError> {
    list.into_iter()
        .flatten()
        .enumerate()
        .map(|(index, Text(rule))| {
            parse(rule)
                .map_err(|error| ConfigError::invalid(format!("{key}[{index}]"), error.to_string()))
        })
        .collect()
}

/// `register` as `--dump-config` shows it (ma1sd's key names; parses back to the same policy).
#[derive(Serialize)]
pub struct RegisterDump {
    policy: PolicyDump,
}

#[derive(Serialize)]
struct PolicyDump {
    allowed: bool,
    invite: bool,
    threepid: BTreeMap<String, MediumDump>,
}

#[derive(Serialize)]
struct MediumDump {
    pattern: ListsDump,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<ListsDump>,
}

#[derive(Serialize)]
struct ListsDump {
    whitelist: Vec<String>,
    blacklist: Vec<String>,
}

/// How a domain rule is written.
fn domain_text(rule: &DomainRule) -> String {
    match rule {
        DomainRule::Exact(domain) => domain.clone(),
        DomainRule::WithSubdomains(domain) => format!("*{domain}"),
        DomainRule::SubdomainsOnly(domain) => format!(".{domain}"),
    }
}

/// The dump of `policy`.
pub fn dump(policy: &RegistrationPolicy) -> RegisterDump {
    let texts =
        |patterns: &[AddressPattern]| patterns.iter().map(|p| p.as_str().to_owned()).collect();
    let domains = |rules: &[DomainRule]| rules.iter().map(domain_text).collect();
    RegisterDump {
        policy: PolicyDump {
            allowed: policy.allowed,
            invite: policy.invite,
            threepid: policy
                .rules
                .iter()
                .map(|(medium, rules)| {
                    let dump = MediumDump {
                        pattern: ListsDump {
                            whitelist: texts(&rules.whitelisted_patterns),
                            blacklist: texts(&rules.blacklisted_patterns),
                        },
                        domain: (*medium == Medium::Email).then(|| ListsDump {
                            whitelist: domains(&rules.whitelisted_domains),
                            blacklist: domains(&rules.blacklisted_domains),
                        }),
                    };
                    (medium.to_string(), dump)
                })
                .collect(),
        },
    }
}

#[cfg(test)]
#[path = "tests_register.rs"]
mod tests;
