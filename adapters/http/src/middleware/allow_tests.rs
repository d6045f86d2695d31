//! The `Allow` table read from the document, and the header on the whole application's 405s.
use poem::http::StatusCode;

use super::*;
use crate::test_support::{client, mocked_deps};

const SPEC: &str = r#"{"paths": {
    "/_matrix/identity/v2/pubkey/isvalid": {"get": {}},
    "/_matrix/identity/v2/pubkey/{keyId}": {"get": {}},
    "/_matrix/identity/v2/lookup": {"post": {}},
    "/_matrix/identity/v2/validate/email/submitToken": {"get": {}, "post": {}}
}}"#;

fn allow(table: &AllowHeader, path: &str) -> Option<String> {
    table
        .methods(path)
        .map(|value| value.to_str().unwrap_or_default().to_owned())
}

#[test]
fn each_path_allows_the_methods_its_document_declares_and_options() {
    let table = AllowHeader::from_spec(SPEC);
    assert_eq!(
        allow(&table, "/_matrix/identity/v2/lookup").as_deref(),
        Some("POST, OPTIONS")
    );
    assert_eq!(
        allow(&table, "/_matrix/identity/v2/validate/email/submitToken").as_deref(),
        Some("GET, POST, OPTIONS")
    );
}

#[test]
fn a_template_segment_matches_any_segment_but_a_literal_path_wins() {
    let table = AllowHeader::from_spec(SPEC);
    assert_eq!(
        allow(&table, "/_matrix/identity/v2/pubkey/ed25519:0").as_deref(),
        Some("GET, OPTIONS")
    );
    assert_eq!(
        allow(&table, "/_matrix/identity/v2/pubkey/isvalid").as_deref(),
        Some("GET, OPTIONS")
    );
    assert_eq!(allow(&table, "/_matrix/identity/v2/pubkey/a/b"), None);
}

#[test]
fn a_document_that_does_not_parse_gives_no_header() {
    assert_eq!(allow(&AllowHeader::from_spec("not json"), "/x"), None);
}

#[tokio::test]
async fn a_405_from_the_application_names_the_allowed_methods() {
    let client = client(&mocked_deps(), true);
    let resp = client.delete("/_matrix/identity/v2/lookup").send().await;
    resp.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    resp.assert_header("allow", "POST, OPTIONS");
    let resp = client.post("/_matrix/identity/v2").body("{}").send().await;
    resp.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    resp.assert_header("allow", "GET, OPTIONS");
}
