use std::path::{Path, PathBuf};
use std::time::Duration;

use pretty_assertions::assert_eq;
use verity_domain::{ServerLabel, ValidationPolicy};

use super::*;
use crate::settings::{LogFormat, StorageSettings};

pub(super) fn parsed(yaml: &str) -> Loaded {
    match parse(yaml) {
        Ok(loaded) => loaded,
        Err(e) => panic!("the configuration was refused: {e}\n---\n{yaml}"),
    }
}

pub(super) fn label(name: &str) -> ServerLabel {
    ServerLabel::parse(name).unwrap()
}

fn warning_paths(loaded: &Loaded) -> Vec<&str> {
    loaded.warnings.iter().map(ConfigWarning::path).collect()
}

#[test]
fn a_file_with_only_matrix_domain_gets_every_default() {
    let loaded = parsed("matrix:\n  domain: Example.ORG\n");
    let s = &loaded.settings;
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(s.matrix.domain.as_str(), "example.org");
    assert_eq!(
        s.matrix.identity_servers.get(&label("root")),
        Some(&vec!["https://matrix.org".to_owned()])
    );
    assert_eq!(
        s.matrix.identity_servers.get(&label("matrix-org")),
        Some(&vec!["https://matrix.org".to_owned()])
    );
    assert_eq!(s.matrix.identity_servers.len(), 2);
    assert!(s.http.v1 && s.http.v2);
    assert_eq!(s.server.name, "example.org");
    assert_eq!(s.server.hostname, "0.0.0.0");
    assert_eq!(s.server.port, 8090);
    assert_eq!(s.server.public_url, "https://example.org");
    assert_eq!(s.http.max_body_bytes, 524_288);
    assert_eq!(s.key.path, PathBuf::from("keys"));
    assert!(
        matches!(&s.storage, StorageSettings::Sqlite { database } if database == Path::new("verity.db"))
    );
    assert_eq!(
        s.session.validation.policy,
        ValidationPolicy::defaults(label("root"))
    );
    assert_eq!(
        s.session.validation.rules.lifetime,
        Duration::from_secs(86_400)
    );
    assert_eq!(s.session.validation.rules.max_failed_attempts, 5);
    assert_eq!(s.logging.filter, "info");
    assert_eq!(s.logging.format, LogFormat::Text);
}

const EVERY_KEY: &str = r"
matrix:
  domain: example.org
  v1: false
  v2: true
  identity:
    servers:
      root: ['https://vector.im']
      corp: ['https://id.corp.example:8443/', 'id.example.net:8090', 'example.com']
server:
  name: id.example.org
  hostname: 127.0.0.1
  port: 9090
  publicUrl: 'https://%SERVER_NAME%/identity/'
  maxBodySize: 1024
key:
  path: /var/lib/verity/keys
storage:
  backend: postgresql
  provider:
    sqlite:
      database: /unused.db
    postgresql:
      database: '//db.example.org:5433/verity?sslmode=require'
      username: verity
      password: 's3cr3t/@:'
      maxConnections: 4
      pool: true
      maxConnectionsFree: 5
      maxConnectionAgeMillis: 3600000
      checkConnectionsEveryMillis: 30000
      testBeforeGetFromPool: true
session:
  lifetime: 1h30m
  maxFailedAttempts: 3
  policy:
    validation:
      enabled: true
      forLocal:
        enabled: true
        toLocal: true
        toRemote:
          enabled: true
          server: corp
      forRemote:
        enabled: false
        toLocal: true
        toRemote:
          enabled: false
          server: nowhere
    unbind:
      enabled: true
      notifications: false
  nextLink:
    allowed: ['https://app.element.io/']
logging:
  root: warn
  app: DEBUG
  format: json
accountConfig:
  allowOnlyTrustDomains: false
  tokenLifetime: 7d
policy:
  policies:
    privacy:
      version: 1.0
      terms:
        en: {name: Privacy notice, url: 'https://example.org/privacy-1.0-en.html'}
";

