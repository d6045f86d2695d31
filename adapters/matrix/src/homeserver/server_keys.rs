//! `GET /_matrix/key/v2/server`: a homeserver's signing keys, checked, and cached until their
//! `valid_until_ts` (see `key_cache.rs`).
use reqwest::StatusCode;
use verity_application::ports::driven::HomeserverError;
use verity_domain::{KeyId, ServerName, Timestamp, verified_server_keys};

use super::http::BodyError;
use super::key_cache::Keys;
use super::{ReqwestHomeserverClient, UnexpectedStatus};

const KEYS_PATH: &str = "/_matrix/key/v2/server";

impl ReqwestHomeserverClient {
    /// The keys to check a request `server` signed with `key`: from the cache when they are
    /// still valid, else fetched (and cached).
    pub(super) async fn cached_server_keys(
        &self,
        server: &ServerName,
        key: &KeyId,
    ) -> Result<Keys, HomeserverError> {
        let now = self.clock.now();
        if let Some(keys) = self.keys.get(server, key, now) {
            tracing::debug!("signing keys from the cache");
            return Ok(keys);
        }
        let (status, body) = self.get_federation(server, KEYS_PATH).await?;
        let (keys, valid_until) = interpret_keys(server, status, body, self.clock.now())?;
        self.keys.insert(server, keys.clone(), valid_until, now);
        Ok(keys)
    }
}

/// Turns the key document into checked keys and their `valid_until_ts`.
fn interpret_keys(
    server: &ServerName,
    status: StatusCode,
    body: Result<Vec<u8>, BodyError>,
    now: Timestamp,
) -> Result<(Keys, Timestamp), HomeserverError> {
    if !status.is_success() {
        return Err(HomeserverError::Unreachable(Box::new(UnexpectedStatus(
            status,
        ))));
    }
    let body = body.map_err(|error| match error {
        BodyError::TooLarge => {
            HomeserverError::InvalidResponse("the key document is too large".into())
        }
        BodyError::Transport(error) => HomeserverError::Unreachable(Box::new(error)),
    })?;
    let document: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| HomeserverError::InvalidResponse("the key document is not JSON".into()))?;
    let keys = verified_server_keys(&document, server, now)
        .map_err(|error| HomeserverError::InvalidResponse(error.to_string()))?;
    // Checked present and later than `now` by `verified_server_keys`.
    let valid_until = document
        .get("valid_until_ts")
        .and_then(serde_json::Value::as_u64)
        .map_or(now, Timestamp::from_millis);
    Ok((keys, valid_until))
}
