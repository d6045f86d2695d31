//! The configuration structs read mxisd's keys and have mxisd's defaults.

use pretty_assertions::assert_eq;
use verity_adapter_notify::{
    FileConfig, SenderIdentity, SmtpConfig, SplitValidationTemplates, TemplateConfig, TwilioConfig,
    ValidationTemplates,
};

#[test]
fn the_template_block_reads_mxisd_keys() {
    let config: TemplateConfig = serde_json::from_value(serde_json::json!({
        "invite": "/t/invite.eml",
        "session": {
            "validation": "/t/validate.eml",
            "unbind": {"notification": "/t/unbind.eml", "fraudulent": "/t/fraud.eml"}
        },
        "generic": {"matrixId": "/t/mxid.eml"},
        "placeholder": {"REGISTER_URL": "https://app.example.org"}
    }))
    .unwrap();
    assert_eq!(config.invite.as_deref(), Some("/t/invite.eml"));
    assert_eq!(
        config.session.validation,
        Some(ValidationTemplates::Path("/t/validate.eml".into()))
    );
    assert_eq!(
        config.session.unbind.notification.as_deref(),
        Some("/t/unbind.eml")
    );
    assert_eq!(
        config.session.unbind.fraudulent.as_deref(),
        Some("/t/fraud.eml")
    );
    assert_eq!(config.generic.matrix_id.as_deref(), Some("/t/mxid.eml"));
    assert_eq!(
        config.placeholder.register_url.as_deref(),
        Some("https://app.example.org")
    );
    assert_eq!(
        serde_json::from_value::<TemplateConfig>(serde_json::json!({})).unwrap(),
        TemplateConfig::default()
    );
}

#[test]
fn the_v1_2_validation_block_reads_local_and_remote() {
    let config: TemplateConfig = serde_json::from_value(serde_json::json!({
        "session": {"validation": {"local": "/l.eml", "remote": "/r.eml"}}
    }))
    .unwrap();
    assert_eq!(
        config.session.validation,
        Some(ValidationTemplates::Split(SplitValidationTemplates {
            local: Some("/l.eml".into()),
            remote: Some("/r.eml".into()),
        }))
    );
}

#[test]
fn connector_blocks_read_snake_case_keys_and_default_like_mxisd() {
    let smtp: SmtpConfig = serde_json::from_value(serde_json::json!({"host": "mail"})).unwrap();
    assert_eq!((smtp.host.as_str(), smtp.port, smtp.tls), ("mail", 587, 1));
    assert_eq!((smtp.login, smtp.password), (None, None));
    assert!(!smtp.insecure_skip_tls_verify && smtp.tls_ca_file.is_none());

    let smtp: SmtpConfig = serde_json::from_value(serde_json::json!({
        "host": "mail", "port": 465, "tls": 3, "login": "u", "password": "p",
        "insecure_skip_tls_verify": true, "tls_ca_file": "/ca.pem"
    }))
    .unwrap();
    assert_eq!(
        (smtp.port, smtp.tls, smtp.insecure_skip_tls_verify),
        (465, 3, true)
    );
    assert!(!format!("{smtp:?}").contains("\"p\""), "{smtp:?}");

    let twilio: TwilioConfig = serde_json::from_value(serde_json::json!({
        "account_sid": "AC1", "auth_token": "s3cr3t-value", "number": "+1555"
    }))
    .unwrap();
    assert_eq!(twilio.api_url, "https://api.twilio.com");
    assert_eq!(
        (twilio.account_sid.as_str(), twilio.number.as_str()),
        ("AC1", "+1555")
    );
    assert!(
        !format!("{twilio:?}").contains("s3cr3t-value"),
        "{twilio:?}"
    );

    let file: FileConfig = serde_json::from_value(serde_json::json!({})).unwrap();
    assert_eq!(file.directory, std::path::PathBuf::from("data/outbox"));

    let identity: SenderIdentity =
        serde_json::from_value(serde_json::json!({"from": "id@example.org"})).unwrap();
    assert_eq!(
        (identity.from.as_str(), identity.name.as_str()),
        ("id@example.org", "")
    );
}
