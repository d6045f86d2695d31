//! The use cases `verity admin` runs, over the same store and key directory as the server. The
//! process serves nothing and keeps no lookup table: what it changes reaches running servers
//! through the store (binding changes, the published pepper, due deliveries).
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_sql::SqlStore;
use verity_application::ports::driven::{BindingStore, Clock, HashStore, SecretGenerator};
use verity_application::usecases::{
    AdminDeps, AdminService, AdminSettings, AssociationService, Backends, HashIndex,
};

use crate::settings::Settings;
use crate::system::{OsSecretGenerator, SystemClock};

/// The admin use case: bindings, invites, pepper, keys.
///
/// # Errors
/// The key store cannot be opened (`key.path`).
pub fn admin_service(settings: &Settings, store: &SqlStore) -> anyhow::Result<AdminService> {
    let path = &settings.key.path;
    let keys = verity_adapter_keys::open(path)
        .with_context(|| format!("cannot open the key store at {} (key.path)", path.display()))?;
    let hashing = &settings.lookups.hashing;
    Ok(AdminService::new(
        AdminDeps {
            bindings: Arc::new(store.binding_store()),
            invites: Arc::new(store.invite_store()),
            hashes: Arc::new(store.hash_store()),
            keys,
            secrets: Arc::new(OsSecretGenerator),
            clock: Arc::new(SystemClock),
        },
        AdminSettings {
            hashing_enabled: hashing.enabled,
            pepper_length: hashing.pepper_length,
        },
    ))
}

/// The association use case as the server wires it, for removing bindings: the same binding
/// store (whose unbind records the change the servers' lookup tables follow within a second)
/// and the same unbind notifications. Its lookup table is never built: this process answers no
/// lookup, so refreshing it does nothing.
///
/// # Errors
/// The key store cannot be loaded, or the notifications cannot be set up from their settings.
pub async fn association_service(
    settings: &Settings,
    store: &SqlStore,
) -> anyhow::Result<AssociationService> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let secrets: Arc<dyn SecretGenerator> = Arc::new(OsSecretGenerator);
    let hashes: Arc<dyn HashStore> = Arc::new(store.hash_store());
    let index = Arc::new(HashIndex::new(
        hashes,
        Backends::new(Vec::new()),
        secrets.clone(),
        clock.clone(),
        settings.lookups.hashing,
    ));
    let keys = Arc::new(super::keys(settings, secrets.as_ref(), clock.as_ref()).await?);
    let bindings = settings
        .lookups
        .bindings
        .then(|| Arc::new(store.binding_store()) as Arc<dyn BindingStore>);
    let mut association = AssociationService::new(
        Arc::new(store.session_store()),
        bindings,
        index,
        keys,
        clock,
        settings.session.association,
    );
    if settings.lookups.unbind_notifications {
        association = association.with_unbind_notifications(
            super::notify::notifier(settings, &super::metrics::Metered::default())?.0,
        );
    }
    Ok(association)
}
