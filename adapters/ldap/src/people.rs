//! The user directory search of an LDAP directory (ma1sd's `LdapDirectoryProvider`): a substring
//! match of the term (`*term*`, escaped as RFC 4515 says, which ma1sd did not) in the name
//! attribute and `directory.attribute.other` (by name) or the 3PID attributes (by 3PID), and in
//! the uid attribute in both, under `directory.filter` (default `filter`), across the base DNs,
//! with a size limit.
use async_trait::async_trait;
use verity_application::ports::driven::{BackendError, DirectorySearch};
use verity_domain::{DirectoryEntry, DirectoryResults, SearchLimit, SearchTerm};

use crate::backend::LdapBackend;
use crate::filter::{and_filter, any_of, escape};
use crate::values;

/// `(attribute=*value*)`, the value escaped.
fn contains(attribute: &str, value: &str) -> String {
    format!("({attribute}=*{}*)", escape(value))
}

impl LdapBackend {
    /// The people whose `attributes` (or uid) contain `term`.
    async fn search_people(
        &self,
        attributes: Vec<&str>,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, BackendError> {
        let config = self.config();
        let mut searched = attributes;
        searched.push(&config.uid_attribute);
        let mut seen = Vec::new();
        let terms: Vec<String> = searched
            .into_iter()
            .filter(|attribute| {
                let new = !seen.contains(&attribute.to_ascii_lowercase());
                seen.push(attribute.to_ascii_lowercase());
                new && !attribute.trim().is_empty()
            })
            .map(|attribute| contains(attribute, term.as_str()))
            .collect();
        let filter = and_filter(config.effective_directory_filter(), &any_of(&terms));
        let wanted = vec![config.uid_attribute.clone(), config.name_attribute.clone()];
        // One entry more than the limit: enough to say `limited`.
        let (entries, more) = self
            .directory()
            .search_limited(&filter, &wanted, limit.as_usize().saturating_add(1))
            .await
            .map_err(|error| {
                tracing::debug!(%error, "the LDAP directory search failed");
                BackendError::Unavailable(Box::new(error))
            })?;
        let found = entries
            .iter()
            .filter_map(|entry| {
                let uid = entry.values(&config.uid_attribute).first()?;
                let Some(user_id) = values::user_id(config, uid) else {
                    tracing::debug!(dn = %entry.dn, "an LDAP entry without a usable uid; left out of the directory search");
                    return None;
                };
                let name = entry.values(&config.name_attribute).first().cloned();
                Some(DirectoryEntry::new(user_id, name))
            })
            .collect();
        let mut results = DirectoryResults::within(found, limit);
        results.limited |= more;
        Ok(results)
    }
}

#[async_trait]
impl DirectorySearch for LdapBackend {
    fn name(&self) -> &'static str {
        self.section()
    }

    async fn search_by_name(
        &self,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, BackendError> {
        let config = self.config();
        let mut attributes = vec![config.name_attribute.as_str()];
        attributes.extend(config.directory_other_attributes.iter().map(String::as_str));
        self.search_people(attributes, term, limit).await
    }

    async fn search_by_threepid(
        &self,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, BackendError> {
        let config = self.config();
        // As ma1sd: the name attribute too, then every 3PID attribute.
        let mut attributes = vec![config.name_attribute.as_str()];
        for medium_attributes in config.threepid_attributes.values() {
            attributes.extend(medium_attributes.iter().map(String::as_str));
        }
        self.search_people(attributes, term, limit).await
    }
}
