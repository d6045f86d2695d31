//! The `file` and `none` connectors.

use std::os::unix::fs::PermissionsExt;

use verity_adapter_notify::{FileConfig, FileConnector, NoneConnector, TemplateConfig};
use verity_application::ports::driven::{Notification, NotificationConnector};
use verity_domain::{Medium, SessionMode};

use crate::*;

fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn the_file_connector_writes_each_email_to_a_new_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("data/outbox");
    let connector = FileConnector::new(
        &FileConfig {
            directory: outbox.clone(),
        },
        &identity(),
    )
    .unwrap();
    let generator = generator(Medium::Email, &TemplateConfig::default());
    let email = Notification::Email(render_email(
        &generator,
        &email_notice("alice@example.org", LINK),
    ));
    connector.send(&email).await.unwrap();
    connector.send(&email).await.unwrap();

    let written = files(&outbox);
    assert_eq!(written.len(), 2, "{written:?}");
    for path in &written {
        assert_eq!(path.extension().unwrap(), "eml");
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{path:?}");
    }
    let content = std::fs::read_to_string(&written[0]).unwrap();
    assert!(
        content.contains("From: \"Example Identity\" <identity@example.org>\n"),
        "{content}"
    );
    assert!(content.contains("To: alice@example.org\n"));
    assert!(content.contains("Subject: Your Matrix validation token\n"));
    assert!(content.contains(LINK), "{content}");
    assert!(content.contains("Content-Type: text/html; charset=UTF-8"));
    let parsed = verity_testkit::smtp::ParsedMail::parse(&content);
    assert!(parsed.text.unwrap().contains(LINK));
    assert!(parsed.html.is_some());
}

#[tokio::test]
async fn the_file_connector_writes_an_sms_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let connector = FileConnector::new(
        &FileConfig {
            directory: dir.path().to_owned(),
        },
        &identity(),
    )
    .unwrap();
    let generator = generator(Medium::Msisdn, &TemplateConfig::default());
    let sms = Notification::Sms(render_sms(
        &generator,
        &sms_notice("447911123456", SessionMode::Local),
    ));
    connector.send(&sms).await.unwrap();
    let written = files(dir.path());
    assert_eq!(written[0].extension().unwrap(), "txt");
    let content = std::fs::read_to_string(&written[0]).unwrap();
    assert!(content.contains("To: +447911123456\n"), "{content}");
    assert!(
        content.ends_with("\n\nYour Matrix token is 123456\n"),
        "{content}"
    );
}

#[test]
fn the_file_connector_defaults_to_data_outbox_and_names_a_directory_it_cannot_create() {
    assert_eq!(
        FileConfig::default().directory,
        std::path::PathBuf::from("data/outbox")
    );
    let dir = tempfile::tempdir().unwrap();
    let blocker = write(&dir, "file", "x");
    let error = FileConnector::new(
        &FileConfig {
            directory: blocker.join("sub"),
        },
        &identity(),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("connectors.file.directory"),
        "{error}"
    );
}

#[tokio::test]
async fn the_none_connector_drops_messages_successfully() {
    let generator = generator(Medium::Msisdn, &TemplateConfig::default());
    let sms = Notification::Sms(render_sms(
        &generator,
        &sms_notice("447911123456", SessionMode::Local),
    ));
    NoneConnector::new().send(&sms).await.unwrap();
}
