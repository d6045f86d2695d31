//! Registration control's pass-through: an allowed `register/{medium}/requestToken` sent on to
//! the homeserver found as for the user's own requests, its answer given back whatever its
//! status.
use async_trait::async_trait;
use verity_application::ports::driven::{
    HomeserverAsUserError, HomeserverRoute, RegistrationRelay, RelayedAnswer, RelayedRequest,
};
use verity_domain::Medium;

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
        let mut builder = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(request.body.clone());
        // As a reverse proxy does: the addresses received, then the client's own, so that the
        // homeserver's per-address limits count clients rather than Verity.
        let chain = request.requester.forwarded_chain();
        if !chain.is_empty() {
            let value = chain
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            builder = builder.header("x-forwarded-for", value);
        }
        let (status, body) = self.exchange(builder).await?;
        // Whatever the status, the client gets JSON: a homeserver that answers something else
        // (an HTML error page of a proxy in between) is a failure, not an answer.
        if serde_json::from_slice::<serde_json::Value>(&body).is_err() {
            return Err(HomeserverAsUserError::InvalidResponse(format!(
                "register/{medium}/requestToken answered HTTP {status} with a body that is not JSON"
            )));
        }
        Ok(RelayedAnswer {
            status: status.as_u16(),
            body,
        })
    }
}
