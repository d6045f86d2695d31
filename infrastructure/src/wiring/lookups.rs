//! The lookups: identity backends, the hash table and recursion to other identity servers.
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_exec::ExecBackend;
use verity_adapter_ldap::LdapBackend;
use verity_adapter_memory::MemoryBackend;
use verity_adapter_rest::RestBackend;
use verity_adapter_sql::{QueryBackend, SqlStore, SynapseSqlBackend};
use verity_application::ports::driven::{
    BindingStore, Clock, HashLookups, HashStore, HealthCheck, IdentityBackend,
    RemoteIdentityServers, SecretGenerator,
};
use verity_application::usecases::{Backends, HashIndex, KeyService, LookupService, Rebuild};

use crate::settings::Settings;

/// How long start-up waits for the first build of the lookup hash table before it listens. A
/// small table (tens of thousands of bindings) is complete by then, so its hashed lookups are
/// answered from the first request; a larger one goes on building in the background while
/// hashed lookups answer 503 (docs/lookups.md).
const FIRST_BUILD_WAIT: std::time::Duration = std::time::Duration::from_millis(250);

/// The lookup hash table over `backends`, started (its pepper loaded, or made and stored on the
/// first start), its table built in a task of its own, waited for up to [`FIRST_BUILD_WAIT`];
/// and whether the table is still being built (or its build failed: `startup` retries it).
pub(super) async fn hash_index(
    settings: &Settings,
    hashes: Arc<dyn HashStore>,
    backends: &Backends,
    secrets: Arc<dyn SecretGenerator>,
    clock: Arc<dyn Clock>,
    changes: Option<Arc<dyn BindingStore>>,
) -> anyhow::Result<(Arc<HashIndex>, bool)> {
    // A rotation that refuses clients (ma1sd#81) is a configuration warning, logged at start-up
    // and by --check-config with its fix (config::lookup).
    let lookups = &settings.lookups;
    let mut index = HashIndex::new(hashes, backends.clone(), secrets, clock, lookups.hashing);
    // Each complete table is saved, and loaded by the next start (when Verity's own bindings are
    // the only backend: docs/lookups.md, "Restarts").
    if let Some(changes) = changes {
        index = index.with_saved_tables(changes);
    }
    let index = Arc::new(index);
    let build_due = index
        .start()
        .await
        .context("cannot read or store the lookup pepper (hashing.*, storage.*)")?;
    if build_due {
        let building = index.clone();
        let build = tokio::spawn(async move {
            let started = std::time::Instant::now();
            match building.rebuild(Rebuild::SamePepper).await {
                Ok(_) => tracing::info!(
                    elapsed_ms = started.elapsed().as_millis(),
                    "lookup hash table built"
                ),
                Err(error) => tracing::warn!(
                    error = %error,
                    source = ?std::error::Error::source(&error),
                    "building the lookup hash table failed; retried in the background, hashed lookups answer 503 until it is built"
                ),
            }
        });
        // Not cancelled when the wait ends: the build goes on in its task.
        let _ = tokio::time::timeout(FIRST_BUILD_WAIT, build).await;
    }
    if lookups.hashing.enabled
        && let Some(every) = directory_refresh(settings)
    {
        tracing::info!(
            every_s = every.as_secs(),
            "the lookup hash table is built again at this interval for the directories"
        );
        directory::refresh(index.clone(), every);
    }
    tracing::info!(
        backends = ?backends.names(),
        hashing = lookups.hashing.enabled,
        table_ready = index.is_ready(),
        "lookups ready"
    );
    Ok((index.clone(), build_due && !index.is_ready()))
}

