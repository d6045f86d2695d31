//! The warnings about `threepid.medium.*` and `notification.handler.*`: unknown keys inside the
//! connector and generator blocks, blocks that are not used, media Verity does not have.
use pretty_assertions::assert_eq;

use super::tests::parsed;
use super::tests_threepid::{refused, with_threepid};
use super::*;

#[test]
fn an_unknown_key_inside_a_connector_or_generator_block_warns_with_its_full_path() {
    let loaded = parsed(&with_threepid(
        "    email:\n      connectors:\n        smtp: {hots: smtp.example.org}\n\
         \x20     generators:\n        template: {sesion: {validation: /x.eml}}\n\
         \x20   msisdn:\n      connectors:\n        twilio: {acountSid: AC1}\n",
    ));
    let shown: Vec<(String, String)> = loaded
        .warnings
        .iter()
        .map(|w| (w.path().to_owned(), w.to_string()))
        .collect();
    let expect = [
        (
            "threepid.medium.email.connectors.smtp.hots",
            "threepid.medium.email.connectors.smtp.host",
        ),
        (
            "threepid.medium.email.generators.template.sesion",
            "threepid.medium.email.generators.template.session",
        ),
        // Every spelling Twilio's block reads is a known key; the nearest one is suggested.
        (
            "threepid.medium.msisdn.connectors.twilio.acountSid",
            "threepid.medium.msisdn.connectors.twilio.accountSid",
        ),
    ];
    assert_eq!(shown.len(), expect.len(), "{shown:?}");
    for ((path, text), (want_path, suggestion)) in shown.iter().zip(expect) {
        assert_eq!(path, want_path);
        assert!(
            text.contains(&format!("did you mean `{suggestion}`")),
            "{text}"
        );
    }
}

#[test]
fn blocks_of_connectors_the_medium_does_not_use_are_type_checked_and_reported() {
    let loaded = parsed(&with_threepid(
        "    email:\n      connector: file\n      connectors:\n        smtp: {host: mx}\n\
         \x20   msisdn:\n      connector: none\n      connectors:\n\
         \x20       twilio: {account_sid: AC1}\n        file: {directory: out}\n",
    ));
    assert_eq!(
        loaded.warnings,
        [
            ConfigWarning::Unused {
                path: "threepid.medium.email.connectors.smtp".into(),
                reason: "threepid.medium.email.connector is `file`".into(),
            },
            ConfigWarning::Unused {
                path: "threepid.medium.msisdn.connectors.twilio".into(),
                reason: "threepid.medium.msisdn.connector is `none`".into(),
            },
            ConfigWarning::Unused {
                path: "threepid.medium.msisdn.connectors.file".into(),
                reason: "threepid.medium.msisdn.connector is `none`".into(),
            },
        ]
    );
    assert_eq!(
        loaded.warnings[0].to_string(),
        "`threepid.medium.email.connectors.smtp` is not used: \
         threepid.medium.email.connector is `file`"
    );
    let error = refused(&with_threepid(
        "    email:\n      connector: file\n      connectors:\n        smtp: {port: x}\n",
    ));
    assert_eq!(
        error.key(),
        Some("threepid.medium.email.connectors.smtp.port")
    );
}

#[test]
fn media_other_than_email_and_msisdn_are_reported_and_near_misses_suggested() {
    let loaded = parsed(&with_threepid(
        "    threepid:\n      connector: none\n    emial:\n      connector: none\n",
    ));
    assert!(
        matches!(&loaded.warnings[0], ConfigWarning::Ignored { path, reason }
            if path == "threepid.medium.threepid" && reason.contains("`email` and `msisdn`")),
        "{:?}",
        loaded.warnings
    );
    assert_eq!(
        loaded.warnings[1],
        ConfigWarning::UnknownKey {
            path: "threepid.medium.emial".into(),
            suggestion: Some("threepid.medium.email".into()),
        }
    );
}

#[test]
fn notification_handler_raw_is_what_verity_does_and_other_handlers_are_reported() {
    let loaded = parsed(
        "matrix: {domain: example.org}\n\
         notification:\n  handler: {email: raw, msisdn: sendgrid, sms: raw}\n\
         \x20 handlers:\n    sendgrid: {api: {key: secret}}\n",
    );
    let paths: Vec<&str> = loaded.warnings.iter().map(ConfigWarning::path).collect();
    assert_eq!(
        paths,
        [
            "notification.handler.sms",
            "notification.handlers",
            "notification.handler.msisdn"
        ]
    );
    assert!(matches!(
        loaded.warnings[1],
        ConfigWarning::NotUsedYet { .. }
    ));
    assert!(
        loaded.warnings[2].to_string().contains("`sendgrid`"),
        "{}",
        loaded.warnings[2]
    );
}
