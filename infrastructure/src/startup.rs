//! Building the server from its settings, and running it until it is told to stop.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_http::{AppEndpoint, BoundServer, HttpDeps, InternalDeps, SharedSecret};
use verity_adapter_sql::SqlStore;
use verity_application::ports::driving::{Association, Authentication};
use verity_application::usecases::{BindingFollower, HashIndex, Rebuild};

use crate::settings::{Settings, StorageSettings};
use crate::wiring;

/// A built server: listeners bound, store open and migrated, not yet serving.
pub struct Application {
    server: BoundServer,
    app: AppEndpoint,
    /// The internal listener (`server.internal.*`) and its application, when started.
    internal: Option<(BoundServer, AppEndpoint)>,
    /// The metrics listener (`server.metrics.*`) and its application, when started.
    metrics: Option<(BoundServer, AppEndpoint)>,
    store: SqlStore,
    use_cases: wiring::UseCases,
}

impl Application {
    /// Binds the listener first, then opens the store (running migrations) and the key store
    /// (making the signing key on first start) and wires every use case. A port that is taken
    /// therefore fails start-up before anything is created on disk.
    ///
    /// # Errors
    /// Any start-up step that fails, with context naming the step.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let server = BoundServer::bind(&settings.server.hostname, settings.server.port)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {}:{} (server.hostname, server.port)",
                    settings.server.hostname, settings.server.port
                )
            })?;
        let store = open_store(&settings.storage).await?;
        let metered = wiring::metrics::Metered::new(&settings.server.metrics);
        let use_cases = wiring::use_cases(settings, &store, &metered).await?;
        let deps = HttpDeps {
            status: use_cases.status.clone(),
            accounts: use_cases.accounts.clone(),
            validation: use_cases.validation.clone(),
            keys: use_cases.keys.clone(),
            association: use_cases.association.clone(),
            lookup: use_cases.lookup.clone(),
            limits: use_cases.limits.clone(),
            invites: use_cases.invites.clone(),
            user_directory: use_cases.user_directory.clone(),
            remote_sessions: Some(use_cases.remote_sessions.clone()),
            registration: Some(use_cases.registration.clone()),
            room_invites: Some(use_cases.room_invites.clone()),
            next_link_allowed: settings.session.next_link_allowed.clone().into(),
            views: use_cases.reload.views.clone(),
            public_url: Arc::from(settings.server.public_url.as_str()),
        };
        let app = metered.app(verity_adapter_http::app(&deps, settings.http));
        let internal = internal_listener(settings, &use_cases)
            .await?
            .map(|(server, app)| (server, metered.app(app)));
        let metrics = wiring::metrics::listener(
            &settings.server.metrics,
            &metered,
            use_cases.status.clone(),
            use_cases.index.clone(),
        )
        .await;
        Ok(Self {
            server,
            app,
            internal,
            metrics,
            store,
            use_cases,
        })
    }

    /// What a configuration reload replaces in this server.
    pub fn reload_points(&self) -> crate::reload::ReloadPoints {
        self.use_cases.reload.clone()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The address the internal listener listens on, when it was started.
    pub fn internal_addr(&self) -> Option<SocketAddr> {
        self.internal
            .as_ref()
            .map(|(server, _)| server.local_addr())
    }

    /// The address the metrics listener listens on, when it was started.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(server, _)| server.local_addr())
    }

    /// Serves until `shutdown` completes, lets in-flight requests finish, then closes the store.
    ///
    /// # Errors
    /// A fatal listener error.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(address = %self.server.local_addr(), "verity is listening");
        // One signal stops both listeners.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        let until_stopped = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }
        };
        let internal = self.internal.map(|(server, app)| {
            tracing::info!(address = %server.local_addr(), "the internal listener (check_credentials) is listening");
            tokio::spawn(server.serve(app, until_stopped()))
        });
        let metrics = self.metrics.map(|(server, app)| {
            tracing::info!(address = %server.local_addr(), "the metrics listener is listening");
            tokio::spawn(server.serve(app, until_stopped()))
        });
        let maintenance = tokio::spawn(lookup_maintenance(self.use_cases.index.clone()));
        let following = self
            .use_cases
            .follower
            .clone()
            .map(|follower| tokio::spawn(follow_bindings(follower)));
        let delivery = tokio::spawn(invite_delivery(
            self.use_cases.invites.clone(),
            self.use_cases.invite_wake.clone(),
        ));
        let housekeeping = tokio::spawn(housekeeping(self.use_cases));
        let served = self
            .server
            .serve(self.app, until_stopped())
            .await
            .context("the HTTP server failed");
        if let Some(internal) = internal {
            match internal.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "the internal listener failed"),
                Err(error) => tracing::warn!(%error, "the internal listener's task failed"),
            }
        }
        if let Some(metrics) = metrics {
            // Nothing to finish there: a scrape in flight is simply dropped.
            metrics.abort();
        }
        housekeeping.abort();
        // Stopped before the store closes; what it had not delivered is still due in the store.
        delivery.abort();
        maintenance.abort();
        if let Some(following) = following {
            following.abort();
        }
        if let Err(error) = self.store.close().await {
            tracing::warn!(error = %error, "closing the store failed");
        }
        tracing::info!("verity stopped");
        served
    }
}

