//! `exec.directory` (ma1sd's `ExecDirectoryStore`) -> the exec adapter's
//! [`ExecDirectoryConfig`]: `enabled` (default `exec.enabled`, as in ma1sd) and the processes
//! `search.byName` and `search.byThreepid`, read as every exec process is (`exec.token` folded
//! into each, `exec.concurrency`). The answer is JSON only, as in ma1sd.
use serde::{Deserialize, Serialize};
use verity_adapter_exec::{ExecDirectoryConfig, Format, Process, Tokens};
use verity_domain::MatrixDomain;

use super::error::ConfigError;
use super::exec::{ProcessDump, RawProcess, RawToken, process, tokens};
use super::lenient::{Flag, Int};

/// `exec.directory`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawExecDirectory {
    pub enabled: Option<Flag>,
    pub search: Option<RawExecSearch>,
}

/// `exec.directory.search`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawExecSearch {
    pub by_name: Option<RawProcess>,
    pub by_threepid: Option<RawProcess>,
}

/// What `exec.directory` is read with from the rest of `exec`.
pub struct ExecGlobals<'a> {
    /// `exec.enabled`.
    pub enabled: Option<Flag>,
    /// `exec.token`.
    pub token: Option<&'a RawToken>,
    /// `exec.concurrency` (checked by `exec`).
    pub concurrency: Option<Int<usize>>,
}

impl ExecGlobals<'_> {
    /// `exec.concurrency` for a feature of its own (`exec` refuses 0 with its message; a
    /// feature never runs on a zero).
    pub fn concurrency(&self) -> usize {
        self.concurrency.map_or(
            verity_adapter_exec::config::DEFAULT_CONCURRENCY,
            |Int(n)| n.max(1),
        )
    }
}

/// The process at `key`, its tokens over `global`, whose answer is JSON only (as in ma1sd):
/// `output.type: plain` is refused, saying that `what` is answered in JSON.
pub fn json_process(
    raw: Option<RawProcess>,
    key: &str,
    global: &Tokens,
    what: &str,
) -> Result<Process, ConfigError> {
    let read = process(raw, key, global, Process::default())?;
    if read.output.format == Some(Format::Plain) {
        return Err(ConfigError::invalid(
            format!("{key}.output.type"),
            format!("{what} is answered in JSON only (as in ma1sd): set `json` or remove it"),
        ));
    }
    Ok(read)
}

/// `None` unless `exec.directory.enabled` (or, unset, `exec.enabled`) is on.
pub fn resolve(
    raw: Option<RawExecDirectory>,
    globals: &ExecGlobals<'_>,
    domain: &MatrixDomain,
) -> Result<Option<ExecDirectoryConfig>, ConfigError> {
    let raw = raw.unwrap_or_default();
    if !raw.enabled.or(globals.enabled).is_some_and(|Flag(on)| on) {
        return Ok(None);
    }
    let global = tokens(Tokens::default(), globals.token.cloned());
    let search = raw.search.unwrap_or_default();
    let search_process = |raw, key| json_process(raw, key, &global, "a directory search");
    Ok(Some(ExecDirectoryConfig {
        matrix_domain: domain.as_str().to_owned(),
        by_name: search_process(search.by_name, "exec.directory.search.byName")?,
        by_threepid: search_process(search.by_threepid, "exec.directory.search.byThreepid")?,
        concurrency: globals.concurrency(),
    }))
}

/// `exec.directory` in `--dump-config`.
#[derive(Serialize)]
pub struct ExecDirectoryDump {
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    search: Option<SearchDump>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SearchDump {
    by_name: ProcessDump,
    by_threepid: ProcessDump,
}

/// `exec.directory` from its settings.
pub fn dump(config: Option<&ExecDirectoryConfig>) -> ExecDirectoryDump {
    ExecDirectoryDump {
        enabled: config.is_some(),
        search: config.map(|config| SearchDump {
            by_name: (&config.by_name).into(),
            by_threepid: (&config.by_threepid).into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use verity_adapter_exec::ExecDirectoryConfig;

    use crate::config::{ConfigError, effective_yaml, parse};

    fn directory(section: &str) -> Result<Option<ExecDirectoryConfig>, ConfigError> {
        parse(&format!(
            "matrix: {{domain: example.org}}\nexec:\n{section}"
        ))
        .map(|loaded| loaded.settings.user_directory.exec)
    }

    #[test]
    fn the_directory_follows_exec_enabled_unless_it_says_otherwise() {
        assert_eq!(directory("  enabled: false\n").unwrap(), None);
        assert!(directory("  enabled: true\n").unwrap().is_some());
        assert_eq!(
            directory("  enabled: true\n  directory: {enabled: false}\n").unwrap(),
            None
        );
        assert!(
            directory("  directory: {enabled: true}\n")
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn the_processes_are_read_with_the_global_tokens_and_concurrency() {
        let config = directory(
            "  enabled: true\n  concurrency: 3\n  token: {query: '%q'}\n  directory:\n    \
             search:\n      byName: {command: /usr/bin/people, args: ['{type}', '%q'], input: \
             {type: plain}}\n      byThreepid: {command: /usr/bin/people3, token: {type: '%t'}}\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(config.concurrency, 3);
        assert_eq!(config.by_name.command.as_deref(), Some("/usr/bin/people"));
        assert_eq!(config.by_name.token.query, "%q");
        assert_eq!(config.by_threepid.token.kind, "%t");
        assert_eq!(config.by_threepid.token.query, "%q");
        assert_eq!(config.matrix_domain, "example.org");
    }

    #[test]
    fn a_plain_answer_is_refused_naming_the_key() {
        let err = directory(
            "  enabled: true\n  directory: {search: {byName: {command: x, output: {type: plain}}}}\n",
        )
        .unwrap_err();
        assert_eq!(err.key(), Some("exec.directory.search.byName.output.type"));
    }

    #[test]
    fn the_dump_reads_back_to_the_same_directory() {
        for section in [
            "  enabled: true\n  directory: {search: {byName: {command: /bin/p, args: ['{query}']}}}\n",
            "  enabled: false\n  directory: {enabled: true}\n  concurrency: 2\n",
            "  enabled: true\n  directory: {enabled: false}\n",
        ] {
            let yaml = format!("matrix: {{domain: example.org}}\nexec:\n{section}");
            let settings = parse(&yaml).unwrap().settings;
            let dumped = effective_yaml(&settings);
            let again = parse(&dumped).unwrap();
            assert_eq!(again.warnings, [], "{dumped}");
            assert_eq!(
                again.settings.user_directory.exec, settings.user_directory.exec,
                "{dumped}"
            );
        }
    }
}
