//! Logins for the homeserver and the stores' profiles: which stores check passwords and which
//! know profiles, in ma1sd's order (its `ServiceLoader` registration: exec, ldap, netiq,
//! memory, rest), over the server's one rate limiter.
//!
//! Each store is its own instance here (its own LDAP connection, REST client, programs), apart
//! from the lookups': a login never waits behind a hash table's feed, and a lookup never runs
//! on a connection a user's bind just used.
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_exec::ExecAuth;
use verity_adapter_ldap::LdapBackend;
use verity_adapter_memory::MemoryBackend;
use verity_adapter_rest::RestBackend;
use verity_application::ports::driven::{PasswordVerifier, ProfileSource, RateLimiter};
use verity_application::usecases::AuthenticationService;

use crate::settings::Settings;

/// The authentication use case over the stores `settings` switch on, or `None` when no store
/// checks passwords nor knows profiles (nothing to serve on the internal listener).
///
/// # Errors
/// A REST client that cannot be built (`rest.*`).
pub(super) fn authentication(
    settings: &Settings,
    limiter: Arc<dyn RateLimiter>,
) -> anyhow::Result<Option<Arc<AuthenticationService>>> {
    let mut verifiers: Vec<Arc<dyn PasswordVerifier>> = Vec::new();
    let mut profiles: Vec<Arc<dyn ProfileSource>> = Vec::new();
    if let Some(exec) = &settings.exec_auth {
        verifiers.push(Arc::new(ExecAuth::new(exec.clone())));
    }
    for (section, directory) in [("ldap", &settings.ldap), ("netiq", &settings.netiq)] {
        if let Some(directory) = directory {
            let backend = Arc::new(LdapBackend::new(directory.config.clone()).named(section));
            verifiers.push(backend.clone());
            profiles.push(backend);
        }
    }
    if let Some(memory) = &settings.lookups.memory {
        let backend = Arc::new(MemoryBackend::new(memory));
        // Only a user with a password can log in; the others still have profiles.
        if memory.identities.iter().any(|user| user.password.is_some()) {
            verifiers.push(backend.clone());
        }
        profiles.push(backend);
    }
    if let Some(rest) = &settings.rest {
        let backend = Arc::new(
            RestBackend::new(rest.config.clone())
                .context("cannot set up the REST identity backend (rest.*)")?,
        );
        if backend.authenticates() {
            verifiers.push(backend.clone());
        }
        if backend.has_profiles() {
            profiles.push(backend);
        }
    }
    if verifiers.is_empty() && profiles.is_empty() {
        return Ok(None);
    }
    tracing::info!(
        stores = ?verifiers.iter().map(|v| v.name()).collect::<Vec<_>>(),
        profiles = ?profiles.iter().map(|p| p.name()).collect::<Vec<_>>(),
        "logins for the homeserver are checked by these stores, in this order"
    );
    let trusted: Arc<[_]> = Arc::from(settings.ratelimit.trusted_proxies.clone());
    Ok(Some(Arc::new(AuthenticationService::new(
        verifiers,
        profiles,
        limiter,
        trusted,
        settings.matrix.domain.clone(),
    ))))
}