/// The lookup use case (`lookup.*`), forwarding as configured.
pub(super) fn lookup_service(
    settings: &Settings,
    index: Arc<dyn HashLookups>,
    backends: Backends,
    keys: &Arc<KeyService>,
    clock: Arc<dyn Clock>,
    remote: &Arc<dyn RemoteIdentityServers>,
) -> LookupService {
    let lookup = LookupService::new(
        index,
        backends,
        keys.clone(),
        clock,
        settings.lookups.lookup.clone(),
    );
    with_recursion(lookup, settings, remote)
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
    let forwarding = &recursive.forwarding;
    if !recursive.enabled || forwarding.servers.is_empty() {
        return lookup;
    }
    let loopback = std::net::IpAddr::from([127, 0, 0, 1]);
    if forwarding.trusted_proxies.is_empty()
        && verity_domain::in_networks(&forwarding.allowed, loopback)
    {
        tracing::warn!(
            "lookup.recursive.allowedCidr includes the loopback and lookup.recursive.trustedProxies \
             is empty: if Verity runs behind a reverse proxy on this host, every lookup looks local \
             and is forwarded; list the proxy in lookup.recursive.trustedProxies"
        );
    }
    tracing::info!(servers = ?forwarding.servers.iter().map(|l| l.as_str()).collect::<Vec<_>>(), "recursive lookups forward to these labels");
    lookup.with_recursion(Arc::clone(remote), forwarding.clone())
}

/// An identity backend the settings can switch on. The order of the variants is the one that
/// breaks a tie of priorities (docs/backends.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BackendKind {
    /// `memory` (the operator's own list, as mxisd put it first).
    Memory,
    /// `bindings` (binds made here).
    Bindings,
    /// `synapseSql`.
    SynapseSql,
    /// `ldap`.
    Ldap,
    /// `netiq` (the same tree as `ldap`).
    Netiq,
    /// `exec` (the operator's programs).
    Exec,
    /// `sql` (the operator's own database).
    Sql,
    /// `rest` (the operator's HTTP service).
    Rest,
}

/// The backends `settings` switch on, highest priority first (`memory.priority`,
/// `bindings.priority`, `synapseSql.identity.priority`, `ldap.identity.priority`,
/// `netiq.identity.priority`); equal priorities keep the order of [`BackendKind`].
fn backend_order(settings: &Settings) -> Vec<BackendKind> {
    let priorities = &settings.lookups.priorities;
    let mut on: Vec<(BackendKind, i64)> = Vec::new();
    if settings.lookups.memory.is_some() {
        on.push((BackendKind::Memory, priorities.memory.into()));
    }
    if settings.lookups.bindings {
        on.push((BackendKind::Bindings, priorities.bindings.into()));
    }
    if settings.synapse_sql.is_some() {
        on.push((BackendKind::SynapseSql, priorities.synapse_sql.into()));
    }
    if let Some(ldap) = &settings.ldap {
        on.push((BackendKind::Ldap, ldap.config.priority.into()));
    }
    if let Some(netiq) = &settings.netiq {
        on.push((BackendKind::Netiq, netiq.config.priority.into()));
    }
    if let Some(rest) = &settings.rest {
        on.push((BackendKind::Rest, rest.config.priority.into()));
    }
    if let Some(sql) = &settings.sql {
        on.push((BackendKind::Sql, sql.priority.into()));
    }
    if let Some(exec) = &settings.exec {
        on.push((BackendKind::Exec, exec.config.priority.into()));
    }
    // A stable sort, so ties keep the order they were pushed in.
    on.sort_by_key(|&(_, priority)| std::cmp::Reverse(priority));
    on.into_iter().map(|(kind, _)| kind).collect()
}

