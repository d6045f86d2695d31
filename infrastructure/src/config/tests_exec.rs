//! `exec.*`: ma1sd's keys and defaults into the exec adapter's configuration, errors naming the
//! key, and the dump reading back.
use std::time::Duration;

use pretty_assertions::assert_eq;
use verity_adapter_exec::{Format, Tokens};

use super::{ConfigError, ConfigWarning, effective_yaml, parse};
use crate::settings::ExecSettings;

const SINGLE: &str = "  identity:\n    lookup:\n      single:\n        command: /opt/lookup\n";

fn exec(section: &str) -> Result<Option<ExecSettings>, ConfigError> {
    parse(&format!(
        "matrix: {{domain: example.org}}\nexec:\n{section}"
    ))
    .map(|loaded| loaded.settings.exec)
}

fn error(section: &str) -> (String, String) {
    let err = exec(section).unwrap_err();
    let key = err
        .key()
        .unwrap_or_else(|| panic!("no key in {err}"))
        .to_owned();
    (key, err.to_string())
}

#[test]
fn the_store_is_off_unless_exec_or_exec_identity_is_enabled_and_identity_wins() {
    let settings = parse("matrix: {domain: example.org}\n").unwrap().settings;
    assert_eq!(settings.exec, None);
    assert_eq!(exec(&format!("  enabled: false\n{SINGLE}")).unwrap(), None);
    assert!(
        exec(&format!("  enabled: true\n{SINGLE}"))
            .unwrap()
            .is_some()
    );
    let identity_on = "  enabled: false\n  identity:\n    enabled: true\n    lookup: {single: {command: /opt/lookup}}\n";
    assert!(exec(identity_on).unwrap().is_some());
    let identity_off = format!("  enabled: true\n{SINGLE}    enabled: false\n");
    assert_eq!(exec(&identity_off).unwrap(), None);
}

#[test]
fn ma1sds_defaults_apply_and_the_output_type_is_left_unset_to_read_json() {
    let settings = exec(&format!("  enabled: true\n{SINGLE}"))
        .unwrap()
        .unwrap();
    let config = settings.config;
    assert_eq!(config.matrix_domain, "example.org");
    assert_eq!(config.priority, 0);
    assert!(!config.hash_lookup);
    assert_eq!(config.single.command.as_deref(), Some("/opt/lookup"));
    assert_eq!(config.single.exit.success, [0]);
    assert_eq!(config.single.exit.failure, [1]);
    assert_eq!(config.single.token, Tokens::default());
    assert_eq!(config.single.output.format, None);
    assert_eq!(config.single.timeout, Duration::from_secs(5));
    assert_eq!(config.bulk.command, None);
    assert_eq!(settings.refresh, Duration::from_secs(300));
}

#[test]
fn every_key_of_a_process_is_read_and_the_global_tokens_apply_under_its_own() {
    let section = "  enabled: true\n  concurrency: 3\n  token: {medium: '%m', address: '%a'}\n  \
                   identity:\n    priority: 30\n    hashLookup: true\n    refresh: 10m\n    lookup:\n      \
                   single:\n        command: lookup\n        args: ['-m', '%m', ' spaced ']\n        \
                   env: {WHO: '%a'}\n        input: {type: PLAIN, template: '%m %a'}\n        \
                   output: {type: plain}\n        exit: {success: [0, 3], failure: [4]}\n        \
                   token: {address: '@@'}\n        timeout: 30s\n        maxOutput: 2048\n      \
                   bulk: {command: /opt/bulk, input: {type: json}}\n";
    let settings = exec(section).unwrap().unwrap();
    let config = settings.config;
    assert_eq!(
        (config.concurrency, config.priority, config.hash_lookup),
        (3, 30, true)
    );
    assert_eq!(settings.refresh, Duration::from_secs(600));
    let single = &config.single;
    assert_eq!(single.args, ["-m", "%m", " spaced "]);
    assert_eq!(single.env.get("WHO").map(String::as_str), Some("%a"));
    assert_eq!(single.input.format, Some(Format::Plain));
    assert_eq!(single.input.template.as_deref(), Some("%m %a"));
    assert_eq!(single.output.format, Some(Format::Plain));
    assert_eq!(
        (
            single.exit.success.as_slice(),
            single.exit.failure.as_slice()
        ),
        (&[0, 3][..], &[4][..])
    );
    assert_eq!(
        (single.token.medium.as_str(), single.token.address.as_str()),
        ("%m", "@@")
    );
    assert_eq!(single.token.localpart, "{localpart}");
    assert_eq!(
        (single.timeout, single.max_output),
        (Duration::from_secs(30), 2048)
    );
    assert_eq!(config.bulk.token.address, "%a");
    assert_eq!(config.bulk.input.format, Some(Format::Json));
}