/// The internal listener (`server.internal.*`), bound, with its application: started when
/// something is served on it (a store checks passwords or knows profiles) or when
/// `server.internal.enabled` is true, never when it is false. Unless explicitly enabled, a port
/// that is taken is a warning, not a failed start (an upgrade must not fail on a port it never
/// used before).
///
/// # Errors
/// An explicitly enabled listener that cannot bind.
async fn internal_listener(
    settings: &Settings,
    use_cases: &wiring::UseCases,
) -> anyhow::Result<Option<(BoundServer, AppEndpoint)>> {
    let internal = &settings.server.internal;
    let deps = InternalDeps {
        authentication: use_cases
            .authentication
            .clone()
            .map(|authentication| authentication as Arc<dyn Authentication>),
        // Sydent's internal bind API: only when the operator asked for it (it binds any 3PID
        // without proof), through the same use case as every bind.
        association: internal
            .bind_api
            .then(|| use_cases.association.clone() as Arc<dyn Association>),
        secret: internal
            .secret
            .as_ref()
            .and_then(|secret| SharedSecret::new(secret.expose())),
        max_body_bytes: settings.http.max_body_bytes,
    };
    match internal.enabled {
        Some(false) => {
            if deps.authentication.is_some() {
                tracing::info!(
                    "server.internal.enabled is false: check_credentials is not served, so the homeserver's password provider cannot log users in through Verity"
                );
            }
            if internal.bind_api {
                tracing::warn!(
                    "server.internal.bindApi is true but server.internal.enabled is false: Sydent's internal bind API is not served"
                );
            }
            return Ok(None);
        }
        None if !deps.serves_anything() => return Ok(None),
        _ => {}
    }
    let (host, port) = (&internal.hostname, internal.port);
    let server = match BoundServer::bind(host, port).await {
        Ok(server) => server,
        // Asked for explicitly (the listener, or the bind API a script relies on): a taken port
        // stops the start.
        Err(error) if internal.enabled.is_none() && !internal.bind_api => {
            tracing::warn!(%error, "cannot listen on {host}:{port} (server.internal.hostname, server.internal.port): check_credentials is not served; set another port, or server.internal.enabled: false");
            return Ok(None);
        }
        Err(error) => {
            return Err(error).with_context(|| {
                format!("cannot listen on {host}:{port} (server.internal.hostname, server.internal.port)")
            });
        }
    };
    if internal.bind_api {
        let address = server.local_addr();
        if deps.secret.is_none() && !address.ip().is_loopback() {
            tracing::warn!(%address, "Sydent's internal bind API is served beyond this host without server.internal.secret: whoever reaches the internal listener can bind any 3PID to any Matrix ID");
        } else {
            tracing::info!(%address, "Sydent's internal bind API is served on the internal listener (server.internal.bindApi)");
        }
    }
    if deps.secret.is_none() && !private(server.local_addr().ip()) {
        tracing::warn!(address = %server.local_addr(), "the internal listener is reachable beyond this host and private networks without server.internal.secret: whoever reaches it can check passwords (within ratelimit.login)");
    }
    let app = verity_adapter_http::internal_app(&deps);
    Ok(Some((server, app)))
}

/// Whether `ip` is the loopback or a private network's (IPv4 private ranges, IPv6 unique local
/// `fc00::/7`).
fn private(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_loopback() || v4.is_private())
        }
    }
}

pub(crate) async fn open_store(storage: &StorageSettings) -> anyhow::Result<SqlStore> {
    let max_connections = match storage {
        StorageSettings::Sqlite { database } => {
            crate::sqlite_file::prepare(database).with_context(|| {
                format!(
                    "cannot create storage.provider.sqlite.database ({}) or its directory",
                    database.display()
                )
            })?;
            crate::sqlite_file::warn_if_too_open(database);
            // SQLite allows one writer at a time; a few connections serve concurrent readers.
            4
        }
        StorageSettings::Postgresql {
            max_connections, ..
        } => *max_connections,
    };
    let backend = match storage {
        StorageSettings::Sqlite { .. } => "sqlite",
        StorageSettings::Postgresql { .. } => "postgresql",
    };
    verity_adapter_sql::connect(&storage.url(), max_connections)
        .await
        .with_context(|| format!("cannot open the {backend} store (storage.*)"))
}

/// How often the pepper's rotation policy is checked.
const ROTATION_CHECK_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

/// The longest wait between two attempts to build the lookup hash table after failures.
const BUILD_RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(60);

