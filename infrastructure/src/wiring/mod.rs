//! Turning settings into adapters and use cases: the only place that knows every concrete type.
//! One file per area; `use_cases` tells which use case gets which adapter, in order.
pub(crate) mod admin;
mod authentication;
mod invites;
pub(crate) mod limits;
mod lookups;
pub(crate) mod metrics;
mod notify;
mod remote;
mod user_directory;

use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_sql::SqlStore;
use verity_application::ports::driven::{
    BindingStore, Clock, HashStore, HealthCheck, HomeserverClient, IndexRefresh,
    RemoteIdentityServers, SecretGenerator, SessionStore,
};
use verity_application::ports::driving::Limits;
use verity_application::usecases::InviteService;
use verity_application::usecases::{
    AccountService, AssociationService, AuthenticationService, Backends, BindingFollower,
    HashIndex, KeyService, LookupService, Notifier, RegistrationGateService, RemoteSessionService,
    RoomInviteGateService, StatusService, UserDirectoryService, ValidationService,
};

use self::metrics::Metered;
use crate::reload::ReloadPoints;
use crate::settings::Settings;
use crate::system::{OsSecretGenerator, SystemClock};

/// Every use case, built.
pub struct UseCases {
    /// Health and version.
    pub status: Arc<StatusService>,
    /// Accounts and terms.
    pub accounts: Arc<AccountService>,
    /// Validation sessions.
    pub validation: Arc<ValidationService>,
    /// The server's keys and signing.
    pub keys: Arc<KeyService>,
    /// Bind and unbind.
    pub association: Arc<AssociationService>,
    /// Lookups.
    pub lookup: Arc<LookupService>,
    /// 3PID room invites and their delivery.
    pub invites: Arc<InviteService>,
    /// Wakes the invite delivery worker (a bind queued deliveries).
    pub invite_wake: Arc<tokio::sync::Notify>,
    /// The remote step of validation sessions.
    pub remote_sessions: Arc<RemoteSessionService>,
    /// The abuse limits.
    pub limits: Arc<dyn Limits>,
    /// Logins for the homeserver and the stores' profiles; `None` when no store checks
    /// passwords nor knows profiles.
    pub authentication: Option<Arc<AuthenticationService>>,
    /// The user directory search the homeserver's endpoint is routed to.
    pub user_directory: Arc<UserDirectoryService>,
    /// Registration control (`register.policy`) in front of the homeserver's registration
    /// requestToken.
    pub registration: Arc<RegistrationGateService>,
    /// The invite policy (`invite.policy.ifSender.hasRole`) in front of the homeserver's room
    /// invites.
    pub room_invites: Arc<RoomInviteGateService>,
    /// The lookup hash table, kept up to date in the background.
    pub index: Arc<HashIndex>,
    /// Follows the binds and unbinds of the other instances on the database into `index`; `None`
    /// when Verity's own binding store is off (`lookups.bindings: false`).
    pub follower: Option<Arc<BindingFollower>>,
    /// Whether the lookup hash table was still being built (or its first build had failed) when
    /// the use cases were made; it is completed in the background.
    pub rebuild_due: bool,
    /// What a configuration reload replaces (limits, templates, pages).
    pub reload: ReloadPoints,
}

/// Builds the use cases over `store` from `settings`.
///
/// # Errors
/// A connector, generator or client that cannot be built from its settings, naming its keys; a
/// key store that cannot be opened or read (`key.path`); an identity backend that cannot be
/// opened, or a first hash table that cannot be built.
/// The remote step of validation sessions, which also binds locally when the binding store is on.
fn remote_sessions(
    settings: &Settings,
    store: &SqlStore,
    servers: Arc<dyn RemoteIdentityServers>,
    clock: Arc<dyn Clock>,
    secrets: Arc<dyn SecretGenerator>,
) -> RemoteSessionService {
    let service = RemoteSessionService::new(
        Arc::new(store.session_store()),
        servers,
        clock,
        secrets,
        settings.session.validation.rules,
    );
    if settings.lookups.bindings {
        service.with_bindings(Arc::new(store.binding_store()))
    } else {
        service
    }
}

