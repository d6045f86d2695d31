//! The SMTP connector against the testkit's SMTP server.

use std::time::Duration;

use pretty_assertions::assert_eq;
use verity_adapter_notify::{SenderIdentity, SmtpConfig, SmtpConnector, TemplateConfig};
use verity_application::ports::driven::{
    Notification, NotificationConnector, NotifyError, SmsMessage,
};
use verity_domain::{Medium, Msisdn};
use verity_testkit::smtp::{CapturedMail, SmtpServer, first_link};

use crate::*;

const WAIT: Duration = Duration::from_secs(5);

fn config(port: u16, tls: u8) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        tls,
        ..SmtpConfig::default()
    }
}

fn connector(config: &SmtpConfig) -> SmtpConnector {
    SmtpConnector::new(config, &identity()).unwrap()
}

/// The built-in validation email for `to`.
fn validation_email(to: &str) -> Notification {
    let generator = generator(Medium::Email, &TemplateConfig::default());
    Notification::Email(render_email(&generator, &email_notice(to, LINK)))
}

async fn received(server: &SmtpServer) -> CapturedMail {
    server.wait_for_mail(WAIT).await.expect("no mail arrived")
}

#[tokio::test]
async fn a_plain_smtp_server_receives_a_multipart_message_with_the_right_headers() {
    let server = SmtpServer::start().await;
    let identity = SenderIdentity {
        from: "identity@example.org".into(),
        name: "Vérity Admins".into(),
    };
    let connector = SmtpConnector::new(&config(server.port(), 0), &identity).unwrap();
    let mut notification = validation_email("alice@example.org");
    if let Notification::Email(email) = &mut notification {
        email.subject = "Vérifiez votre adresse".into();
    }
    connector.send(&notification).await.unwrap();

    let mail = received(&server).await;
    assert_eq!(mail.from, "identity@example.org");
    assert_eq!(mail.to, vec!["alice@example.org".to_owned()]);
    assert!(!mail.tls && mail.auth.is_none());
    let parsed = mail.parse();
    assert_eq!(parsed.subject().as_deref(), Some("Vérifiez votre adresse"));
    assert!(
        parsed.header("subject").unwrap().starts_with("=?utf-8?"),
        "{parsed:?}"
    );
    let from = parsed.decoded_header("from").unwrap();
    assert!(
        from.contains("Vérity Admins") && from.contains("<identity@example.org>"),
        "{from}"
    );
    assert_eq!(parsed.header("to"), Some("alice@example.org"));
    assert!(parsed.header("date").is_some());
    let message_id = parsed.header("message-id").unwrap();
    assert!(message_id.ends_with("@example.org>"), "{message_id}");
    assert!(
        parsed
            .header("content-type")
            .unwrap()
            .starts_with("multipart/alternative")
    );
    let text = parsed.text.unwrap();
    assert_eq!(first_link(&text).as_deref(), Some(LINK));
    assert!(parsed.html.unwrap().contains("Confirm my email address"));
}

#[tokio::test]
async fn every_message_gets_a_fresh_random_boundary() {
    let server = SmtpServer::start().await;
    let connector = connector(&config(server.port(), 0));
    let notification = validation_email("alice@example.org");
    connector.send(&notification).await.unwrap();
    connector.send(&notification).await.unwrap();
    let first = received(&server).await.parse().boundaries;
    let second = received(&server).await.parse().boundaries;
    assert_eq!((first.len(), second.len()), (1, 1));
    assert_ne!(first, second);
    assert!(first[0].len() >= 20, "{first:?}");
    assert!(!first[0].contains("verity-builtin-template"));
}

#[tokio::test]
async fn values_cannot_add_headers_or_parts_to_the_sent_message() {
    let server = SmtpServer::start().await;
    let connector = connector(&config(server.port(), 0));
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "t.eml",
        "Subject: Confirm %VALIDATION_LINK%\nContent-Type: multipart/alternative; boundary=fixed\n\n\
         --fixed\nContent-Type: text/plain\n\n%VALIDATION_LINK%\n--fixed\nContent-Type: text/html\n\n\
         <p>%VALIDATION_LINK%</p>\n--fixed--\n",
    );
    let generator = generator(Medium::Email, &validation_template(&path));
    let evil = "https://x.example/\r\nBcc: eve@evil.example\r\n\r\n--fixed\r\nContent-Type: text/html\r\n\r\n<h1>phish</h1>";
    let email = render_email(&generator, &email_notice("alice@example.org", evil));
    connector.send(&Notification::Email(email)).await.unwrap();

    let mail = received(&server).await;
    assert_eq!(mail.to, vec!["alice@example.org".to_owned()]);
    let parsed = mail.parse();
    assert_eq!(parsed.header_count("subject"), 1);
    assert_eq!(parsed.header_count("bcc"), 0);
    assert_eq!(parsed.part_types.len(), 2, "{:?}", parsed.part_types);
    assert!(parsed.html.unwrap().contains("&lt;h1&gt;phish&lt;/h1&gt;"));
}

