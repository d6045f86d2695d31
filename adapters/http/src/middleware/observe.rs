//! Each answered request reported to a [`RequestObserver`] (the metrics, wired by the
//! composition root) by method, route template and status, with the time it took.
use std::sync::Arc;
use std::time::{Duration, Instant};

use poem::endpoint::BoxEndpoint;
use poem::{Endpoint, EndpointExt as _, IntoResponse as _, PathPattern, Request, Response, Result};

/// The route of a request no route took (an unknown path, a CORS preflight): never the path
/// itself, which may carry an address or a token.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Where answered requests are reported.
pub trait RequestObserver: Send + Sync {
    /// One answered request. `route` is the template of the route that answered it
    /// (`/_matrix/identity/v2/pubkey/{keyId}`) or [`UNMATCHED_ROUTE`].
    fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration);
}

/// `app`, each of its answers reported to `observer`.
pub fn observed(
    app: BoxEndpoint<'static, Response>,
    observer: Arc<dyn RequestObserver>,
) -> BoxEndpoint<'static, Response> {
    Observed {
        inner: app,
        observer,
    }
    .boxed()
}

struct Observed {
    inner: BoxEndpoint<'static, Response>,
    observer: Arc<dyn RequestObserver>,
}

impl Endpoint for Observed {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let started = Instant::now();
        let method = req.method().clone();
        let response = match self.inner.call(req).await {
            Ok(response) => response,
            Err(err) => err.into_response(),
        };
        let route = response
            .data::<PathPattern>()
            .map_or(UNMATCHED_ROUTE, |pattern| &pattern.0);
        self.observer.observe(
            method.as_str(),
            route,
            response.status().as_u16(),
            started.elapsed(),
        );
        Ok(response)
    }
}

/// Names each answer's route as the OpenAPI document writes it (`/pubkey/{keyId}`), not as
/// poem-openapi routes it (`/pubkey/:param0`); a route outside the document keeps poem's
/// template (`/_matrix/client/:version/register/:medium/requestToken`), and the catch-all that
/// found nothing (poem's empty template) becomes [`UNMATCHED_ROUTE`].
#[derive(Debug, Clone, Default)]
pub(crate) struct RouteTemplates {
    paths: Arc<[(Vec<String>, Arc<str>)]>,
}

impl RouteTemplates {
    /// The paths of the OpenAPI document (JSON, as poem-openapi writes it); a document that
    /// does not parse leaves poem's templates as they are.
    pub(crate) fn from_spec(spec_json: &str) -> Self {
        let paths = serde_json::from_str::<serde_json::Value>(spec_json)
            .ok()
            .and_then(|spec| spec.get("paths")?.as_object().cloned())
            .unwrap_or_default();
        Self {
            paths: paths
                .keys()
                .map(|path| {
                    let segments = path.split('/').map(str::to_owned).collect();
                    (segments, Arc::from(path.as_str()))
                })
                .collect(),
        }
    }

    fn name(&self, pattern: &str) -> Arc<str> {
        if pattern.is_empty() {
            return Arc::from(UNMATCHED_ROUTE);
        }
        let segments: Vec<&str> = pattern.split('/').collect();
        self.paths
            .iter()
            .find(|(path, _)| {
                path.len() == segments.len()
                    && path.iter().zip(&segments).all(|(want, got)| {
                        want == got || (got.starts_with(':') && want.starts_with('{'))
                    })
            })
            .map_or_else(|| Arc::from(pattern), |(_, name)| name.clone())
    }
}

impl<E: Endpoint> poem::Middleware<E> for RouteTemplates {
    type Output = RouteTemplatesEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RouteTemplatesEndpoint {
            inner,
            templates: self.clone(),
        }
    }
}

pub(crate) struct RouteTemplatesEndpoint<E> {
    inner: E,
    templates: RouteTemplates,
}

impl<E: Endpoint> Endpoint for RouteTemplatesEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        match self.inner.call(req).await {
            Ok(response) => {
                let mut response = response.into_response();
                if let Some(pattern) = response.data::<PathPattern>() {
                    let named = self.templates.name(&pattern.0);
                    response.set_data(PathPattern(named));
                }
                Ok(response)
            }
            Err(mut err) => {
                if let Some(pattern) = err.data::<PathPattern>() {
                    let named = self.templates.name(&pattern.0);
                    err.set_data(PathPattern(named));
                }
                Err(err)
            }
        }
    }
}
