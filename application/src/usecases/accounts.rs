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

/// How many URLs one `POST /terms` may accept (there are only as many as configured documents).
const MAX_ACCEPTED_URLS: usize = 100;

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
}

/// The account and terms use cases.
pub struct AccountService {
    accounts: Arc<dyn AccountStore>,
    terms: Arc<dyn TermsStore>,
    homeserver: Arc<dyn HomeserverClient>,
    clock: Arc<dyn Clock>,
    secrets: Arc<dyn SecretGenerator>,
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
        let account = self
            .accounts
            .find(&fingerprint)
            .await?
            .ok_or(AuthError::Unauthorized)?;
        if !account.is_valid_at(self.clock.now()) {
            self.accounts.delete(&fingerprint).await?;
            return Err(AuthError::Unauthorized);
        }
        if require_terms && !self.settings.policies.is_empty() {
            let accepted = self.terms.accepted(&account.user_id).await?;
            if !unsigned_policies(&self.settings.policies, &accepted).is_empty() {
                return Err(AuthError::TermsNotSigned);
            }
        }
        Ok(account.user_id)
    }

    async fn logout(&self, token: Option<String>) -> Result<(), AuthError> {
        let token = parse_token(token)?;
        if self.accounts.delete(&token.fingerprint()).await? {
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
