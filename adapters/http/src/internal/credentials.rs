//! `POST /_matrix-internal/identity/v1/check_credentials` and `GET
//! /_matrix-internal/profile/v1/{userId}`, as ma1sd serves them to kamax-io's
//! `rest_auth_provider` for Synapse.
//!
//! Request `{"user": {"id": "@alice:example.org", "password": "..."}}`. Answer, as ma1sd's
//! `CredentialsValidationResponse` serialised by Gson (nulls left out):
//! `{"auth": {"success": true, "display_name": "Alice", "profile": {"display_name": "Alice",
//! "three_pids": [{"medium": "email", "address": "alice@example.org"}]}}}`, or
//! `{"auth": {"success": false, "profile": {"three_pids": []}}}`. The module reads
//! `auth.success`, then `auth.profile.display_name` and `auth.profile.three_pids`; the top
//! `display_name` is ma1sd's "legacy support", kept.
//!
//! The body is read by hand, so that no error message can quote it (a serde error quotes the
//! string it did not expect, which could be a password sent in the wrong place).
use std::sync::Arc;

use bytes::Bytes;
use poem::web::{Data, Json, Path};
use poem::{IntoResponse, Request, Response, handler};
use serde_json::{Map, Value, json};
use verity_application::ports::driving::{Authentication, Login};
use verity_domain::{Password, Profile, UserId};

use crate::api::requester;
use crate::errors_api::ApiError;

/// The path of the password check.
pub const CHECK_CREDENTIALS_PATH: &str = "/_matrix-internal/identity/v1/check_credentials";
/// The path of the profile roles.
pub const PROFILE_PATH: &str = "/_matrix-internal/profile/v1/:user_id";

/// The `id` and `password` of a request body.
fn credentials(body: &[u8]) -> Result<(String, String), ApiError> {
    let shape = "The body must be {\"user\": {\"id\": <Matrix user ID>, \"password\": <string>}}";
    let value: Value = serde_json::from_slice(body).map_err(|_| ApiError::bad_json(shape))?;
    let Some(user) = value.get("user").and_then(Value::as_object) else {
        return Err(ApiError::bad_json(shape));
    };
    let text = |name: &str| {
        user.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ApiError::bad_json(shape))
    };
    Ok((text("id")?, text("password")?))
}

/// The answer's `auth` object.
fn answer(login: &Login) -> Value {
    let empty = Profile::default();
    let (success, profile) = match login {
        Login::Accepted(profile) => (true, profile),
        Login::Refused => (false, &empty),
    };
    let three_pids: Vec<Value> = profile
        .threepids
        .iter()
        .map(|t| json!({"medium": t.medium().as_str(), "address": t.address()}))
        .collect();
    let mut auth = Map::new();
    auth.insert("success".into(), json!(success));
    let mut given = Map::new();
    if let Some(name) = &profile.display_name {
        auth.insert("display_name".into(), json!(name));
        given.insert("display_name".into(), json!(name));
    }
    given.insert("three_pids".into(), json!(three_pids));
    auth.insert("profile".into(), Value::Object(given));
    json!({ "auth": auth })
}

#[handler]
pub(crate) async fn check_credentials(
    request: &Request,
    body: Bytes,
    Data(authentication): Data<&Arc<dyn Authentication>>,
) -> Response {
    let (id, password) = match credentials(&body) {
        Ok(credentials) => credentials,
        Err(error) => return error.into_response(),
    };
    let Ok(user) = UserId::parse(id.trim()) else {
        return ApiError::invalid_param("`user.id` is not a Matrix user ID").into_response();
    };
    let password = match Password::parse(password) {
        Ok(password) => password,
        Err(why) => {
            // Empty, too long or with a NUL: no store is asked (an empty password would be an
            // anonymous LDAP bind). The reason names no part of the password.
            tracing::info!(%user, reason = %why, "login refused before any store was asked");
            return Json(answer(&Login::Refused)).into_response();
        }
    };
    match authentication
        .check_credentials(&requester(request), &user, &password)
        .await
    {
        Ok(login) => Json(answer(&login)).into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

#[handler]
pub(crate) async fn roles(
    Path(user_id): Path<String>,
    Data(authentication): Data<&Arc<dyn Authentication>>,
) -> Response {
    let Ok(user) = UserId::parse(&user_id) else {
        return ApiError::invalid_param("The path does not end with a Matrix user ID")
            .into_response();
    };
    match authentication.profile(&user).await {
        Ok(profile) => Json(json!({ "roles": profile.roles })).into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}
