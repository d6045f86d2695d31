//! Logins by the operator's program (`exec.auth`, ma1sd's `ExecAuthStore`).
//!
//! - Tokens: `{localpart}`, `{domain}`, `{mxid}` and `{password}` in `args`, `env` values and the
//!   stdin template (the password among them: it is passed as the operator writes it, and
//!   masked in the logs).
//! - Stdin: none unless `input.type` is set; `json`: `{"mxid", "localpart", "domain",
//!   "password"}` (ma1sd wrote this object as is, though its docs showed it inside `auth`);
//!   `plain`: `localpart`, `domain`, `mxid` and `password`, a line each; or the `template`. A
//!   password with a line break is refused with plain input, which cannot carry it (ma1sd
//!   passed it, and the program read its first line as the whole password).
//! - Exit codes: `exit.success` then reads stdout, `exit.failure` is a refusal, any other is
//!   an error. Stdout by `output.type`: unset, the exit code alone decides; `plain`, a first
//!   line `true` or `1` (ignoring case; empty keeps the success) and a second line with the
//!   display name, more lines being an error; `json`, `{"auth": {"success", "profile":
//!   {"display_name"}}}` as ma1sd read it, and, beyond ma1sd, the REST contract's `id` and
//!   `profile.three_pids` when present.
//! - The account is the user asked (ma1sd's `localpart` id), unless a json answer names another.
use async_trait::async_trait;
use serde_json::{Map, Value, json};
use verity_application::ports::driven::{
    AccountName, BackendError, PasswordVerdict, PasswordVerifier,
};
use verity_domain::{Medium, Password, Profile, ThreePid, UserId};

use crate::config::{ExecAuthConfig, Format};
use crate::run::{Call, ExecError, Outcome, Runner};
use crate::template::{json_string, raw, substitute};

/// The key of the process, named in errors and logs.
pub(crate) const AUTH: &str = "exec.auth";

/// The operator's login program.
pub struct ExecAuth {
    config: ExecAuthConfig,
    runner: Runner,
}

