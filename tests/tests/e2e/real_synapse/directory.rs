//! The user directory search with a real Synapse and a real OpenLDAP: the reverse proxy routes
//! Synapse's `POST /_matrix/client/v3/user_directory/search` to Verity (here the test sends it
//! there itself), which checks the caller's token with Synapse's `whoami`, asks Synapse's own
//! directory with it, and searches the directory: a Synapse user finds a colleague who never
//! logged in to Synapse, and a Synapse user; a token Synapse does not know, a filter injection,
//! a huge term, a missing token and a body that is not JSON get their Matrix errors.
//!
//! Synapse and slapd start for this test alone; without `VERITY_TEST_SYNAPSE` (or slapd) it
//! passes without running, except under CI (see `verity_testkit::synapse::python`).
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use verity_testkit::slapd::{Options, PEOPLE, SUFFIX, Slapd, ldif_line};
use verity_testkit::synapse::{SERVER_NAME, Synapse};
use verity_tests::{Backend, TestApp, spawn_app_with};

use super::matrix::{MatrixUser, send};

const SEARCH: &str = "/_matrix/client/v3/user_directory/search";

/// The directory: Lorna, who never logged in to Synapse, and Dora, whose account is disabled.
fn people() -> String {
    let mut ldif = String::new();
    for (uid, name, mail, kind) in [
        ("lorna", "Lorna Directory", "lorna@corp.example", "staff"),
        ("dora", "Dora Disabled", "dora@corp.example", "disabled"),
    ] {
        ldif.push_str(&format!(
            "dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\n"
        ));
        for (attribute, value) in [
            ("displayName", name),
            ("mail", mail),
            ("employeeType", kind),
        ] {
            ldif.push_str(&ldif_line(attribute, value));
        }
        ldif.push('\n');
    }
    ldif
}

/// Verity for Synapse's users (`matrix.domain` is its server name), its client API reached
/// through `dns.overwrite.homeserver.client` for the host the test calls, and the directory.
fn verity_yaml(synapse: &Synapse, slapd: &Slapd) -> String {
    json!({
        "matrix": {"domain": SERVER_NAME},
        "dns": {"overwrite": {"homeserver": {"client": [
            {"name": "127.0.0.1", "value": synapse.client_url()},
        ]}}},
        "ldap": {
            "enabled": true,
            "filter": "(objectClass=inetOrgPerson)",
            "connection": {"host": "127.0.0.1", "port": slapd.port(), "baseDNs": [SUFFIX]},
            "attribute": {"uid": {"type": "uid", "value": "uid"}},
            "directory": {"filter": "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))"},
        },
    })
    .to_string()
}

struct World {
    synapse: Synapse,
    _slapd: Slapd,
    app: TestApp,
    http: reqwest::Client,
}

impl World {
    /// `POST <path>` on Verity with `body` as `token`: the status and the answer.
    async fn post(&self, path: &str, token: Option<&str>, body: String) -> (u16, Value) {
        let mut request = self
            .http
            .post(self.app.url(path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        send(request).await
    }

    async fn search(&self, token: &str, term: &str) -> (u16, Value) {
        self.post(
            SEARCH,
            Some(token),
            json!({"search_term": term}).to_string(),
        )
        .await
    }
}

/// The user IDs of a search answer.
fn ids(answer: &Value) -> Vec<String> {
    let mut ids: Vec<String> = answer["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|person| person["user_id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synapse_user_finds_directory_people_through_verity_and_bad_requests_are_refused() {
    let Some(python) = verity_testkit::synapse::python() else {
        return;
    };
    let Some(slapd) = Slapd::start(&people(), &Options::default()) else {
        return;
    };
    let synapse = Synapse::start(&python, &verity_testkit::synapse::Options::default()).await;
    let app = spawn_app_with(Backend::Sqlite, &verity_yaml(&synapse, &slapd)).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client");
    let searcher = MatrixUser::register(&http, &synapse.client_url(), "searcher").await;
    let colleague = MatrixUser::register(&http, &synapse.client_url(), "lornasyn").await;
    let world = World {
        synapse,
        _slapd: slapd,
        app,
        http,
    };
    let token = searcher.access_token();

    // Synapse indexes a new user in the background: wait until its directory lists them.
    let lorna = format!("@lorna:{SERVER_NAME}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let answer = loop {
        let (status, answer) = world.search(token, "lorna").await;
        assert_eq!(status, 200, "{answer}\n{}", world.synapse.logs());
        if ids(&answer).contains(&colleague.user_id) || Instant::now() > deadline {
            break answer;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(
        ids(&answer),
        [lorna.clone(), colleague.user_id.clone()],
        "the directory's Lorna and Synapse's lornasyn: {answer}"
    );
    let from_directory = answer["results"]
        .as_array()
        .and_then(|results| results.iter().find(|p| p["user_id"] == lorna.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(from_directory["display_name"], "Lorna Directory");
    assert_eq!(answer["limited"], false);

    // By 3PID, and the directory's filter: Dora is disabled.
    let (_, by_mail) = world.search(token, "corp.example").await;
    assert_eq!(ids(&by_mail), [lorna], "{by_mail}");

    // A filter injection is text: it finds nobody, and fails nothing.
    let (status, injected) = world.search(token, "*)(uid=*").await;
    assert_eq!((status, ids(&injected)), (200, vec![]), "{injected}");

    // A token Synapse does not know.
    let (status, answer) = world.search("syt_not_a_real_token", "lorna").await;
    assert_eq!(
        (status, answer["errcode"].as_str()),
        (401, Some("M_UNKNOWN_TOKEN")),
        "{answer}"
    );
    for (token, body, status, errcode) in [
        (
            None,
            json!({"search_term": "lorna"}).to_string(),
            401,
            "M_MISSING_TOKEN",
        ),
        (
            Some(token),
            "{\"search_term\": ".to_owned(),
            400,
            "M_NOT_JSON",
        ),
        (
            Some(token),
            json!({"search_term": "lorna ".repeat(100)}).to_string(),
            400,
            "M_INVALID_PARAM",
        ),
    ] {
        let (got, answer) = world.post(SEARCH, token, body).await;
        assert_eq!(
            (got, answer["errcode"].as_str()),
            (status, Some(errcode)),
            "{answer}"
        );
    }
}
