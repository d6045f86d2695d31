//! Identity-server accounts (v2 authentication through the homeserver's OpenID token) and terms
//! of service.
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use verity_domain::{
    AccessToken, Account, MatrixDomain, ServerName, TermsPolicy, UserId, unsigned_policies,
};

use crate::ports::driven::{
    AccountStore, Clock, HomeserverClient, HomeserverError, SecretGenerator, TermsStore,
};
use crate::ports::driving::{Accounts, AuthError, Registration, RegistrationError};

#[path = "accounts_cache.rs"]
mod cache;
use cache::AccountCache;

/// How many URLs one `POST /terms` may accept (there are only as many as configured documents).
const MAX_ACCEPTED_URLS: usize = 100;

/// How many accounts the cache holds at most. An entry is a fingerprint (64 hex digits), a user
/// ID and two timestamps, about 250 bytes with the map's overhead, so this is a few MiB at
/// most; 10,000 tokens used within one cache lifetime is far more than one instance serves.
pub const DEFAULT_ACCOUNT_CACHE_CAPACITY: usize = 10_000;

/// How long an account read from the store is trusted without reading it again
/// (`accountConfig.cacheLifetime`'s default). A logout on another instance takes effect within
/// this; a client's burst of lookups (a user typing in an invite dialog) falls within it.
pub const DEFAULT_ACCOUNT_CACHE_LIFETIME: Duration = Duration::from_secs(10);

/// What the account use case needs from configuration.
#[derive(Debug, Clone)]
pub struct AccountSettings {
    /// `matrix.domain`.
    pub domain: MatrixDomain,
    /// `accountConfig.allowOnlyTrustDomains` (ma1sd, default true): only users whose server is
    /// `matrix.domain` may register.
    pub allow_only_trusted_domain: bool,
    /// How long an access token works (`None`: until logout, as sydent).
    pub token_lifetime: Option<Duration>,
    /// `policy.policies`, the terms users must accept.
    pub policies: Vec<TermsPolicy>,
    /// `accountConfig.cacheLifetime`: how long an authenticated account is served from memory
    /// before the store is read again; zero turns the cache off.
    pub cache_lifetime: Duration,
    /// How many accounts the cache holds at most ([`DEFAULT_ACCOUNT_CACHE_CAPACITY`]).
    pub cache_capacity: usize,
}

/// The account and terms use cases.
pub struct AccountService {
    accounts: Arc<dyn AccountStore>,
    terms: Arc<dyn TermsStore>,
    homeserver: Arc<dyn HomeserverClient>,
    clock: Arc<dyn Clock>,
    secrets: Arc<dyn SecretGenerator>,
    cache: AccountCache,
    settings: AccountSettings,
}

impl AccountService {
    /// Wires the use case.
    pub fn new(
        accounts: Arc<dyn AccountStore>,
        terms: Arc<dyn TermsStore>,
        homeserver: Arc<dyn HomeserverClient>,
        clock: Arc<dyn Clock>,
        secrets: Arc<dyn SecretGenerator>,
        settings: AccountSettings,
    ) -> Self {
        Self {
            accounts,
            terms,
            homeserver,
            clock,
            secrets,
            cache: AccountCache::new(settings.cache_lifetime, settings.cache_capacity),
            settings,
        }
    }

    /// Deletes expired accounts; returns how many. Run periodically.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn purge_expired(&self) -> Result<u64, crate::ports::driven::StoreError> {
        self.accounts.purge_expired(self.clock.now()).await
    }

    fn known_urls(&self) -> BTreeSet<&str> {
        self.settings
            .policies
            .iter()
            .flat_map(|p| p.translations.values().map(|doc| doc.url.as_str()))
            .collect()
    }
}

fn parse_token(token: Option<String>) -> Result<AccessToken, AuthError> {
    token
        .as_deref()
        .and_then(|t| AccessToken::parse(t).ok())
        .ok_or(AuthError::Unauthorized)
}

