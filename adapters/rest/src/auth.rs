//! Logins and profiles from the operator's REST service, in ma1sd's contract.
//!
//! - Login (`rest.endpoints.auth`): `POST {"auth": {"mxid", "localpart", "domain", "password"}}`,
//!   answered `{"auth": {"success": false}}`, or `{"auth": {"success": true, "id": {"type":
//!   "localpart"|"mxid", "value"}, "profile": {"display_name", "three_pids": [{"medium",
//!   "address"}]}}}` (`profile` and its members optional). A 4xx answer is a refusal (ma1sd
//!   read every non-2xx so); a 5xx, a timeout or an answer outside the contract is an error, so
//!   an outage is not counted as a wrong password. `success: true` without a valid `id` is an
//!   error too (ma1sd failed with a NullPointerException).
//! - Profile (`rest.endpoints.profile.displayName`, `.threepids`, `.roles`): each `POST {"mxid",
//!   "localpart", "domain"}`, answered `{"profile": {"display_name", "threepids": [...],
//!   "roles": [...]}}` (what is not that endpoint's is not read), 404 for a user the service
//!   does not know.
//!
//! The password travels only in the request body: errors name the endpoint's key, never the
//! body.
use async_trait::async_trait;
use serde_json::{Map, Value, json};
use verity_application::ports::driven::{
    AccountName, BackendError, PasswordVerdict, PasswordVerifier, ProfileSource,
};
use verity_domain::{Password, Profile, UserId};

use crate::answer::{self, Why};
use crate::backend::{RestBackend, backend_error};
use crate::client::{RestError, malformed};
use crate::config::BackendUrl;

pub(crate) const AUTH_KEY: &str = "rest.endpoints.auth";
pub(crate) const DISPLAY_NAME_KEY: &str = "rest.endpoints.profile.displayName";
pub(crate) const THREEPIDS_KEY: &str = "rest.endpoints.profile.threepids";
pub(crate) const ROLES_KEY: &str = "rest.endpoints.profile.roles";

/// What a profile endpoint answers for.
#[derive(Clone, Copy)]
enum Part {
    DisplayName,
    Threepids,
    Roles,
}

/// The 3PIDs of `list` in canonical form; entries that are none are counted.
fn threepids(list: Option<&Value>, profile: &mut Profile) -> Result<usize, Why> {
    let entries = match list {
        None | Some(Value::Null) => return Ok(0),
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err("the 3PIDs are not a JSON list".into()),
    };
    let mut invalid = 0;
    for entry in entries {
        match entry {
            Value::Object(entry) => match answer::threepid_of(entry) {
                Ok(threepid) => profile.add_threepid(threepid),
                Err(_) => invalid += 1,
            },
            _ => invalid += 1,
        }
    }
    Ok(invalid)
}

/// The display name of `profile[member]`, if it is a string.
fn display_name(object: &Map<String, Value>, profile: &mut Profile) -> Result<(), Why> {
    match object.get("display_name") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(name)) => {
            *profile = std::mem::take(profile).with_display_name(name);
            Ok(())
        }
        Some(_) => Err("`display_name` is not a string".into()),
    }
}

/// The verdict of a login answer.
fn verdict(answer: &Map<String, Value>, domain: &str) -> Result<PasswordVerdict, Why> {
    let Some(Value::Object(auth)) = answer.get("auth") else {
        return Err("`auth` is missing or not an object".into());
    };
    match auth.get("success") {
        Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => return Ok(PasswordVerdict::Refused),
        _ => return Err("`auth.success` is missing or not a boolean".into()),
    }
    let account = answer::user_of(auth, domain).map_err(|why| format!("auth: {why}"))?;
    let mut profile = Profile::default();
    match auth.get("profile") {
        None | Some(Value::Null) => {}
        Some(Value::Object(given)) => {
            display_name(given, &mut profile)?;
            let invalid = threepids(given.get("three_pids"), &mut profile)?;
            if invalid > 0 {
                tracing::warn!(
                    key = AUTH_KEY,
                    invalid,
                    "3PIDs of the REST backend's login answer are not valid; left out"
                );
            }
        }
        Some(_) => return Err("`auth.profile` is not an object".into()),
    }
    Ok(PasswordVerdict::Accepted {
        account: AccountName::UserId(account),
        profile,
    })
}

