//! mxisd 1.0-1.2 files (Spring Boot) write keys as one dotted name at the top level.
use pretty_assertions::assert_eq;
use verity_domain::ValidationPolicy;

use super::tests::{label, parsed};
use super::*;
use crate::settings::ConnectorSettings;

#[test]
fn mxisd_1_2s_own_sample_file_with_dotted_keys_is_read_as_the_nested_form() {
    // mxisd v1.2.2 application.example.yaml, its keys as shipped and `domain` filled in.
    let loaded = parsed(
        "matrix.domain: 'example.org'\nkey.path: '/var/lib/mxisd/keys'\n\
         storage.provider.sqlite.database: '/var/lib/mxisd/mxisd.db'\n\
         threepid.medium.email.connectors.smtp.host: \"smtp.example.org\"\n\
         threepid.medium.email.connectors.smtp.port: 587\n\
         threepid.medium.email.connectors.smtp.login: \"matrix-identity@example.org\"\n\
         threepid.medium.email.connectors.smtp.password: \"ThePassword\"\n\
         threepid.medium.email.identity.from: \"matrix-identity@example.org\"\n",
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let s = loaded.settings;
    assert_eq!(s.matrix.domain.as_str(), "example.org");
    assert_eq!(s.key.path, std::path::Path::new("/var/lib/mxisd/keys"));
    let ConnectorSettings::Smtp(smtp) = &s.threepid.email.connector else {
        panic!("expected smtp, got {:?}", s.threepid.email.connector);
    };
    assert_eq!((smtp.host.as_str(), smtp.port), ("smtp.example.org", 587));
    assert_eq!(
        s.threepid.email.identity.from,
        "matrix-identity@example.org"
    );
}

#[test]
fn the_v1_2_docs_dotted_policy_blocks_set_the_policy() {
    // mxisd v1.2.2 docs/threepids/session/session.md, "local only".
    let loaded = parsed(
        "matrix.domain: example.org\n\
         session.policy.validation.enabled: true\n\
         session.policy.validation.forLocal:\n  enabled: true\n  toLocal: true\n\
         \x20 toRemote:\n    enabled: false\n\
         session.policy.validation.forRemote:\n  enabled: true\n  toLocal: true\n\
         \x20 toRemote:\n    enabled: false\n",
    );
    let policy = &loaded.settings.session.validation.policy;
    let mut local_only = ValidationPolicy::defaults(label("root"));
    local_only.for_local.to_remote.enabled = false;
    local_only.for_remote.to_local = true;
    local_only.for_remote.to_remote.enabled = false;
    assert_eq!(*policy, local_only);
    assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
}

#[test]
fn dotted_and_nested_keys_of_one_section_are_merged_and_twilio_takes_the_1_0_docs_spelling() {
    let loaded = parsed(
        "matrix:\n  domain: example.org\nmatrix.identity.servers.corp: ['https://id.corp.example']\n\
         threepid.medium.msisdn.connectors.twilio.accountSid: 'myAccountSid'\n\
         threepid.medium.msisdn.connectors.twilio.authToken: 'myAuthToken'\n\
         threepid.medium.msisdn.connectors.twilio.number: '+123456789'\n",
    );
    let s = loaded.settings;
    assert_eq!(
        s.matrix.identity_servers[&label("corp")],
        ["https://id.corp.example"]
    );
    let ConnectorSettings::Twilio(twilio) = &s.threepid.msisdn.connector else {
        panic!("expected twilio, got {:?}", s.threepid.msisdn.connector);
    };
    assert_eq!(
        (twilio.account_sid.as_str(), twilio.number.as_str()),
        ("myAccountSid", "+123456789")
    );
}

#[test]
fn a_value_set_both_dotted_and_nested_is_an_error_naming_the_dotted_key() {
    let error = parse("matrix:\n  domain: example.org\nmatrix.domain: example.net\n").unwrap_err();
    assert_eq!(error.key(), Some("matrix.domain"), "{error}");
    assert!(error.to_string().contains("set twice"), "{error}");
}

#[test]
fn a_dotted_key_of_an_unknown_section_is_still_reported_as_unknown() {
    let loaded = parsed("matrix.domain: example.org\nmy.config.item: value\n");
    assert_eq!(
        loaded
            .warnings
            .iter()
            .map(ConfigWarning::path)
            .collect::<Vec<_>>(),
        ["my.config.item"]
    );
}

#[test]
fn a_dotted_enabled_backend_stops_start_up_like_the_nested_one() {
    let error = parse("matrix.domain: example.org\nfirebase.enabled: true\n").unwrap_err();
    assert_eq!(error.key(), Some("firebase.enabled"), "{error}");
}

#[test]
fn mxisd_1_x_placeholders_copy_another_key_s_value() {
    let loaded = parsed(
        "matrix:\n  domain: example.org\nserver:\n  name: '${matrix.domain}'\n\
         \x20 publicUrl: 'https://${server.name}/identity'\n\
         threepid.medium.email.identity.from: 'id@${matrix.domain}'\n",
    );
    let s = loaded.settings;
    assert_eq!(s.server.name, "example.org");
    assert_eq!(s.server.public_url, "https://example.org/identity");
    assert_eq!(s.threepid.email.identity.from, "id@example.org");
}

#[test]
fn server_name_defaults_to_matrix_domain_and_an_unknown_placeholder_is_reported_at_its_key() {
    let loaded = parsed(
        "matrix.domain: example.org\nserver.publicUrl: 'https://${server.name}:${port:8443}'\n",
    );
    assert_eq!(
        loaded.settings.server.public_url,
        "https://example.org:8443"
    );
    let error = parse("matrix.domain: example.org\nserver.name: '${nowhere.key}'\n").unwrap_err();
    assert_eq!(error.key(), Some("server.name"), "{error}");
    assert!(error.to_string().contains("${nowhere.key}"), "{error}");
}
