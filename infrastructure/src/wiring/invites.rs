//! The invite use case and the URLs it puts in answers and emails.
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_sql::SqlStore;
use verity_application::ports::driven::HomeserverClient;
use verity_application::ports::driving::Keys as _;
use verity_application::usecases::{Backends, InviteDeps, InviteService, KeyService, Notifier};

use crate::settings::Settings;
use crate::system::{OsSecretGenerator, SystemClock};

/// The invite use case, and what wakes its delivery worker.
pub(super) fn invite_service(
    settings: &Settings,
    store: &SqlStore,
    backends: &Backends,
    notifier: &Notifier,
    keys: &Arc<KeyService>,
    homeserver: &Arc<dyn HomeserverClient>,
) -> anyhow::Result<(Arc<InviteService>, Arc<tokio::sync::Notify>)> {
    let wake = Arc::new(tokio::sync::Notify::new());
    let waker = wake.clone();
    let deps = InviteDeps {
        store: Arc::new(store.invite_store()),
        backends: backends.clone(),
        notifier: notifier.clone(),
        signer: keys.clone(),
        homeserver: homeserver.clone(),
        clock: Arc::new(SystemClock),
        secrets: Arc::new(OsSecretGenerator),
    };
    let service = InviteService::new(deps, invite_settings(settings, keys)?)
        .with_wake(Arc::new(move || waker.notify_one()))
        .with_blocklist(settings.invites.blocklist.clone());
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
    let sign_api = if settings.http.v1 {
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
        key_validity_base: settings.session.validation.link_base.clone(),
        sign_url: format!("{public_url}{sign_api}/sign-ed25519"),
        full_display_name: settings.invites.full_display_name,
        expiry: settings.invites.expiry,
    })
}
