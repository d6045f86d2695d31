//! The `invite` template: mxisd's placeholders, Verity's own, and escaping.

use pretty_assertions::assert_eq;
use verity_adapter_notify::TemplateConfig;
use verity_application::ports::driven::{InviteNotice, Notification, NotificationGenerator};
use verity_application::ports::driving::InviteDetails;
use verity_domain::{EmailAddress, InviteToken, Medium, Msisdn, ThreePid, UserId};

use crate::*;

const SIGN_URL: &str =
    "https://id.example.org/_matrix/identity/api/v1/sign-ed25519?token=tok&private_key=k-_y";

fn invite_notice(threepid: ThreePid) -> InviteNotice {
    InviteNotice {
        threepid,
        sender: UserId::parse("@inviter:example.org").unwrap(),
        room_id: "!room:example.org".into(),
        details: InviteDetails {
            sender_display_name: Some("Ann <b>\"A\"</b>".into()),
            room_name: Some("Tea & Cake\r\nBcc: x@evil.example".into()),
            room_alias: Some("#tea:example.org".into()),
            ..InviteDetails::default()
        },
        token: InviteToken::parse("tok").unwrap(),
        ephemeral_private_key: "k-_y".into(),
        sign_url: SIGN_URL.into(),
    }
}

fn email() -> ThreePid {
    ThreePid::Email(EmailAddress::parse("Jo+Doe@Example.org").unwrap())
}

fn invite_template(source: &str) -> (tempfile::TempDir, TemplateConfig) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "invite.eml", source);
    let config =
        serde_json::from_value(serde_json::json!({"invite": path.to_str().unwrap()})).unwrap();
    (dir, config)
}

fn render(generator: &impl NotificationGenerator, notice: &InviteNotice) -> EmailMessage {
    match generator.invite(notice).unwrap() {
        Notification::Email(email) => email,
        other => panic!("expected an email, got {other:?}"),
    }
}

#[test]
fn every_invite_placeholder_of_an_email_is_replaced() {
    let (_dir, config) = invite_template(
        "Subject: %SENDER_NAME_OR_ID% invited you\n\n\
         SENDER_ID=%SENDER_ID%\nSENDER_NAME=%SENDER_NAME%\nINVITE_MEDIUM=%INVITE_MEDIUM%\n\
         INVITE_MEDIUM_URL_ENCODED=%INVITE_MEDIUM_URL_ENCODED%\nINVITE_ADDRESS=%INVITE_ADDRESS%\n\
         INVITE_ADDRESS_URL_ENCODED=%INVITE_ADDRESS_URL_ENCODED%\nROOM_ID=%ROOM_ID%\n\
         ROOM_ALIAS=%ROOM_ALIAS%\nINVITE_TOKEN=%INVITE_TOKEN%\n\
         EPHEMERAL_PRIVATE_KEY=%EPHEMERAL_PRIVATE_KEY%\nSIGN_URL=%SIGN_URL%\n\
         REGISTER_URL=%REGISTER_URL%\nDOMAIN=%DOMAIN%\n",
    );
    let email = render(&generator(Medium::Email, &config), &invite_notice(email()));
    assert_eq!(
        email.text,
        format!(
            "SENDER_ID=@inviter:example.org\nSENDER_NAME=Ann <b>\"A\"</b>\nINVITE_MEDIUM=email\n\
             INVITE_MEDIUM_URL_ENCODED=email\nINVITE_ADDRESS=jo+doe@example.org\n\
             INVITE_ADDRESS_URL_ENCODED=jo%2Bdoe%40example.org\nROOM_ID=!room:example.org\n\
             ROOM_ALIAS=#tea:example.org\nINVITE_TOKEN=tok\nEPHEMERAL_PRIVATE_KEY=k-_y\n\
             SIGN_URL={SIGN_URL}\nREGISTER_URL=https://example.org\nDOMAIN=example.org\n"
        )
    );
    assert_eq!(email.subject, "Ann <b>\"A\"</b> invited you");
    assert_eq!(email.to.as_str(), "jo+doe@example.org");
}

