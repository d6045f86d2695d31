//! Turning settings into adapters and use cases: the only place that knows every concrete type.
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_matrix::{
    IdentityServersConfig, ReqwestHomeserverClient, ReqwestIdentityServers,
};
use verity_adapter_notify::{
    FileConnector, NoneConnector, SmtpConnector, TemplateGenerator, TwilioConnector,
};
use verity_adapter_sql::{SqlStore, SynapseSqlBackend};
use verity_application::ports::driven::{
    BindingStore, Clock, HashStore, HealthCheck, HomeserverClient, IdentityBackend,
    NotificationConnector, RemoteIdentityServers, SecretGenerator,
};
use verity_application::ports::driving::Keys as _;
use verity_application::usecases::InviteService;
use verity_application::usecases::{
    AccountService, AccountSettings, AssociationService, AssociationSettings, Backends, HashIndex,
    KeyService, LookupService, LookupSettings, MediumHandler, Notifier, RecursionSettings,
    RemoteSessionService, RotationPolicy, StatusService, ValidationService, ValidationSettings,
};
use verity_domain::Medium;

use crate::memory::MemoryBackend;
use crate::settings::{ConnectorSettings, MediumSettings, Settings};
use crate::system::{OsSecretGenerator, SystemClock};

/// Below this many lookups per pepper, clients keep meeting `M_INVALID_PEPPER` (ma1sd#81).
const FEW_LOOKUPS_PER_PEPPER: u64 = 1_000;

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
    /// The lookup hash table, kept up to date in the background.
    pub index: Arc<HashIndex>,
    /// Whether the stored hash table must be brought up to date with the backends (it was
    /// loaded rather than built at start).
    pub rebuild_due: bool,
}

/// Builds the use cases over `store` from `settings`.
///
/// # Errors
/// A connector, generator or client that cannot be built from its settings, naming its keys; a
/// key store that cannot be opened or read (`key.path`); an identity backend that cannot be
/// opened, or a first hash table that cannot be built.
// One linear story of which use case gets which adapter; splitting it hides the order.
#[allow(clippy::too_many_lines)]
pub async fn use_cases(settings: &Settings, store: &SqlStore) -> anyhow::Result<UseCases> {
    // reqwest (Twilio, homeservers) is built without a default TLS provider, so that ring is the
    // only crypto backend in the process; it must be installed before any client is built.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let secrets: Arc<dyn SecretGenerator> = Arc::new(OsSecretGenerator);
    let health: Arc<dyn HealthCheck> = Arc::new(store.health_check());
    let keys = keys(settings, secrets.as_ref(), clock.as_ref()).await?;

    let homeserver: Arc<dyn HomeserverClient> = Arc::new(
        ReqwestHomeserverClient::new(settings.federation.clone()).context(
            "cannot set up the homeserver client (dns.overwrite.homeserver.federation, federation.*)",
        )?,
    );
    let remote_identity_servers = remote_identity_servers(settings)?;
    let accounts = AccountService::new(
        Arc::new(store.account_store()),
        Arc::new(store.terms_store()),
        homeserver.clone(),
        clock.clone(),
        secrets.clone(),
        AccountSettings {
            domain: settings.matrix.domain.clone(),
            allow_only_trusted_domain: settings.accounts.allow_only_trusted_domain,
            token_lifetime: settings.accounts.token_lifetime,
            policies: settings.accounts.policies.clone(),
        },
    );
    let keys = Arc::new(keys);
    let backends = Backends::new(identity_backends(settings, store).await?);
    let hashes: Arc<dyn HashStore> = Arc::new(store.hash_store());
    let lookups = &settings.lookups;
    if let RotationPolicy::PerRequests(count) = lookups.hashing.rotation
        && count < FEW_LOOKUPS_PER_PEPPER
    {
        tracing::warn!(
            count,
            "hashing.rotationPolicy per_requests makes a new pepper every {count} lookups: \
             clients will often be refused with M_INVALID_PEPPER (ma1sd#81)"
        );
    }
    let index = Arc::new(HashIndex::new(
        hashes.clone(),
        backends.clone(),
        secrets.clone(),
        clock.clone(),
        lookups.hashing,
    ));
    let rebuild_due = index
        .start()
        .await
        .context("cannot build the lookup hash table (hashing.*, the identity backends)")?;
    tracing::info!(backends = ?backends.names(), hashing = lookups.hashing.enabled, "lookups ready");
    let bindings = lookups
        .bindings
        .then(|| Arc::new(store.binding_store()) as Arc<dyn BindingStore>);
    let notifier = notifier(settings)?;
    let (invites, invite_wake) =
        invite_service(settings, store, &backends, &notifier, &keys, &homeserver)?;
    let association = AssociationService::new(
        Arc::new(store.session_store()),
        bindings,
        index.clone(),
        keys.clone(),
        clock.clone(),
        AssociationSettings {
            rules: settings.session.rules,
            unbind_enabled: lookups.unbind_enabled,
        },
    )
    .with_homeserver_signatures(homeserver, own_names(settings))
    .with_invites(invites.clone())
    .with_remote_servers(remote_identity_servers.clone());
    let remote_sessions = RemoteSessionService::new(
        Arc::new(store.session_store()),
        remote_identity_servers.clone(),
        clock.clone(),
        secrets.clone(),
        settings.session.rules,
    );
    let lookup = LookupService::new(
        index.clone(),
        hashes,
        backends,
        keys.clone(),
        clock.clone(),
        LookupSettings {
            max_addresses: lookups.max_addresses,
            algorithms: lookups.algorithms.clone(),
        },
    );
    let lookup = with_recursion(lookup, settings, &remote_identity_servers);
    let validation = ValidationService::new(
        Arc::new(store.session_store()),
        notifier,
        clock,
        secrets,
        ValidationSettings {
            domain: settings.matrix.domain.clone(),
            policy: settings.session.policy.clone(),
            rules: settings.session.rules,
            link_base: link_base(settings),
        },
    )
    .with_remote_servers(remote_identity_servers);
    Ok(UseCases {
        status: Arc::new(StatusService::new(vec![health])),
        accounts: Arc::new(accounts),
        validation: Arc::new(validation),
        keys,
        association: Arc::new(association),
        lookup: Arc::new(lookup),
        invites,
        invite_wake,
        remote_sessions: Arc::new(remote_sessions),
        index,
        rebuild_due,
    })
}

