//! `POST /_matrix/federation/v1/3pid/onbind`: telling a homeserver that an address it has pending
//! room invites for was bound. POST, as Synapse serves it and sydent calls it (the server-server
//! spec text says PUT: matrix-spec#524). The request is not X-Matrix signed; the invites inside
//! carry the identity server's signatures.
use reqwest::header::{CONTENT_TYPE, HOST};
use verity_application::ports::driven::HomeserverError;
use verity_domain::ServerName;

use super::http::read_capped;
use super::{ReqwestHomeserverClient, UnexpectedStatus};

const ONBIND_PATH: &str = "/_matrix/federation/v1/3pid/onbind";

impl ReqwestHomeserverClient {
    /// Posts `body` to `server`'s onbind endpoint, discovered and checked like every federation
    /// request; only a 2xx answer is success.
    pub(super) async fn post_onbind(
        &self,
        server: &ServerName,
        body: &verity_domain::JsonObject,
    ) -> Result<(), HomeserverError> {
        let _permit = self.permit(server)?;
        let destination = self.discovery.discover(server).await.inspect_err(|error| {
            tracing::info!(%error, "homeserver not reachable or not allowed");
        })?;
        let (client, url, host) = self.request_for(&destination, ONBIND_PATH)?;
        let mut request = client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(body.as_str().to_owned());
        if let Some(host) = host {
            request = request.header(HOST, host);
        }
        let response = request.send().await.map_err(|error| {
            let error = error.without_url();
            tracing::info!(%error, "onbind request failed");
            HomeserverError::Unreachable(Box::new(error))
        })?;
        let status = response.status();
        // Drain (bounded) so the connection can be reused; the content does not matter.
        let _ = read_capped(response, self.settings.max_response_bytes).await;
        if status.is_success() {
            Ok(())
        } else {
            tracing::info!(%status, "onbind refused");
            Err(HomeserverError::Unreachable(Box::new(UnexpectedStatus(
                status,
            ))))
        }
    }
}
