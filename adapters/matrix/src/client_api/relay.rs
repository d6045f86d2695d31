//! The pass-throughs of registration control and of the invite policy: an allowed
//! `register/{medium}/requestToken` or `rooms/{roomId}/invite` sent on to the homeserver found as
//! for the user's own requests, its answer given back whatever its status.
use async_trait::async_trait;
use reqwest::RequestBuilder;
use verity_application::ports::driven::{
    HomeserverAsUserError, HomeserverRoute, RegistrationRelay, RelayedAnswer, RelayedRequest,
    RoomInviteRelay,
};
use verity_domain::{HomeserverAccessToken, Medium};

use super::ReqwestHomeserverAsUser;

#[async_trait]
impl RegistrationRelay for ReqwestHomeserverAsUser {
    #[tracing::instrument(name = "register_request_token", skip_all)]
    async fn request_token(
        &self,
        route: &HomeserverRoute,
        medium: &Medium,
        request: &RelayedRequest,
    ) -> Result<RelayedAnswer, HomeserverAsUserError> {
        let url = self
            .url(route, &format!("/register/{medium}/requestToken"))
            .await?;
        let builder = self.client.post(url);
        self.pass_on(builder, request, &format!("register/{medium}/requestToken"))
            .await
    }
}

#[async_trait]
impl RoomInviteRelay for ReqwestHomeserverAsUser {
    #[tracing::instrument(name = "room_invite", skip_all)]
    async fn invite(
        &self,
        route: &HomeserverRoute,
        token: &HomeserverAccessToken,
        room_id: &str,
        request: &RelayedRequest,
    ) -> Result<RelayedAnswer, HomeserverAsUserError> {
        let mut url = self.url(route, "/rooms").await?;
        // One segment, percent-encoded: a room ID with `/`, `?` or `#` cannot reach another
        // endpoint of the homeserver.
        url.path_segments_mut()
            .map_err(|()| {
                HomeserverAsUserError::InvalidResponse(
                    "the homeserver's address cannot have a path".to_owned(),
                )
            })?
            .push(room_id)
            .push("invite");
        let builder = self.client.post(url).bearer_auth(token.expose());
        self.pass_on(builder, request, "rooms/{roomId}/invite")
            .await
    }
}

impl ReqwestHomeserverAsUser {
    /// Sends `request`'s body with `builder` as a reverse proxy would, and takes the answer as
    /// it comes, whatever its status, as long as it is JSON.
    async fn pass_on(
        &self,
        builder: RequestBuilder,
        request: &RelayedRequest,
        endpoint: &str,
    ) -> Result<RelayedAnswer, HomeserverAsUserError> {
        let mut builder = builder
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(request.body.clone());
        // The client's address as the trusted proxies vouch for it, and nothing else: the
        // homeserver believes the left-most entry (Synapse does), so passing on what the client
        // wrote would let it choose the address the homeserver's per-address limits count.
        if let Some(client) = request.requester.client_ip(&self.trusted_proxies) {
            builder = builder.header("x-forwarded-for", client.to_string());
        }
        let (status, body) = self.exchange(builder).await?;
        // Whatever the status, the client gets JSON: a homeserver that answers something else
        // (an HTML error page of a proxy in between) is a failure, not an answer.
        if serde_json::from_slice::<serde_json::Value>(&body).is_err() {
            return Err(HomeserverAsUserError::InvalidResponse(format!(
                "{endpoint} answered HTTP {status} with a body that is not JSON"
            )));
        }
        Ok(RelayedAnswer {
            status: status.as_u16(),
            body,
        })
    }
}