#[test]
fn every_key_verity_reads_is_taken_from_the_file() {
    let loaded = parsed(EVERY_KEY);
    let s = &loaded.settings;
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert!(!s.http.v1 && s.http.v2);
    assert_eq!(
        s.matrix.identity_servers[&label("root")],
        ["https://vector.im"]
    );
    assert_eq!(
        s.matrix.identity_servers[&label("corp")],
        [
            "https://id.corp.example:8443/",
            "id.example.net:8090",
            "example.com"
        ]
    );
    assert_eq!(s.server.name, "id.example.org");
    assert_eq!(s.server.hostname, "127.0.0.1");
    assert_eq!(s.server.port, 9090);
    assert_eq!(s.server.public_url, "https://id.example.org/identity");
    assert_eq!(s.http.max_body_bytes, 1024);
    assert_eq!(s.key.path, PathBuf::from("/var/lib/verity/keys"));
    let StorageSettings::Postgresql {
        url,
        max_connections,
    } = &s.storage
    else {
        panic!("expected postgresql, got {:?}", s.storage);
    };
    assert_eq!(
        url.expose(),
        "postgres://verity:s3cr3t%2F%40%3A@db.example.org:5433/verity?sslmode=require"
    );
    assert_eq!(*max_connections, 4);
    assert_eq!(
        s.session.validation.rules.lifetime,
        Duration::from_secs(5_400)
    );
    assert_eq!(s.session.validation.rules.max_failed_attempts, 3);
    let policy = &s.session.validation.policy;
    assert_eq!(policy.for_local.to_remote.server, label("corp"));
    assert!(!policy.for_remote.enabled && policy.for_remote.to_local);
    assert_eq!(policy.for_remote.to_remote.server, label("nowhere"));
    assert_eq!(s.logging.filter, "warn,verity=debug");
    assert_eq!(s.logging.format, LogFormat::Json);
    assert_eq!(s.session.next_link_allowed, ["https://app.element.io/"]);
    assert!(!s.accounts.allow_only_trusted_domain);
    assert_eq!(
        s.accounts.token_lifetime,
        Some(Duration::from_secs(7 * 86_400))
    );
    assert_eq!(s.accounts.policies.len(), 1);
    assert_eq!(s.accounts.policies[0].version, "1.0");
}

#[test]
fn unknown_keys_are_reported_with_their_full_dotted_path() {
    let loaded = parsed(
        "matrix:\n  domain: example.org\n  identity:\n    serverz: {}\n\
         server:\n  prot: 8091\n  publicURL: https://x.example\n\
         storage:\n  provider:\n    postgresql:\n      maxConections: 3\n\
         toplevel: 1\n",
    );
    assert_eq!(
        warning_paths(&loaded),
        [
            "matrix.identity.serverz",
            "server.prot",
            "server.publicURL",
            "storage.provider.postgresql.maxConections",
            "toplevel",
        ]
    );
    assert!(
        loaded
            .warnings
            .iter()
            .all(|w| matches!(w, ConfigWarning::UnknownKey { .. }))
    );
    let shown: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown[1],
        "unknown configuration key `server.prot` is ignored (did you mean `server.port`?)"
    );
    assert!(
        shown[2].contains("did you mean `server.publicUrl`?"),
        "{}",
        shown[2]
    );
    assert!(shown[4].contains("docs/configuration.md"), "{}", shown[4]);
}

#[test]
fn mxisd_sections_of_later_releases_get_a_not_used_yet_warning_only_when_set() {
    let loaded = parsed(
        "matrix: {domain: example.org}\n\
         lookup:\n  recursive:\n    bridge: {enabled: false}\n\
         wordpress: {enabled: false}\n\
         logging: {requests: true}\n\
         session: {policy: {unbind: {fraudulent: {sendWarning: true}}}}\n",
    );
    assert_eq!(
        loaded.warnings,
        [
            ConfigWarning::NotUsedYet {
                path: "lookup.recursive.bridge".into()
            },
            ConfigWarning::NotUsedYet {
                path: "wordpress".into()
            },
            ConfigWarning::NotUsedYet {
                path: "logging.requests".into()
            },
            ConfigWarning::NotUsedYet {
                path: "session.policy.unbind.fraudulent".into()
            },
        ]
    );
    assert_eq!(
        loaded.warnings[1].to_string(),
        "`wordpress` is an mxisd/ma1sd section this version of Verity does not use yet; it is ignored"
    );
    assert!(loaded.warnings[0].to_string().contains("mxisd/ma1sd key"));
    assert!(loaded.warnings[2].to_string().contains("mxisd/ma1sd key"));
}

#[test]
fn section_headers_whose_children_are_all_commented_out_mean_defaults() {
    let loaded = parsed(
        "matrix:\n  domain: example.org\n  identity:\n\
         server:\nkey:\nstorage:\n  provider:\nsession:\n  policy:\n    validation:\n\
         logging:\n#  root: error\n",
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.settings.server.port, 8090);
}

#[test]
fn scalars_are_read_as_leniently_as_mxisd_read_them() {
    let loaded = parsed(
        "matrix: {domain: example.org, v1: 'false', v2: yes}\n\
         server: {port: '8091', maxBodySize: '2048'}\n\
         storage:\n  backend: PostgreSQL\n  provider:\n    postgresql:\n\
         \x20     database: '//localhost/ma1sd'\n      username: ma1sd\n      password: 012345\n\
         session: {lifetime: 600, maxFailedAttempts: '2'}\n",
    );
    let s = &loaded.settings;
    assert!(!s.http.v1 && s.http.v2);
    assert_eq!((s.server.port, s.http.max_body_bytes), (8091, 2048));
    // The scalar's own text, not the number YAML would read (12345).
    assert_eq!(s.storage.url(), "postgres://ma1sd:012345@localhost/ma1sd");
    assert_eq!(
        s.session.validation.rules.lifetime,
        Duration::from_secs(600)
    );
    assert_eq!(s.session.validation.rules.max_failed_attempts, 2);
}