/// Every string field Synapse (and older homeservers) send to store-invite reaches the template,
/// as sydent hands them to its templates; an absent one renders empty.
#[test]
fn every_store_invite_field_has_a_placeholder_and_absent_ones_render_empty() {
    let (_dir, config) = invite_template(
        "Subject: x\n\n%ROOM_AVATAR_URL%|%SENDER_AVATAR_URL%|%ROOM_JOIN_RULES%|%ROOM_TYPE%|\
         %GUEST_USER_ID%|%GUEST_ACCESS_TOKEN%|%WEB_CLIENT_LOCATION%|%ROOM_ALIAS%",
    );
    let mut notice = invite_notice(email());
    notice.details = InviteDetails {
        room_avatar_url: Some("mxc://example.org/room".into()),
        sender_avatar_url: Some("mxc://example.org/ann".into()),
        room_join_rules: Some("public".into()),
        room_type: Some("m.space".into()),
        guest_user_id: Some("@guest:example.org".into()),
        guest_access_token: Some("guesttoken".into()),
        web_client_location: Some("https://app.element.io".into()),
        ..InviteDetails::default()
    };
    let email = render(&generator(Medium::Email, &config), &notice);
    assert_eq!(
        email.text,
        "mxc://example.org/room|mxc://example.org/ann|public|m.space|@guest:example.org|\
         guesttoken|https://app.element.io|"
    );
    assert!(!format!("{notice:?}").contains("guesttoken"), "{notice:?}");
    notice.details = InviteDetails::default();
    let email = render(&generator(Medium::Email, &config), &notice);
    assert_eq!(email.text, "|||||||");
}

#[test]
fn names_fall_back_to_ids_when_the_homeserver_sent_none() {
    let (_dir, config) = invite_template(
        "Subject: x\n\n%SENDER_NAME_OR_ID% %ROOM_NAME_OR_ID%|%SENDER_NAME%|%ROOM_NAME%",
    );
    let mut notice = invite_notice(email());
    notice.details.sender_display_name = None;
    notice.details.room_name = Some("  ".into());
    let email = render(&generator(Medium::Email, &config), &notice);
    assert_eq!(email.text, "@inviter:example.org !room:example.org||  ");
}

#[test]
fn the_built_in_invite_escapes_names_in_html_and_keeps_the_subject_on_one_line() {
    let generator = generator(Medium::Email, &TemplateConfig::default());
    let mut notice = invite_notice(email());
    notice.details.sender_display_name = Some("<script>alert(1)</script>".into());
    let email = render(&generator, &notice);
    let html = email.html.unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains("[Tea &amp; Cake"), "{html}");
    assert!(
        html.contains(&format!("href=\"{}\"", SIGN_URL.replace('&', "&amp;"))),
        "{html}"
    );
    assert!(
        email
            .text
            .contains("<script>alert(1)</script> invited you to the Matrix room [Tea & Cake")
    );
    assert!(email.text.contains(SIGN_URL));
    assert!(email.text.contains("https://example.org"));
    assert_eq!(email.subject, "You have been invited to example.org");
}

#[test]
fn the_built_in_sms_invite_names_the_sender() {
    let generator = generator(Medium::Msisdn, &TemplateConfig::default());
    let notice = invite_notice(ThreePid::Msisdn(Msisdn::parse("447911123456").unwrap()));
    match generator.invite(&notice).unwrap() {
        Notification::Sms(sms) => assert!(sms.text.contains("Ann <b>\"A\"</b>"), "{}", sms.text),
        other => panic!("expected an SMS, got {other:?}"),
    }
}

#[test]
fn a_subject_value_cannot_add_a_header() {
    let (_dir, config) = invite_template("Subject: %ROOM_NAME_OR_ID%\n\nbody");
    let email = render(&generator(Medium::Email, &config), &invite_notice(email()));
    assert!(!email.subject.contains(['\r', '\n']), "{:?}", email.subject);
}
