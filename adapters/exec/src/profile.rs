//! [`ExecProfile`]: profiles from the operator's programs (ma1sd's `ExecProfileStore`):
//! `exec.profile.displayName`, `.threePid` and `.role`, one program each, every one optional.
//!
//! - Tokens: `{localpart}`, `{domain}` and `{mxid}` in `args`, `env` values and the stdin
//!   template.
//! - stdin: nothing unless `input.type` is set; json `{"localpart", "domain", "mxid"}`; plain
//!   `localpart\ndomain\nmxid\n`; or the `template`.
//! - stdout: json only, as ma1sd read it: `{"profile": {"display_name", "threepids": [{"medium",
//!   "address"}], "roles": [...]}}`; each program is read for its own part. Blank output, an
//!   answer without `profile`, or `exit.failure` is "nothing known" (as ma1sd); any other exit
//!   code, a program that cannot run, or output that is not JSON is an error.
use async_trait::async_trait;
use serde_json::{Value, json};
use verity_application::ports::driven::{BackendError, ProfileSource};
use verity_domain::{Profile, UserId};

use crate::auth::threepid_of;
use crate::config::{Format, Process};
use crate::run::{Call, ExecError, Outcome, Runner};
use crate::template::{json_string, raw, substitute};

/// The keys of the three processes, named in errors and logs.
pub(crate) const DISPLAY_NAME: &str = "exec.profile.displayName";
pub(crate) const THREEPIDS: &str = "exec.profile.threePid";
pub(crate) const ROLES: &str = "exec.profile.role";

/// `exec.profile.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecProfileConfig {
    /// `displayName`: its answer's `display_name`.
    pub display_name: Process,
    /// `threePid`: its answer's `threepids`.
    pub threepids: Process,
    /// `role`: its answer's `roles`.
    pub roles: Process,
    /// `exec.concurrency`: the profile programs running at once.
    pub concurrency: usize,
}

/// Which part of the profile a program answers.
#[derive(Clone, Copy)]
enum Part {
    DisplayName,
    Threepids,
    Roles,
}

/// The operator's programs as a profile store. Runs nothing until a profile is asked.
pub struct ExecProfile {
    config: ExecProfileConfig,
    runner: Runner,
}

impl ExecProfile {
    /// The profile programs of `config`.
    pub fn new(config: ExecProfileConfig) -> Self {
        Self {
            runner: Runner::new(config.concurrency),
            config,
        }
    }

    /// Whether any part has a program to run.
    pub fn has_programs(&self) -> bool {
        [
            &self.config.display_name,
            &self.config.threepids,
            &self.config.roles,
        ]
        .iter()
        .any(|process| process.command.is_some())
    }

    /// The `profile` object `process` answers for `user`; `None` when it knows nothing.
    async fn ask(
        &self,
        key: &'static str,
        process: &Process,
        user: &UserId,
    ) -> Result<Option<Value>, BackendError> {
        if process.command.is_none() {
            return Ok(None);
        }
        let t = &process.token;
        let values = [
            (t.localpart.as_str(), user.localpart()),
            (t.domain.as_str(), user.server_name()),
            (t.mxid.as_str(), user.as_str()),
        ];
        let call = Call {
            key,
            process,
            values: &values,
            stdin: stdin(process, &values, user),
            secrets: &[],
        };
        let out = match self.runner.run(call).await {
            Ok(Outcome::Failure) => return Ok(None),
            Ok(Outcome::Success(out)) => out,
            Err(error) => {
                tracing::debug!(%error, "an exec profile program failed");
                return Err(BackendError::Unavailable(Box::new(error)));
            }
        };
        if out.trim().is_empty() {
            return Ok(None);
        }
        let unreadable = |message: String| {
            let error = ExecError::Output {
                key: key.to_owned(),
                command: process.command.clone().unwrap_or_default(),
                expected: "the json output of a profile".to_owned(),
                message,
            };
            tracing::warn!(key, %error, "an exec program's answer is unreadable");
            BackendError::Corrupt(error.to_string())
        };
        let answer: Value = serde_json::from_str(&out).map_err(|e| unreadable(e.to_string()))?;
        match answer.get("profile") {
            None | Some(Value::Null) => Ok(None),
            Some(profile @ Value::Object(_)) => Ok(Some(profile.clone())),
            Some(_) => Err(unreadable("`profile` is not an object".into())),
        }
    }
}

/// What a profile program writes on stdin.
fn stdin(process: &Process, values: &[(&str, &str); 3], user: &UserId) -> Option<String> {
    let format = process.input.format?;
    Some(match (&process.input.template, format) {
        (Some(template), Format::Json) => substitute(template, values, json_string),
        (Some(template), Format::Plain) => substitute(template, values, raw),
        (None, Format::Json) => json!({
            "localpart": user.localpart(),
            "domain": user.server_name(),
            "mxid": user.as_str(),
        })
        .to_string(),
        (None, Format::Plain) => format!(
            "{}\n{}\n{}\n",
            user.localpart(),
            user.server_name(),
            user.as_str()
        ),
    })
}

/// Adds the `part` of a program's `profile` object to `profile` (invalid entries left out).
fn add(profile: &mut Profile, part: Part, given: &Value) {
    match part {
        Part::DisplayName => {
            if let Some(name) = given.get("display_name").and_then(Value::as_str) {
                *profile = std::mem::take(profile).with_display_name(name);
            }
        }
        Part::Threepids => {
            let entries = given.get("threepids").and_then(Value::as_array);
            for threepid in entries.into_iter().flatten().filter_map(threepid_of) {
                profile.add_threepid(threepid);
            }
        }
        Part::Roles => {
            let roles = given.get("roles").and_then(Value::as_array);
            for role in roles.into_iter().flatten().filter_map(Value::as_str) {
                profile.add_role(role);
            }
        }
    }
}

#[async_trait]
impl ProfileSource for ExecProfile {
    fn name(&self) -> &'static str {
        "exec"
    }

    async fn profile(&self, user: &UserId) -> Result<Option<Profile>, BackendError> {
        let parts = [
            (DISPLAY_NAME, &self.config.display_name, Part::DisplayName),
            (THREEPIDS, &self.config.threepids, Part::Threepids),
            (ROLES, &self.config.roles, Part::Roles),
        ];
        let mut profile = Profile::default();
        let mut known = false;
        for (key, process, part) in parts {
            if let Some(given) = self.ask(key, process, user).await? {
                known = true;
                add(&mut profile, part, &given);
            }
        }
        Ok(known.then_some(profile))
    }
}
