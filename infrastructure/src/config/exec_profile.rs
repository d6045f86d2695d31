//! `exec.profile` (ma1sd's `ExecProfileStore`) -> the exec adapter's [`ExecProfileConfig`]:
//! `enabled` (default `exec.enabled`, as in ma1sd) and the processes `displayName`, `threePid`
//! and `role`, read as every exec process is (`exec.token` folded into each,
//! `exec.concurrency`). The answer is JSON only, as in ma1sd.
use serde::{Deserialize, Serialize};
use verity_adapter_exec::{ExecProfileConfig, Tokens};

use super::error::ConfigError;
use super::exec::{ProcessDump, RawProcess, tokens};
use super::exec_directory::{ExecGlobals, json_process};
use super::lenient::Flag;

/// `exec.profile`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawExecProfile {
    pub enabled: Option<Flag>,
    pub display_name: Option<RawProcess>,
    pub three_pid: Option<RawProcess>,
    pub role: Option<RawProcess>,
}

/// `None` unless `exec.profile.enabled` (or, unset, `exec.enabled`) is on and a program is set.
pub fn resolve(
    raw: Option<RawExecProfile>,
    globals: &ExecGlobals<'_>,
) -> Result<Option<ExecProfileConfig>, ConfigError> {
    let raw = raw.unwrap_or_default();
    if !raw.enabled.or(globals.enabled).is_some_and(|Flag(on)| on) {
        return Ok(None);
    }
    let global = tokens(Tokens::default(), globals.token.cloned());
    let read =
        |raw, name: &str| json_process(raw, &format!("exec.profile.{name}"), &global, "a profile");
    let config = ExecProfileConfig {
        display_name: read(raw.display_name, "displayName")?,
        threepids: read(raw.three_pid, "threePid")?,
        roles: read(raw.role, "role")?,
        concurrency: globals.concurrency(),
    };
    let programs = [&config.display_name, &config.threepids, &config.roles];
    Ok(programs
        .iter()
        .any(|p| p.command.is_some())
        .then_some(config))
}

/// `exec.profile` in `--dump-config`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecProfileDump {
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<ProcessDump>,
    #[serde(skip_serializing_if = "Option::is_none")]
    three_pid: Option<ProcessDump>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<ProcessDump>,
}

/// `exec.profile` from its settings.
pub fn dump(config: Option<&ExecProfileConfig>) -> ExecProfileDump {
    ExecProfileDump {
        enabled: config.is_some(),
        display_name: config.map(|c| (&c.display_name).into()),
        three_pid: config.map(|c| (&c.threepids).into()),
        role: config.map(|c| (&c.roles).into()),
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use verity_adapter_exec::ExecProfileConfig;

    use crate::config::{ConfigError, effective_yaml, parse};

    fn profile(section: &str) -> Result<Option<ExecProfileConfig>, ConfigError> {
        parse(&format!(
            "matrix: {{domain: example.org}}\nexec:\n{section}"
        ))
        .map(|loaded| loaded.settings.exec_profile)
    }

    #[test]
    fn the_profile_follows_exec_enabled_and_needs_a_program() {
        assert_eq!(profile("  enabled: true\n").unwrap(), None);
        let on = "  enabled: true\n  profile: {role: {command: /usr/bin/roles}}\n";
        assert!(profile(on).unwrap().is_some());
        let off = "  enabled: true\n  profile: {enabled: false, role: {command: /usr/bin/roles}}\n";
        assert_eq!(profile(off).unwrap(), None);
        assert!(
            profile("  profile: {enabled: true, displayName: {command: x}}\n")
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn the_processes_are_read_with_the_global_tokens_and_a_plain_answer_is_refused() {
        let config = profile(
            "  enabled: true\n  concurrency: 3\n  token: {mxid: '%m'}\n  profile:\n    \
             threePid: {command: /usr/bin/t, args: ['%m']}\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(config.concurrency, 3);
        assert_eq!(config.threepids.token.mxid, "%m");
        assert_eq!(config.display_name.command, None);
        let err =
            profile("  enabled: true\n  profile: {role: {command: x, output: {type: plain}}}\n")
                .unwrap_err();
        assert_eq!(err.key(), Some("exec.profile.role.output.type"));
    }

    #[test]
    fn the_dump_reads_back_to_the_same_profile() {
        for section in [
            "  enabled: true\n  profile: {role: {command: /bin/r, args: ['{localpart}']}}\n",
            "  enabled: false\n  profile: {enabled: true, displayName: {command: /bin/n}}\n",
            "  enabled: true\n  profile: {enabled: false}\n",
        ] {
            let yaml = format!("matrix: {{domain: example.org}}\nexec:\n{section}");
            let settings = parse(&yaml).unwrap().settings;
            let dumped = effective_yaml(&settings);
            let again = parse(&dumped).unwrap();
            assert_eq!(again.warnings, [], "{dumped}");
            assert_eq!(
                again.settings.exec_profile, settings.exec_profile,
                "{dumped}"
            );
        }
    }
}
