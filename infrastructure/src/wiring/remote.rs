//! Other servers: homeservers, other identity servers, and the names they address us by.
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_matrix::{
    IdentityServersConfig, ReqwestHomeserverClient, ReqwestIdentityServers,
};
use verity_application::ports::driven::{HomeserverClient, RemoteIdentityServers};

use crate::settings::Settings;

/// The client for homeservers (signed binds, account registration, onbind).
pub(super) fn homeserver_client(settings: &Settings) -> anyhow::Result<Arc<dyn HomeserverClient>> {
    let client = ReqwestHomeserverClient::new(settings.federation.clone()).context(
        "cannot set up the homeserver client (dns.overwrite.homeserver.federation, federation.*)",
    )?;
    Ok(Arc::new(client))
}

/// Other identity servers by label (`matrix.identity.servers`): for recursive lookups, remote
/// validation sessions and forwarded binds.
pub(super) fn remote_identity_servers(
    settings: &Settings,
) -> anyhow::Result<Arc<dyn RemoteIdentityServers>> {
    let client = ReqwestIdentityServers::new(IdentityServersConfig::new(
        settings.matrix.identity_servers.clone(),
        &settings.federation,
    ))
    .context("cannot set up the identity server client (matrix.identity.servers, federation.*)")?;
    Ok(Arc::new(client))
}

/// The names a homeserver may address this server by in a signed request: `server.name`, and the
/// host (with its port, if any) of `server.publicUrl`, followed by its path when it has one.
/// Synapse signs the `id_server` string it was given (`host[:port][/path]`, called as
/// `https://<id_server>`), so operators point clients at one of these.
pub(super) fn own_names(settings: &Settings) -> Vec<String> {
    let mut names = vec![settings.server.name.clone()];
    let url = url::Url::parse(&settings.server.public_url).ok();
    if let Some(url) = url.as_ref()
        && let Some(host) = url.host_str()
    {
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let path = url.path().trim_end_matches('/');
        let name = format!("{authority}{path}");
        for name in [authority, name] {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}
