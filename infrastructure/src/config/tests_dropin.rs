//! mxisd/ma1sd files as they are: the predefined `matrix-org` label, every Twilio spelling,
//! the rotation that refuses clients, switched-on backends Verity lacks, the default policy's
//! notice and the log level given outside the file.
use pretty_assertions::assert_eq;

use super::tests::{label, parsed};
use super::*;
use crate::settings::ConnectorSettings;

const DOMAIN: &str = "matrix: {domain: example.org}\n";

fn with(rest: &str) -> String {
    format!("{DOMAIN}{rest}")
}

fn refused(yaml: &str) -> ConfigError {
    match parse(yaml) {
        Ok(loaded) => panic!("accepted: {:?}\n---\n{yaml}", loaded.warnings),
        Err(e) => e,
    }
}

#[test]
fn the_matrix_org_label_is_predefined_as_in_ma1sd_and_forward_and_to_remote_can_name_it() {
    let loaded = parsed(&with(
        "forward:\n  servers: ['matrix-org']\n\
         session:\n  policy:\n    validation:\n      forRemote:\n        toRemote:\n\
         \x20         server: 'matrix-org'\n",
    ));
    let s = &loaded.settings;
    assert_eq!(
        s.matrix.identity_servers[&label("matrix-org")],
        ["https://matrix.org"]
    );
    assert_eq!(
        s.lookups.recursive.forwarding.servers,
        [label("matrix-org")]
    );
    assert_eq!(
        s.session.validation.policy.for_remote.to_remote.server,
        label("matrix-org")
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn an_operator_can_redefine_matrix_org_and_adding_a_label_keeps_it() {
    let redefined = parsed(
        "matrix:\n  domain: example.org\n  identity:\n    servers:\n\
         \x20     matrix-org: ['https://id.example.net']\n",
    );
    assert_eq!(
        redefined.settings.matrix.identity_servers[&label("matrix-org")],
        ["https://id.example.net"]
    );
    let added = parsed(
        "matrix:\n  domain: example.org\n  identity:\n    servers:\n\
         \x20     corp: ['https://id.corp.example']\nforward:\n  servers: [corp, matrix-org]\n",
    );
    let servers = &added.settings.matrix.identity_servers;
    assert_eq!(servers[&label("matrix-org")], ["https://matrix.org"]);
    assert_eq!(servers[&label("corp")], ["https://id.corp.example"]);
}

fn twilio(block: &str) -> verity_adapter_notify::TwilioConfig {
    let loaded = parsed(&with(&format!(
        "threepid:\n  medium:\n    msisdn:\n      connectors:\n        twilio: {block}\n"
    )));
    assert!(loaded.warnings.is_empty(), "{block}: {:?}", loaded.warnings);
    match loaded.settings.threepid.msisdn.connector {
        ConnectorSettings::Twilio(config) => config,
        other => panic!("{block}: expected twilio, got {other:?}"),
    }
}

#[test]
fn twilio_keys_are_read_in_every_spelling_mxisd_and_ma1sd_accepted() {
    for block in [
        "{account_sid: AC1, auth_token: secret, number: '+15555555555'}",
        "{accountSid: AC1, authToken: secret, number: '+15555555555'}",
        "{account-sid: AC1, auth-token: secret, number: '+15555555555'}",
        "{accountSid: AC1, auth_token: secret, number: '+15555555555'}",
    ] {
        let config = twilio(block);
        assert_eq!(
            (
                config.account_sid.as_str(),
                config.auth_token.as_str(),
                config.number.as_str()
            ),
            ("AC1", "secret", "+15555555555"),
            "{block}"
        );
        assert_eq!(config.api_url, "https://api.twilio.com", "{block}");
    }
}

#[test]
fn a_twilio_block_missing_a_key_names_it_whatever_the_spelling_of_the_others() {
    let error = refused(&with(
        "threepid:\n  medium:\n    msisdn:\n      connectors:\n\
         \x20       twilio: {accountSid: AC1, number: '+15555555555'}\n",
    ));
    assert_eq!(
        error.key(),
        Some("threepid.medium.msisdn.connectors.twilio.auth_token"),
        "{error}"
    );
}

#[test]
fn two_spellings_of_one_twilio_key_are_refused_naming_the_block() {
    let error = refused(&with(
        "threepid:\n  medium:\n    msisdn:\n      connectors:\n\
         \x20       twilio: {accountSid: AC1, account_sid: AC2, auth_token: t, number: '+1555'}\n",
    ));
    let shown = error.to_string();
    assert!(
        shown.contains("threepid.medium.msisdn.connectors.twilio") && shown.contains("duplicate"),
        "{shown}"
    );
}

fn risky(loaded: &Loaded) -> Vec<String> {
    loaded
        .warnings
        .iter()
        .filter(|w| matches!(w, ConfigWarning::Risky { .. }))
        .map(ToString::to_string)
        .collect()
}

#[test]
fn ma1sds_sample_rotation_of_ten_requests_is_obeyed_with_a_warning_that_gives_the_fix() {
    let loaded = parsed(&with(
        "hashing:\n  enabled: true\n  rotationPolicy: per_requests\n  requests: 10\n",
    ));
    assert_eq!(
        loaded.settings.lookups.hashing.rotation,
        verity_application::usecases::RotationPolicy::PerRequests(10)
    );
    let shown = risky(&loaded);
    assert_eq!(shown.len(), 1, "{:?}", loaded.warnings);
    assert_eq!(loaded.warnings[0].path(), "hashing.requests");
    for says in [
        "every 10 lookups",
        "M_INVALID_PEPPER",
        "hashing.requests to 1000 or more",
        "per_seconds",
    ] {
        assert!(shown[0].contains(says), "{} does not say {says}", shown[0]);
    }
}

#[test]
fn per_requests_without_a_count_warns_about_ma1sds_default_of_ten() {
    let loaded = parsed(&with("hashing:\n  rotationPolicy: PER_REQUESTS\n"));
    let shown = risky(&loaded);
    assert!(
        shown.len() == 1 && shown[0].contains("every 10 lookups"),
        "{shown:?}"
    );
}

#[test]
fn a_rotation_every_thousand_lookups_or_by_age_or_with_hashing_off_gives_no_rotation_warning() {
    for hashing in [
        "{rotationPolicy: per_requests, requests: 1000}",
        "{rotationPolicy: per_seconds, delay: 7d}",
        "{enabled: false, rotationPolicy: per_requests, requests: 10}",
    ] {
        let loaded = parsed(&with(&format!("hashing: {hashing}\n")));
        assert!(
            risky(&loaded).is_empty(),
            "{hashing}: {:?}",
            loaded.warnings
        );
    }
}

#[test]
fn a_switched_on_backend_verity_does_not_have_stops_start_up_naming_its_section() {
    for (yaml, key) in [
        ("firebase: {enabled: true}\n", "firebase.enabled"),
        ("wordpress: {enabled: yes}\n", "wordpress.enabled"),
        ("appsvc: {enabled: true}\n", "appsvc.enabled"),
        ("internal: {enabled: true}\n", "internal.enabled"),
    ] {
        let error = refused(&with(yaml));
        let shown = error.to_string();
        assert_eq!(error.key(), Some(key), "{shown}");
        assert!(
            shown.contains("not supported by this version of Verity yet")
                && shown.contains(&format!("set {}: false", key)),
            "{shown}"
        );
    }
}

#[test]
fn a_switched_off_backend_section_stays_a_not_used_yet_warning() {
    let loaded = parsed(&with(
        "wordpress:\n  enabled: false\n  rest: {base: https://wp.example.org}\n\
         sql: {enabled: false}\nexec: {identity: {enabled: false}}\n",
    ));
    assert_eq!(
        loaded.warnings,
        [ConfigWarning::NotUsedYet {
            path: "wordpress".into()
        },]
    );
}

#[test]
fn without_session_policy_validation_a_notice_says_where_remote_addresses_go_and_the_fix() {
    let loaded = parsed(DOMAIN);
    assert_eq!(loaded.notices.len(), 1);
    let notice = &loaded.notices[0];
    assert_eq!(notice.key(), "session.policy.validation");
    let shown = notice.to_string();
    for says in [
        "outside example.org and all phone numbers",
        "`root` (https://matrix.org)",
        "session.policy.validation.forRemote.toLocal: true",
        "session.policy.validation.forRemote.toRemote.enabled: false",
    ] {
        assert!(shown.contains(says), "{shown} does not say {says}");
    }
}

#[test]
fn the_notice_names_the_servers_the_operator_listed_under_root() {
    let loaded = parsed(
        "matrix:\n  domain: example.org\n  identity:\n    servers:\n\
         \x20     root: ['https://id.example.net']\nsession:\n  policy:\n    validation:\n",
    );
    assert!(
        loaded.notices[0]
            .to_string()
            .contains("`root` (https://id.example.net)"),
        "{:?}",
        loaded.notices
    );
}

#[test]
fn writing_any_key_of_session_policy_validation_silences_the_notice() {
    for policy in [
        "{enabled: true}",
        "{forRemote: {toLocal: true, toRemote: {enabled: false}}}",
        "{forLocal: {toRemote: {server: root}}}",
    ] {
        let loaded = parsed(&with(&format!(
            "session:\n  policy:\n    validation: {policy}\n"
        )));
        assert!(loaded.notices.is_empty(), "{policy}: {:?}", loaded.notices);
    }
}

#[test]
fn v_and_vv_outrank_the_environment_which_outranks_the_file() {
    let level = |verbose, ma1sd, mxisd| {
        log_level_override(verbose, ma1sd, mxisd)
            .unwrap()
            .map(|o| (o.source, o.level))
    };
    assert_eq!(level(2, Some("info"), None), Some(("-vv", "trace".into())));
    assert_eq!(level(1, Some("info"), None), Some(("-v", "debug".into())));
    assert_eq!(
        level(0, Some("WARN"), Some("error")),
        Some(("MA1SD_LOG_LEVEL", "warn".into()))
    );
    assert_eq!(
        level(0, Some("  "), Some("Debug")),
        Some(("MXISD_LOG_LEVEL", "debug".into()))
    );
    assert_eq!(level(0, None, None), None);
}

#[test]
fn an_unknown_level_in_the_environment_is_an_error_naming_the_variable() {
    let error = log_level_override(0, None, Some("loud")).unwrap_err();
    assert_eq!(error.key(), Some("MXISD_LOG_LEVEL"));
    assert!(error.to_string().contains("trace, debug, info"), "{error}");
}

#[test]
fn an_override_changes_verity_s_level_and_keeps_logging_root() {
    let with_root = parsed(&with("logging: {root: error, app: info}\n"))
        .settings
        .logging;
    assert_eq!(
        with_root.with_app_level("trace").filter,
        "error,verity=trace"
    );
    let without = parsed(DOMAIN).settings.logging;
    assert_eq!(
        without.clone().with_app_level("debug").filter,
        "info,verity=debug"
    );
    assert_eq!(without.with_app_level("info").filter, "info");
}

#[test]
fn sydents_internal_bind_api_is_off_unless_turned_on_and_is_dumped() {
    let off = super::tests::parsed("matrix: {domain: example.org}\n");
    assert!(!off.settings.server.internal.bind_api);
    let on = super::tests::parsed(
        "matrix: {domain: example.org}\nserver: {internal: {bindApi: true}}\n",
    );
    assert!(on.settings.server.internal.bind_api);
    assert!(on.warnings.is_empty(), "{:?}", on.warnings);
    let dumped = crate::config::effective_yaml(&on.settings);
    assert!(dumped.contains("bindApi: true"), "{dumped}");
}

#[test]
fn a_shared_secret_written_with_surrounding_spaces_is_the_secret_without_them() {
    let loaded = super::tests::parsed(
        "matrix: {domain: example.org}\nserver: {internal: {secret: \"  s3cret\\n \"}}\n",
    );
    let secret = loaded.settings.server.internal.secret.as_ref();
    assert_eq!(secret.map(crate::settings::Secret::expose), Some("s3cret"));
    let blank = super::tests::parsed(
        "matrix: {domain: example.org}\nserver: {internal: {secret: \"   \"}}\n",
    );
    assert!(blank.settings.server.internal.secret.is_none());
}
