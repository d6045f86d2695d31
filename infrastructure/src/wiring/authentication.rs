//! Logins for the homeserver and the stores' profiles: which stores check passwords and which
//! know profiles, in ma1sd's order (its `ServiceLoader` registration: exec, ldap, netiq,
//! memory, rest; then the SQL stores' profiles, synapseSql and sql), over the server's one rate
//! limiter.
//!
//! Each store is its own instance here (its own LDAP connection, REST client, programs), apart
//! from the lookups': a login never waits behind a hash table's feed, and a lookup never runs
//! on a connection a user's bind just used.
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_exec::{ExecAuth, ExecProfile};
use verity_adapter_ldap::LdapBackend;
use verity_adapter_memory::MemoryBackend;
use verity_adapter_rest::RestBackend;
use verity_adapter_sql::{QueryBackend, QueryBackendConfig};
use verity_application::ports::driven::{PasswordVerifier, ProfileSource, RateLimiter};
use verity_application::usecases::{AuthenticationService, SenderRoleCheck};

use crate::settings::Settings;

/// The stores that check passwords and those that know profiles, in ma1sd's order.
pub(super) struct AccountStores {
    pub(super) verifiers: Vec<Arc<dyn PasswordVerifier>>,
    pub(super) profiles: Vec<Arc<dyn ProfileSource>>,
}

/// The stores `settings` switch on that check passwords or know profiles.
///
/// # Errors
/// A REST client that cannot be built (`rest.*`), a SQL store's connection settings that cannot
/// be used.
pub(super) async fn account_stores(settings: &Settings) -> anyhow::Result<AccountStores> {
    let mut verifiers: Vec<Arc<dyn PasswordVerifier>> = Vec::new();
    let mut profiles: Vec<Arc<dyn ProfileSource>> = Vec::new();
    if let Some(exec) = &settings.exec_auth {
        verifiers.push(Arc::new(ExecAuth::new(exec.clone())));
    }
    if let Some(exec) = &settings.exec_profile {
        profiles.push(Arc::new(ExecProfile::new(exec.clone())));
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
    let sql_stores = [
        ("synapseSql", settings.synapse_sql.as_ref()),
        ("sql", settings.sql.as_ref().map(|sql| &sql.config)),
    ];
    for (section, config) in sql_stores {
        if let Some(config) = config
            && let Some(store) = sql_profiles(config, section).await?
        {
            profiles.push(store);
        }
    }
    Ok(AccountStores {
        verifiers,
        profiles,
    })
}

/// The SQL store of `config` for its profile queries, when it has any: its own small pool,
/// connected on the first profile asked (a database that is down does not stop start-up).
async fn sql_profiles(
    config: &QueryBackendConfig,
    section: &str,
) -> anyhow::Result<Option<Arc<dyn ProfileSource>>> {
    if config.profile.is_none() {
        return Ok(None);
    }
    let profiles = QueryBackendConfig {
        identity: None,
        feed: false,
        feed_query: None,
        directory: None,
        ..config.clone()
    };
    let store = QueryBackend::open(&profiles)
        .await
        .with_context(|| format!("cannot use the database of {section} for its profiles"))?;
    Ok(Some(Arc::new(store)))
}

/// `invite.policy.ifSender.hasRole` over the stores that know profiles.
pub(super) fn sender_roles(settings: &Settings, stores: &AccountStores) -> SenderRoleCheck {
    SenderRoleCheck::new(settings.invite_sender.clone(), stores.profiles.clone())
}

/// The authentication use case over `stores`, or `None` when no store checks passwords nor
/// knows profiles (nothing to serve on the internal listener).
pub(super) fn authentication(
    settings: &Settings,
    stores: &AccountStores,
    limiter: Arc<dyn RateLimiter>,
) -> Option<Arc<AuthenticationService>> {
    let AccountStores {
        verifiers,
        profiles,
    } = stores;
    if verifiers.is_empty() && profiles.is_empty() {
        return None;
    }
    tracing::info!(
        stores = ?verifiers.iter().map(|v| v.name()).collect::<Vec<_>>(),
        profiles = ?profiles.iter().map(|p| p.name()).collect::<Vec<_>>(),
        "logins for the homeserver are checked by these stores, in this order"
    );
    let trusted: Arc<[_]> = Arc::from(settings.ratelimit.trusted_proxies.clone());
    Some(Arc::new(AuthenticationService::new(
        verifiers.clone(),
        profiles.clone(),
        limiter,
        trusted,
        settings.matrix.domain.clone(),
    )))
}
