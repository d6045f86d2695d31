//! Sydent's terms of service (`terms.path`, a YAML file) as Verity's `policy.policies`.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::yaml::q;

/// Sydent's `terms.yaml`: `master_version`, then `docs.<name>.{version, langs.<lang>.{name,
/// url}}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct SydentTerms {
    /// Not used by Verity (each policy has its own version).
    #[serde(default)]
    pub master_version: Option<serde_norway::Value>,
    /// The documents.
    pub docs: BTreeMap<String, SydentPolicy>,
}

/// One document of Sydent's terms.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct SydentPolicy {
    /// Its version (text or a number, as YAML reads it).
    pub version: serde_norway::Value,
    /// Language -> title and URL.
    pub langs: BTreeMap<String, SydentLocalisedPolicy>,
}

/// One language of a document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct SydentLocalisedPolicy {
    /// The title.
    pub name: String,
    /// The URL users accepted.
    pub url: String,
}

impl SydentTerms {
    /// Reads Sydent's terms file.
    ///
    /// # Errors
    /// The file cannot be read, or is not Sydent's terms YAML (the message says why).
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_norway::from_str(&text)
            .map_err(|e| format!("{} is not Sydent's terms YAML: {e}", path.display()))
    }
}

fn scalar_text(value: &serde_norway::Value) -> String {
    match value {
        serde_norway::Value::String(s) => s.clone(),
        serde_norway::Value::Number(n) => n.to_string(),
        serde_norway::Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// `policy.policies`, the same names, versions and URLs, so imported acceptances count.
pub(super) fn write_terms(y: &mut String, terms: Option<&SydentTerms>) {
    let Some(terms) = terms else {
        return;
    };
    let _ = writeln!(
        y,
        "\npolicy:\n  # Sydent's terms.path. The URLs are kept as written, so the acceptances the import\n  # brings over count and users are not asked again.\n  policies:"
    );
    for (name, doc) in &terms.docs {
        let _ = writeln!(
            y,
            "    {}:\n      version: {}\n      terms:",
            q(name),
            q(&scalar_text(&doc.version))
        );
        for (lang, localised) in &doc.langs {
            let _ = writeln!(
                y,
                "        {}:\n          name: {}\n          url: {}",
                q(lang),
                q(&localised.name),
                q(&localised.url)
            );
        }
    }
}
