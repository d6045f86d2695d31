//! `exec.*` (ma1sd's exec identity store) -> the exec adapter's own [`ExecIdentityConfig`], with
//! ma1sd's keys and defaults. See docs/backends.md#exec-the-operators-programs.
//!
//! Read: `exec.enabled` and `exec.identity.enabled` (which wins when set, as in ma1sd),
//! `exec.token.*`, `exec.identity.{priority, hashLookup}` and the processes
//! `exec.identity.lookup.single` and `.bulk` (`command`, `args`, `env`, `input.{type, template}`,
//! `output.type`, `exit.{success, failure}`, `token.*`); the login program `exec.auth` (the same
//! keys, and `enabled`, which defaults to `exec.enabled` as in ma1sd). Verity only: `exec.concurrency`,
//! `exec.identity.refresh`, the feed process `exec.identity.lookup.all`, and each process's
//! `timeout` and `maxOutput`. Changed knowingly: `output.type` unset reads JSON (ma1sd failed
//! every lookup), `exec.token` applies to every process (ma1sd read only the process's own).
use std::collections::BTreeMap;

use serde::Deserialize;
use verity_adapter_exec::{ExecAuthConfig, ExecIdentityConfig, Format, Process, Tokens};
use verity_domain::MatrixDomain;

use super::error::ConfigError;
use super::lenient::{DurationOrZero, Flag, Int, Lifetime, Text, text};
use crate::settings::{DEFAULT_DIRECTORY_REFRESH, ExecSettings};

#[path = "exec_dump.rs"]
mod dump;
pub(super) use dump::ProcessDump;
pub use dump::{ExecDump, dump};

/// `exec`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawExec {
    pub enabled: Option<Flag>,
    pub token: Option<RawToken>,
    pub identity: Option<RawExecIdentity>,
    pub auth: Option<RawExecAuth>,
    /// Resolved by `exec_directory`.
    pub directory: Option<super::exec_directory::RawExecDirectory>,
    /// Resolved by `exec_profile`.
    pub profile: Option<super::exec_profile::RawExecProfile>,
    /// Verity only.
    pub concurrency: Option<Int<usize>>,
}

/// `exec.auth`: a process, and whether logins are asked of it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawExecAuth {
    pub enabled: Option<Flag>,
    pub command: Option<Text>,
    pub args: Option<Vec<Text>>,
    pub env: Option<BTreeMap<String, Text>>,
    pub input: Option<RawInput>,
    pub output: Option<RawOutput>,
    pub exit: Option<RawExit>,
    pub token: Option<RawToken>,
    /// Verity only.
    pub timeout: Option<Lifetime>,
    /// Verity only.
    pub max_output: Option<Int<usize>>,
}

impl RawExecAuth {
    /// Whether it is on, and the process.
    fn split(self) -> (Option<Flag>, RawProcess) {
        let process = RawProcess {
            command: self.command,
            args: self.args,
            env: self.env,
            input: self.input,
            output: self.output,
            exit: self.exit,
            token: self.token,
            timeout: self.timeout,
            max_output: self.max_output,
        };
        (self.enabled, process)
    }
}

/// `exec.token` and `<process>.token`
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawToken {
    pub localpart: Option<Text>,
    pub domain: Option<Text>,
    pub mxid: Option<Text>,
    pub password: Option<Text>,
    pub medium: Option<Text>,
    pub address: Option<Text>,
    #[serde(rename = "type")]
    pub kind: Option<Text>,
    pub query: Option<Text>,
}

/// `exec.identity`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawExecIdentity {
    pub enabled: Option<Flag>,
    pub priority: Option<Int<i32>>,
    pub hash_lookup: Option<Flag>,
    pub lookup: Option<RawExecLookup>,
    /// Verity only.
    pub refresh: Option<DurationOrZero>,
}

/// `exec.identity.lookup`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawExecLookup {
    pub single: Option<RawProcess>,
    pub bulk: Option<RawProcess>,
    /// Verity only.
    pub all: Option<RawProcess>,
}

/// A process: `exec.identity.lookup.<single|bulk|all>`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawProcess {
    pub command: Option<Text>,
    pub args: Option<Vec<Text>>,
    pub env: Option<BTreeMap<String, Text>>,
    pub input: Option<RawInput>,
    pub output: Option<RawOutput>,
    pub exit: Option<RawExit>,
    pub token: Option<RawToken>,
    /// Verity only.
    pub timeout: Option<Lifetime>,
    /// Verity only.
    pub max_output: Option<Int<usize>>,
}

