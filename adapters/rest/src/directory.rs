//! [`RestDirectory`]: the user directory search of the operator's HTTP service, in ma1sd's
//! contract (`RestDirectoryProvider`): `POST rest.endpoints.directory` with
//! `{"by": "name"|"threepid", "search_term"}`, answered `{"limited", "results": [{"user_id",
//! "display_name", "avatar_url"}]}`. A `user_id` without `@` is a localpart of `matrix.domain`
//! (ma1sd made every answer "acceptable" so).
use async_trait::async_trait;
use serde_json::{Map, Value, json};
use verity_application::ports::driven::{BackendError, DirectorySearch};
use verity_domain::{DirectoryEntry, DirectoryResults, SearchLimit, SearchTerm, UserId};

use crate::client::{Http, RestError, malformed};
use crate::config::{BackendUrl, RestConfig};

/// The key of the endpoint, as errors name it.
pub(crate) const DIRECTORY_KEY: &str = "rest.endpoints.directory";

/// The operator's service as a directory.
pub struct RestDirectory {
    endpoint: BackendUrl,
    domain: String,
    http: Http,
}

impl std::fmt::Debug for RestDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestDirectory")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl RestDirectory {
    /// The directory of `config`, or `None` when `rest.endpoints.directory` is off (blank).
    ///
    /// # Errors
    /// [`RestError::Setup`] when the HTTP client cannot be built.
    pub fn new(config: &RestConfig) -> Result<Option<Self>, RestError> {
        let Some(endpoint) = config.endpoints.directory.clone() else {
            return Ok(None);
        };
        Ok(Some(Self {
            endpoint,
            domain: config.matrix_domain.clone(),
            http: Http::new(config)?,
        }))
    }

    async fn search(
        &self,
        by: &str,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, BackendError> {
        let request = json!({"by": by, "search_term": term.as_str()});
        let answer = self
            .http
            .post(DIRECTORY_KEY, &self.endpoint, &request, false)
            .await
            .and_then(|answer| {
                let answer = answer.unwrap_or_default();
                results(&answer, &self.domain).map_err(|why| malformed(DIRECTORY_KEY, why))
            })
            .map_err(|error| {
                tracing::debug!(%error, "the REST backend's directory failed");
                match error {
                    RestError::Malformed { .. } => BackendError::Corrupt(error.to_string()),
                    other => BackendError::Unavailable(Box::new(other)),
                }
            })?;
        let (found, limited) = answer;
        let mut results = DirectoryResults::within(found, limit);
        results.limited |= limited;
        Ok(results)
    }
}

/// The people of an answer, and its `limited`. A result whose `user_id` is not a user ID (nor a
/// localpart) is left out with a warning; a `results` that is not a list is a malformed answer.
fn results(
    answer: &Map<String, Value>,
    domain: &str,
) -> Result<(Vec<DirectoryEntry>, bool), String> {
    let limited = match answer.get("limited") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(limited)) => *limited,
        Some(_) => return Err("`limited` is not a boolean".into()),
    };
    let results = match answer.get("results") {
        None | Some(Value::Null) => return Ok((Vec::new(), limited)),
        Some(Value::Array(results)) => results,
        Some(_) => return Err("`results` is not a list".into()),
    };
    let text =
        |person: &Value, key: &str| person.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut found = Vec::with_capacity(results.len());
    for person in results {
        let Some(id) = text(person, "user_id") else {
            tracing::warn!("{DIRECTORY_KEY}: a result without a string user_id; left out");
            continue;
        };
        let user_id = UserId::from_store_id(&id, domain);
        let Ok(user_id) = user_id else {
            tracing::warn!(user_id = %id, "{DIRECTORY_KEY}: a result whose user_id is no Matrix user ID; left out");
            continue;
        };
        found.push(DirectoryEntry {
            avatar_url: text(person, "avatar_url").filter(|url| !url.is_empty()),
            ..DirectoryEntry::new(user_id, text(person, "display_name"))
        });
    }
    Ok((found, limited))
}

#[async_trait]
impl DirectorySearch for RestDirectory {
    fn name(&self) -> &'static str {
        "rest"
    }

    async fn search_by_name(
        &self,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, BackendError> {
        self.search("name", term, limit).await
    }

    async fn search_by_threepid(
        &self,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, BackendError> {
        self.search("threepid", term, limit).await
    }
}
