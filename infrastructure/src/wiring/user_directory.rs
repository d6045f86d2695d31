//! The homeserver's companions on its client API: the user directory search (the homeserver
//! asked as the user, and every store that has a directory, each opened for the search on its
//! own: a directory that is down, or a database that is not there yet, does not stop start-up;
//! its searches fail and the others answer), registration control in front of the
//! homeserver's registration requestToken, and the invite policy in front of its room invites.
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_exec::ExecDirectory;
use verity_adapter_ldap::LdapBackend;
use verity_adapter_matrix::{ClientApiConfig, ReqwestHomeserverAsUser};
use verity_adapter_memory::MemoryDirectory;
use verity_adapter_rest::RestDirectory;
use verity_adapter_sql::SqlStore;
use verity_adapter_sql::{QueryBackend, QueryBackendConfig};
use verity_application::ports::driven::{Clock, DirectorySearch, RateLimiter};
use verity_application::usecases::{
    CachedWhoami, RegistrationGateService, RoomInviteGateService, SenderRoleCheck,
    UserDirectoryService,
};

use crate::settings::Settings;

/// The search over the homeserver and the stores, in this order: memory, synapseSql, ldap,
/// netiq, sql, rest, exec (the order their people come in a merged answer, after the
/// homeserver's); with the brief `whoami` cache it makes, which the invite policy shares.
pub(super) async fn user_directory(
    settings: &Settings,
    homeserver: Arc<ReqwestHomeserverAsUser>,
    clock: &Arc<dyn Clock>,
    limiter: &Arc<dyn RateLimiter>,
) -> anyhow::Result<(UserDirectoryService, Arc<CachedWhoami>)> {
    let config = &settings.user_directory;
    let stores = stores(settings).await?;
    tracing::info!(
        stores = ?stores.iter().map(|store| store.name()).collect::<Vec<_>>(),
        homeserver = !config.search.exclude_homeserver,
        threepids = !config.search.exclude_threepid,
        "user directory search ready"
    );
    let whoami = whoami(settings, homeserver.clone(), clock.clone());
    let service = UserDirectoryService::new(
        homeserver,
        whoami.clone(),
        stores,
        limiter.clone(),
        config.search,
    );
    Ok((service, whoami))
}

/// The homeserver's `whoami`, cached briefly (`directory.*` cache settings): one cache for the
/// directory search and the invite policy.
fn whoami(
    settings: &Settings,
    homeserver: Arc<ReqwestHomeserverAsUser>,
    clock: Arc<dyn Clock>,
) -> Arc<CachedWhoami> {
    let search = &settings.user_directory.search;
    Arc::new(CachedWhoami::new(
        homeserver,
        clock,
        search.whoami_lifetime,
        search.whoami_capacity,
    ))
}

/// The homeserver's client-server API, shared by the user directory search and registration
/// control: found through `dns.overwrite.homeserver.client` or `matrix.domain`'s `.well-known`.
pub(super) fn homeserver_client_api(
    settings: &Settings,
) -> anyhow::Result<Arc<ReqwestHomeserverAsUser>> {
    let federation = &settings.federation;
    let homeserver = ReqwestHomeserverAsUser::new(ClientApiConfig {
        overrides: settings.user_directory.client_overrides.clone(),
        matrix_domain: settings.matrix.domain.as_str().to_owned(),
        verify_tls: federation.verify_tls,
        timeout: federation.timeout,
        max_response_bytes: federation.max_response_bytes,
        trusted_proxies: settings.ratelimit.trusted_proxies.clone(),
    })
    .context("cannot set up the homeserver's client API (dns.overwrite.homeserver.client)")?;
    Ok(Arc::new(homeserver))
}

/// The invite policy: always there; without roles to require it passes every invite on.
pub(super) fn room_invites(
    settings: &Settings,
    whoami: Arc<CachedWhoami>,
    client_api: Arc<ReqwestHomeserverAsUser>,
    roles: SenderRoleCheck,
) -> RoomInviteGateService {
    if settings.invite_sender.is_required() && !roles.has_stores() {
        tracing::warn!(
            "invite.policy.ifSender.hasRole is set but no store knows roles (memory, rest): every 3PID invite will be refused"
        );
    }
    RoomInviteGateService::new(roles, whoami, client_api)
}

/// Registration control: always there, with ma1sd's defaults when `register` is not set; it
/// acts only on the requests the operator's proxy routes to it.
pub(super) fn registration(
    settings: &Settings,
    store: &SqlStore,
    client_api: Arc<ReqwestHomeserverAsUser>,
    clock: Arc<dyn Clock>,
) -> RegistrationGateService {
    RegistrationGateService::new(
        settings.register.clone(),
        settings.matrix.domain.clone(),
        Arc::new(store.invite_store()),
        client_api,
        clock,
    )
}

async fn stores(settings: &Settings) -> anyhow::Result<Vec<Arc<dyn DirectorySearch>>> {
    let mut stores: Vec<Arc<dyn DirectorySearch>> = Vec::new();
    if let Some(memory) = &settings.lookups.memory {
        stores.push(Arc::new(MemoryDirectory::new(memory)));
    }
    if let Some(synapse) = &settings.synapse_sql
        && let Some(store) = sql_store(synapse, "synapseSql").await?
    {
        stores.push(store);
    }
    for (section, directory) in [("ldap", &settings.ldap), ("netiq", &settings.netiq)] {
        if let Some(directory) = directory {
            // Its own connection, made on the first search.
            stores.push(Arc::new(
                LdapBackend::new(directory.config.clone()).named(section),
            ));
        }
    }
    if let Some(sql) = &settings.sql
        && let Some(store) = sql_store(&sql.config, "sql").await?
    {
        stores.push(store);
    }
    if let Some(rest) = &settings.rest
        && let Some(directory) = RestDirectory::new(&rest.config)
            .context("cannot set up the REST store's directory (rest.endpoints.directory)")?
    {
        stores.push(Arc::new(directory));
    }
    if let Some(exec) = &settings.user_directory.exec {
        let directory = ExecDirectory::new(exec.clone());
        if directory.has_programs() {
            stores.push(Arc::new(directory));
        } else {
            tracing::warn!(
                "exec.directory is on but neither exec.directory.search.byName nor .byThreepid \
                 has a command: the exec store is not searched"
            );
        }
    }
    Ok(stores)
}

/// The SQL store of `config` for its directory queries, when it has one; its own small pool,
/// connected on the first search.
async fn sql_store(
    config: &QueryBackendConfig,
    section: &str,
) -> anyhow::Result<Option<Arc<dyn DirectorySearch>>> {
    let Some(directory) = &config.directory else {
        return Ok(None);
    };
    if directory.by_name.is_none() && directory.by_threepid.is_none() {
        tracing::info!(
            section,
            "{section}.directory has no query (directory.query.name.value, .threepid.value): \
             the store is not searched"
        );
        return Ok(None);
    }
    let searched = QueryBackendConfig {
        identity: None,
        feed: false,
        feed_query: None,
        profile: None,
        ..config.clone()
    };
    let store = QueryBackend::open(&searched)
        .await
        .with_context(|| format!("cannot use the database of {section} for its directory"))?;
    Ok(Some(Arc::new(store)))
}