/// `<process>.input`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawInput {
    #[serde(rename = "type")]
    pub kind: Option<Text>,
    pub template: Option<Text>,
}

/// `<process>.output` (ma1sd's `output.template` was never read; `keys` says so).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawOutput {
    #[serde(rename = "type")]
    pub kind: Option<Text>,
}

/// `<process>.exit`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawExit {
    pub success: Option<Vec<Int<i32>>>,
    pub failure: Option<Vec<Int<i32>>>,
}

/// The lookups (`None` unless `exec.identity.enabled`, or, unset, `exec.enabled`, is on) and
/// the logins (`None` unless `exec.auth.enabled`, or `exec.enabled`, is on); each one's keys
/// are checked only when it is on.
pub fn resolve(
    raw: RawExec,
    domain: &MatrixDomain,
) -> Result<(Option<ExecSettings>, Option<ExecAuthConfig>), ConfigError> {
    let global = tokens(Tokens::default(), raw.token);
    let concurrency = concurrency(raw.concurrency)?;
    let auth = auth(raw.auth, raw.enabled, &global, domain, concurrency)?;
    let identity = raw.identity.unwrap_or_default();
    let on = identity.enabled.or(raw.enabled).is_some_and(|Flag(on)| on);
    if !on {
        return Ok((None, auth));
    }
    let mut config = ExecIdentityConfig::new(domain.as_str());
    let lookup = identity.lookup.unwrap_or_default();
    let single_key = "exec.identity.lookup.single";
    // No command is no error (ma1sd: "the action is skipped"): a file that switches exec on
    // for its login program alone still starts; the wiring warns and `/status` says why.
    config.single = process(lookup.single, single_key, &global, config.single)?;
    config.bulk = process(
        lookup.bulk,
        "exec.identity.lookup.bulk",
        &global,
        config.bulk,
    )?;
    config.all = process(lookup.all, "exec.identity.lookup.all", &global, config.all)?;
    for (key, process) in [
        ("exec.identity.lookup.bulk", &config.bulk),
        ("exec.identity.lookup.all", &config.all),
    ] {
        if process.output.format == Some(Format::Plain) {
            return Err(ConfigError::invalid(
                format!("{key}.output.type"),
                "a list of 3PIDs is answered in JSON only (as in ma1sd): set `json` or remove it",
            ));
        }
    }
    config.hash_lookup = identity.hash_lookup.is_some_and(|Flag(on)| on);
    if config.hash_lookup && config.bulk.command.is_none() && config.all.command.is_none() {
        return Err(ConfigError::invalid(
            "exec.identity.hashLookup",
            "the hash table is fed by exec.identity.lookup.bulk (asked with an empty list, as in \
             ma1sd) or by exec.identity.lookup.all: set one of their commands, or hashLookup: false",
        ));
    }
    if let Some(Int(priority)) = identity.priority {
        config.priority = priority;
    }
    if let Some(n) = concurrency {
        config.concurrency = n;
    }
    let refresh = identity.refresh.map_or(DEFAULT_DIRECTORY_REFRESH, |d| d.0);
    Ok((Some(ExecSettings { config, refresh }), auth))
}

/// `exec.concurrency`, when set: at least 1.
fn concurrency(raw: Option<Int<usize>>) -> Result<Option<usize>, ConfigError> {
    match raw {
        Some(Int(0)) => Err(ConfigError::invalid(
            "exec.concurrency",
            "must be at least 1: the programs that may run at once",
        )),
        Some(Int(n)) => Ok(Some(n)),
        None => Ok(None),
    }
}

/// `exec.auth`, when on (its `enabled`, else `exec.enabled`) and its `command` is set.
fn auth(
    raw: Option<RawExecAuth>,
    exec_enabled: Option<Flag>,
    global: &Tokens,
    domain: &MatrixDomain,
    concurrency: Option<usize>,
) -> Result<Option<ExecAuthConfig>, ConfigError> {
    let (enabled, raw) = raw.map(RawExecAuth::split).unzip();
    let on = enabled
        .flatten()
        .or(exec_enabled)
        .is_some_and(|Flag(on)| on);
    if !on {
        return Ok(None);
    }
    let key = "exec.auth";
    let process = process(raw, key, global, Process::default())?;
    if process.command.is_none() {
        // ma1sd turned the login on with `exec.enabled` alone and failed each login; here
        // `exec.enabled` for lookups alone is no error. An explicit `exec.auth.enabled` is.
        if enabled.flatten().is_some_and(|Flag(on)| on) {
            return Err(ConfigError::missing(
                "exec.auth.command",
                "set the program that checks passwords, or exec.auth.enabled: false",
            ));
        }
        return Ok(None);
    }
    let mut config = ExecAuthConfig::new(domain.as_str(), process);
    if let Some(n) = concurrency {
        config.concurrency = n;
    }
    Ok(Some(config))
}