/// Other identity servers by label (`matrix.identity.servers`): for recursive lookups, remote
/// validation sessions and forwarded binds.
fn remote_identity_servers(settings: &Settings) -> anyhow::Result<Arc<dyn RemoteIdentityServers>> {
    let client = ReqwestIdentityServers::new(IdentityServersConfig::new(
        settings.matrix.identity_servers.clone(),
        &settings.federation,
    ))
    .context("cannot set up the identity server client (matrix.identity.servers, federation.*)")?;
    Ok(Arc::new(client))
}

/// The lookups, forwarding to `remote` as configured (`lookup.recursive.*`, `forward.servers`).
/// Warns when the loopback is allowed and no proxy is trusted: behind a reverse proxy on the same
/// host, every request would then look local and be forwarded.
fn with_recursion(
    lookup: LookupService,
    settings: &Settings,
    remote: &Arc<dyn RemoteIdentityServers>,
) -> LookupService {
    let recursive = &settings.lookups.recursive;
    if !recursive.enabled || recursive.servers.is_empty() {
        return lookup;
    }
    let loopback = std::net::IpAddr::from([127, 0, 0, 1]);
    if recursive.trusted_proxies.is_empty()
        && verity_domain::in_networks(&recursive.allowed, loopback)
    {
        tracing::warn!(
            "lookup.recursive.allowedCidr includes the loopback and lookup.recursive.trustedProxies \
             is empty: if Verity runs behind a reverse proxy on this host, every lookup looks local \
             and is forwarded; list the proxy in lookup.recursive.trustedProxies"
        );
    }
    tracing::info!(servers = ?recursive.servers.iter().map(|l| l.as_str()).collect::<Vec<_>>(), "recursive lookups forward to these labels");
    lookup.with_recursion(
        Arc::clone(remote),
        RecursionSettings {
            servers: recursive.servers.clone(),
            allowed: recursive.allowed.clone(),
            trusted_proxies: recursive.trusted_proxies.clone(),
        },
    )
}

/// The identity backends, highest priority first: `memory` (the operator's own list, as mxisd
/// put it first), `bindings` (binds made here), `synapseSql`. See docs/backends.md.
async fn identity_backends(
    settings: &Settings,
    store: &SqlStore,
) -> anyhow::Result<Vec<Arc<dyn IdentityBackend>>> {
    let mut backends: Vec<Arc<dyn IdentityBackend>> = Vec::new();
    if let Some(memory) = &settings.lookups.memory {
        backends.push(Arc::new(MemoryBackend::new(memory)));
    }
    if settings.lookups.bindings {
        backends.push(Arc::new(store.binding_store()));
    }
    if let Some(synapse) = &settings.synapse_sql {
        let backend = SynapseSqlBackend::connect(synapse)
            .await
            .context("cannot open the Synapse database (synapseSql.*)")?;
        backends.push(Arc::new(backend));
    }
    Ok(backends)
}