/// Where following the other instances' binding changes starts (`None` without the binding
/// store): read before the first build of the table starts, which reads every binding made
/// until then.
async fn follow_from(settings: &Settings, store: &SqlStore) -> anyhow::Result<Option<u64>> {
    if !settings.lookups.bindings {
        return Ok(None);
    }
    let last = store
        .binding_store()
        .last_change()
        .await
        .context("cannot read the binding changes (storage.*)")?;
    Ok(Some(last))
}

pub async fn use_cases(
    settings: &Settings,
    store: &SqlStore,
    metered: &Metered,
) -> anyhow::Result<UseCases> {
    // reqwest (Twilio, homeservers) is built without a default TLS provider, so that ring is the
    // only crypto backend in the process; it must be installed before any client is built.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let secrets: Arc<dyn SecretGenerator> = Arc::new(OsSecretGenerator);
    let keys = keys(settings, secrets.as_ref(), clock.as_ref()).await?;

    let homeserver = remote::homeserver_client(settings)?;
    let remote_identity_servers = remote::remote_identity_servers(settings)?;
    let accounts = accounts(settings, store, &homeserver, &clock, &secrets);
    let keys = Arc::new(keys);
    let (backends, backend_checks) = lookups::identity_backends(settings, store).await?;
    let backends = Backends::new(backends.into_iter().map(|b| metered.backend(b)).collect());
    let hashes: Arc<dyn HashStore> = Arc::new(store.hash_store());
    let follow_from = follow_from(settings, store).await?;
    // Only the start-up tasks hold the index and the invites whole: the other use cases get them
    // behind narrow ports (refresh a 3PID, read hashes, the invites waiting for a 3PID), so a
    // use case never holds another.
    let (index, rebuild_due) = lookups::hash_index(
        settings,
        hashes,
        &backends,
        secrets.clone(),
        clock.clone(),
        follow_from.map(|_| Arc::new(store.binding_store()) as Arc<dyn BindingStore>),
    )
    .await?;
    let follower = follow_from.map(|floor| {
        Arc::new(BindingFollower::new(
            Arc::new(store.binding_store()),
            index.clone(),
            clock.clone(),
            floor,
        ))
    });
    let (notifier, templates) = notify::notifier(settings, metered)?;
    let account_stores = authentication::account_stores(settings).await?;
    let sender_roles = authentication::sender_roles(settings, &account_stores);
    let (invites, invite_wake) = invites::invite_service(
        settings,
        metered.invites(Arc::new(store.invite_store())),
        &backends,
        &notifier,
        &keys,
        &homeserver,
        sender_roles.clone(),
    )?;
    let mut association = association(settings, store, index.clone(), &keys, &clock)
        .with_homeserver_signatures(homeserver, remote::own_names(settings))
        .with_invites(invites.clone())
        .with_remote_servers(remote_identity_servers.clone());
    let (limiter, swap_limiter) = limits::swappable_rate_limiter(&settings.ratelimit);
    let limiter = metered.limiter(limiter);
    if settings.lookups.unbind_notifications {
        association = association
            .with_unbind_notifications(notifier.clone())
            .with_notification_limits(limiter.clone());
    }
    let remote_sessions = remote_sessions(
        settings,
        store,
        remote_identity_servers.clone(),
        clock.clone(),
        secrets.clone(),
    );
    let lookup = lookups::lookup_service(
        settings,
        index.clone(),
        backends,
        &keys,
        clock.clone(),
        &remote_identity_servers,
    );
    let authentication = authentication::authentication(settings, &account_stores, limiter.clone());
    let client_api = user_directory::homeserver_client_api(settings)?;
    let (user_directory, whoami) =
        user_directory::user_directory(settings, client_api.clone(), &clock, &limiter).await?;
    let registration =
        user_directory::registration(settings, store, client_api.clone(), clock.clone());
    let room_invites = user_directory::room_invites(settings, whoami, client_api, sender_roles);
    let sessions = metered.sessions(Arc::new(store.session_store()));
    let validation = validation(settings, sessions, notifier, clock, secrets)
        .with_remote_servers(remote_identity_servers);
    Ok(UseCases {
        status: Arc::new(status(store, backend_checks, &keys, metered)),
        accounts: Arc::new(accounts),
        validation: Arc::new(validation),
        keys,
        association: Arc::new(association),
        lookup: Arc::new(lookup),
        invites,
        invite_wake,
        remote_sessions: Arc::new(remote_sessions),
        limits: limits::limits(&settings.ratelimit, limiter),
        authentication,
        user_directory: Arc::new(user_directory),
        registration: Arc::new(registration),
        room_invites: Arc::new(room_invites),
        index,
        follower,
        rebuild_due,
        reload: ReloadPoints::new(swap_limiter, templates, &settings.views),
    })
}