/// `base` with the tokens `raw` sets (blank ones keep their default).
pub(super) fn tokens(base: Tokens, raw: Option<RawToken>) -> Tokens {
    let Some(raw) = raw else { return base };
    let or = |value: Option<Text>, default: String| text(value).unwrap_or(default);
    Tokens {
        localpart: or(raw.localpart, base.localpart),
        domain: or(raw.domain, base.domain),
        mxid: or(raw.mxid, base.mxid),
        password: or(raw.password, base.password),
        medium: or(raw.medium, base.medium),
        address: or(raw.address, base.address),
        kind: or(raw.kind, base.kind),
        query: or(raw.query, base.query),
    }
}

/// `json` or `plain` at `key`.
fn format(value: Option<Text>, key: &str) -> Result<Option<Format>, ConfigError> {
    match text(value).map(|t| t.to_ascii_lowercase()).as_deref() {
        None => Ok(None),
        Some("json") => Ok(Some(Format::Json)),
        Some("plain") => Ok(Some(Format::Plain)),
        Some(other) => Err(ConfigError::invalid(
            key,
            format!("unknown type `{other}`; expected `json` or `plain`"),
        )),
    }
}

/// Exit codes at `key`: 0 to 255.
fn codes(
    value: Option<Vec<Int<i32>>>,
    default: Vec<i32>,
    key: &str,
) -> Result<Vec<i32>, ConfigError> {
    let Some(codes) = value else {
        return Ok(default);
    };
    codes
        .into_iter()
        .map(|Int(code)| {
            if (0..=255).contains(&code) {
                Ok(code)
            } else {
                Err(ConfigError::invalid(
                    key,
                    format!("{code} is not an exit code (0 to 255)"),
                ))
            }
        })
        .collect()
}

/// The process at `key` over `base` (its defaults), its tokens over `global`.
pub(super) fn process(
    raw: Option<RawProcess>,
    key: &str,
    global: &Tokens,
    base: Process,
) -> Result<Process, ConfigError> {
    let mut process = Process {
        token: global.clone(),
        ..base
    };
    let Some(raw) = raw else { return Ok(process) };
    let at = |name: &str| format!("{key}.{name}");
    process.command = text(raw.command);
    // Arguments and values are kept as written: a space may be meant.
    process.args = raw
        .args
        .unwrap_or_default()
        .into_iter()
        .map(|Text(a)| a)
        .collect();
    for (name, Text(value)) in raw.env.unwrap_or_default() {
        if name.is_empty() || name.contains(['=', '\0']) {
            return Err(ConfigError::invalid(
                at("env"),
                format!("{name:?} is not an environment variable's name"),
            ));
        }
        process.env.insert(name, value);
    }
    let input = raw.input.unwrap_or_default();
    process.input.format = format(input.kind, &at("input.type"))?;
    process.input.template = input
        .template
        .map(|Text(t)| t)
        .filter(|t| !t.trim().is_empty());
    let output = raw.output.unwrap_or_default();
    process.output.format = format(output.kind, &at("output.type"))?;
    let exit = raw.exit.unwrap_or_default();
    process.exit.success = codes(exit.success, process.exit.success, &at("exit.success"))?;
    process.exit.failure = codes(exit.failure, process.exit.failure, &at("exit.failure"))?;
    if let Some(code) = process
        .exit
        .success
        .iter()
        .find(|c| process.exit.failure.contains(c))
    {
        return Err(ConfigError::invalid(
            at("exit.failure"),
            format!("{code} is listed in exit.success too: a code means one thing"),
        ));
    }
    process.token = tokens(process.token, raw.token);
    if let Some(Lifetime(timeout)) = raw.timeout {
        process.timeout = timeout;
    }
    match raw.max_output {
        Some(Int(0)) => {
            return Err(ConfigError::invalid(
                at("maxOutput"),
                "must be at least 1 (bytes)",
            ));
        }
        Some(Int(bytes)) => process.max_output = bytes,
        None => {}
    }
    Ok(process)
}
