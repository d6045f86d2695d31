//! The same files read by real Sydent 2.6.1 (`sydent.config.SydentConfig`, in the virtualenv
//! `scripts/test` installs and names in `VERITY_TEST_SYDENT`) and by [`SydentConf`]: every value
//! Verity takes must be the one Sydent used.
use std::path::PathBuf;
use std::process::Command;

use super::*;
use pretty_assertions::assert_eq;

/// Prints, as JSON, what Sydent resolved from the file given as argument (a copy: Sydent
/// rewrites a file whose key is in the old format).
const SCRIPT: &str = r#"
import json, os, sys
import signedjson.key
from sydent.config import SydentConfig
c = SydentConfig()
c.parse_config_file(sys.argv[1])
name = c.general.server_name
print(json.dumps({
    "server_name": None if name == os.uname()[1] and "SYDENT_SERVER_NAME" not in os.environ else name,
    "db": c.database.database_path,
    "key_id": "ed25519:" + c.crypto.signing_key.version,
    "public_key": signedjson.key.encode_verify_key_base64(c.crypto.signing_key.verify_key),
    "smtp": [c.email.smtp_server, int(c.email.smtp_port), c.email.smtp_username or None,
             c.email.tls_mode in ("SSL", "TLS"), c.email.tls_mode == "STARTTLS"],
    "from": c.email.sender,
    "invite_subject": c.email.invite_subject,
    "templates": [c.email.template, c.email.invite_template, c.http.verify_response_template],
    "sms": c.sms.body_template,
    "http": [c.http.client_bind_address, c.http.client_port, c.http.server_http_url_base or None],
    "general": [c.general.terms_path or None, c.general.address_lookup_limit,
                c.general.enable_v1_access, c.general.enable_v1_associations,
                c.general.templates_path, c.general.default_brand],
}))
"#;

fn python() -> Option<PathBuf> {
    match std::env::var_os("VERITY_TEST_SYDENT") {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but VERITY_TEST_SYDENT is not: scripts/test installs Sydent 2.6.1")
        }
        _ => {
            eprintln!("note: VERITY_TEST_SYDENT is not set; the comparison with Sydent is skipped");
            None
        }
    }
}

fn ours(conf: &SydentConf) -> serde_json::Value {
    let e = &conf.email;
    let g = &conf.general;
    serde_json::json!({
        "server_name": g.server_name,
        "db": conf.database_path,
        "key_id": conf.signing_key.id().as_str(),
        "public_key": conf.signing_key.public_key().to_base64(),
        "smtp": [e.smtp_host, e.smtp_port, e.smtp_username,
                 e.tls == SydentTls::Implicit, e.tls == SydentTls::StartTls],
        "from": e.from,
        "invite_subject": e.invite_subject,
        "templates": [e.template, e.invite_template, conf.http.verify_response_template],
        "sms": conf.sms.body_template,
        "http": [conf.http.bind_address, conf.http.port, conf.http.client_http_base],
        "general": [g.terms_path, g.address_lookup_limit, g.enable_v1_access,
                    g.enable_v1_associations, g.templates_path, g.brand_default],
    })
}

const INTERPOLATED: &str = "; an operator's file with configparser's features
[general]
server.name = id.%(base)s
base = example.org
enable_v1_associations = false
templates.path = /srv/sydent/res
brand.default = vector-im

[db]
db.file = /var/lib/sydent/%(name)s.db
name = main

[http]
clientapi.http.bind_address: 127.0.0.1
client_http_base = https://id.example.org
verify_response_template = res/verify_response_page_template

[email]
email.from = Example 100%% <identity@example.org>
email.smtphost =
  smtp.example.org
email.tlsmode = SSL
email.template = res/verification_template.eml
email.invite_template = res/invite_template.eml
Email.Invite.Subject = %(sender_display_name)s invited you (100%%)

[DEFAULT]
email.smtpusername = from-default

[crypto]
ed25519.signingkey = 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
";

#[test]
fn real_sydent_2_6_1_resolves_every_value_verity_takes_as_sydent_conf_does() {
    let Some(python) = python() else {
        return;
    };
    let docker = FIRST_START.replace("server.name = \n", "server.name = id.example.org\n");
    let cases = [
        ("first start", FIRST_START, None),
        ("operator", OPERATOR, None),
        ("interpolated", INTERPOLATED, None),
        ("docker", docker.as_str(), Some("id.example.org")),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, text, server_name_variable) in cases {
        let path = dir.path().join(format!("{}.conf", name.replace(' ', "-")));
        std::fs::write(&path, text).unwrap();
        let mut command = Command::new(&python);
        command
            .args(["-c", SCRIPT])
            .arg(&path)
            .current_dir(dir.path())
            .env_remove("SYDENT_SERVER_NAME")
            .env_remove("SYDENT_DB_PATH")
            .env_remove("SYDENT_PID_FILE");
        if let Some(value) = server_name_variable {
            command.env("SYDENT_SERVER_NAME", value);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        let line = stdout.lines().last().unwrap_or_default();
        let sydent: serde_json::Value = serde_json::from_str(line).unwrap();
        let conf = SydentConf::parse(text).unwrap();
        assert_eq!(ours(&conf), sydent, "{name}");
    }
}
