//! Signed JSON answered byte for byte: the text the use case returns (an association this server
//! signed, a remote server's association exactly as it answered, an invite signed with its
//! ephemeral key) is the body, never parsed into a struct and written again, so no field its
//! signatures cover is lost on the way out. `T` only describes the body in the OpenAPI document.
use std::marker::PhantomData;

use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::{Json, Payload};
use poem_openapi::registry::{MetaResponses, MetaSchemaRef, Registry};

use super::typed_json::ok_json;
use poem_openapi::types::Type;

/// A JSON answer written as the given text, documented as `T`.
pub struct SignedBody<T> {
    text: String,
    schema: PhantomData<fn() -> T>,
}

impl<T> SignedBody<T> {
    /// `text` (a JSON object) as the answer.
    pub(crate) fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            schema: PhantomData,
        }
    }
}

impl<T: Type> Payload for SignedBody<T> {
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

impl<T: Type> IntoResponse for SignedBody<T> {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(Self::CONTENT_TYPE)
            .body(self.text)
    }
}

impl<T: Type> ApiResponse for SignedBody<T> {
    /// The same 200 as `Json<T>` documents.
    fn meta() -> MetaResponses {
        ok_json(Self::CONTENT_TYPE, Self::schema_ref())
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

#[cfg(test)]
mod tests {
    use poem_openapi::types::Type;
    use serde_json::Value;
    use verity_domain::{
        Association, Invite, InviteToken, JsonObject, KeyId, Medium, SignedAssociation,
        SignedInvite, SignedJson, SigningKey, ThreePid, Timestamp, UserId,
    };

    use super::super::association::{
        BoundInvite, SignedAssociation as BindAnswer, SignedInviteToken,
    };
    use super::super::invites::SignedEd25519;
    use super::super::lookup::V1LookupAnswer;
    use super::*;

    /// The property names the OpenAPI document gives `T`.
    fn documented<T: Type>() -> Vec<&'static str> {
        let mut registry = Registry::new();
        T::register(&mut registry);
        registry
            .schemas
            .get(&*T::name())
            .map(|schema| schema.properties.iter().map(|(name, _)| *name).collect())
            .unwrap_or_default()
    }

    /// Every member of the signed object `signed` (what its signatures cover, and
    /// `signatures`), which the schema must list.
    fn members_of(signed: &SignedJson) -> Vec<String> {
        let mut members = signed.signed_keys();
        members.push("signatures".to_owned());
        members
    }

    fn assert_covers<T: Type>(members: &[String]) {
        let documented = documented::<T>();
        for member in members {
            assert!(
                documented.contains(&member.as_str()),
                "{} does not document `{member}` (documented: {documented:?})",
                T::name()
            );
        }
    }

    fn key() -> SigningKey {
        SigningKey::from_seed(KeyId::parse("ed25519:0").unwrap(), &[1; 32])
    }

    fn user(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    /// An association as a bind signs it when the address had a pending invite.
    fn bound_with_an_invite() -> (SignedAssociation, Value) {
        let threepid = ThreePid::parse(Medium::Email, "ginger@example.com").unwrap();
        let mxid = user("@ginger:example.com");
        let invite = Invite {
            token: InviteToken::parse("tok").unwrap(),
            threepid: threepid.clone(),
            room_id: "!room:example.org".into(),
            sender: user("@inviter:example.org"),
            ephemeral_key: None,
            created_at: Timestamp::from_millis(1),
            expires_at: None,
            delivery: None,
        };
        let signed_token =
            SignedJson::sign(&invite.signed_object(&mxid), "id.example.org", &key()).unwrap();
        let entry = invite.onbind_entry(&mxid, &signed_token).to_value();
        let association = Association::vouched_at(threepid, mxid, Timestamp::from_millis(1));
        let object = association
            .to_object()
            .with_member("invites", Value::Array(vec![entry.clone()]));
        let signed = SignedJson::sign(&object, "id.example.org", &key()).unwrap();
        (
            SignedAssociation::signed_by(&association, signed).unwrap(),
            entry,
        )
    }

    #[test]
    fn the_bind_and_v1_lookup_schemas_document_every_member_the_domain_signs() {
        let (signed, entry) = bound_with_an_invite();
        let members = members_of(signed.signed());
        assert!(members.contains(&"invites".to_owned()));
        assert_covers::<BindAnswer>(&members);
        assert_covers::<V1LookupAnswer>(&members);

        let entry_members: Vec<String> = entry.as_object().unwrap().keys().cloned().collect();
        assert_covers::<BoundInvite>(&entry_members);
        let token = SignedJson::parse(&entry["signed"].to_string()).unwrap();
        assert_covers::<SignedInviteToken>(&members_of(&token));
    }

    #[test]
    fn the_sign_ed25519_schema_documents_every_member_the_domain_signs() {
        let signed = SignedInvite::sign(
            &user("@ginger:example.com"),
            &user("@inviter:example.org"),
            &InviteToken::parse("tok").unwrap(),
            "id.example.org",
            &key(),
        )
        .unwrap();
        assert_covers::<SignedEd25519>(&members_of(signed.signed()));
    }

    #[test]
    fn a_documented_member_missing_from_the_schema_is_caught() {
        // The check itself: a member the schema does not list fails it.
        let result = std::panic::catch_unwind(|| {
            assert_covers::<SignedEd25519>(&["org.example.unknown".to_owned()]);
        });
        assert!(result.is_err());
    }

    #[tokio::test]
    async fn the_body_is_the_signed_text_byte_for_byte() {
        let text = r#"{"z":1, "a" : {"n":[1,2]},"signatures":{"s":{"ed25519:0":"x"}}}"#;
        let response = SignedBody::<BindAnswer>::new(text).into_response();
        assert_eq!(
            response.content_type(),
            Some(<Json<BindAnswer> as Payload>::CONTENT_TYPE)
        );
        assert_eq!(response.into_body().into_string().await.unwrap(), text);
        // An empty answer stays the empty object.
        let empty = JsonObject::empty();
        let response = SignedBody::<V1LookupAnswer>::new(empty.as_str()).into_response();
        assert_eq!(response.into_body().into_string().await.unwrap(), "{}");
    }
}
