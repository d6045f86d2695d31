//! Switches the v1 and v2 API families on or off (`matrix.v1`, `matrix.v2`) in one place: a
//! disabled family answers like an unknown endpoint.
use poem::{Endpoint, Middleware, Request, Result, error::NotFoundError};

pub(crate) struct ApiVersions {
    pub v1: bool,
    pub v2: bool,
}

const V1_PREFIX: &str = "/_matrix/identity/api/v1";
const V2_PREFIX: &str = "/_matrix/identity/v2";

fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl<E: Endpoint> Middleware<E> for ApiVersions {
    type Output = ApiVersionsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ApiVersionsEndpoint {
            inner,
            v1: self.v1,
            v2: self.v2,
        }
    }
}

pub(crate) struct ApiVersionsEndpoint<E> {
    inner: E,
    v1: bool,
    v2: bool,
}

impl<E: Endpoint> Endpoint for ApiVersionsEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let path = req.uri().path();
        if (!self.v1 && under(path, V1_PREFIX)) || (!self.v2 && under(path, V2_PREFIX)) {
            return Err(NotFoundError.into());
        }
        self.inner.call(req).await
    }
}
