//! JSON bodies read and written in one typed pass, for the endpoints where they are large and hot
//! (the v2 lookup's hashes and mappings).
//!
//! poem-openapi's `Json<T>` parses a request body into a `serde_json::Value` and then walks that
//! tree into `T`, and writes an answer by building a `Value` first, so every string is copied
//! twice. `TypedJson<T>` goes straight between bytes and `T` with serde; the OpenAPI document
//! still describes `T` through its `Object` schema. Both derive from the same struct with plain
//! field names, and the tests in this module check that the two agree.
use poem::http::StatusCode;
use poem::{FromRequest, IntoResponse, Request, RequestBody, Response, Result};
use poem_openapi::error::ParseRequestPayloadError;
use poem_openapi::payload::{Json, ParsePayload, Payload};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, impl_apirequest_for_payload};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ErrCode, MatrixError};

/// A request or answer body of type `T`, read or written by serde in one pass.
#[derive(Debug)]
pub struct TypedJson<T>(pub T);

impl<T: Type> Payload for TypedJson<T> {
    const CONTENT_TYPE: &'static str = <Json<T> as Payload>::CONTENT_TYPE;

    fn check_content_type(content_type: &str) -> bool {
        <Json<T> as Payload>::check_content_type(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned> ParsePayload for TypedJson<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> Result<Self> {
        // `Bytes`: the buffer the body middleware read, not a copy of it.
        let data = bytes::Bytes::from_request(request, body).await?;
        // The body middleware checked only that a non-empty body is UTF-8 (it leaves the JSON to
        // this one pass, `middleware::body::parsed_by_handler`), so the Matrix rules are applied
        // here from serde's error: not JSON -> M_NOT_JSON; JSON but not an object -> M_BAD_JSON;
        // a missing field or a wrong type -> M_BAD_JSON, as with `Json<T>` (`error::escaped_error`).
        let parsed = serde_json::from_slice(&data);
        // serde reads a struct from an array of its fields as well: the Matrix rule wants an
        // object, whatever parsed.
        if parsed.is_ok() && !is_object(&data) {
            return Err(refused(
                ErrCode::BadJson,
                "The request body must be a JSON object",
            ));
        }
        parsed.map(Self).map_err(|err| {
            use serde_json::error::Category;
            if !data.is_empty()
                && matches!(
                    err.classify(),
                    Category::Syntax | Category::Eof | Category::Io
                )
            {
                return refused(ErrCode::NotJson, "The request body is not JSON");
            }
            if !data.is_empty() && !is_object(&data) {
                return refused(ErrCode::BadJson, "The request body must be a JSON object");
            }
            ParseRequestPayloadError {
                reason: err.to_string(),
            }
            .into()
        })
    }
}

/// A 400 with this Matrix error, as the body middleware answers it for the other endpoints.
fn refused(code: ErrCode, message: &str) -> poem::Error {
    poem::Error::from_response(
        MatrixError::new(code, message).into_response_with(StatusCode::BAD_REQUEST),
    )
}

/// Whether the (valid) JSON text is an object.
fn is_object(data: &[u8]) -> bool {
    data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

impl_apirequest_for_payload!(TypedJson<T>, T: Type + DeserializeOwned);

impl<T: Serialize + Send> IntoResponse for TypedJson<T> {
    fn into_response(self) -> Response {
        poem::web::Json(self.0).into_response()
    }
}

impl<T: Type + Serialize> ApiResponse for TypedJson<T> {
    /// The same 200 as `Json<T>` documents.
    fn meta() -> MetaResponses {
        ok_json(Self::CONTENT_TYPE, Self::schema_ref())
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// A 200 whose body is `schema` as `content_type`: what `Json<T>` documents, for the payloads
/// that write their body themselves ([`TypedJson`], `SignedBody`).
pub(super) fn ok_json(content_type: &'static str, schema: MetaSchemaRef) -> MetaResponses {
    MetaResponses {
        responses: vec![MetaResponse {
            description: "",
            status: Some(200),
            status_range: None,
            content: vec![MetaMediaType {
                content_type,
                schema,
            }],
            headers: vec![],
        }],
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use poem_openapi::types::{ParseFromJSON, ToJSON};
    use serde_json::json;

    use super::super::lookup::{LookupBody, LookupMappings};

    /// Whether serde and poem-openapi's `Object` parse accept `body` as a `LookupBody`, and
    /// to the same fields.
    fn both(body: &serde_json::Value) -> (Option<LookupBody>, Option<LookupBody>) {
        let serde = serde_json::from_value::<LookupBody>(body.clone()).ok();
        let object = LookupBody::parse_from_json(Some(body.clone())).ok();
        (serde, object)
    }

    #[test]
    fn serde_and_the_documented_schema_accept_and_refuse_the_same_lookup_bodies() {
        let bodies = [
            json!({"algorithm": "sha256", "pepper": "p", "addresses": ["a", "b"]}),
            json!({"algorithm": "none", "pepper": "", "addresses": [], "extra": 1}),
            json!({"algorithm": "sha256", "pepper": "p"}),
            json!({"algorithm": "sha256", "addresses": []}),
            json!({"pepper": "p", "addresses": []}),
            json!({"algorithm": "sha256", "pepper": null, "addresses": []}),
            json!({"algorithm": "sha256", "pepper": "p", "addresses": "a"}),
            json!({"algorithm": "sha256", "pepper": "p", "addresses": [null]}),
        ];
        for body in bodies {
            let (serde, object) = both(&body);
            assert_eq!(serde.is_some(), object.is_some(), "{body}");
            if let (Some(serde), Some(object)) = (serde, object) {
                assert_eq!(serde.algorithm, object.algorithm, "{body}");
                assert_eq!(serde.pepper, object.pepper, "{body}");
                assert_eq!(serde.addresses, object.addresses, "{body}");
            }
        }
    }

    #[test]
    fn a_number_where_the_schema_says_string_is_refused_though_poem_openapi_would_convert_it() {
        // Stricter than `Json<T>` on purpose: the schema says string, and a client sending a
        // number has a bug worth a 400 M_BAD_JSON rather than a guess.
        let body = json!({"algorithm": "sha256", "pepper": "p", "addresses": [1]});
        let (serde, object) = both(&body);
        assert!(serde.is_none(), "{body}");
        assert!(object.is_some(), "poem-openapi converts numbers: {body}");
        // `algorithm` is a documented string (`Documented`), strict on both paths.
        let body = json!({"algorithm": 1, "pepper": "p", "addresses": []});
        let (serde, object) = both(&body);
        assert!(serde.is_none(), "{body}");
        assert!(object.is_none(), "{body}");
    }

    #[test]
    fn serde_writes_the_lookup_mappings_as_the_documented_schema_does() {
        for mappings in [
            BTreeMap::new(),
            BTreeMap::from([
                ("h1".to_owned(), "@alice:example.org".to_owned()),
                ("h\"2\u{e9}".to_owned(), "@b:example.org".to_owned()),
            ]),
        ] {
            let answer = LookupMappings { mappings };
            assert_eq!(
                serde_json::to_value(&answer).unwrap(),
                answer.to_json().unwrap()
            );
        }
    }
}
