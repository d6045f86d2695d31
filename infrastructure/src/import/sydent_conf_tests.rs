use std::path::Path;

use pretty_assertions::assert_eq;
use verity_domain::KeyId;

use super::templates::{TemplateKind, convert_jinja, convert_python, convert_sms};
use super::*;

/// What Sydent 2.6.1 writes on its first start when `sydent.conf` does not exist: every default
/// in `[DEFAULT]`, empty sections, and the key it generated in `[crypto]` (reproduced by running
/// `CONFIG_DEFAULTS` and `ConfigParser.write` from Sydent's source, with the seed 0, 1, ..., 31).
const FIRST_START: &str = "[DEFAULT]
server.name = 
log.path = 
log.level = INFO
pidfile.path = sydent.pid
terms.path = 
address_lookup_limit = 10000
templates.path = res
brand.default = matrix-org
enable_v1_associations = true
delete_tokens_on_bind = true
ip.blacklist = 
ip.whitelist = 
homeserver_allow_list = 
enable_v1_access = true
db.file = sydent.db
clientapi.http.bind_address = ::
clientapi.http.port = 8090
internalapi.http.bind_address = ::1
internalapi.http.port = 
replication.https.certfile = 
replication.https.cacert = 
replication.https.bind_address = ::
replication.https.port = 4434
obey_x_forwarded_for = False
federation.verifycerts = True
client_http_base = 
email.from = Sydent Validation <noreply@{hostname}>
email.subject = Your Validation Token
email.invite.subject = %(sender_display_name)s has invited you to chat
email.invite.subject_space = %(sender_display_name)s has invited you to a space
email.smtphost = localhost
email.smtpport = 25
email.smtpusername = 
email.smtppassword = 
email.hostname = 
email.tlsmode = 0
email.default_web_client_location = https://app.element.io
email.third_party_invite_username_obfuscate_characters = 3
email.third_party_invite_domain_obfuscate_characters = 3
bodytemplate = Your code is {token}
username = 
password = 
ed25519.signingkey = 

[general]

[db]

[http]

[email]

[sms]

[crypto]
ed25519.signingkey = ed25519 0 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8

";

/// An operator's file: the settings in their sections, as Sydent's README shows them.
const OPERATOR: &str = "[general]
server.name = id.example.org
terms.path = terms.yaml
address_lookup_limit = 500
log.level = WARNING
log.path = /var/log/sydent.log
prometheus_port = 9090
sentry_dsn = https://key@sentry.example.org/1

[db]
db.file = /var/lib/sydent/sydent.db

[http]
clientapi.http.port = 8091
client_http_base = https://id.example.org/
obey_x_forwarded_for = true

[email]
email.from = Example Identity <identity@example.org>
email.smtphost = smtp.example.org
email.smtpport = 587
email.smtpusername = identity
email.smtppassword = hunter2-smtp
email.tlsmode = STARTTLS
email.third_party_invite_keyword_blocklist = spam
    casino

[sms]
bodyTemplate = Your Example code: {token}
username = om-user
password = om-secret
originators.44 = long:447700900000

[crypto]
ed25519.signingkey = ed25519 0 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8
";

fn seed_key() -> SigningKey {
    let seed: [u8; 32] = std::array::from_fn(|i| u8::try_from(i).unwrap_or_default());
    SigningKey::from_seed(KeyId::from_identifier("0").unwrap(), &seed)
}

#[test]
fn the_file_sydent_writes_on_its_first_start_is_read_with_its_defaults_and_key_ed25519_0() {
    let conf = SydentConf::parse(FIRST_START).unwrap();
    assert_eq!(conf.signing_key.id().as_str(), "ed25519:0");
    assert_eq!(conf.signing_key.public_key(), seed_key().public_key());
    assert_eq!(conf.general.server_name, None);
    assert_eq!(conf.database_path, "sydent.db");
    assert_eq!(conf.email.smtp_host, "localhost");
    assert_eq!(conf.email.smtp_port, 25);
    assert_eq!(conf.email.tls, SydentTls::None);
    assert_eq!(conf.email.from, "Sydent Validation <noreply@{hostname}>");
    assert_eq!(
        conf.email.invite_subject,
        "%(sender_display_name)s has invited you to chat"
    );
    assert_eq!(conf.sms.body_template, "Your code is {token}");
    assert_eq!(conf.http.port, 8090);
    assert_eq!(conf.general.address_lookup_limit, 10000);
    assert!(conf.general.enable_v1_access);
}

