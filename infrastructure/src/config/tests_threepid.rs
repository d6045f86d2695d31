//! `threepid.medium.*` and `notification.handler.*`.
use std::path::PathBuf;

use pretty_assertions::assert_eq;
use verity_adapter_notify::{
    FileConfig, SenderIdentity, SmtpConfig, SplitValidationTemplates, TemplateConfig, TwilioConfig,
    ValidationTemplates,
};

use super::tests::parsed;
use super::*;
use crate::settings::{ConnectorSettings, MediumSettings};

const MA1SD_THREEPID: &str = r"
matrix:
  domain: example.org
threepid:
  medium:
    email:
      identity:
        from: 'matrix-id@example.org'
        name: 'Example Matrix Identity'
      connectors:
        smtp:
          host: 'smtp.example.org'
          tls: 2
          port: 587
          login: 'matrix-id@example.org'
          password: 'smtp-password'
      generators:
        template:
          invite: '/etc/ma1sd/invite-template.eml'
          session:
            validation: '/etc/ma1sd/validate-template.eml'
            unbind:
              notification: '/etc/ma1sd/unbind-notification.eml'
          generic:
            matrixId: '/etc/ma1sd/mxid-template.eml'
          placeholder:
            REGISTER_URL: 'https://app.example.org/#/register'
    msisdn:
      connector: twilio
      generator: template
      connectors:
        twilio:
          account_sid: 'ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'
          auth_token: 'twilio-token'
          number: '+15555555555'
      generators:
        template:
          session:
            validation: '/etc/ma1sd/validate-template.txt'
";

fn smtp_of(medium: &MediumSettings) -> &SmtpConfig {
    match &medium.connector {
        ConnectorSettings::Smtp(config) => config,
        other => panic!("expected smtp, got {other:?}"),
    }
}

fn twilio_of(medium: &MediumSettings) -> &TwilioConfig {
    match &medium.connector {
        ConnectorSettings::Twilio(config) => config,
        other => panic!("expected twilio, got {other:?}"),
    }
}

pub(super) fn refused(yaml: &str) -> ConfigError {
    match parse(yaml) {
        Ok(_) => panic!("the configuration was accepted:\n{yaml}"),
        Err(e) => e,
    }
}

pub(super) fn with_threepid(medium: &str) -> String {
    format!("matrix: {{domain: example.org}}\nthreepid:\n  medium:\n{medium}")
}

#[test]
fn a_realistic_ma1sd_threepid_block_parses_into_the_connector_and_template_settings() {
    let loaded = parsed(MA1SD_THREEPID);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let email = &loaded.settings.threepid.email;
    assert!(email.configured);
    assert_eq!(
        email.identity,
        SenderIdentity {
            from: "matrix-id@example.org".into(),
            name: "Example Matrix Identity".into(),
        }
    );
    assert_eq!(
        *smtp_of(email),
        SmtpConfig {
            host: "smtp.example.org".into(),
            port: 587,
            tls: 2,
            login: Some("matrix-id@example.org".into()),
            password: Some("smtp-password".into()),
            ..SmtpConfig::default()
        }
    );
    let template = &email.generator;
    assert_eq!(
        template.invite.as_deref(),
        Some("/etc/ma1sd/invite-template.eml")
    );
    assert_eq!(
        template.session.validation,
        Some(ValidationTemplates::Path(
            "/etc/ma1sd/validate-template.eml".into()
        ))
    );
    assert_eq!(
        template.session.unbind.notification.as_deref(),
        Some("/etc/ma1sd/unbind-notification.eml")
    );
    assert_eq!(
        template.generic.matrix_id.as_deref(),
        Some("/etc/ma1sd/mxid-template.eml")
    );
    assert_eq!(
        template.placeholder.register_url.as_deref(),
        Some("https://app.example.org/#/register")
    );

    let msisdn = &loaded.settings.threepid.msisdn;
    assert!(msisdn.configured);
    assert_eq!(
        *twilio_of(msisdn),
        TwilioConfig {
            account_sid: "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".into(),
            auth_token: "twilio-token".into(),
            number: "+15555555555".into(),
            ..TwilioConfig::default()
        }
    );
    assert_eq!(
        msisdn.generator.session.validation,
        Some(ValidationTemplates::Path(
            "/etc/ma1sd/validate-template.txt".into()
        ))
    );
}

#[test]
fn without_threepid_email_is_an_unconfigured_smtp_and_msisdn_an_unconfigured_twilio() {
    let s = parsed("matrix: {domain: example.org}").settings;
    assert!(!s.threepid.email.configured);
    assert_eq!(*smtp_of(&s.threepid.email), SmtpConfig::default());
    assert_eq!(s.threepid.email.identity, SenderIdentity::default());
    assert_eq!(s.threepid.email.generator, TemplateConfig::default());
    assert!(!s.threepid.msisdn.configured);
    assert_eq!(*twilio_of(&s.threepid.msisdn), TwilioConfig::default());
}

