//! JSON bodies read and written in one typed pass, for the endpoints where they are large and hot
//! (the v2 lookup's hashes and mappings).
//!
//! poem-openapi's `Json<T>` parses a request body into a `serde_json::Value` and then walks that
//! tree into `T`, and writes an answer by building a `Value` first, so every string is copied
//! twice. `TypedJson<T>` goes straight between bytes and `T` with serde; the OpenAPI document
//! still describes `T` through its `Object` schema. Both derive from the same struct with plain
//! field names, and the tests in this module check that the two agree.
use poem::{FromRequest, IntoResponse, Request, RequestBody, Response, Result};
use poem_openapi::error::ParseRequestPayloadError;
use poem_openapi::payload::{Json, ParsePayload, Payload};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiResponse, impl_apirequest_for_payload};
use serde::Serialize;
use serde::de::DeserializeOwned;

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
        // The body middleware already answered M_NOT_JSON / M_BAD_JSON for a body that is not a
        // JSON object; what fails here is a missing field or a wrong type: M_BAD_JSON, as with
        // `Json<T>` (see `error::escaped_error`).
        serde_json::from_slice(&data).map(Self).map_err(|err| {
            ParseRequestPayloadError {
                reason: err.to_string(),
            }
            .into()
        })
    }
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