impl ExecAuth {
    /// The program of `config`; runs nothing yet.
    pub fn new(config: ExecAuthConfig) -> Self {
        Self {
            runner: Runner::new(config.concurrency),
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ExecAuthConfig {
        &self.config
    }

    /// The stdin of a login, as `input` says.
    fn stdin(&self, values: &[(&str, &str)], user: &UserId, password: &Password) -> Option<String> {
        let input = &self.config.process.input;
        Some(match (input.format?, &input.template) {
            (Format::Json, Some(template)) => substitute(template, values, json_string),
            (Format::Plain, Some(template)) => substitute(template, values, raw),
            (Format::Json, None) => json!({
                "mxid": user.as_str(),
                "localpart": user.localpart(),
                "domain": user.server_name(),
                "password": password.expose(),
            })
            .to_string(),
            (Format::Plain, None) => format!(
                "{}\n{}\n{}\n{}\n",
                user.localpart(),
                user.server_name(),
                user.as_str(),
                password.expose()
            ),
        })
    }

    /// An answer that is not one, as an error naming the process.
    fn unreadable(&self, message: String) -> BackendError {
        let process = &self.config.process;
        let format = process.output.format.unwrap_or(Format::Json).as_str();
        BackendError::Corrupt(
            ExecError::Output {
                key: AUTH.to_owned(),
                command: process.command.clone().unwrap_or_default(),
                expected: format!("the {format} output of a login"),
                message,
            }
            .to_string(),
        )
    }
}

/// The verdict of a successful exit's stdout, for `user`.
fn read(
    format: Option<Format>,
    stdout: &str,
    user: &UserId,
    domain: &str,
) -> Result<PasswordVerdict, String> {
    let mut account = AccountName::Localpart(user.localpart().to_owned());
    let mut profile = Profile::default();
    let success = match format {
        None => true,
        Some(Format::Plain) => {
            let lines: Vec<&str> = stdout.trim_end_matches(['\r', '\n']).lines().collect();
            if lines.len() > 2 {
                return Err(format!("{} lines, expected at most 2", lines.len()));
            }
            if let Some(name) = lines.get(1) {
                profile = Profile::named(name);
            }
            match lines.first().map(|line| line.trim()) {
                None | Some("") => true,
                Some(first) => first.eq_ignore_ascii_case("true") || first == "1",
            }
        }
        Some(Format::Json) => {
            let answer: Value = serde_json::from_str(stdout).map_err(|e| e.to_string())?;
            let Some(Value::Object(auth)) = answer.get("auth") else {
                return Err("`auth` is missing or not an object".into());
            };
            if let Some(id) = auth.get("id").filter(|id| !id.is_null()) {
                account = account_of(id, domain)?;
            }
            if let Some(Value::Object(given)) = auth.get("profile") {
                profile = profile_of(given);
            }
            match auth.get("success") {
                None | Some(Value::Null) => true,
                Some(Value::Bool(success)) => *success,
                Some(_) => return Err("`auth.success` is not a boolean".into()),
            }
        }
    };
    Ok(if success {
        PasswordVerdict::Accepted { account, profile }
    } else {
        PasswordVerdict::Refused
    })
}

/// The account of a json answer's `id`: `{"type": "localpart"|"mxid", "value"}`.
fn account_of(id: &Value, domain: &str) -> Result<AccountName, String> {
    let (Some(kind), Some(value)) = (
        id.get("type").and_then(Value::as_str),
        id.get("value").and_then(Value::as_str),
    ) else {
        return Err("`auth.id` needs a `type` and a `value`".into());
    };
    if kind.eq_ignore_ascii_case("localpart") {
        UserId::parse(&format!("@{value}:{domain}"))
            .map(|_| AccountName::Localpart(value.to_owned()))
            .map_err(|_| format!("`auth.id.value` {value:?} is not a localpart"))
    } else {
        UserId::parse(value)
            .map(AccountName::UserId)
            .map_err(|_| format!("`auth.id.value` {value:?} is not a Matrix user ID"))
    }
}

/// The display name and 3PIDs of a json answer's `profile` (invalid 3PIDs left out).
fn profile_of(given: &Map<String, Value>) -> Profile {
    let name = given
        .get("display_name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut profile = Profile::named(name);
    let threepids = given.get("three_pids").and_then(Value::as_array);
    for threepid in threepids.into_iter().flatten().filter_map(threepid_of) {
        profile.add_threepid(threepid);
    }
    profile
}

/// A `{"medium", "address"}` entry of a program's answer as a 3PID (a phone number with or
/// without its `+`); `None` when it is not a valid one.
pub(crate) fn threepid_of(entry: &Value) -> Option<ThreePid> {
    let medium = Medium::parse(entry.get("medium")?.as_str()?.trim()).ok()?;
    let address = entry.get("address")?.as_str()?.trim();
    let address = match medium {
        Medium::Msisdn => address.strip_prefix('+').unwrap_or(address),
        _ => address,
    };
    ThreePid::parse(medium, address).ok()
}

#[async_trait]
impl PasswordVerifier for ExecAuth {
    fn name(&self) -> &'static str {
        "exec"
    }

    async fn verify_password(
        &self,
        user: &UserId,
        password: &Password,
    ) -> Result<PasswordVerdict, BackendError> {
        let process = &self.config.process;
        if process.input.format == Some(Format::Plain) && password.expose().contains(['\n', '\r']) {
            // A line of plain input cannot carry it: the program would check its first line
            // only, and accept a password that is not the user's.
            tracing::debug!(%user, "a password with a line break cannot be passed as a plain line; refused");
            return Ok(PasswordVerdict::Refused);
        }
        let t = &process.token;
        let values = [
            (t.localpart.as_str(), user.localpart()),
            (t.domain.as_str(), user.server_name()),
            (t.mxid.as_str(), user.as_str()),
            (t.password.as_str(), password.expose()),
        ];
        let call = Call {
            key: AUTH,
            process,
            values: &values,
            stdin: self.stdin(&values, user, password),
            secrets: &[password.expose()],
        };
        match self.runner.run(call).await {
            Ok(Outcome::Failure) => Ok(PasswordVerdict::Refused),
            Ok(Outcome::Success(stdout)) => read(
                process.output.format,
                &stdout,
                user,
                &self.config.matrix_domain,
            )
            .map_err(|message| self.unreadable(message)),
            Err(error) => Err(BackendError::Unavailable(Box::new(error))),
        }
    }
}
