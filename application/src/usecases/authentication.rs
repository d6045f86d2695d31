//! Logins for the homeserver (mxisd/ma1sd's `AuthManager.authenticate`): the stores that can
//! check passwords are asked in ma1sd's order until one accepts; the account it names is made a
//! user ID of `matrix.domain`; the answer carries what the stores say of the user. Failed
//! attempts are limited per user (in any case) and per source (a ceiling over all users, as
//! the source is the homeserver), counted before the stores are asked and given back on
//! success; the password is never logged.
use std::sync::Arc;

use async_trait::async_trait;
use verity_domain::{
    IpNetwork, LimitCheck, LimitedRequest, MatrixDomain, Password, Profile, Requester,
    RequesterKey, RetryAfter, UserId,
};

use crate::ports::driven::{
    AccountName, BackendError, PasswordVerdict, PasswordVerifier, ProfileSource, RateLimiter,
};
use crate::ports::driving::{Authentication, LimitExceeded, Login, LoginError};

/// The authentication service.
pub struct AuthenticationService {
    /// The stores that check passwords, in the order they are asked (ma1sd's: exec, ldap,
    /// netiq, memory, rest).
    verifiers: Vec<Arc<dyn PasswordVerifier>>,
    /// The stores that know profiles, in ma1sd's order too (the first display name wins).
    profiles: Vec<Arc<dyn ProfileSource>>,
    /// The failed attempts are counted here (the server's one limiter).
    limiter: Arc<dyn RateLimiter>,
    /// Whose `X-Forwarded-For` is believed (`server.trustedProxies`).
    trusted_proxies: Arc<[IpNetwork]>,
    /// `matrix.domain`: the users this server authenticates, and the domain of the accounts a
    /// store names by localpart.
    domain: MatrixDomain,
}

impl AuthenticationService {
    /// Asks `verifiers` in this order, fills profiles from `profiles`, counts failures in
    /// `limiter`; authenticates the users of `domain`.
    pub fn new(
        verifiers: Vec<Arc<dyn PasswordVerifier>>,
        profiles: Vec<Arc<dyn ProfileSource>>,
        limiter: Arc<dyn RateLimiter>,
        trusted_proxies: Arc<[IpNetwork]>,
        domain: MatrixDomain,
    ) -> Self {
        Self {
            verifiers,
            profiles,
            limiter,
            trusted_proxies,
            domain,
        }
    }

    /// Whether any store can check a password (otherwise the endpoint has nothing to serve).
    pub fn can_authenticate(&self) -> bool {
        !self.verifiers.is_empty()
    }

    /// The account a store named, as a user ID: a localpart completed with `matrix.domain`
    /// (ma1sd's `localpart` type), or the store's whole ID (`mxid`).
    fn account_id(&self, account: &AccountName) -> Option<UserId> {
        match account {
            AccountName::UserId(id) => Some(id.clone()),
            AccountName::Localpart(localpart) => {
                UserId::parse(&format!("@{}:{}", localpart.trim(), self.domain)).ok()
            }
        }
    }

    /// The checks of an attempt by `user` from `source`.
    fn checks(&self, source: &Requester, user: &UserId) -> Vec<LimitCheck> {
        let requester = RequesterKey::of(source.client_ip(&self.trusted_proxies));
        LimitedRequest::FailedLogin(user.clone()).checks(&requester)
    }

    /// Counts the attempt against every check, each in one step with its decision; when one
    /// refuses, what the earlier ones counted is given back (a refused attempt costs nothing).
    fn count(&self, checks: &[LimitCheck]) -> Result<(), RetryAfter> {
        for (done, check) in checks.iter().enumerate() {
            if let Err(wait) = self.limiter.check(&check.key, check.cost) {
                self.refund(checks.get(..done).unwrap_or_default());
                return Err(wait);
            }
        }
        Ok(())
    }

    /// Gives back what [`count`](Self::count) counted for `checks`.
    fn refund(&self, checks: &[LimitCheck]) {
        for check in checks {
            self.limiter.refund(&check.key, check.cost);
        }
    }