/// Accounts and terms (`accounts.*`, `matrix.domain`, `policy.policies`).
fn accounts(
    settings: &Settings,
    store: &SqlStore,
    homeserver: &Arc<dyn HomeserverClient>,
    clock: &Arc<dyn Clock>,
    secrets: &Arc<dyn SecretGenerator>,
) -> AccountService {
    AccountService::new(
        Arc::new(store.account_store()),
        Arc::new(store.terms_store()),
        homeserver.clone(),
        clock.clone(),
        secrets.clone(),
        settings.accounts.clone(),
    )
}

/// Bind and unbind, recording binds in the bindings table when it is a backend.
fn association(
    settings: &Settings,
    store: &SqlStore,
    index: Arc<dyn IndexRefresh>,
    keys: &Arc<KeyService>,
    clock: &Arc<dyn Clock>,
) -> AssociationService {
    let bindings = settings
        .lookups
        .bindings
        .then(|| Arc::new(store.binding_store()) as Arc<dyn BindingStore>);
    AssociationService::new(
        Arc::new(store.session_store()),
        bindings,
        index,
        keys.clone(),
        clock.clone(),
        settings.session.association,
    )
}

/// Health (`/status`) over the store and the backends that may be down, and readiness, which
/// also signs with the current key; every check measured when metrics are on.
fn status(
    store: &SqlStore,
    backend_checks: Vec<Arc<dyn HealthCheck>>,
    keys: &Arc<KeyService>,
    metered: &Metered,
) -> StatusService {
    let store: Arc<dyn HealthCheck> = Arc::new(store.health_check());
    let checks = std::iter::once(store)
        .chain(backend_checks)
        .map(|check| metered.health(check))
        .collect();
    StatusService::new(checks).with_signer(keys.clone())
}

/// Validation sessions (`session.*`) kept in `sessions`, sending tokens through `notifier`.
fn validation(
    settings: &Settings,
    sessions: Arc<dyn SessionStore>,
    notifier: Notifier,
    clock: Arc<dyn Clock>,
    secrets: Arc<dyn SecretGenerator>,
) -> ValidationService {
    ValidationService::new(
        sessions,
        notifier,
        clock,
        secrets,
        settings.session.validation.clone(),
    )
}

/// Opens the key store at `key.path` (created when missing, `:memory:` in memory) and settles the
/// signing key, making one on first start.
pub(super) async fn keys(
    settings: &Settings,
    secrets: &dyn SecretGenerator,
    clock: &dyn Clock,
) -> anyhow::Result<KeyService> {
    let path = &settings.key.path;
    let store = verity_adapter_keys::open(path)
        .with_context(|| format!("cannot open the key store at {} (key.path)", path.display()))?;
    KeyService::start(store, secrets, clock, settings.server.name.clone())
        .await
        .with_context(|| {
            format!(
                "cannot load the signing keys from {} (key.path)",
                path.display()
            )
        })
}

#[cfg(test)]
#[path = "links_tests.rs"]
mod links_tests;
