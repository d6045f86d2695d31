//! Request bodies: a size limit that holds even without `Content-Length` (chunked uploads), and
//! the JSON rules every Matrix endpoint shares, checked before any handler runs:
//! not JSON -> 400 `M_NOT_JSON`; JSON but not an object -> 400 `M_BAD_JSON`.
//!
//! mxisd also accepted `application/x-www-form-urlencoded` bodies (submitToken, bind,
//! store-invite). Such a body is turned into the equivalent JSON object of strings here, once, so
//! every endpoint (and the OpenAPI document) is JSON-only.
use bytes::Bytes;
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::web::headers::{ContentLength, HeaderMapExt};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response, Result};

use super::drain::{Read, drain_declared, read_limited};
use crate::error::{ErrCode, MatrixError};

/// The request's JSON body as received (checked to be a JSON object), kept for handlers that
/// must see every field (a homeserver's signature covers the whole body, declared fields or
/// not). Kept as bytes and parsed only by the handler that asks: most requests never need it.
#[derive(Debug, Clone)]
pub(crate) struct RawJsonBody(pub Bytes);

impl RawJsonBody {
    /// The body as text (it was checked to be a JSON object, so this succeeds).
    pub(crate) fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

/// The endpoints whose handler reads the body in one typed pass and answers `M_NOT_JSON` /
/// `M_BAD_JSON` itself (`TypedJson`): checking the JSON here as well would read every byte twice,
/// and the v2 lookup's 100 hashes are its hottest body. No handler of theirs reads [`RawJsonBody`].
fn parsed_by_handler(path: &str) -> bool {
    path.ends_with("/_matrix/identity/v2/lookup")
}

/// Whether `bytes` is JSON at all, and whether it is an object, checked in one pass that builds
/// nothing (the handler's typed parse is the only one that allocates).
fn check_json(bytes: &[u8]) -> Result<(), ErrCode> {
    // JSON is UTF-8 (RFC 8259); checked apart because skipping over a string does not.
    if std::str::from_utf8(bytes).is_err() {
        return Err(ErrCode::NotJson);
    }
    if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() {
        return Err(ErrCode::NotJson);
    }
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Ok(()),
        _ => Err(ErrCode::BadJson),
    }
}

pub(crate) struct BodyGuard {
    pub max_bytes: usize,
}

impl<E: Endpoint> Middleware<E> for BodyGuard {
    type Output = BodyGuardEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        BodyGuardEndpoint {
            inner,
            max_bytes: self.max_bytes,
        }
    }
}

pub(crate) struct BodyGuardEndpoint<E> {
    inner: E,
    max_bytes: usize,
}

fn too_large(max_bytes: usize) -> Response {
    MatrixError::new(
        ErrCode::TooLarge,
        format!("Request bodies are limited to {max_bytes} bytes"),
    )
    .into_response_with(StatusCode::PAYLOAD_TOO_LARGE)
}

fn bad_request(code: ErrCode, message: &str) -> Response {
    MatrixError::new(code, message).into_response_with(StatusCode::BAD_REQUEST)
}

fn is_form(req: &Request) -> bool {
    req.content_type().is_some_and(|ct| {
        ct.to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    })
}

/// `a=1&b=x` -> `{"a": "1", "b": "x"}` (a repeated key keeps its last value).
fn form_to_json(bytes: &[u8]) -> Vec<u8> {
    let object: serde_json::Map<String, serde_json::Value> = url::form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
        .collect();
    serde_json::Value::Object(object).to_string().into_bytes()
}

impl<E: Endpoint> Endpoint for BodyGuardEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let declared = req.headers().typed_get::<ContentLength>().map(|len| len.0);
        if let Some(len) = declared.filter(|len| *len > self.max_bytes as u64) {
            // Refused unread, but the sender must be able to read the answer (see `drain`).
            drain_declared(req.take_body(), len).await;
            return Ok(too_large(self.max_bytes));
        }
        if matches!(
            *req.method(),
            Method::GET | Method::HEAD | Method::OPTIONS | Method::DELETE
        ) {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        // Read at most max_bytes whatever the headers claim, so a chunked body cannot exhaust
        // memory; the bytes are handed on to the handler unchanged.
        let bytes = match read_limited(req.take_body(), self.max_bytes, declared).await {
            Read::Whole(bytes) => bytes,
            Read::TooLarge => return Ok(too_large(self.max_bytes)),
            Read::Failed => {
                return Ok(bad_request(
                    ErrCode::NotJson,
                    "The request body could not be read",
                ));
            }
        };
        let bytes = Bytes::from(if is_form(&req) {
            req.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            form_to_json(&bytes)
        } else {
            bytes
        });
        if !bytes.is_empty() && parsed_by_handler(req.uri().path()) {
            // JSON is UTF-8 (RFC 8259): refused here, as `check_json` does, because the handler's
            // parse does not look inside the strings it skips.
            if std::str::from_utf8(&bytes).is_err() {
                return Ok(bad_request(
                    ErrCode::NotJson,
                    "The request body is not JSON",
                ));
            }
        } else if !bytes.is_empty() {
            match check_json(&bytes) {
                Err(ErrCode::NotJson) => {
                    return Ok(bad_request(
                        ErrCode::NotJson,
                        "The request body is not JSON",
                    ));
                }
                Err(code) => {
                    return Ok(bad_request(code, "The request body must be a JSON object"));
                }
                Ok(()) => {
                    // The same buffer, shared: no copy of the body a request.
                    req.extensions_mut().insert(RawJsonBody(bytes.clone()));
                }
            }
        }
        if !bytes.is_empty() {
            // Clients are not required to send a Content-Type; the body is JSON, so say so.
            if req.content_type().is_none() {
                req.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
        }
        req.set_body(Body::from_bytes(bytes));
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}