#[test]
fn an_operators_file_gives_each_section_its_values_and_keeps_secrets_out_of_debug() {
    let conf = SydentConf::parse(OPERATOR).unwrap();
    assert_eq!(conf.general.server_name.as_deref(), Some("id.example.org"));
    assert_eq!(conf.database_path, "/var/lib/sydent/sydent.db");
    assert_eq!(conf.http.port, 8091);
    assert_eq!(
        conf.http.client_http_base.as_deref(),
        Some("https://id.example.org/")
    );
    assert_eq!(conf.email.tls, SydentTls::StartTls);
    assert_eq!(
        conf.email.smtp_password.as_ref().map(Secret::expose),
        Some("hunter2-smtp")
    );
    assert_eq!(conf.sms.body_template, "Your Example code: {token}");
    assert!(
        conf.email
            .other
            .iter()
            .any(|(k, v)| k == "email.third_party_invite_keyword_blocklist" && v == "spam\ncasino")
    );
    let debug = format!("{conf:?}");
    for secret in [
        "hunter2-smtp",
        "om-secret",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        "key@sentry",
    ] {
        assert!(!debug.contains(secret), "{secret} shows in {debug}");
    }
}

#[test]
fn the_deprecated_template_keys_are_read_and_win_over_the_brand_directory() {
    let text = format!(
        "{OPERATOR}\n[peer.other]\nbase_replication_url = https://other:4434\n"
    )
    .replace(
        "[email]\n",
        "[email]\nemail.template = res/verification_template.eml\nemail.invite_template = res/invite_template.eml\n",
    )
    .replace(
        "[http]\n",
        "[http]\nverify_response_template = res/verify_response_page_template\n",
    );
    let conf = SydentConf::parse(&text).unwrap();
    let dir = Path::new("/srv/sydent");
    assert_eq!(
        templates::sydent_template_path(&conf, TemplateKind::Verification, dir),
        dir.join("res/verification_template.eml")
    );
    assert_eq!(
        templates::sydent_page_path(&conf, dir),
        dir.join("res/verify_response_page_template")
    );
    assert_eq!(conf.http.peers, vec!["other".to_owned()]);
    let plain = SydentConf::parse(OPERATOR).unwrap();
    assert_eq!(
        templates::sydent_template_path(&plain, TemplateKind::Invite, dir),
        dir.join("res/matrix-org/invite_template.eml")
    );
}

#[test]
fn the_older_hexadecimal_key_is_the_same_key_under_ed25519_0() {
    let hex: String = (0..32_u8).map(|b| format!("{b:02x}")).collect();
    let text = FIRST_START.replace(
        "ed25519 0 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        &hex,
    );
    let conf = SydentConf::parse(&text).unwrap();
    assert_eq!(conf.signing_key.id().as_str(), "ed25519:0");
    assert_eq!(conf.signing_key.public_key(), seed_key().public_key());
}

#[test]
fn a_missing_signing_key_is_refused_with_where_sydent_writes_it() {
    let text = FIRST_START.replace(
        "ed25519.signingkey = ed25519 0 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        "",
    );
    let error = SydentConf::parse(&text).unwrap_err();
    assert!(matches!(error, SydentConfError::MissingSigningKey));
    assert!(error.to_string().contains("[crypto] ed25519.signingkey"));
}

#[test]
fn a_malformed_signing_key_is_refused_without_showing_it() {
    for bad in [
        "ed25519 0 c2hvcnQ",
        "rsa 0 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        "ed25519 0",
        "ed25519 a:b AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        "not-hex-and-not-three-parts",
    ] {
        let text = format!("[crypto]\ned25519.signingkey = {bad}\n");
        let error = SydentConf::parse(&text).unwrap_err();
        assert!(
            matches!(error, SydentConfError::BadSigningKey(_)),
            "{bad}: {error}"
        );
        assert!(!error.to_string().contains(bad), "{error}");
    }
}