    /// What the stores say of `user` beyond what `accepted_by` (which answered `first`) said:
    /// its display name first, then the profile stores' in order; every 3PID and role. A
    /// store that fails is logged and left out: the login itself succeeded.
    async fn fill(&self, user: &UserId, accepted_by: &str, first: Profile) -> Profile {
        let mut profile = first;
        for source in &self.profiles {
            // The store that accepted the password told what it knows with its answer.
            if source.name() == accepted_by {
                continue;
            }
            match source.profile(user).await {
                Ok(Some(found)) => profile.merge(found),
                Ok(None) => {}
                Err(error) => tracing::warn!(
                    store = source.name(),
                    %user,
                    error = %error,
                    source = ?std::error::Error::source(&error),
                    "the profile of an authenticated user could not be read from this store; answered without it"
                ),
            }
        }
        profile
    }

    /// The store's accepted account, when it is `user` (ignoring ASCII case, as a directory's
    /// uid is lower-cased while the homeserver asks as the user typed).
    fn same_account(&self, store: &str, user: &UserId, account: &AccountName) -> bool {
        match self.account_id(account) {
            Some(id) if id.as_str().eq_ignore_ascii_case(user.as_str()) => true,
            Some(id) => {
                // A store that accepts the password of one user for another is misconfigured
                // (or lying): the homeserver would log in the user it asked for, with the other
                // one's profile. Refused.
                tracing::warn!(
                    store,
                    %user,
                    accepted = %id,
                    "an identity store accepted the password for another account; refused"
                );
                false
            }
            None => {
                tracing::warn!(
                    store,
                    %user,
                    "an identity store accepted the password but named no valid account; refused"
                );
                false
            }
        }
    }
}

#[async_trait]
impl Authentication for AuthenticationService {
    async fn check_credentials(
        &self,
        source: &Requester,
        user: &UserId,
        password: &Password,
    ) -> Result<Login, LoginError> {
        let checks = self.checks(source, user);
        if let Err(wait) = self.count(&checks) {
            tracing::info!(%user, retry_after_ms = wait.as_millis(), "login refused: too many failed attempts; no store was asked");
            return Err(LoginError::Limited(LimitExceeded(wait)));
        }
        // From here the attempt is counted as a failure unless a store accepts the password: a
        // refusal, an unknown user and an attempt no store could decide (a store down) alike,
        // so a store's outage opens no unlimited guessing on the others.
        let mut unavailable: Option<BackendError> = None;
        if user
            .server_name()
            .eq_ignore_ascii_case(self.domain.as_str())
        {
            for verifier in &self.verifiers {
                let store = verifier.name();
                match verifier.verify_password(user, password).await {
                    Ok(PasswordVerdict::Accepted { account, profile }) => {
                        if self.same_account(store, user, &account) {
                            self.refund(&checks);
                            tracing::info!(%user, store, "login accepted");
                            return Ok(Login::Accepted(self.fill(user, store, profile).await));
                        }
                    }
                    Ok(PasswordVerdict::Refused) => {
                        tracing::debug!(%user, store, "password refused by this store");
                    }
                    Ok(PasswordVerdict::UnknownUser) => {
                        tracing::debug!(%user, store, "user unknown to this store");
                    }
                    Err(error) => {
                        tracing::warn!(%user, store, error = %error, source = ?std::error::Error::source(&error), "an identity store could not check a password");
                        unavailable = Some(error);
                    }
                }
            }
        } else {
            tracing::warn!(%user, domain = %self.domain, "login refused: Verity authenticates the users of matrix.domain only (is the homeserver's server_name matrix.domain?)");
        }
        if let Some(error) = unavailable {
            return Err(LoginError::Unavailable(error));
        }
        tracing::info!(%user, "login refused");
        Ok(Login::Refused)
    }

    async fn profile(&self, user: &UserId) -> Result<Profile, LoginError> {
        let mut profile = Profile::default();
        for source in &self.profiles {
            match source.profile(user).await {
                Ok(Some(found)) => profile.merge(found),
                Ok(None) => {}
                Err(error) => return Err(LoginError::Unavailable(error)),
            }
        }
        Ok(profile)
    }
}

#[cfg(test)]
#[path = "authentication_tests.rs"]
mod tests;