#[test]
fn the_blank_placeholders_of_the_ma1sd_example_leave_both_media_unconfigured() {
    let loaded = parsed(&with_threepid(
        "    email:\n      identity: {from: '', name: ''}\n      connector: smtp\n\
         \x20     connectors:\n        smtp: {host: '', port: 587, tls: 1, login: '', password: ''}\n\
         \x20   msisdn:\n      connector: twilio\n\
         \x20     connectors:\n        twilio: {account_sid: '', auth_token: '', number: ''}\n",
    ));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let s = loaded.settings;
    assert!(!s.threepid.email.configured);
    assert_eq!(*smtp_of(&s.threepid.email), SmtpConfig::default());
    // mxisd: without Twilio credentials SMS is unavailable, which is no reason not to start.
    assert!(!s.threepid.msisdn.configured);
}

#[test]
fn connector_file_and_none_are_chosen_per_medium_and_count_as_configured() {
    let s = parsed(&with_threepid(
        "    email:\n      connector: file\n      connectors: {file: {directory: /tmp/outbox}}\n\
         \x20   msisdn:\n      connector: NONE\n",
    ))
    .settings;
    assert!(s.threepid.email.configured && s.threepid.msisdn.configured);
    assert!(matches!(
        &s.threepid.email.connector,
        ConnectorSettings::File(FileConfig { directory }) if directory == std::path::Path::new("/tmp/outbox")
    ));
    assert!(matches!(
        s.threepid.msisdn.connector,
        ConnectorSettings::None
    ));

    let s = parsed(&with_threepid("    msisdn:\n      connector: file\n")).settings;
    assert!(matches!(
        &s.threepid.msisdn.connector,
        ConnectorSettings::File(config) if *config == FileConfig::default()
    ));
}

#[test]
fn a_connector_the_medium_cannot_use_is_an_error_naming_the_key() {
    for (medium, wrong, expected) in [
        ("email", "twilio", "smtp, file, none"),
        ("msisdn", "smtp", "twilio, file, none"),
        ("email", "sendgrid", "smtp, file, none"),
    ] {
        let error = refused(&with_threepid(&format!(
            "    {medium}:\n      connector: {wrong}\n"
        )));
        assert_eq!(
            error.key(),
            Some(format!("threepid.medium.{medium}.connector").as_str())
        );
        assert!(error.to_string().contains(expected), "{error}");
    }
}

#[test]
fn a_generator_other_than_template_is_an_error_naming_the_key() {
    let error = refused(&with_threepid("    email:\n      generator: foo\n"));
    assert_eq!(error.key(), Some("threepid.medium.email.generator"));
    assert!(error.to_string().contains("`template`"), "{error}");
    parsed(&with_threepid("    msisdn:\n      generator: template\n"));
}

#[test]
fn a_bad_tls_a_port_that_is_not_a_number_or_a_bad_type_names_its_key() {
    let smtp = |block: &str| {
        refused(&with_threepid(&format!(
            "    email:\n      connectors:\n        smtp: {block}\n"
        )))
    };
    let base = "threepid.medium.email.connectors.smtp";
    let error = smtp("{tls: 7}");
    assert_eq!(error.key(), Some(format!("{base}.tls").as_str()));
    assert!(error.to_string().contains("7 is not one of 0"), "{error}");
    assert_eq!(
        smtp("{port: smtp}").key(),
        Some(format!("{base}.port").as_str())
    );
    assert_eq!(
        smtp("{port: 0}").key(),
        Some(format!("{base}.port").as_str())
    );
    assert_eq!(
        smtp("{insecure_skip_tls_verify: maybe}").key(),
        Some(format!("{base}.insecure_skip_tls_verify").as_str())
    );
    let error = refused(&with_threepid(
        "    msisdn:\n      connectors:\n        twilio: {number: [1]}\n",
    ));
    assert_eq!(
        error.key(),
        Some("threepid.medium.msisdn.connectors.twilio.number")
    );
}

#[test]
fn smtp_numbers_and_booleans_are_as_lenient_as_everywhere_else() {
    let s = parsed(&with_threepid(
        "    email:\n      connectors:\n        smtp: {host: mx, port: '2525', tls: '3', \
         insecure_skip_tls_verify: yes, password: 012345, tls_ca_file: /etc/ca.pem}\n",
    ))
    .settings;
    let smtp = smtp_of(&s.threepid.email);
    assert_eq!((smtp.port, smtp.tls), (2525, 3));
    assert!(smtp.insecure_skip_tls_verify);
    assert_eq!(smtp.password.as_deref(), Some("012345"));
    assert_eq!(smtp.tls_ca_file, Some(PathBuf::from("/etc/ca.pem")));
}

