//! `accountConfig` (ma1sd) and `policy` (ma1sd's terms of service) -> [`AccountSettings`], and
//! `session.nextLink.allowed` (Verity only): the settings of v2 accounts and of the pages users
//! land on from the validation email.
use std::collections::BTreeMap;
use std::time::Duration;

use url::Url;
use verity_application::usecases::{
    AccountSettings, DEFAULT_ACCOUNT_CACHE_CAPACITY, DEFAULT_ACCOUNT_CACHE_LIFETIME,
};
use verity_domain::{MatrixDomain, PolicyDocument, TermsPolicy};

use super::error::ConfigError;
use super::lenient::{Flag, format_duration, text};
use super::raw::{RawAccountConfig, RawNextLink, RawPolicy, RawTerms, RawTermsPolicy};

/// Longer than this is a mistake (a unit left out, a number of milliseconds): ten years.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(3_650 * 86_400);

/// Longer than this would let a logged-out token work on other instances for too long: the cache
/// only needs to outlast a client's burst of requests.
const MAX_CACHE_LIFETIME: Duration = Duration::from_secs(300);

pub fn accounts(
    account: RawAccountConfig,
    policy: RawPolicy,
    domain: &MatrixDomain,
) -> Result<AccountSettings, ConfigError> {
    let token_lifetime = account.token_lifetime.map(|lifetime| lifetime.0);
    if let Some(lifetime) = token_lifetime.filter(|l| *l > MAX_TOKEN_LIFETIME) {
        return Err(ConfigError::invalid(
            "accountConfig.tokenLifetime",
            format!(
                "{} is longer than 10 years (3650d); leave the key out for tokens that work \
                 until the user logs out",
                format_duration(lifetime)
            ),
        ));
    }
    let cache_lifetime = account
        .cache_lifetime
        .map_or(DEFAULT_ACCOUNT_CACHE_LIFETIME, |lifetime| lifetime.0);
    if cache_lifetime > MAX_CACHE_LIFETIME {
        return Err(ConfigError::invalid(
            "accountConfig.cacheLifetime",
            format!(
                "{} is longer than 5 minutes (5m): a logout on another instance would take that \
                 long to take effect there; the default is 10s, and 0 turns the cache off",
                format_duration(cache_lifetime)
            ),
        ));
    }
    Ok(AccountSettings {
        domain: domain.clone(),
        allow_only_trusted_domain: account.allow_only_trust_domains.is_none_or(|Flag(b)| b),
        token_lifetime,
        policies: policies(policy)?,
        cache_lifetime,
        cache_capacity: DEFAULT_ACCOUNT_CACHE_CAPACITY,
    })
}

/// The policies in name order (a `BTreeMap`'s order).
fn policies(raw: RawPolicy) -> Result<Vec<TermsPolicy>, ConfigError> {
    raw.policies
        .unwrap_or_default()
        .into_iter()
        .map(|(name, body)| terms_policy(name, body.unwrap_or_default()))
        .collect()
}

fn terms_policy(name: String, raw: RawTermsPolicy) -> Result<TermsPolicy, ConfigError> {
    let key = format!("policy.policies.{name}");
    if name.trim().is_empty() {
        return Err(ConfigError::invalid(
            "policy.policies",
            "a policy name must not be blank",
        ));
    }
    let version = text(raw.version).ok_or_else(|| {
        ConfigError::missing(
            format!("{key}.version"),
            "set the version of the policy's documents, e.g. `version: '1.0'`; publishing a new \
             version asks every user to accept the policy again",
        )
    })?;
    let mut translations = BTreeMap::new();
    for (language, document) in raw.terms.unwrap_or_default() {
        let doc_key = format!("{key}.terms.{language}");
        check_language(&language).map_err(|why| ConfigError::invalid(&doc_key, why))?;
        translations.insert(
            language,
            document_of(&doc_key, document.unwrap_or_default())?,
        );
    }
    if translations.is_empty() {
        return Err(ConfigError::missing(
            format!("{key}.terms"),
            "give the policy's document in at least one language, e.g. \
             `terms: {en: {name: 'Terms of service', url: 'https://example.org/terms-1.0-en.html'}}`",
        ));
    }
    Ok(TermsPolicy {
        name,
        version,
        translations,
    })
}

/// `en`, `en-GB`, `pt_BR`, `zh-Hans`. Not `version`: `GET /terms` puts the version and the
/// languages in the same JSON object, so a language of that name would hide the version.
fn check_language(language: &str) -> Result<(), &'static str> {
    if language == "version" {
        return Err("`version` cannot be a language: it is the policy's version key, one level up");
    }
    let valid = (1..=35).contains(&language.len())
        && language
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err("a language code is 1 to 35 letters, digits, `-` or `_`, e.g. `en` or `en-GB`")
    }
}

fn document_of(key: &str, raw: RawTerms) -> Result<PolicyDocument, ConfigError> {
    let name = text(raw.name).ok_or_else(|| {
        ConfigError::missing(
            format!("{key}.name"),
            "set the document's title as clients show it, e.g. `name: 'Terms of service'`",
        )
    })?;
    let url_key = format!("{key}.url");
    let url = text(raw.url).ok_or_else(|| {
        ConfigError::missing(
            &url_key,
            "set the address of the document, e.g. `url: 'https://example.org/terms-1.0-en.html'`",
        )
    })?;
    http_url(&url).map_err(|why| ConfigError::invalid(&url_key, why))?;
    // Kept exactly as written: it is what users accept and send back, compared as text.
    Ok(PolicyDocument { name, url })
}

/// An absolute `http://` or `https://` URL with a host.
fn http_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("{value:?} is not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "{value:?} must be an http:// or https:// URL with a host"
        ));
    }
    Ok(url)
}

/// `session.nextLink.allowed`: each entry an http(s) URL prefix with a host and nothing a
/// redirect target could abuse (user info, query, fragment). Kept in the `url` crate's normal
/// form (`https://App.Example` -> `https://app.example/`), which is how links are compared.
pub fn next_link_allowed(raw: RawNextLink) -> Result<Vec<String>, ConfigError> {
    let mut allowed = Vec::new();
    for (index, entry) in raw.allowed.unwrap_or_default().into_iter().enumerate() {
        let key = format!("session.nextLink.allowed[{index}]");
        let entry =
            text(Some(entry)).ok_or_else(|| ConfigError::invalid(&key, "must not be blank"))?;
        let url = http_url(&entry).map_err(|why| ConfigError::invalid(&key, why))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ConfigError::invalid(
                &key,
                format!("{entry:?} must not contain a user name or password"),
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ConfigError::invalid(
                &key,
                format!("{entry:?} must not have a query (?) or a fragment (#)"),
            ));
        }
        allowed.push(url.to_string());
    }
    Ok(allowed)
}
