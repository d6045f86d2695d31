//! The password never reaches a log: the real `verity` binary, logging JSON at debug level,
//! checks right, wrong, empty, oversized and malformed logins against a real OpenLDAP, and no
//! log line holds any of the passwords sent.
use std::time::Duration;

use serde_json::json;
use verity_testkit::slapd::{Options, Slapd};
use verity_tests::{Backend, Deployment};

use crate::login::{CHECK, directory, ldap_login_yaml};

#[tokio::test]
async fn no_log_line_holds_a_password_whatever_the_login() {
    let Some(slapd) = Slapd::start(&directory(), &Options::default()) else {
        return;
    };
    let yaml = format!(
        "{}logging: {{format: json, app: debug}}\n",
        ldap_login_yaml(slapd.port())
    );
    let deployment = Deployment::new(Backend::Sqlite, &yaml).await;
    let verity = deployment.start().await;
    let listening = verity
        .wait_for_log(
            "the internal listener (check_credentials) is listening",
            Duration::from_secs(30),
        )
        .await;
    let url = format!(
        "http://{}{CHECK}",
        listening["address"].as_str().expect("the address logged")
    );
    let http = reqwest::Client::new();
    let secrets = [
        "alice's pw",
        "Wr0ng-Password-1",
        "Wr0ng-Password-2",
        "Wr0ng-Password-3",
    ];
    let bodies = [
        json!({"user": {"id": "@alice:example.org", "password": secrets[0]}}),
        json!({"user": {"id": "@alice:example.org", "password": secrets[1]}}),
        json!({"user": {"id": "@carol:example.org", "password": secrets[1]}}),
        json!({"user": {"id": "@nobody:example.org", "password": secrets[1]}}),
        json!({"user": {"id": "@alice:example.org", "password": ""}}),
        json!({"user": {"id": "@alice:example.org", "password": format!("{}{}", secrets[2], "x".repeat(600))}}),
        json!({"user": secrets[3]}),
        json!({"user": {"id": secrets[3], "password": secrets[3]}}),
        json!({"user": {"id": "@alice:example.org", "password": [secrets[3]]}}),
    ];
    for body in &bodies {
        let response = http.post(&url).json(body).send().await.unwrap();
        assert!(response.status().as_u16() < 500, "{body}");
    }
    // The accepted login was logged (so logging works at this level), without its password.
    verity
        .wait_for_log("login accepted", Duration::from_secs(10))
        .await;
    verity
        .wait_for_log("login refused", Duration::from_secs(10))
        .await;
    let logs = verity.logs();
    for secret in secrets {
        assert!(!logs.contains(secret), "{secret:?} is in the log:\n{logs}");
    }
    assert!(logs.contains("@alice:example.org"), "{logs}");
}