/// Keeps the lookup hash table in the background. Its first build starts with the use cases
/// (`wiring::lookups`); while no table is complete and none is being built (that build failed),
/// a build is tried again, waiting twice as long each time up to a minute (hashed lookups answer
/// 503 meanwhile). Then the pepper the store publishes is followed when another process
/// published it, and a new pepper is made whenever `hashing.rotationPolicy` asks; the
/// published pepper and its table answer throughout a rotation.
async fn lookup_maintenance(index: Arc<HashIndex>) {
    let mut retry = ROTATION_CHECK_PERIOD;
    let mut next_build = tokio::time::Instant::now();
    let mut every = tokio::time::interval(ROTATION_CHECK_PERIOD);
    loop {
        every.tick().await;
        if index.build_due() {
            let now = tokio::time::Instant::now();
            if now >= next_build
                && let Err(error) = index.rebuild(Rebuild::SamePepper).await
            {
                tracing::warn!(error = %error, source = ?std::error::Error::source(&error), retry_in_s = retry.as_secs(), "building the lookup hash table failed; hashed lookups answer 503 until it is built");
                next_build = now + retry;
                retry = (retry * 2).min(BUILD_RETRY_MAX);
            }
            continue;
        }
        retry = ROTATION_CHECK_PERIOD;
        // A pepper published by `verity admin pepper rotate` or another instance: followed
        // within this period plus the time to build its table (docs/admin.md).
        match index.follow_stored_pepper().await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(error = %error, source = ?std::error::Error::source(&error), "following the stored lookup pepper failed; the current pepper keeps answering, retried in a second");
                continue;
            }
        }
        if index.rotation_due()
            && let Err(error) = index.rebuild(Rebuild::NewPepper).await
        {
            tracing::warn!(error = %error, source = ?std::error::Error::source(&error), "rotating the lookup pepper failed; the current pepper keeps answering");
        }
    }
}

/// How often the binding changes recorded by the other instances on the database are read: a
/// bind or unbind made through one instance is in every instance's lookup table this long after
/// it (plus the time to read it and ask the backends again).
const FOLLOW_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

/// Keeps the lookup hash table in step with the binds and unbinds made through the other
/// instances on the same database (docs/lookups.md, "Several instances on one database"). A
/// failed pass is logged and its changes are read again at the next one.
async fn follow_bindings(follower: Arc<BindingFollower>) {
    let mut every = tokio::time::interval(FOLLOW_PERIOD);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        every.tick().await;
        match follower.poll().await {
            Ok(0) => {}
            Ok(count) => tracing::debug!(count, "binding changes followed into the lookup table"),
            Err(error) => {
                // Once per failure streak: the pass is retried every second.
                if !failing {
                    tracing::warn!(error = %error, source = ?std::error::Error::source(&error), "following the binding changes of the other instances failed; retrying every second");
                }
                failing = true;
                continue;
            }
        }
        if failing {
            tracing::info!("following the binding changes of the other instances again");
            failing = false;
        }
    }
}

/// How often the invite delivery worker looks for due deliveries when no bind woke it.
const DELIVERY_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// Delivers the invites of bound addresses (`3pid/onbind`): at once when a bind wakes it, else
/// every [`DELIVERY_POLL`] for retries that came due. One delivery at a time; a failing
/// homeserver is retried with backoff, so it cannot hold the others up for long.
async fn invite_delivery(
    invites: Arc<verity_application::usecases::InviteService>,
    wake: Arc<tokio::sync::Notify>,
) {
    // A bind cut short by a crash stored its binding but not its invites' delivery: queue them
    // before the first pass (docs/storage.md, "After a crash").
    if let Err(error) = invites.queue_invites_of_bound_addresses().await {
        tracing::warn!(error = %error, "queueing the invites of bound addresses failed; retried at the next start");
    }
    loop {
        match invites.deliver_due().await {
            Ok(report) if report != verity_application::usecases::DeliveryReport::default() => {
                tracing::debug!(?report, "invite delivery pass");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, "invite delivery failed; retrying"),
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(DELIVERY_POLL) => {}
        }
    }
}

/// How often expired sessions and accounts are deleted.
const HOUSEKEEPING_PERIOD: std::time::Duration = std::time::Duration::from_secs(600);

/// Deletes expired sessions, access tokens and invites, and the binding changes older than an
/// hour, now and then every [`HOUSEKEEPING_PERIOD`].
async fn housekeeping(use_cases: wiring::UseCases) {
    let mut every = tokio::time::interval(HOUSEKEEPING_PERIOD);
    loop {
        every.tick().await;
        match use_cases.validation.purge_expired().await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "expired validation sessions deleted"),
            Err(error) => tracing::warn!(error = %error, "deleting expired sessions failed"),
        }
        match use_cases.accounts.purge_expired().await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "expired access tokens deleted"),
            Err(error) => tracing::warn!(error = %error, "deleting expired access tokens failed"),
        }
        if let Some(follower) = &use_cases.follower {
            match follower.purge().await {
                Ok(0) => {}
                Ok(count) => tracing::debug!(count, "binding changes older than an hour deleted"),
                Err(error) => tracing::warn!(error = %error, "deleting old binding changes failed"),
            }
        }
        match use_cases.invites.purge_expired().await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "expired invites deleted"),
            Err(error) => tracing::warn!(error = %error, "deleting expired invites failed"),
        }
    }
}
