//! The invite use case, over the invite store and the server's signing key.
use std::sync::Arc;

use anyhow::Context as _;
use verity_application::ports::driven::{HomeserverClient, InviteStore};
use verity_application::ports::driving::Keys as _;
use verity_application::usecases::{
    Backends, InviteDeps, InviteService, KeyService, Notifier, SenderRoleCheck,
};

use crate::settings::Settings;
use crate::system::{OsSecretGenerator, SystemClock};

/// The invite use case, and what wakes its delivery worker.
pub(super) fn invite_service(
    settings: &Settings,
    store: Arc<dyn InviteStore>,
    backends: &Backends,
    notifier: &Notifier,
    keys: &Arc<KeyService>,
    homeserver: &Arc<dyn HomeserverClient>,
    sender_roles: SenderRoleCheck,
) -> anyhow::Result<(Arc<InviteService>, Arc<tokio::sync::Notify>)> {
    let wake = Arc::new(tokio::sync::Notify::new());
    let waker = wake.clone();
    let deps = InviteDeps {
        store,
        backends: backends.clone(),
        notifier: notifier.clone(),
        signer: keys.clone(),
        homeserver: homeserver.clone(),
        clock: Arc::new(SystemClock),
        secrets: Arc::new(OsSecretGenerator),
        server_key: keys
            .public_key(keys.signing_key_id())
            .context("the signing key has no public key")?,
    };
    // A delivery is at most a `.well-known` fetch, two SRV lookups and the onbind call, each
    // bounded by `federation.timeout`: four times that outlasts any call, so a claim does not
    // run out while its call is in flight (docs/instances.md, "Invites").
    let lease = settings.federation.timeout.saturating_mul(4);
    let service = InviteService::new(deps, settings.invites.clone())
        .with_wake(Arc::new(move || waker.notify_one()))
        .with_sender_roles(sender_roles)
        .with_delivery_lease(lease);
    Ok((Arc::new(service), wake))
}