#[test]
fn a_value_under_default_that_sydent_shadows_is_reported_and_not_used() {
    let text = FIRST_START.replace(
        "email.smtphost = localhost\n",
        "email.smtphost = smtp.example.org\n",
    );
    let conf = SydentConf::parse(&text).unwrap();
    assert_eq!(conf.email.smtp_host, "localhost");
    assert!(
        conf.warnings
            .iter()
            .any(|w| w.contains("[DEFAULT] email.smtphost is not read")),
        "{:?}",
        conf.warnings
    );
}

#[test]
fn the_server_name_sydents_docker_image_writes_under_default_is_used_with_a_warning() {
    // The first start with SYDENT_SERVER_NAME set writes it into [DEFAULT]; Sydent, still run
    // with the variable, keeps using it.
    let text = FIRST_START.replace("server.name = \n", "server.name = id.example.org\n");
    let conf = SydentConf::parse(&text).unwrap();
    assert_eq!(conf.general.server_name.as_deref(), Some("id.example.org"));
    assert!(
        conf.warnings
            .iter()
            .any(|w| w.contains("SYDENT_SERVER_NAME")),
        "{:?}",
        conf.warnings
    );
}

#[test]
fn configparser_syntax_is_read_as_python_reads_it() {
    let text = "; a comment\n[crypto]\nED25519.SigningKey: ed25519 0 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n[general]\n# another\nbase = id.example.org\nserver.name = %(base)s\n[email]\nemail.from = 100%% <a@example.org>\nemail.smtphost =\n  smtp.example.org\n";
    let conf = SydentConf::parse(text).unwrap();
    assert_eq!(conf.general.server_name.as_deref(), Some("id.example.org"));
    assert_eq!(conf.email.from, "100% <a@example.org>");
    assert_eq!(conf.email.smtp_host, "\nsmtp.example.org");
}

#[test]
fn text_python_refuses_is_refused_with_the_line() {
    let cases = [
        ("key = 1\n", "before any [section]"),
        ("[a]\nk = 1\nk = 2\n", "appears twice in [a]"),
        ("[a]\n[a]\n", "section [a] appears twice"),
        ("[a]\njust words\n", "line 2"),
        ("[general]\nserver.name = 50% off\n", "write %% for a %"),
        (
            "[general]\nserver.name = %(nope)s\n",
            "%(nope)s names no option",
        ),
    ];
    let key =
        "[crypto]\ned25519.signingkey = ed25519 0 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n";
    for (text, expected) in cases {
        let text = if text.starts_with("[general]") {
            format!("{key}{text}")
        } else {
            text.to_owned()
        };
        let error = SydentConf::parse(&text).unwrap_err().to_string();
        assert!(error.contains(expected), "{text:?}: {error}");
    }
}

const VERIFICATION_PY: &str = "Date: %(date)s\nFrom: %(from)s\nTo: %(to)s\nMessage-ID: %(messageid)s\nSubject: Confirm your email address for Matrix\nMIME-Version: 1.0\nContent-Type: multipart/alternative;\n\tboundary=\"%(multipart_boundary)s\"\n\n--%(multipart_boundary)s\nContent-Type: text/plain; charset=UTF-8\nContent-Disposition: inline\n\nHello,\n\n%(link)s\n\nIf your client requires a code, the code is %(token)s (asked from %(ipaddress)s)\n\n--%(multipart_boundary)s\nContent-Type: text/html; charset=UTF-8\nContent-Disposition: inline\n\n<p style=\"width: 100%%\"><a href=\"%(link)s\">Complete email verification</a></p>\n<p>%(token)s</p>\n\n--%(multipart_boundary)s--\n";

#[test]
fn a_python_verification_template_gets_veritys_placeholders_and_reports_the_rest() {
    let converted = convert_python(TemplateKind::Verification, VERIFICATION_PY, "");
    assert!(converted.text.contains("\n%VALIDATION_LINK%\n"));
    assert!(
        converted
            .text
            .contains("<a href=\"%VALIDATION_LINK%\">Complete")
    );
    assert!(
        converted
            .text
            .contains("the code is %VALIDATION_TOKEN% (asked")
    );
    assert!(converted.text.contains("width: 100%\""));
    assert!(converted.text.contains("--verity-template-boundary--"));
    assert!(!converted.text.contains("%("));
    assert_eq!(
        converted.unmapped.iter().collect::<Vec<_>>(),
        vec!["ipaddress"]
    );
}

