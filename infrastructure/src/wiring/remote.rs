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

#[cfg(test)]
mod tests {
    use super::own_names;
    use crate::config;

    fn names(yaml: &str) -> Vec<String> {
        let loaded = config::parse(yaml).unwrap();
        own_names(&loaded.settings)
    }

    #[test]
    fn a_homeserver_may_name_this_server_by_server_name_or_public_url_host_and_port() {
        let found = names(
            "matrix:\n  domain: example.org\nserver:\n  name: id.example.org\n  publicUrl: https://id.example.org:8443\n",
        );
        assert_eq!(found, ["id.example.org", "id.example.org:8443"]);
    }

    /// Synapse's `id_server` may carry a path (`valid_id_server_location`), and it signs that
    /// string: with a publicUrl under a path, that path is part of a name.
    #[test]
    fn a_public_url_with_a_path_adds_the_host_and_path_as_synapse_writes_id_server() {
        let found = names(
            "matrix:\n  domain: example.org\nserver:\n  name: example.org\n  publicUrl: https://example.org/identity/\n",
        );
        assert_eq!(found, ["example.org", "example.org/identity"]);
    }
}