/// What a profile answer says of `part`.
fn profile_part(answer: &Map<String, Value>, part: Part, profile: &mut Profile) -> Result<(), Why> {
    let given = match answer.get("profile") {
        Some(Value::Object(given)) => given,
        // ma1sd: "expected JSON object with profile key", answered as nothing.
        None | Some(Value::Null) => return Ok(()),
        Some(_) => return Err("`profile` is not an object".into()),
    };
    match part {
        Part::DisplayName => display_name(given, profile),
        Part::Threepids => threepids(given.get("threepids"), profile).map(|_| ()),
        Part::Roles => match given.get("roles") {
            None | Some(Value::Null) => Ok(()),
            Some(Value::Array(roles)) => {
                for role in roles {
                    match role {
                        Value::String(role) => profile.add_role(role),
                        _ => return Err("a role is not a string".into()),
                    }
                }
                Ok(())
            }
            Some(_) => Err("`roles` is not a JSON list".into()),
        },
    }
}

/// The user as the contract names them.
fn naming(user: &UserId) -> Map<String, Value> {
    let mut named = Map::new();
    named.insert("mxid".into(), json!(user.as_str()));
    named.insert("localpart".into(), json!(user.localpart()));
    named.insert("domain".into(), json!(user.server_name()));
    named
}

impl RestBackend {
    /// The profile endpoints that are set, with their keys and what they answer for.
    fn profile_endpoints(&self) -> Vec<(&'static str, &BackendUrl, Part)> {
        let endpoints = &self.config().endpoints;
        [
            (
                DISPLAY_NAME_KEY,
                endpoints.profile_display_name.as_ref(),
                Part::DisplayName,
            ),
            (
                THREEPIDS_KEY,
                endpoints.profile_threepids.as_ref(),
                Part::Threepids,
            ),
            (ROLES_KEY, endpoints.profile_roles.as_ref(), Part::Roles),
        ]
        .into_iter()
        .filter_map(|(key, url, part)| url.map(|url| (key, url, part)))
        .collect()
    }

    /// Whether `rest.endpoints.auth` is set (the wiring asks it for logins only then).
    pub fn authenticates(&self) -> bool {
        self.config().endpoints.auth.is_some()
    }

    /// Whether a profile endpoint is set.
    pub fn has_profiles(&self) -> bool {
        !self.profile_endpoints().is_empty()
    }
}

#[async_trait]
impl PasswordVerifier for RestBackend {
    fn name(&self) -> &'static str {
        "rest"
    }

    async fn verify_password(
        &self,
        user: &UserId,
        password: &Password,
    ) -> Result<PasswordVerdict, BackendError> {
        let Some(url) = &self.config().endpoints.auth else {
            return Ok(PasswordVerdict::UnknownUser);
        };
        let mut auth = naming(user);
        auth.insert("password".into(), json!(password.expose()));
        let answer = match self
            .http()
            .post(AUTH_KEY, url, &json!({ "auth": auth }), false)
            .await
        {
            Ok(Some(answer)) => answer,
            Ok(None) => return Err(backend_error(malformed(AUTH_KEY, "no answer"))),
            Err(RestError::Status { status, .. }) if (400..500).contains(&status) => {
                tracing::debug!(%user, status, "the REST backend refused the login");
                return Ok(PasswordVerdict::Refused);
            }
            Err(error) => return Err(backend_error(error)),
        };
        verdict(&answer, &self.config().matrix_domain)
            .map_err(|why| backend_error(malformed(AUTH_KEY, why)))
    }
}

#[async_trait]
impl ProfileSource for RestBackend {
    fn name(&self) -> &'static str {
        "rest"
    }

    async fn profile(&self, user: &UserId) -> Result<Option<Profile>, BackendError> {
        let body = Value::Object(naming(user));
        let mut profile = Profile::default();
        let mut known = false;
        for (key, url, part) in self.profile_endpoints() {
            let Some(answer) = self
                .http()
                .post(key, url, &body, true)
                .await
                .map_err(backend_error)?
            else {
                continue;
            };
            known = true;
            profile_part(&answer, part, &mut profile)
                .map_err(|why| backend_error(malformed(key, why)))?;
        }
        Ok(known.then_some(profile))
    }
}