#[test]
fn a_jinja_template_converts_the_same_and_leaves_statements_as_written() {
    let jinja = VERIFICATION_PY
        .replace("%(link)s", "{{ link }}")
        .replace("%(token)s", "{{ token|safe }}")
        .replace("%(multipart_boundary)s", "{{ multipart_boundary|safe }}")
        .replace("%%", "%")
        .replace(
            "Hello,",
            "Hello {% if ipaddress %}from {{ ipaddress }}{% else %}there{% endif %}, {{ to|urlencode }} {% raw %}",
        );
    let converted = convert_jinja(TemplateKind::Verification, &jinja, "");
    assert!(converted.text.contains("<a href=\"%VALIDATION_LINK%\">"));
    assert!(converted.text.contains("the code is %VALIDATION_TOKEN%"));
    assert!(
        converted
            .text
            .contains("Hello there, %RECIPIENT_ADDRESS_URL_ENCODED% {% raw %}")
    );
    assert!(converted.unconverted.contains("{% raw %}"));
    assert!(!converted.text.contains("{{"));
}

#[test]
fn an_invite_template_takes_the_invite_subject_and_says_what_verity_lacks() {
    let template = "Subject: %(subject_header_value)s\n\n%(bracketed_room_name)s%(web_client_location)s/#/room/%(room_id_forurl)s?email=%(to_forurl)s&t=%(token)s\n";
    let converted = convert_python(
        TemplateKind::Invite,
        template,
        "%(sender_display_name)s has invited you to chat",
    );
    assert_eq!(
        converted.text,
        "Subject: %SENDER_NAME% has invited you to chat\n\n%WEB_CLIENT_LOCATION%/#/room/%ROOM_ID%?email=%RECIPIENT_ADDRESS_URL_ENCODED%&t=%INVITE_TOKEN%\n"
    );
    assert!(converted.unmapped.contains("bracketed_room_name"));
    assert!(
        converted
            .notes
            .iter()
            .any(|n| n.starts_with("room_id_forurl"))
    );
}

#[test]
fn the_sms_body_gets_the_validation_token_placeholder() {
    let converted = convert_sms("Code {token} {{not a field}} {other}");
    assert_eq!(converted.text, "Code %VALIDATION_TOKEN% {not a field} ");
    assert!(converted.unmapped.contains("other"));
}

#[test]
fn the_default_files_yaml_loads_with_veritys_own_loader_without_warnings() {
    let conf = SydentConf::parse(FIRST_START).unwrap();
    let yaml = verity_yaml(&conf);
    let loaded = crate::config::parse(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert!(loaded.warnings.is_empty(), "{:?}\n{yaml}", loaded.warnings);
    assert!(loaded.notices.is_empty(), "{:?}", loaded.notices);
    assert_eq!(loaded.settings.server.port, 8090);
    assert!(yaml.contains("[general] templates.path / brand.default (res / matrix-org)"));
}

#[cfg(test)]
#[path = "sydent_conf_tests_yaml.rs"]
mod yaml_round_trip;

#[path = "sydent_conf_tests_sydent.rs"]
mod real_sydent;

#[test]
fn sydents_internal_api_becomes_verity_s_bind_api_on_the_same_address_and_port() {
    let text = OPERATOR.replace(
        "[http]\n",
        "[http]\ninternalapi.http.port = 8099\ninternalapi.http.bind_address = 127.0.0.2\n",
    );
    let conf = SydentConf::parse(&text).unwrap();
    let yaml = verity_yaml(&conf);
    let settings = crate::config::parse(&yaml).unwrap().settings;
    let internal = &settings.server.internal;
    assert!(internal.bind_api);
    assert_eq!(
        (internal.hostname.as_str(), internal.port),
        ("127.0.0.2", 8099)
    );
    // Without the port, Sydent did not serve it, and neither does Verity.
    let plain = crate::config::parse(&verity_yaml(&SydentConf::parse(OPERATOR).unwrap()))
        .unwrap()
        .settings;
    assert!(!plain.server.internal.bind_api);
}
