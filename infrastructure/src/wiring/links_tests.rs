//! The URLs the use cases put in emails and answers start with `server.publicUrl`, its path
//! included.
use crate::config;

fn base(yaml: &str) -> String {
    config::parse(yaml)
        .unwrap()
        .settings
        .session
        .validation
        .link_base
}

#[test]
fn the_link_base_keeps_the_path_of_the_public_url() {
    let yaml =
        "matrix:\n  domain: example.org\nserver:\n  publicUrl: https://example.org/identity/\n";
    assert_eq!(
        base(yaml),
        "https://example.org/identity/_matrix/identity/v2"
    );
}

#[test]
fn with_v2_off_the_link_base_is_the_v1_api_under_the_public_url() {
    let yaml = "matrix:\n  domain: example.org\n  v2: false\nserver:\n  publicUrl: https://example.org/identity\n";
    assert_eq!(
        base(yaml),
        "https://example.org/identity/_matrix/identity/api/v1"
    );
}