#[async_trait]
impl Accounts for AccountService {
    async fn register(&self, registration: Registration) -> Result<AccessToken, RegistrationError> {
        let server = ServerName::parse(&registration.matrix_server_name)
            .map_err(RegistrationError::InvalidServerName)?;
        let user = self
            .homeserver
            .openid_userinfo(&server, &registration.access_token)
            .await
            .map_err(|error| {
                tracing::warn!(server = %server, error = %error, "OpenID token not confirmed");
                match error {
                    HomeserverError::TokenRejected => RegistrationError::Unauthorized(
                        "the homeserver did not recognise the token",
                    ),
                    HomeserverError::Blocked(_) => RegistrationError::DestinationBlocked,
                    HomeserverError::Unreachable(_) | HomeserverError::InvalidResponse(_) => {
                        RegistrationError::HomeserverUnavailable
                    }
                }
            })?;
        // A homeserver may only vouch for its own users (sydent 2.3.0 hardening).
        if ServerName::parse(user.server_name()).ok().as_ref() != Some(&server) {
            return Err(RegistrationError::Unauthorized(
                "the homeserver vouched for a user of another server",
            ));
        }
        if self.settings.allow_only_trusted_domain
            && !user
                .server_name()
                .eq_ignore_ascii_case(self.settings.domain.as_str())
        {
            return Err(RegistrationError::Unauthorized(
                "only users of this server's Matrix domain may register",
            ));
        }
        let now = self.clock.now();
        let token = self.secrets.access_token();
        let account = Account {
            token: token.fingerprint(),
            user_id: user.clone(),
            created_at: now,
            expires_at: self
                .settings
                .token_lifetime
                .map(|lifetime| now.saturating_add(lifetime)),
        };
        self.accounts.insert(&account).await?;
        tracing::info!(user = %user, "account registered");
        Ok(token)
    }

    async fn authenticate(
        &self,
        token: Option<String>,
        require_terms: bool,
    ) -> Result<UserId, AuthError> {
        let token = parse_token(token)?;
        let fingerprint = token.fingerprint();
        let now = self.clock.now();
        let (account, terms_signed) = match self.cache.get(&fingerprint, now) {
            Some(cached) => cached,
            None => {
                let account = self
                    .accounts
                    .find(&fingerprint)
                    .await?
                    .ok_or(AuthError::Unauthorized)?;
                self.cache.put(account.clone(), now);
                (account, false)
            }
        };
        // Checked on every request, cached or not: a token is never accepted past its expiry.
        if !account.is_valid_at(now) {
            self.cache.remove(&fingerprint);
            self.accounts.delete(&fingerprint).await?;
            return Err(AuthError::Unauthorized);
        }
        if require_terms && !terms_signed && !self.settings.policies.is_empty() {
            let accepted = self.terms.accepted(&account.user_id).await?;
            if !unsigned_policies(&self.settings.policies, &accepted).is_empty() {
                return Err(AuthError::TermsNotSigned);
            }
            self.cache.mark_terms_signed(&fingerprint);
        }
        Ok(account.user_id)
    }

    async fn logout(&self, token: Option<String>) -> Result<(), AuthError> {
        let token = parse_token(token)?;
        let fingerprint = token.fingerprint();
        // Evicted first: from here on this instance reads the store for the token, even if the
        // delete below fails.
        self.cache.remove(&fingerprint);
        if self.accounts.delete(&fingerprint).await? {
            Ok(())
        } else {
            Err(AuthError::Unauthorized)
        }
    }

    fn terms(&self) -> Vec<TermsPolicy> {
        self.settings.policies.clone()
    }

    async fn accept_terms(&self, user: &UserId, urls: Vec<String>) -> Result<(), AuthError> {
        let known = self.known_urls();
        let accepted: Vec<String> = urls
            .into_iter()
            .filter(|url| known.contains(url.as_str()))
            .take(MAX_ACCEPTED_URLS)
            .collect();
        if !accepted.is_empty() {
            self.terms.accept(user, &accepted, self.clock.now()).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "accounts_tests.rs"]
mod tests;