/// The identity backends, highest priority first (see [`backend_order`] and docs/backends.md),
/// and the health checks of those that may be down while Verity answers from the others (the
/// directories).
pub(super) async fn identity_backends(
    settings: &Settings,
    store: &SqlStore,
) -> anyhow::Result<(Vec<Arc<dyn IdentityBackend>>, Vec<Arc<dyn HealthCheck>>)> {
    let mut backends: Vec<Arc<dyn IdentityBackend>> = Vec::new();
    let mut checks: Vec<Arc<dyn HealthCheck>> = Vec::new();
    for kind in backend_order(settings) {
        match kind {
            BackendKind::Memory => {
                if let Some(memory) = &settings.lookups.memory {
                    backends.push(Arc::new(MemoryBackend::new(memory)));
                }
            }
            BackendKind::Bindings => backends.push(Arc::new(store.binding_store())),
            BackendKind::SynapseSql => {
                if let Some(synapse) = &settings.synapse_sql {
                    let backend = SynapseSqlBackend::connect(synapse)
                        .await
                        .context("cannot open the Synapse database (synapseSql.*)")?;
                    backends.push(Arc::new(backend));
                }
            }
            BackendKind::Ldap | BackendKind::Netiq => {
                let (section, directory) = if kind == BackendKind::Ldap {
                    ("ldap", &settings.ldap)
                } else {
                    ("netiq", &settings.netiq)
                };
                if let Some(directory) = directory {
                    // Not connected here: a directory that is down does not stop start-up.
                    let backend =
                        Arc::new(LdapBackend::new(directory.config.clone()).named(section));
                    // Its health check is optional: `/status` names it without failing.
                    checks.push(backend.clone());
                    backends.push(Arc::new(directory::Tolerant::new(section, backend)));
                }
            }
            BackendKind::Rest => {
                if let Some(rest) = &settings.rest {
                    // Nothing is asked here: a backend that is down does not stop start-up, and
                    // its failures are answered by the other backends, as a directory's.
                    let backend = Arc::new(
                        RestBackend::new(rest.config.clone())
                            .context("cannot set up the REST identity backend (rest.*)")?,
                    );
                    checks.push(backend.clone());
                    backends.push(Arc::new(directory::Tolerant::new("rest", backend)));
                }
            }
            BackendKind::Sql => {
                if let Some(sql) = &settings.sql {
                    // Not connected here: a database that is down does not stop start-up, and
                    // its failures are answered by the other backends, as a directory's. Its
                    // health check (not required) names it in `/status`.
                    let backend = Arc::new(QueryBackend::open(&sql.config).await.context(
                        "cannot use the generic SQL store's database (sql.type, sql.connection)",
                    )?);
                    checks.push(backend.clone());
                    backends.push(Arc::new(directory::Tolerant::new("sql", backend)));
                }
            }
            BackendKind::Exec => {
                if let Some(exec) = &settings.exec {
                    // Nothing runs here: a missing program fails its lookups (answered by the
                    // other backends) and shows in `/status`, not at start-up.
                    let backend = Arc::new(ExecBackend::new(exec.config.clone()));
                    if let Err(why) = backend.health() {
                        tracing::warn!(error = %why, "the exec identity backend cannot run its programs yet");
                    }
                    checks.push(backend.clone());
                    backends.push(Arc::new(directory::Tolerant::new("exec", backend)));
                }
            }
        }
    }
    Ok((backends, checks))
}

/// The shortest `identity.refresh` of the directories (and of the REST backend) that feed the
/// hash table, if any.
fn directory_refresh(settings: &Settings) -> Option<std::time::Duration> {
    let rest = settings
        .rest
        .as_ref()
        .filter(|rest| rest.config.endpoints.identity_all.is_some() && !rest.refresh.is_zero())
        .map(|rest| rest.refresh);
    let exec = settings
        .exec
        .as_ref()
        .filter(|exec| exec.config.hash_lookup && !exec.refresh.is_zero())
        .map(|exec| exec.refresh);
    [&settings.ldap, &settings.netiq]
        .into_iter()
        .flatten()
        .filter(|directory| directory.config.hash_lookup && !directory.refresh.is_zero())
        .map(|directory| directory.refresh)
        .chain(
            settings
                .sql
                .as_ref()
                .filter(|sql| sql.config.feed && !sql.refresh.is_zero())
                .map(|sql| sql.refresh),
        )
        .chain(rest)
        .chain(exec)
        .min()
}

#[path = "lookups_directory.rs"]
mod directory;

#[cfg(test)]
#[path = "lookups_tests.rs"]
mod tests;
