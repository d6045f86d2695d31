//! Security headers on every answer: pages carry the session's secret in their URL and API
//! answers carry sids, access tokens and signatures, so nothing may be framed, sniffed, cached or
//! leak through a `Referer`.
use poem::http::{HeaderName, HeaderValue, header};
use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

use crate::pages::{BUILT_IN_PAGE_CSP, SharedViews};

/// The policy of an operator's own pages (`view.*`): their inline `<style>` and their images,
/// style sheets and fonts from the reverse proxy (`'self'`) or from absolute `https:` URLs keep
/// working, as mxisd and Sydent served them; scripts, plugins, framing, `<base>` and forms to
/// other sites do not (every value Verity puts in them is escaped, so a script could only be the
/// operator's own, and none of theirs is needed to show a result).
pub(crate) const OPERATOR_PAGE_CSP: &str = "default-src 'none'; script-src 'none'; \
     style-src 'self' https: 'unsafe-inline'; img-src 'self' https: data:; font-src 'self' https: data:; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The policy of everything that is not a page: nothing loads, nothing frames it.
pub(crate) const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Adds the headers; HTML answers get [`OPERATOR_PAGE_CSP`] while any `view.*` page of `pages`
/// is set (looked at per answer: a reload may set the first or clear the last), otherwise the
/// built-in pages' strict policy. `None`: no page is served (the internal listener).
pub(crate) struct SecurityHeaders {
    pub(crate) pages: Option<Arc<SharedViews>>,
}

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        SecurityHeadersEndpoint {
            inner,
            pages: self.pages.clone(),
        }
    }
}

pub(crate) struct SecurityHeadersEndpoint<E> {
    inner: E,
    pages: Option<Arc<SharedViews>>,
}

const X_FRAME_OPTIONS: HeaderName = HeaderName::from_static("x-frame-options");

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let mut response = match self.inner.call(req).await {
            Ok(response) => response.into_response(),
            Err(err) => err.into_response(),
        };
        let is_page = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/html"));
        let operator_pages = || {
            self.pages
                .as_ref()
                .is_some_and(|pages| pages.current().has_operator_pages())
        };
        let csp = match is_page {
            false => API_CSP,
            true if operator_pages() => OPERATOR_PAGE_CSP,
            true => BUILT_IN_PAGE_CSP,
        };
        let headers = response.headers_mut();
        for (name, value) in [
            (header::CONTENT_SECURITY_POLICY, csp),
            (X_FRAME_OPTIONS, "DENY"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // The pages' URLs carry the session's secret: never send them to a third party an
            // operator's own page (`view.*`) loads an image or a font from.
            (header::REFERRER_POLICY, "no-referrer"),
            // Answers carry sids, tokens, signatures and who is bound to what: no shared or
            // browser cache may keep them. The few public, stable ones (`/pubkey`,
            // `/hash_details`) are cheap to answer again.
            (header::CACHE_CONTROL, "no-store"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        Ok(response)
    }
}

#[cfg(test)]
#[path = "security_headers_tests.rs"]
mod tests;