#[test]
fn a_half_filled_twilio_block_is_an_error_naming_the_missing_key() {
    let error = refused(&with_threepid(
        "    msisdn:\n      connectors:\n        twilio: {account_sid: AC1, number: '+1555'}\n",
    ));
    assert!(matches!(error, ConfigError::Missing { .. }), "{error}");
    assert_eq!(
        error.key(),
        Some("threepid.medium.msisdn.connectors.twilio.auth_token")
    );
    let error = refused(&with_threepid(
        "    msisdn:\n      connectors:\n        twilio: {api_url: 'api.twilio.com'}\n",
    ));
    assert_eq!(
        error.key(),
        Some("threepid.medium.msisdn.connectors.twilio.api_url")
    );
}

#[test]
fn the_v1_2_split_validation_template_is_read_and_dumped_in_its_own_shape() {
    let loaded = parsed(&with_threepid(
        "    email:\n      generators:\n        template:\n          session:\n\
         \x20           validation: {local: /l.eml, remote: /r.eml}\n",
    ));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let validation = &loaded.settings.threepid.email.generator.session.validation;
    assert_eq!(
        *validation,
        Some(ValidationTemplates::Split(SplitValidationTemplates {
            local: Some("/l.eml".into()),
            remote: Some("/r.eml".into()),
        }))
    );
    assert!(loaded.settings.threepid.email.configured);
    let yaml = effective_yaml(&loaded.settings);
    assert_eq!(
        parsed(&yaml)
            .settings
            .threepid
            .email
            .generator
            .session
            .validation,
        *validation
    );
}

#[test]
fn the_dump_redacts_password_and_auth_token_and_reads_back_to_the_same_settings() {
    let first = parsed(MA1SD_THREEPID).settings;
    let yaml = effective_yaml(&first);
    for secret in ["smtp-password", "twilio-token"] {
        assert!(!yaml.contains(secret), "{yaml}");
    }
    assert!(yaml.contains("password: <redacted>"), "{yaml}");
    assert!(yaml.contains("auth_token: <redacted>"), "{yaml}");
    let again = parsed(&yaml);
    assert!(again.warnings.is_empty(), "{:?}", again.warnings);
    assert_eq!(effective_yaml(&again.settings), yaml);
    let (email, msisdn) = (
        &again.settings.threepid.email,
        &again.settings.threepid.msisdn,
    );
    assert!(email.configured && msisdn.configured);
    assert_eq!(email.identity, first.threepid.email.identity);
    assert_eq!(email.generator, first.threepid.email.generator);
    assert_eq!(smtp_of(email).password.as_deref(), Some("<redacted>"));
    assert_eq!(
        SmtpConfig {
            password: None,
            ..smtp_of(email).clone()
        },
        SmtpConfig {
            password: None,
            ..smtp_of(&first.threepid.email).clone()
        }
    );
    assert_eq!(twilio_of(msisdn).auth_token, "<redacted>");
    assert_eq!(twilio_of(msisdn).number, "+15555555555");

    // Unconfigured media read back unconfigured, and `file` / `none` as themselves.
    for yaml in [
        "matrix: {domain: example.org}".to_owned(),
        with_threepid("    email: {connector: file}\n    msisdn: {connector: none}\n"),
    ] {
        let first = parsed(&yaml).settings;
        let dumped = effective_yaml(&first);
        let again = parsed(&dumped);
        assert!(again.warnings.is_empty(), "{:?}", again.warnings);
        assert_eq!(effective_yaml(&again.settings), dumped);
        let again = again.settings.threepid;
        assert_eq!(again.email.configured, first.threepid.email.configured);
        assert_eq!(again.msisdn.configured, first.threepid.msisdn.configured);
    }
}

#[test]
fn blank_template_paths_mean_the_built_in_templates() {
    let loaded = parsed(&with_threepid(
        "    email:\n      generators:\n        template:\n          invite: ''\n\
         \x20         session: {validation: '', unbind: {notification: ' '}}\n\
         \x20         generic: {matrixId: ''}\n          placeholder: {REGISTER_URL: ''}\n\
         \x20   msisdn:\n      generators:\n        template:\n\
         \x20         session: {validation: {local: '', remote: ''}}\n",
    ));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let threepid = loaded.settings.threepid;
    assert_eq!(threepid.email.generator, TemplateConfig::default());
    assert_eq!(threepid.msisdn.generator, TemplateConfig::default());
    assert!(!threepid.email.configured);
}