#[tokio::test]
async fn starttls_required_against_a_self_signed_server_fails_by_default() {
    let server = SmtpServer::builder().starttls().start().await;
    let error = connector(&config(server.port(), 2))
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap_err();
    assert!(matches!(error, NotifyError::Unavailable(_)), "{error:?}");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn starttls_required_succeeds_with_the_explicit_opt_out() {
    let server = SmtpServer::builder().starttls().start().await;
    let config = SmtpConfig {
        insecure_skip_tls_verify: true,
        ..config(server.port(), 2)
    };
    connector(&config)
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap();
    assert!(received(&server).await.tls);
}

#[tokio::test]
async fn starttls_required_succeeds_with_verification_when_the_certificate_is_trusted() {
    let server = SmtpServer::builder().starttls().start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = write(&dir, "ca.pem", server.certificate_pem());
    let config = SmtpConfig {
        host: "localhost".into(),
        tls_ca_file: Some(ca),
        ..config(server.port(), 2)
    };
    connector(&config)
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap();
    assert!(received(&server).await.tls);
}

#[tokio::test]
async fn starttls_required_fails_when_the_server_does_not_offer_it() {
    let server = SmtpServer::start().await;
    let error = connector(&config(server.port(), 2))
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap_err();
    assert!(matches!(error, NotifyError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn opportunistic_tls_falls_back_to_plain_when_starttls_is_not_offered() {
    let server = SmtpServer::start().await;
    connector(&config(server.port(), 1))
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap();
    assert!(!received(&server).await.tls);
}

#[tokio::test]
async fn implicit_tls_is_verified_too() {
    let server = SmtpServer::builder().implicit_tls().start().await;
    let refused = connector(&config(server.port(), 3))
        .send(&validation_email("alice@example.org"))
        .await;
    assert!(
        matches!(refused, Err(NotifyError::Unavailable(_))),
        "{refused:?}"
    );
    let insecure = SmtpConfig {
        insecure_skip_tls_verify: true,
        ..config(server.port(), 3)
    };
    connector(&insecure)
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap();
    assert!(received(&server).await.tls);
}

/// `config` with the login `mailer` / `s3cret`.
fn with_login(config: SmtpConfig) -> SmtpConfig {
    SmtpConfig {
        login: Some("mailer".into()),
        password: Some("s3cret".into()),
        ..config
    }
}

/// `config` on `localhost`, trusting `server`'s self-signed certificate.
fn trusting(server: &SmtpServer, dir: &tempfile::TempDir, config: SmtpConfig) -> SmtpConfig {
    SmtpConfig {
        host: "localhost".into(),
        tls_ca_file: Some(write(dir, "ca.pem", server.certificate_pem())),
        ..config
    }
}

#[tokio::test]
async fn credentials_are_sent_only_when_a_login_or_password_is_set() {
    let server = SmtpServer::builder().starttls().start().await;
    let dir = tempfile::tempdir().unwrap();
    connector(&trusting(&server, &dir, config(server.port(), 2)))
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap();
    assert!(server.auths().is_empty());
    let with_login = with_login(trusting(&server, &dir, config(server.port(), 2)));
    connector(&with_login)
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap();
    let auths = server.auths();
    assert_eq!(auths.len(), 1);
    assert_eq!(
        (auths[0].username.as_str(), auths[0].password.as_str()),
        ("mailer", "s3cret")
    );
    assert_eq!(server.auth_attempts().in_clear, 0);
    assert!(!format!("{with_login:?}").contains("s3cret"));
}

#[tokio::test]
async fn with_tls_0_a_login_is_never_sent_and_the_email_fails_saying_why() {
    let server = SmtpServer::start().await;
    let error = connector(&with_login(config(server.port(), 0)))
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap_err();
    let NotifyError::Unavailable(why) = error else {
        panic!("{error:?}")
    };
    let why = why.to_string();
    assert!(
        why.contains("never sends SMTP credentials unencrypted") && why.contains("tls"),
        "{why}"
    );
    assert_eq!(server.auth_attempts().total, 0);
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn with_tls_1_a_server_without_starttls_gets_no_login_and_the_email_fails_saying_why() {
    // The server offers AUTH in clear text, as a stripped EHLO answer would.
    let server = SmtpServer::start().await;
    let error = connector(&with_login(config(server.port(), 1)))
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap_err();
    let NotifyError::Unavailable(why) = error else {
        panic!("{error:?}")
    };
    let why = why.to_string();
    assert!(why.contains("does not offer STARTTLS"), "{why}");
    assert_eq!(server.auth_attempts().total, 0);
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn with_tls_1_a_server_offering_starttls_gets_the_login_encrypted() {
    let server = SmtpServer::builder().starttls().start().await;
    let dir = tempfile::tempdir().unwrap();
    connector(&with_login(trusting(
        &server,
        &dir,
        config(server.port(), 1),
    )))
    .send(&validation_email("alice@example.org"))
    .await
    .unwrap();
    let mail = received(&server).await;
    assert!(mail.tls && mail.auth.is_some(), "{mail:?}");
    assert_eq!(
        server.auth_attempts(),
        verity_testkit::smtp::AuthAttempts {
            total: 1,
            in_clear: 0
        }
    );
}

#[tokio::test]
async fn with_tls_1_and_no_login_a_server_without_starttls_still_gets_the_email() {
    let server = SmtpServer::builder().without_auth().start().await;
    connector(&config(server.port(), 1))
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap();
    let mail = received(&server).await;
    assert!(!mail.tls && mail.auth.is_none());
    assert_eq!(server.auth_attempts().total, 0);
}

#[tokio::test]
async fn a_recipient_refused_with_550_is_rejected() {
    let server = SmtpServer::builder()
        .reject_recipient("gone@example.org")
        .start()
        .await;
    let error = connector(&config(server.port(), 0))
        .send(&validation_email("gone@example.org"))
        .await
        .unwrap_err();
    let NotifyError::Rejected(reason) = error else {
        panic!("{error:?}")
    };
    assert!(
        reason.contains("550") && !reason.contains("gone"),
        "{reason}"
    );
}

#[tokio::test]
async fn one_connection_carries_email_after_email() {
    let server = SmtpServer::start().await;
    let connector = connector(&config(server.port(), 0));
    for i in 0..5 {
        connector
            .send(&validation_email(&format!("user{i}@example.org")))
            .await
            .unwrap();
    }
    assert_eq!(server.received().len(), 5);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn a_connection_the_server_closed_is_replaced_and_the_email_still_goes_out_once() {
    let server = SmtpServer::start().await;
    let connector = connector(&config(server.port(), 0));
    connector
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap();
    server.close_connections().await;
    connector
        .send(&validation_email("bob@example.org"))
        .await
        .unwrap();
    let to: Vec<_> = server.received().into_iter().map(|mail| mail.to).collect();
    assert_eq!(
        to,
        vec![
            vec!["alice@example.org".to_owned()],
            vec!["bob@example.org".to_owned()]
        ]
    );
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn an_email_whose_answer_never_came_fails_and_is_not_sent_again() {
    let server = SmtpServer::start().await;
    let connector = connector(&config(server.port(), 0));
    server.hang_up_after_next_message();
    let error = connector
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap_err();
    assert!(matches!(error, NotifyError::Unavailable(_)), "{error:?}");
    // The next email goes out on a new connection, and the first one is not repeated with it.
    connector
        .send(&validation_email("bob@example.org"))
        .await
        .unwrap();
    let to: Vec<_> = server.received().into_iter().map(|mail| mail.to).collect();
    assert_eq!(
        to,
        vec![
            vec!["alice@example.org".to_owned()],
            vec!["bob@example.org".to_owned()]
        ]
    );
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn after_a_refused_recipient_the_next_email_still_goes_out() {
    let server = SmtpServer::builder()
        .reject_recipient("gone@example.org")
        .start()
        .await;
    let connector = connector(&config(server.port(), 0));
    let refused = connector.send(&validation_email("gone@example.org")).await;
    assert!(
        matches!(refused, Err(NotifyError::Rejected(_))),
        "{refused:?}"
    );
    connector
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap();
    assert_eq!(
        received(&server).await.to,
        vec!["alice@example.org".to_owned()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_sent_at_once_each_get_a_connection_and_the_connections_are_kept() {
    let server = SmtpServer::start().await;
    let connector = std::sync::Arc::new(connector(&config(server.port(), 0)));
    // Eight emails in the middle of their transfer at the same time, on eight connections.
    let at_once = |round: usize| {
        server.hold_replies_to_data();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let connector = connector.clone();
                tokio::spawn(async move {
                    connector
                        .send(&validation_email(&format!("r{round}.u{i}@example.org")))
                        .await
                })
            })
            .collect();
        let server = &server;
        async move {
            server.wait_for_held_data(8, WAIT).await;
            server.release_replies_to_data();
            for task in tasks {
                task.await.unwrap().unwrap();
            }
        }
    };
    at_once(0).await;
    assert_eq!(server.connections(), 8);
    at_once(1).await;
    at_once(2).await;
    assert_eq!(server.received().len(), 24);
    assert_eq!(server.connections(), 8, "the idle connections were reused");
}

/// Two emails through `config` to `server`: both encrypted, over one connection that
/// authenticated once when there is a login, never in clear text.
async fn two_emails_over_one_encrypted_connection(server: &SmtpServer, config: &SmtpConfig) {
    let connector = connector(config);
    for to in ["alice@example.org", "bob@example.org"] {
        connector.send(&validation_email(to)).await.unwrap();
        assert!(received(server).await.tls);
    }
    assert_eq!(server.connections(), 1);
    let logins = usize::from(config.login.is_some());
    assert_eq!(
        server.auth_attempts(),
        verity_testkit::smtp::AuthAttempts {
            total: logins,
            in_clear: 0
        }
    );
}

#[tokio::test]
async fn every_tls_level_keeps_its_connection_for_the_next_email() {
    let dir = tempfile::tempdir().unwrap();
    // 1 with a login (STARTTLS required), 1 without (STARTTLS because offered), 2, 3.
    let server = SmtpServer::builder().starttls().start().await;
    let level_1 = with_login(trusting(&server, &dir, config(server.port(), 1)));
    two_emails_over_one_encrypted_connection(&server, &level_1).await;
    let server = SmtpServer::builder().starttls().start().await;
    let level_1 = trusting(&server, &dir, config(server.port(), 1));
    two_emails_over_one_encrypted_connection(&server, &level_1).await;
    let server = SmtpServer::builder().starttls().start().await;
    let level_2 = with_login(trusting(&server, &dir, config(server.port(), 2)));
    two_emails_over_one_encrypted_connection(&server, &level_2).await;
    let server = SmtpServer::builder().implicit_tls().start().await;
    let level_3 = with_login(trusting(&server, &dir, config(server.port(), 3)));
    two_emails_over_one_encrypted_connection(&server, &level_3).await;
}

#[tokio::test]
async fn implicit_tls_with_a_trusted_certificate_authenticates_encrypted() {
    let server = SmtpServer::builder().implicit_tls().start().await;
    let dir = tempfile::tempdir().unwrap();
    connector(&with_login(trusting(
        &server,
        &dir,
        config(server.port(), 3),
    )))
    .send(&validation_email("alice@example.org"))
    .await
    .unwrap();
    let mail = received(&server).await;
    assert!(mail.tls, "{mail:?}");
    assert_eq!(
        mail.auth.map(|auth| (auth.username, auth.password)),
        Some(("mailer".to_owned(), "s3cret".to_owned()))
    );
}

#[tokio::test]
async fn a_server_that_is_down_is_unavailable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let error = connector(&config(port, 0))
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap_err();
    assert!(matches!(error, NotifyError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn sending_without_a_from_address_fails_and_names_the_key() {
    let server = SmtpServer::start().await;
    let connector =
        SmtpConnector::new(&config(server.port(), 0), &SenderIdentity::default()).unwrap();
    let error = connector
        .send(&validation_email("alice@example.org"))
        .await
        .unwrap_err();
    let NotifyError::Unavailable(source) = error else {
        panic!("{error:?}")
    };
    assert!(
        source
            .to_string()
            .contains("threepid.medium.email.identity.from"),
        "{source}"
    );
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn bad_settings_are_construction_errors_naming_the_key() {
    let bad_tls = SmtpConnector::new(&config(25, 4), &identity()).unwrap_err();
    assert!(
        bad_tls.to_string().contains("connectors.smtp.tls"),
        "{bad_tls}"
    );
    let bad_from = SmtpConnector::new(
        &config(25, 0),
        &SenderIdentity {
            from: "not an address".into(),
            name: String::new(),
        },
    )
    .unwrap_err();
    assert!(bad_from.to_string().contains("identity.from"), "{bad_from}");
}

#[tokio::test]
async fn the_smtp_connector_does_not_carry_sms() {
    let connector = connector(&config(25, 0));
    let sms = Notification::Sms(SmsMessage {
        to: Msisdn::parse("447911123456").unwrap(),
        text: "x".into(),
    });
    assert!(matches!(
        connector.send(&sms).await,
        Err(NotifyError::Unsupported)
    ));
}
