//! The committed OpenAPI document matches the code, and every operation traces to the spec.
// Test helpers outside #[test] functions are not "tests" to clippy; panicking is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use serde_json::Value;
use verity_adapter_http::{HttpDeps, openapi_service};
use verity_application::ports::driving::{
    MockAccounts, MockAssociation, MockKeys, MockLookup, MockStatus, MockValidation,
};

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml");

fn generated() -> String {
    // Generating the document never calls a handler, so a mock without expectations is enough.
    let deps = HttpDeps {
        status: Arc::new(MockStatus::new()),
        accounts: Arc::new(MockAccounts::new()),
        validation: Arc::new(MockValidation::new()),
        keys: Arc::new(MockKeys::new()),
        association: Arc::new(MockAssociation::new()),
        lookup: Arc::new(MockLookup::new()),
        limits: Arc::new(verity_application::ports::driving::MockLimits::new()),
        invites: Arc::new(verity_application::ports::driving::MockInvites::new()),
        user_directory: Arc::new(verity_application::ports::driving::MockUserDirectory::new()),
        remote_sessions: None,
        registration: None,
        room_invites: None,
        next_link_allowed: Arc::from(Vec::new()),
        views: Arc::default(),
        public_url: Arc::from(""),
    };
    openapi_service(&deps).spec_yaml()
}

fn document() -> Value {
    serde_norway::from_str(&generated()).expect("the generated document is YAML")
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            out.push((path.clone(), method.clone(), op.clone()));
        }
    }
    out
}

#[test]
fn the_committed_openapi_yaml_is_up_to_date() {
    let generated = generated().replace("\r\n", "\n");
    if std::env::var_os("UPDATE_OPENAPI").is_some() && std::env::var_os("CI").is_none() {
        std::fs::write(COMMITTED, &generated).expect("write api-spec/openapi.yaml");
    }
    let committed = std::fs::read_to_string(COMMITTED)
        .unwrap_or_default()
        .replace("\r\n", "\n");
    assert!(
        committed == generated,
        "api-spec/openapi.yaml is stale: run `UPDATE_OPENAPI=1 cargo test -p verity-api-spec` \
         and commit the result"
    );
}

#[test]
fn every_operation_has_an_id_a_summary_and_a_tag() {
    let doc = document();
    let ops = operations(&doc);
    assert!(!ops.is_empty());
    for (path, method, op) in ops {
        for key in ["operationId", "summary", "tags"] {
            assert!(!op[key].is_null(), "{method} {path} has no {key}");
        }
    }
}

#[test]
fn every_matrix_operation_links_the_spec_and_lives_under_the_identity_prefix() {
    // /status and /version are mxisd/ma1sd extras that monitoring relies on, the health probes
    // Verity's own for orchestrators (no spec describes them); the homeserver's user directory
    // search is a client-server endpoint the reverse proxy routes to Verity; nothing else may
    // live outside /_matrix/identity/.
    const EXTRAS: [&str; 4] = [
        "/status",
        "/version",
        "/_verity/health/live",
        "/_verity/health/ready",
    ];
    const CLIENT_SERVER: [&str; 2] = [
        "/_matrix/client/v3/user_directory/search",
        "/_matrix/client/r0/user_directory/search",
    ];
    for (path, method, op) in operations(&document()) {
        if EXTRAS.contains(&path.as_str()) {
            continue;
        }
        assert!(
            path.starts_with("/_matrix/identity/") || CLIENT_SERVER.contains(&path.as_str()),
            "{method} {path} is outside the API"
        );
        let url = op["externalDocs"]["url"].as_str().unwrap_or_default();
        assert!(
            url.starts_with("https://spec.matrix.org/"),
            "{method} {path} links no spec"
        );
    }
}

#[test]
fn operation_ids_are_unique() {
    let mut ids: Vec<String> = operations(&document())
        .into_iter()
        .map(|(_, _, op)| op["operationId"].as_str().unwrap_or_default().to_owned())
        .collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate operationId");
}

#[test]
fn every_json_error_response_is_a_matrix_error() {
    // /status answers 503 with its own health body, and the link pages answer HTML: everything
    // else that fails answers `{errcode, error}`.
    let mut checked = 0;
    for (path, method, op) in operations(&document()) {
        for (status, response) in op["responses"].as_object().expect("responses") {
            if status.starts_with('2') || status.starts_with('3') || path == "/status" {
                continue;
            }
            for (content_type, content) in response["content"].as_object().into_iter().flatten() {
                if !content_type.starts_with("application/json") {
                    continue;
                }
                let schema = content["schema"]["$ref"].as_str().unwrap_or_default();
                assert_eq!(
                    schema, "#/components/schemas/MatrixError",
                    "{method} {path} answers {status} with {schema}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 0, "no error responses documented at all");
}

#[test]
fn no_path_is_written_twice() {
    // poem-openapi emits one path item per API struct; two structs serving the same path (GET and
    // POST of submitToken) would produce duplicate YAML keys, and clients keep only the last one.
    let yaml = generated();
    let mut paths: Vec<&str> = yaml.lines().filter(|l| l.starts_with("  /")).collect();
    let count = paths.len();
    paths.sort_unstable();
    paths.dedup();
    assert_eq!(paths.len(), count, "a path appears twice in the document");
}
