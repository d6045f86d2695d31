use super::*;

fn refused(yaml: &str) -> ConfigError {
    match parse(yaml) {
        Ok(loaded) => panic!("accepted: {:?}\n---\n{yaml}", loaded.settings),
        Err(e) => e,
    }
}

/// Asserts the error is about `key` and that the message the operator reads says so and says
/// `says`.
fn assert_names(yaml: &str, key: &str, says: &str) {
    let error = refused(yaml);
    let shown = error.to_string();
    assert_eq!(error.key(), Some(key), "{shown}");
    assert!(
        shown.starts_with(key),
        "{shown:?} does not start with {key}"
    );
    assert!(shown.contains(says), "{shown:?} does not say {says:?}");
}

const DOMAIN: &str = "matrix: {domain: example.org}\n";

#[test]
fn a_missing_or_blank_matrix_domain_is_named() {
    for yaml in ["", "server: {port: 8090}\n", "matrix:\n  domain: ''\n"] {
        assert_names(yaml, "matrix.domain", "is required");
    }
}

#[test]
fn an_invalid_matrix_domain_is_named() {
    assert_names(
        "matrix: {domain: 'https://example.org'}",
        "matrix.domain",
        "not a domain name",
    );
}

#[test]
fn a_port_out_of_range_names_the_key_and_the_expected_type() {
    assert_names(
        &format!("{DOMAIN}server:\n  port: 70000\n"),
        "server.port",
        "invalid value: integer `70000`, expected u16",
    );
    assert_names(
        &format!("{DOMAIN}server: {{port: -1}}"),
        "server.port",
        "expected u16",
    );
    assert_names(
        &format!("{DOMAIN}server: {{port: http}}"),
        "server.port",
        "expected u16",
    );
}

#[test]
fn a_value_of_the_wrong_type_names_the_key() {
    assert_names(
        &format!("{DOMAIN}server: {{port: [1]}}"),
        "server.port",
        "invalid type",
    );
    assert_names(
        &format!("{DOMAIN}server: 8090"),
        "server",
        "expected a mapping",
    );
    assert_names(
        "matrix: {domain: example.org, v2: maybe}",
        "matrix.v2",
        "expected a boolean",
    );
}

#[test]
fn a_bad_identity_server_entry_or_label_is_named() {
    let servers =
        |s: &str| format!("matrix:\n  domain: example.org\n  identity:\n    servers:\n{s}");
    assert_names(
        &servers("      root: ['ftp://matrix.org']\n"),
        "matrix.identity.servers.root[0]",
        "http:// or https://",
    );
    assert_names(
        &servers("      root: ['https://matrix.org', 'matrix.org/path']\n"),
        "matrix.identity.servers.root[1]",
        "neither an http(s) URL nor a domain name",
    );
    assert_names(
        &servers("      'has space': ['matrix.org']\n"),
        "matrix.identity.servers.has space",
        "not a server label",
    );
    assert_names(
        &servers("      root: [{url: x}]\n"),
        "matrix.identity.servers.root[0]",
        "invalid type",
    );
}

#[test]
fn a_bad_public_url_is_named() {
    for (url, says) in [
        ("id.example.org", "not an absolute URL"),
        ("ftp://id.example.org", "http:// or https://"),
        ("https://id.example.org/?a=b", "query"),
    ] {
        assert_names(
            &format!("{DOMAIN}server: {{publicUrl: '{url}'}}"),
            "server.publicUrl",
            says,
        );
    }
}

#[test]
fn bad_server_values_are_named() {
    assert_names(
        &format!("{DOMAIN}server: {{name: 'a b'}}"),
        "server.name",
        "not a server name",
    );
    assert_names(
        &format!("{DOMAIN}server: {{hostname: 'not a host'}}"),
        "server.hostname",
        "neither an IP address nor a host name",
    );
    assert_names(
        &format!("{DOMAIN}server: {{maxBodySize: 0}}"),
        "server.maxBodySize",
        "greater than zero",
    );
}

#[test]
fn an_unknown_storage_backend_is_named() {
    assert_names(
        &format!("{DOMAIN}storage: {{backend: mysql}}"),
        "storage.backend",
        "expected `sqlite` or `postgresql`",
    );
}

#[test]
fn postgresql_without_a_usable_database_is_named() {
    let key = "storage.provider.postgresql.database";
    assert_names(
        &format!("{DOMAIN}storage: {{backend: postgresql}}"),
        key,
        "is required",
    );
    for (database, says) in [
        ("localhost/ma1sd", "//host[:port]/database"),
        ("//localhost", "names no database"),
        ("mysql://localhost/db", "//host[:port]/database"),
    ] {
        assert_names(
            &format!(
                "{DOMAIN}storage: {{backend: postgresql, provider: {{postgresql: {{database: '{database}'}}}}}}"
            ),
            key,
            says,
        );
    }
    assert_names(
        &format!(
            "{DOMAIN}storage: {{backend: postgresql, provider: {{postgresql: {{database: '//h/d', maxConnections: 0}}}}}}"
        ),
        "storage.provider.postgresql.maxConnections",
        "at least 1",
    );
}

#[test]
fn bad_session_values_are_named() {
    for lifetime in ["0", "'1 week'", "-5", "'1h30'"] {
        assert_names(
            &format!("{DOMAIN}session: {{lifetime: {lifetime}}}"),
            "session.lifetime",
            "a positive duration such as `24h`",
        );
    }
    assert_names(
        &format!("{DOMAIN}session: {{maxFailedAttempts: 0}}"),
        "session.maxFailedAttempts",
        "at least 1",
    );
    assert_names(
        &format!("{DOMAIN}session: {{policy: {{validation: {{forLocal: {{toLocal: maybe}}}}}}}}"),
        "session.policy.validation.forLocal.toLocal",
        "expected a boolean",
    );
}

#[test]
fn bad_logging_values_are_named() {
    assert_names(
        &format!("{DOMAIN}logging: {{root: loud}}"),
        "logging.root",
        "unknown level",
    );
    assert_names(
        &format!("{DOMAIN}logging: {{app: verbose}}"),
        "logging.app",
        "unknown level",
    );
    assert_names(
        &format!("{DOMAIN}logging: {{app: 'verity=loud'}}"),
        "logging.app",
        "not a level or a filter directive",
    );
    assert_names(
        &format!("{DOMAIN}logging: {{format: xml}}"),
        "logging.format",
        "expected `text` or `json`",
    );
}

#[test]
fn yaml_syntax_errors_give_the_line_and_column() {
    let error = refused("matrix:\n  domain: example.org\n server: [\n");
    assert!(matches!(error, ConfigError::Syntax { .. }), "{error:?}");
    let shown = error.to_string();
    assert!(
        shown.starts_with("the configuration is not valid YAML"),
        "{shown}"
    );
    assert!(shown.contains("line 3"), "{shown}");
    assert!(matches!(refused("- a list\n"), ConfigError::Syntax { .. }));
}
