//! The internal listener's optional shared secret: `Authorization: Bearer <secret>` on every
//! request, checked before the body is read.
use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

use super::SharedSecret;
use crate::error::{ErrCode, MatrixError};

pub(crate) struct SecretGuard(pub Option<SharedSecret>);

impl<E: Endpoint> Middleware<E> for SecretGuard {
    type Output = SecretGuardEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        SecretGuardEndpoint {
            inner,
            secret: self.0.clone(),
        }
    }
}

pub(crate) struct SecretGuardEndpoint<E> {
    inner: E,
    secret: Option<SharedSecret>,
}

impl<E: Endpoint> Endpoint for SecretGuardEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        if let Some(secret) = &self.secret {
            let presented = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
                .map(str::trim);
            if !presented.is_some_and(|presented| secret.matches(presented)) {
                return Ok(MatrixError::new(
                    ErrCode::Unauthorized,
                    "This listener needs the shared secret (server.internal.secret) as \
                     `Authorization: Bearer <secret>`",
                )
                .into_response_with(StatusCode::UNAUTHORIZED));
            }
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}