#[test]
fn errors_name_the_key_to_fix() {
    for (section, key) in [
        (
            &format!("  enabled: true\n{SINGLE}        input: {{type: xml}}\n"),
            "exec.identity.lookup.single.input.type",
        ),
        (
            &format!("  enabled: true\n{SINGLE}        exit: {{success: [0, 256]}}\n"),
            "exec.identity.lookup.single.exit.success",
        ),
        (
            &format!("  enabled: true\n{SINGLE}        exit: {{failure: [0]}}\n"),
            "exec.identity.lookup.single.exit.failure",
        ),
        (
            &format!("  enabled: true\n{SINGLE}        maxOutput: 0\n"),
            "exec.identity.lookup.single.maxOutput",
        ),
        (
            &format!("  enabled: true\n{SINGLE}        env: {{'A=B': x}}\n"),
            "exec.identity.lookup.single.env",
        ),
        (
            &format!(
                "  enabled: true\n{SINGLE}      bulk: {{command: b, output: {{type: plain}}}}\n"
            ),
            "exec.identity.lookup.bulk.output.type",
        ),
        (
            &format!("  enabled: true\n  concurrency: 0\n{SINGLE}"),
            "exec.concurrency",
        ),
        (
            &format!("  enabled: true\n{SINGLE}    hashLookup: true\n"),
            "exec.identity.hashLookup",
        ),
    ] {
        let (found, shown) = error(section);
        assert_eq!(found, key, "{shown}");
    }
}

#[test]
fn output_templates_are_ignored_with_a_warning_and_profiles_are_read() {
    let yaml = format!(
        "matrix: {{domain: example.org}}\nexec:\n  enabled: true\n  profile: {{role: {{command: r}}}}\n\
         {SINGLE}        output: {{type: json, template: x}}\n"
    );
    let loaded = parse(&yaml).unwrap();
    assert!(loaded.settings.exec.is_some());
    assert!(loaded.settings.exec_profile.is_some());
    assert!(
        !loaded
            .warnings
            .iter()
            .any(|w| matches!(w, ConfigWarning::NotUsedYet { path } if path == "exec.profile")),
        "{:?}",
        loaded.warnings
    );
    let shown: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert!(
        shown.iter().any(|w| w.contains("output.template")),
        "{shown:?}"
    );
}

#[test]
fn the_dump_reads_back_into_the_same_settings() {
    for section in [
        format!("  enabled: true\n{SINGLE}"),
        "  enabled: true\n  token: {address: '%a'}\n  identity:\n    hashLookup: true\n    refresh: 0\n    \
         lookup:\n      single: {command: s, args: ['%a'], input: {type: json, template: '{\"a\": \"%a\"}'}}\n      \
         bulk: {command: b, env: {X: y}, exit: {success: [0, 2]}}\n      all: {command: all, timeout: 2m}\n"
            .to_owned(),
    ] {
        let yaml = format!("matrix: {{domain: example.org}}\nexec:\n{section}");
        let settings = parse(&yaml).unwrap().settings;
        let dumped = effective_yaml(&settings);
        let again = parse(&dumped).unwrap();
        assert_eq!(again.warnings, [], "{dumped}");
        assert_eq!(again.settings.exec, settings.exec, "{dumped}");
    }
}

#[test]
fn without_a_command_the_store_is_still_on_as_ma1sd_skipped_the_action() {
    for section in [
        "  enabled: true\n",
        "  enabled: true\n  identity: {lookup: {single: {command: ' '}}}\n",
    ] {
        let settings = exec(section).unwrap().unwrap();
        assert_eq!(settings.config.single.command, None);
        assert_eq!(settings.config.bulk.command, None);
    }
}

#[test]
fn the_login_program_is_on_with_exec_enabled_or_its_own_flag_and_needs_a_command_when_asked_for() {
    let auth = |section: &str| {
        parse(&format!(
            "matrix: {{domain: example.org}}\nexec:\n{section}"
        ))
        .map(|loaded| loaded.settings.exec_auth)
    };
    let on = auth("  enabled: true\n  auth:\n    command: /opt/login\n    args: ['{password}']\n")
        .unwrap()
        .unwrap();
    assert_eq!(on.process.command.as_deref(), Some("/opt/login"));
    assert_eq!(on.process.args, ["{password}"]);
    assert_eq!(on.process.token.password, "{password}");
    assert_eq!(on.matrix_domain, "example.org");
    // Its own flag wins over exec.enabled, both ways.
    assert!(
        auth("  enabled: true\n  auth: {enabled: false, command: /opt/login}\n")
            .unwrap()
            .is_none()
    );
    assert!(
        auth("  auth: {enabled: true, command: /opt/login}\n")
            .unwrap()
            .is_some()
    );
    // exec.enabled for lookups alone needs no login program; an explicit one does.
    assert!(auth("  enabled: true\n").unwrap().is_none());
    let refused = auth("  auth: {enabled: true}\n").unwrap_err();
    assert_eq!(refused.key(), Some("exec.auth.command"), "{refused}");
}
