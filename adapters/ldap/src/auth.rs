//! Logins and profiles from the directory (ma1sd's `LdapAuthProvider` and
//! `LdapProfileProvider`).
//!
//! A login searches the user's entry with the service account: `ldap.auth.filter` (else
//! `ldap.filter`) AND the uid attribute equal to the user's uid ([`values::uid_of`]: the
//! localpart, the whole Matrix ID, or Active Directory's UPN), the value escaped (RFC 4515).
//! Exactly one entry must match; then the directory is asked to bind as that entry's DN with the
//! password, on a connection of its own. The profile is the entry's name attribute and the
//! values of its 3PID attributes, in canonical form.
//!
//! Differences from ma1sd: the value is escaped as a filter value (ma1sd escaped it as a DN
//! value, so `*` stayed a wildcard and `(` broke the filter); Active Directory's UPNs are built
//! as for lookups (ma1sd's login searched the bare localpart); two entries matching is a
//! refusal (ma1sd bound as the first); the bind does not replace the service account's on the
//! shared connection.
use async_trait::async_trait;
use verity_application::ports::driven::{
    AccountName, BackendError, PasswordVerdict, PasswordVerifier, ProfileSource,
};
use verity_domain::{Password, Profile, UserId};

use crate::backend::LdapBackend;
use crate::directory::{Bound, Entry, LdapError};
use crate::filter::{and_filter, equals};
use crate::values;

/// A directory failure as the port's error (logged by the use case).
fn unavailable(error: LdapError) -> BackendError {
    BackendError::Unavailable(Box::new(error))
}

impl LdapBackend {
    /// What a login or profile search reads: the uid, the name and every 3PID attribute.
    fn profile_attributes(&self) -> Vec<String> {
        let config = self.config();
        let mut wanted = vec![config.uid_attribute.clone(), config.name_attribute.clone()];
        for attributes in config.threepid_attributes.values() {
            wanted.extend(attributes.iter().cloned());
        }
        wanted
    }

    /// The entries of `user` under `filter` (the feature's own, or the global one); none when
    /// the user cannot be named by a uid.
    async fn entries_of(&self, user: &UserId, filter: &str) -> Result<Vec<Entry>, BackendError> {
        let config = self.config();
        let Some(uid) = values::uid_of(config, user) else {
            tracing::debug!(%user, "this user has no uid in the directory (activeDirectory without defaultDomain?)");
            return Ok(Vec::new());
        };
        let query = and_filter(filter, &equals(&config.uid_attribute, &uid));
        self.directory()
            .search(&query, &self.profile_attributes())
            .await
            .map_err(unavailable)
    }

    /// The name and 3PIDs `entry` holds (values that are no valid address are left out, as
    /// lookups leave them out).
    fn profile_of(&self, entry: &Entry) -> Profile {
        let config = self.config();
        let name = entry
            .values(&config.name_attribute)
            .first()
            .map_or("", String::as_str);
        let mut profile = Profile::named(name);
        for (medium, attributes) in self.media() {
            for attribute in attributes {
                for value in entry.values(attribute) {
                    if let Some(threepid) = values::threepid(medium, value) {
                        profile.add_threepid(threepid);
                    }
                }
            }
        }
        profile
    }
}

#[async_trait]
impl PasswordVerifier for LdapBackend {
    fn name(&self) -> &'static str {
        self.section()
    }

    async fn verify_password(
        &self,
        user: &UserId,
        password: &Password,
    ) -> Result<PasswordVerdict, BackendError> {
        let entries = self
            .entries_of(user, self.config().effective_auth_filter())
            .await?;
        let entry = match entries.as_slice() {
            [] => return Ok(PasswordVerdict::UnknownUser),
            [entry] => entry,
            [first, ..] => {
                tracing::warn!(%user, count = entries.len(), first = %first.dn, "several directory entries have this user's uid; the login is refused (make ldap.attribute.uid unique, or narrow ldap.auth.filter)");
                return Ok(PasswordVerdict::Refused);
            }
        };
        match self
            .directory()
            .bind_as(&entry.dn, password.expose())
            .await
            .map_err(unavailable)?
        {
            Bound::Refused(code) => {
                tracing::debug!(%user, dn = %entry.dn, code, "the directory refused the bind");
                Ok(PasswordVerdict::Refused)
            }
            Bound::Accepted => {
                // The entry's own uid names the account (lower-cased, as for lookups); the
                // asked user when it cannot be read back.
                let account = entry
                    .values(&self.config().uid_attribute)
                    .first()
                    .and_then(|uid| values::user_id(self.config(), uid))
                    .unwrap_or_else(|| user.clone());
                Ok(PasswordVerdict::Accepted {
                    account: AccountName::UserId(account),
                    profile: self.profile_of(entry),
                })
            }
        }
    }
}

#[async_trait]
impl ProfileSource for LdapBackend {
    fn name(&self) -> &'static str {
        self.section()
    }

    async fn profile(&self, user: &UserId) -> Result<Option<Profile>, BackendError> {
        let entries = self
            .entries_of(user, self.config().effective_profile_filter())
            .await?;
        Ok(entries.first().map(|entry| self.profile_of(entry)))
    }
}
