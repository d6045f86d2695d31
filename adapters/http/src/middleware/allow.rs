//! `Allow` on every 405: RFC 9110 §15.5.6 requires it, and poem's router answers 405 without
//! one. The methods come from the OpenAPI document the routes are built from, so the header and
//! the document cannot disagree.
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

/// The documented methods of each path of the document (`{name}` segments match any segment).
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowHeader {
    paths: Vec<(Vec<String>, HeaderValue)>,
}

/// The operations an OpenAPI path item may hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

impl AllowHeader {
    /// Reads the paths and their methods from the OpenAPI document (JSON, as poem-openapi
    /// writes it); a document that does not parse gives an empty table (no `Allow` is added).
    pub(crate) fn from_spec(spec_json: &str) -> Self {
        let Ok(spec) = serde_json::from_str::<serde_json::Value>(spec_json) else {
            return Self::default();
        };
        let Some(paths) = spec.get("paths").and_then(|paths| paths.as_object()) else {
            return Self::default();
        };
        let mut table: Vec<(Vec<String>, HeaderValue)> = Vec::new();
        for (path, item) in paths {
            let mut methods: Vec<String> = METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(|method| method.to_ascii_uppercase())
                .collect();
            // The CORS middleware answers OPTIONS on every path.
            if !methods.iter().any(|method| method == "OPTIONS") {
                methods.push("OPTIONS".to_owned());
            }
            if let Ok(value) = HeaderValue::from_str(&methods.join(", ")) {
                table.push((path.split('/').map(str::to_owned).collect(), value));
            }
        }
        // Literal paths first: `/pubkey/isvalid` is not `/pubkey/{keyId}`.
        table.sort_by_key(|(segments, _)| segments.iter().any(|segment| is_template(segment)));
        Self { paths: table }
    }

    fn methods(&self, path: &str) -> Option<&HeaderValue> {
        let segments: Vec<&str> = path.split('/').collect();
        self.paths
            .iter()
            .find(|(pattern, _)| {
                pattern.len() == segments.len()
                    && pattern
                        .iter()
                        .zip(&segments)
                        .all(|(want, got)| is_template(want) || want == got)
            })
            .map(|(_, value)| value)
    }
}

fn is_template(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

impl<E: Endpoint> Middleware<E> for AllowHeader {
    type Output = AllowHeaderEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        AllowHeaderEndpoint {
            inner,
            table: self.clone(),
        }
    }
}

pub(crate) struct AllowHeaderEndpoint<E> {
    inner: E,
    table: AllowHeader,
}

impl<E: Endpoint> Endpoint for AllowHeaderEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let allow = self.table.methods(req.uri().path()).cloned();
        let mut response = match self.inner.call(req).await {
            Ok(response) => response.into_response(),
            Err(err) if err.status() == StatusCode::METHOD_NOT_ALLOWED => {
                crate::app::error_keeping_route(err)
            }
            Err(err) => return Err(err),
        };
        if response.status() == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allow) = allow
        {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        Ok(response)
    }
}

#[cfg(test)]
#[path = "allow_tests.rs"]
mod tests;