/// Opens the key store at `key.path` (created when missing, `:memory:` in memory) and settles the
/// signing key, making one on first start.
async fn keys(
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

/// The invite use case, and what wakes its delivery worker.
fn invite_service(
    settings: &Settings,
    store: &SqlStore,
    backends: &Backends,
    notifier: &Notifier,
    keys: &Arc<KeyService>,
    homeserver: &Arc<dyn HomeserverClient>,
) -> anyhow::Result<(Arc<InviteService>, Arc<tokio::sync::Notify>)> {
    let wake = Arc::new(tokio::sync::Notify::new());
    let waker = wake.clone();
    let service = InviteService::new(
        Arc::new(store.invite_store()),
        backends.clone(),
        notifier.clone(),
        keys.clone(),
        homeserver.clone(),
        Arc::new(SystemClock),
        Arc::new(OsSecretGenerator),
        invite_settings(settings, keys)?,
    )
    .with_wake(Arc::new(move || waker.notify_one()));
    Ok((Arc::new(service), wake))
}

/// The invite use case's settings: `invite.*`, the signing key, and the URLs put in answers and
/// emails (under `server.publicUrl`: v2 paths while v2 is on; the sign link uses v1 while v1 is
/// on, since it needs no access token).
fn invite_settings(
    settings: &Settings,
    keys: &KeyService,
) -> anyhow::Result<verity_application::usecases::InviteSettings> {
    let public_url = &settings.server.public_url;
    let api = if settings.matrix.v2 {
        "/_matrix/identity/v2"
    } else {
        "/_matrix/identity/api/v1"
    };
    let sign_api = if settings.matrix.v1 {
        "/_matrix/identity/api/v1"
    } else {
        "/_matrix/identity/v2"
    };
    let server_key = keys
        .public_key(keys.signing_key_id())
        .context("the signing key has no public key")?;
    Ok(verity_application::usecases::InviteSettings {
        server_name: settings.server.name.clone(),
        server_key,
        key_validity_base: format!("{public_url}{api}"),
        sign_url: format!("{public_url}{sign_api}/sign-ed25519"),
        full_display_name: settings.invites.full_display_name,
        expiry: settings.invites.expiry,
    })
}

/// Where the token link points: the v2 path (its GET works without an access token in Verity),
/// or the v1 path when v2 is off.
fn link_base(settings: &Settings) -> String {
    let api = if settings.matrix.v2 {
        "/_matrix/identity/v2"
    } else {
        "/_matrix/identity/api/v1"
    };
    format!("{}{api}", settings.server.public_url)
}

fn notifier(settings: &Settings) -> anyhow::Result<Notifier> {
    let mut notifier = Notifier::new();
    for (medium, key, medium_settings) in [
        (
            Medium::Email,
            "threepid.medium.email",
            &settings.threepid.email,
        ),
        (
            Medium::Msisdn,
            "threepid.medium.msisdn",
            &settings.threepid.msisdn,
        ),
    ] {
        match handler(&medium, settings, medium_settings) {
            Ok(handler) => notifier = notifier.with(medium, handler),
            Err(error) if !medium_settings.configured => {
                // mxisd's behaviour: an unconfigured medium is simply not available.
                tracing::warn!(
                    "{medium} validation is unavailable until {key} is configured: {error:#}"
                );
            }
            Err(error) => return Err(error.context(format!("cannot set up {key}"))),
        }
    }
    Ok(notifier)
}

fn handler(
    medium: &Medium,
    settings: &Settings,
    m: &MediumSettings,
) -> anyhow::Result<MediumHandler> {
    let generator =
        TemplateGenerator::new(medium, &settings.matrix.domain, &m.identity, &m.generator)
            .context("generators.template")?;
    let connector: Arc<dyn NotificationConnector> = match &m.connector {
        ConnectorSettings::Smtp(config) => {
            Arc::new(SmtpConnector::new(config, &m.identity).context("connectors.smtp")?)
        }
        ConnectorSettings::Twilio(config) => {
            Arc::new(TwilioConnector::new(config).context("connectors.twilio")?)
        }
        ConnectorSettings::File(config) => {
            Arc::new(FileConnector::new(config, &m.identity).context("connectors.file")?)
        }
        ConnectorSettings::None => Arc::new(NoneConnector::new()),
    };
    Ok(MediumHandler {
        generator: Arc::new(generator),
        connector,
    })
}

/// The names a homeserver may address this server by in a signed request: `server.name`, and the
/// host (with its port, if any) of `server.publicUrl`. Synapse uses the `id_server` string it was
/// given, so operators point clients at one of these.
fn own_names(settings: &Settings) -> Vec<String> {
    let mut names = vec![settings.server.name.clone()];
    let url = url::Url::parse(&settings.server.public_url).ok();
    if let Some(host) = url.as_ref().and_then(url::Url::host_str) {
        let authority = match url.as_ref().and_then(url::Url::port) {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        if !names.contains(&authority) {
            names.push(authority);
        }
    }
    names
}
