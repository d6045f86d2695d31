//! Configuration reload on SIGHUP through the real `verity` binary: an edited mail template, a
//! new limit and a new log level apply to the requests after the signal; an invalid file or a
//! template that cannot be read changes nothing, and the server says why in its log.
use std::time::Duration;

use serde_json::{Value, json};
use verity_tests::{Backend, Deployment, Peers, Verity};

const WAIT: Duration = Duration::from_secs(10);
const EMAIL: &str = "/_matrix/identity/api/v1/validate/email/requestToken";
const RELOADED: &str = "configuration reloaded: these now apply";
const REFUSED: &str = "the configuration was not reloaded; still running on the previous one";

fn template(subject: &str) -> String {
    format!("Subject: {subject}\nContent-Type: text/plain; charset=UTF-8\n\n%VALIDATION_LINK%\n")
}

/// One email requester allowed per hour, and the validation template of `dir`.
async fn deployment(peers: &Peers) -> Deployment {
    let deployment = Deployment::new(Backend::Sqlite, &peers.yaml()).await;
    let path = deployment.dir().join("validate.eml");
    std::fs::write(&path, template("Before the reload")).unwrap();
    deployment.amend_config(&format!(
        "threepid: {{medium: {{email: {{generators: {{template: {{session: {{validation: '{}'}}}}}}}}}}}}\n\
         ratelimit: {{email: {{requester: {{burst: 1, perSeconds: 3600}}}}}}\n",
        path.display()
    ));
    deployment
}

/// A v1 requestToken (no account needed) for `address`; the HTTP status.
async fn request_token(verity: &Verity, address: &str) -> u16 {
    let body = json!({"email": address, "client_secret": "secret", "send_attempt": 1});
    verity
        .http()
        .post(verity.url(EMAIL))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn next_subject(peers: &Peers) -> String {
    let mail = peers.smtp.wait_for_mail(WAIT).await.expect("a mail");
    mail.parse().subject().expect("a subject")
}

/// Sends SIGHUP and waits for the reload's outcome, `message`; returns its line.
async fn reload(verity: &Verity, message: &str) -> Value {
    let from = verity.log_count();
    verity.hang_up();
    verity.wait_for_log_after(from, message, WAIT).await
}

fn access_lines(lines: &[Value]) -> usize {
    lines
        .iter()
        .filter(|line| line["target"] == "verity::access")
        .count()
}

#[tokio::test]
async fn a_template_a_limit_and_the_log_level_edited_apply_after_sighup() {
    let peers = Peers::start().await;
    let deployment = deployment(&peers).await;
    let verity = deployment.start().await;
    assert_eq!(request_token(&verity, "one@example.org").await, 200);
    assert_eq!(next_subject(&peers).await, "Before the reload");
    assert_eq!(request_token(&verity, "two@example.org").await, 429);

    std::fs::write(
        deployment.dir().join("validate.eml"),
        template("After the reload"),
    )
    .unwrap();
    deployment.amend_config(
        "ratelimit: {email: {requester: {burst: 2, perSeconds: 3600}}}\n\
         logging: {app: warn}\nserver: {maxBodySize: 1000}\n",
    );
    let reloaded = reload(&verity, RELOADED).await;

    assert_eq!(
        reloaded["changed"],
        "logging.app, ratelimit.email.requester.burst, \
         threepid.medium.email.generators.template (files)",
        "{reloaded}"
    );
    let restart = verity
        .wait_for_log("these changed keys take effect only after a restart", WAIT)
        .await;
    assert_eq!(restart["keys"], "server.maxBodySize", "{restart}");
    // The new limit, counted afresh, and the new template.
    let from = verity.log_count();
    assert_eq!(request_token(&verity, "three@example.org").await, 200);
    assert_eq!(next_subject(&peers).await, "After the reload");
    assert_eq!(request_token(&verity, "four@example.org").await, 200);
    assert_eq!(next_subject(&peers).await, "After the reload");
    assert_eq!(request_token(&verity, "five@example.org").await, 429);
    // At `warn`, the requests' access lines (info) are no longer written; a line at warn is.
    reload(
        &verity,
        "these changed keys take effect only after a restart",
    )
    .await;
    assert_eq!(
        access_lines(&verity.logs_after(from)),
        0,
        "{}",
        verity.logs()
    );
    // Before the reload, at `info`, both requests had theirs.
    assert_eq!(access_lines(&verity.logs_after(0)), 2, "{}", verity.logs());
}

#[tokio::test]
async fn an_invalid_file_or_a_missing_template_keeps_the_server_on_its_settings() {
    let peers = Peers::start().await;
    let deployment = deployment(&peers).await;
    let verity = deployment.start().await;
    let config = std::fs::read_to_string(deployment.config()).unwrap();
    assert_eq!(request_token(&verity, "one@example.org").await, 200);
    assert_eq!(next_subject(&peers).await, "Before the reload");

    // A limit that is not a number, with a new template in place: neither applies.
    std::fs::write(
        deployment.dir().join("validate.eml"),
        template("Never sent"),
    )
    .unwrap();
    deployment.amend_config("ratelimit: {email: {requester: {burst: many}}}\n");
    let refused = reload(&verity, REFUSED).await;
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("ratelimit.email.requester.burst"),
        "{refused}"
    );
    assert_eq!(request_token(&verity, "two@example.org").await, 429);

    // A valid file whose template cannot be read: the higher limit does not apply either.
    std::fs::write(deployment.config(), &config).unwrap();
    std::fs::remove_file(deployment.dir().join("validate.eml")).unwrap();
    deployment.amend_config("ratelimit: {email: {requester: {burst: 5}}}\n");
    let refused = reload(&verity, REFUSED).await;
    assert!(
        refused["error"].as_str().unwrap().contains("validate.eml"),
        "{refused}"
    );
    assert_eq!(request_token(&verity, "three@example.org").await, 429);

    // Fixed: both apply, the template as it is now.
    std::fs::write(deployment.dir().join("validate.eml"), template("Fixed")).unwrap();
    reload(&verity, RELOADED).await;
    assert_eq!(request_token(&verity, "four@example.org").await, 200);
    assert_eq!(next_subject(&peers).await, "Fixed");
}