#[test]
fn jdbc_style_credentials_and_full_urls_are_accepted_for_postgresql() {
    let storage = |database: &str| {
        parsed(&format!(
            "matrix: {{domain: example.org}}\nstorage: {{backend: postgresql, provider: \
             {{postgresql: {{database: '{database}'}}}}}}\n"
        ))
        .settings
        .storage
        .url()
    };
    assert_eq!(
        storage("//db:5432/ma1sd?user=u&password=p%26q&ssl=true"),
        "postgres://u:p&q@db:5432/ma1sd?ssl=true"
    );
    assert_eq!(storage("jdbc:postgresql://db/ma1sd"), "postgres://db/ma1sd");
    assert_eq!(
        storage("postgresql://u:p@db/verity"),
        "postgresql://u:p@db/verity"
    );
}

#[test]
fn durations_take_units_or_seconds() {
    use super::lenient::{format_duration, parse_duration};
    assert_eq!(parse_duration("24h"), Some(Duration::from_secs(86_400)));
    assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1_800)));
    assert_eq!(parse_duration(" 90s "), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("1d 2h"), Some(Duration::from_secs(93_600)));
    assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
    for bad in ["", "0", "0s", "1h30", "h", "1w", "-1s", "1.5h"] {
        assert_eq!(parse_duration(bad), None, "{bad:?} was accepted");
    }
    assert_eq!(format_duration(Duration::from_secs(86_400)), "24h");
    assert_eq!(format_duration(Duration::from_secs(5_400)), "90m");
    assert_eq!(format_duration(Duration::from_secs(61)), "61s");
}

#[test]
fn the_effective_yaml_masks_secrets_and_parses_back_to_the_same_settings() {
    let first = parsed(EVERY_KEY).settings;
    let yaml = effective_yaml(&first);
    assert!(!yaml.contains("s3cr3t"), "{yaml}");
    assert!(yaml.contains("password: <redacted>"), "{yaml}");
    assert!(
        yaml.contains("publicUrl: https://id.example.org/identity"),
        "{yaml}"
    );
    assert!(
        yaml.contains("database: //db.example.org:5433/verity?sslmode=require"),
        "{yaml}"
    );
    let again = parsed(&yaml);
    assert!(again.warnings.is_empty(), "{:?}", again.warnings);
    assert_eq!(effective_yaml(&again.settings), yaml);
    assert_eq!(
        again.settings.storage.url(),
        "postgres://verity:%3Credacted%3E@db.example.org:5433/verity?sslmode=require"
    );
    assert_eq!(
        again.settings.session.validation.policy,
        first.session.validation.policy
    );

    let minimal = parsed("matrix: {domain: example.org}").settings;
    let yaml = effective_yaml(&minimal);
    assert!(yaml.contains("lifetime: 24h"), "{yaml}");
    assert_eq!(effective_yaml(&parsed(&yaml).settings), yaml);
}

#[test]
fn the_file_is_the_cli_path_then_verity_then_ma1sd_then_mxisd() {
    let dir = tempfile::tempdir().unwrap();
    let given = PathBuf::from("/etc/ma1sd/ma1sd.yaml");
    assert_eq!(locate_in(dir.path(), Some(given.clone())), given);
    assert_eq!(locate_in(dir.path(), None), dir.path().join("verity.yaml"));
    std::fs::write(dir.path().join("mxisd.yaml"), "").unwrap();
    assert_eq!(locate_in(dir.path(), None), dir.path().join("mxisd.yaml"));
    std::fs::write(dir.path().join("ma1sd.yaml"), "").unwrap();
    assert_eq!(locate_in(dir.path(), None), dir.path().join("ma1sd.yaml"));
    std::fs::write(dir.path().join("verity.yaml"), "").unwrap();
    assert_eq!(locate_in(dir.path(), None), dir.path().join("verity.yaml"));
}

#[test]
fn loading_reads_the_file_and_a_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ma1sd.yaml");
    let error = load(&path).unwrap_err();
    assert!(matches!(error, ConfigError::NotFound { .. }));
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
    std::fs::write(&path, "matrix:\n  domain: example.org\n").unwrap();
    assert_eq!(
        load(&path).unwrap().settings.matrix.domain.as_str(),
        "example.org"
    );
}
