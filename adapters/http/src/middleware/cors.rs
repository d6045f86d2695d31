//! CORS on every response, and `OPTIONS` on any path answered at once: what the spec recommends
//! and what web clients (Element) rely on.
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

pub(crate) struct Cors;

impl<E: Endpoint> Middleware<E> for Cors {
    type Output = CorsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CorsEndpoint { inner }
    }
}

pub(crate) struct CorsEndpoint<E> {
    inner: E,
}

const HEADERS: [(header::HeaderName, &str); 3] = [
    (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
    (
        header::ACCESS_CONTROL_ALLOW_METHODS,
        "GET, POST, PUT, DELETE, OPTIONS",
    ),
    (
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        "Origin, X-Requested-With, Content-Type, Accept, Authorization",
    ),
];

impl<E: Endpoint> Endpoint for CorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let mut response = if req.method() == Method::OPTIONS {
            // Pre-flight or not, OPTIONS never reaches a handler (mxisd answers it the same way).
            poem::web::Json(serde_json::json!({}))
                .with_status(StatusCode::OK)
                .into_response()
        } else {
            match self.inner.call(req).await {
                Ok(response) => response.into_response(),
                Err(err) => err.into_response(),
            }
        };
        for (name, value) in HEADERS {
            response
                .headers_mut()
                .insert(name, HeaderValue::from_static(value));
        }
        Ok(response)
    }
}
