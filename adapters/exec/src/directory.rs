//! [`ExecDirectory`]: the user directory search of the operator's programs (ma1sd's
//! `ExecDirectoryStore`): `exec.directory.search.byName` and `.byThreepid`.
//!
//! - Tokens: `{type}` (`name` or `threepid`) and `{query}` (the term) in `args`, `env` values
//!   and the stdin template.
//! - stdin: nothing unless `input.type` is set; json `{"by": type, "search_term": query}`; plain
//!   `type\nquery`; or the `template`.
//! - stdout: json `{"limited", "results": [{"user_id", "display_name", "avatar_url"}]}` (the REST
//!   store's answer; a `user_id` without `@` is a localpart of `matrix.domain`); blank is nobody.
//!   `exit.failure` is nobody too (as ma1sd).
//! - ma1sd ran `byName` for 3PID searches too (with `type` `threepid`): its `byThreepid` was
//!   never run. Verity runs `byThreepid` when it has a command, else `byName` as ma1sd did, so
//!   a file written for ma1sd searches the same.
use async_trait::async_trait;
use serde_json::{Value, json};
use verity_application::ports::driven::{BackendError, DirectorySearch};
use verity_domain::{DirectoryEntry, DirectoryResults, SearchLimit, SearchTerm, UserId};

use crate::config::{Format, Process};
use crate::run::{Call, ExecError, Outcome, Runner};
use crate::template::{json_string, raw, substitute};

/// The keys of the two processes, named in errors and logs.
pub(crate) const BY_NAME: &str = "exec.directory.search.byName";
pub(crate) const BY_THREEPID: &str = "exec.directory.search.byThreepid";

/// `exec.directory.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecDirectoryConfig {
    /// `matrix.domain`: the domain of the users a program names by localpart.
    pub matrix_domain: String,
    /// `search.byName`.
    pub by_name: Process,
    /// `search.byThreepid`; without a command, `byName` is run (as ma1sd did).
    pub by_threepid: Process,
    /// `exec.concurrency`: the directory's programs running at once.
    pub concurrency: usize,
}

/// The operator's programs as a directory. Runs nothing until the first search.
pub struct ExecDirectory {
    config: ExecDirectoryConfig,
    runner: Runner,
}

impl ExecDirectory {
    /// The directory of `config`.
    pub fn new(config: ExecDirectoryConfig) -> Self {
        Self {
            runner: Runner::new(config.concurrency),
            config,
        }
    }

    /// Whether any search has a program to run.
    pub fn has_programs(&self) -> bool {
        self.config.by_name.command.is_some() || self.config.by_threepid.command.is_some()
    }

    async fn search(
        &self,
        kind: &str,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, BackendError> {
        let (key, process) = if kind == "threepid" && self.config.by_threepid.command.is_some() {
            (BY_THREEPID, &self.config.by_threepid)
        } else {
            (BY_NAME, &self.config.by_name)
        };
        if process.command.is_none() {
            return Ok(DirectoryResults::default());
        }
        let values = [
            (process.token.kind.as_str(), kind),
            (process.token.query.as_str(), term.as_str()),
        ];
        let call = Call {
            key,
            process,
            values: &values,
            stdin: stdin(process, &values, kind, term.as_str()),
            secrets: &[],
        };
        let out = match self.runner.run(call).await {
            Ok(Outcome::Failure) => return Ok(DirectoryResults::default()),
            Ok(Outcome::Success(out)) => out,
            Err(error) => {
                tracing::debug!(%error, "an exec directory program failed");
                return Err(BackendError::Unavailable(Box::new(error)));
            }
        };
        let (found, limited) = results(&out, &self.config.matrix_domain).map_err(|message| {
            let error = ExecError::Output {
                key: key.to_owned(),
                command: process.command.clone().unwrap_or_default(),
                expected: "the json output of a directory search".to_owned(),
                message,
            };
            tracing::warn!(key, %error, "an exec program's answer is unreadable");
            BackendError::Corrupt(error.to_string())
        })?;
        let mut results = DirectoryResults::within(found, limit);
        results.limited |= limited;
        Ok(results)
    }
}

/// What the search writes on stdin.
fn stdin(process: &Process, values: &[(&str, &str); 2], kind: &str, term: &str) -> Option<String> {
    let format = process.input.format?;
    Some(match (&process.input.template, format) {
        (Some(template), Format::Json) => substitute(template, values, json_string),
        (Some(template), Format::Plain) => substitute(template, values, raw),
        (None, Format::Json) => json!({"by": kind, "search_term": term}).to_string(),
        (None, Format::Plain) => format!("{kind}\n{term}"),
    })
}

/// The people of a program's answer, and its `limited`.
fn results(stdout: &str, domain: &str) -> Result<(Vec<DirectoryEntry>, bool), String> {
    if stdout.trim().is_empty() {
        return Ok((Vec::new(), false));
    }
    let answer: Value = serde_json::from_str(stdout).map_err(|error| error.to_string())?;
    let Value::Object(answer) = answer else {
        return Err("not a JSON object".into());
    };
    let limited = answer
        .get("limited")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let results = match answer.get("results") {
        None | Some(Value::Null) => return Ok((Vec::new(), limited)),
        Some(Value::Array(results)) => results,
        Some(_) => return Err("`results` is not a list".into()),
    };
    let text = |person: &Value, key: &str| {
        person
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|value| !value.is_empty())
    };
    let mut found = Vec::with_capacity(results.len());
    for person in results {
        let Some(id) = text(person, "user_id") else {
            continue;
        };
        let user_id = UserId::from_store_id(&id, domain);
        match user_id {
            Ok(user_id) => found.push(DirectoryEntry {
                avatar_url: text(person, "avatar_url"),
                ..DirectoryEntry::new(user_id, text(person, "display_name"))
            }),
            Err(_) => {
                tracing::warn!(user_id = %id, "an exec directory program answered an invalid user ID; left out")
            }
        }
    }
    Ok((found, limited))
}

#[async_trait]
impl DirectorySearch for ExecDirectory {
    fn name(&self) -> &'static str {
        "exec"
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
