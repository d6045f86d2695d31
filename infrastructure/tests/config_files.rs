//! The configuration files shipped with Verity, and a production-style ma1sd.yaml, load as an
//! operator would load them: through `verity::config::load`.
use std::path::Path;

use verity::config::{ConfigWarning, load};
use verity::settings::{ConnectorSettings, StorageSettings};
use verity_adapter_notify::FileConfig;
use verity_adapter_sql::SynapseDatabase;
use verity_domain::{LookupAlgorithm, ServerLabel, ValidationPolicy};

#[test]
fn the_sample_configuration_loads_without_a_single_warning() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/verity.sample.yaml");
    let loaded = load(Path::new(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let s = loaded.settings;
    assert_eq!(s.matrix.domain.as_str(), "example.org");
    assert_eq!(
        (s.server.hostname.as_str(), s.server.port),
        ("127.0.0.1", 8090)
    );
    assert_eq!(s.server.public_url, "http://localhost:8090");
    assert_eq!(s.key.path, Path::new("data/keys"));
    assert_eq!(s.storage.url(), "sqlite://data/verity.db?mode=rwc");
    assert_eq!(
        s.session.validation.policy,
        ValidationPolicy::defaults(ServerLabel::parse("root").unwrap())
    );
    // Email goes to files in data/outbox, so the whole flow works without an SMTP server; SMS is
    // left unconfigured.
    assert!(s.threepid.email.configured);
    assert_eq!(s.threepid.email.identity.from, "verity@example.org");
    assert!(matches!(
        &s.threepid.email.connector,
        ConnectorSettings::File(config) if *config == FileConfig::default()
    ));
    assert!(!s.threepid.msisdn.configured);
    assert!(s.federation.overrides.is_empty());
}

#[test]
fn a_production_ma1sd_yaml_loads_with_only_not_used_yet_ignored_unused_or_rotation_warnings() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ma1sd.yaml");
    let loaded = load(Path::new(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    // `lookup.recursive.enabled: false` is read now.
    assert!(!loaded.settings.lookups.recursive.enabled);
    let paths: Vec<&str> = loaded.warnings.iter().map(ConfigWarning::path).collect();
    assert_eq!(
        paths,
        [
            "logging.requests",
            "invite.resolution",
            "policy.policies.term_name.regexp",
            "internal",
            "hashing.hashStorageType",
            // ma1sd's sample rotation (10 requests) refuses clients (ma1sd#81): obeyed, with a
            // warning that gives the fix.
            "hashing.requests",
            // ma1sd reads `delay` only with `per_seconds`; Verity says so.
            "hashing.delay",
        ]
    );
    assert!(
        loaded.warnings.iter().all(|w| match w {
            ConfigWarning::NotUsedYet { .. } | ConfigWarning::Ignored { .. } => true,
            ConfigWarning::Unused { path, .. } => path == "hashing.delay",
            ConfigWarning::Risky { path, .. } => path == "hashing.requests",
            ConfigWarning::UnknownKey { .. } => false,
        }),
        "{:?}",
        loaded.warnings
    );
    let s = loaded.settings;
    // The client API's address is read for the user directory search.
    assert_eq!(
        s.user_directory.client_overrides,
        [("example.org".to_owned(), "http://localhost:8008".to_owned())]
    );
    assert_eq!(s.server.name, "matrix.example.org");
    assert_eq!(s.server.public_url, "https://matrix.example.org");
    assert_eq!(s.key.path, Path::new("/var/lib/ma1sd/keys"));
    assert!(matches!(
        &s.storage,
        StorageSettings::Sqlite { database } if database == Path::new("/var/lib/ma1sd/store.db")
    ));
    assert_eq!(s.logging.filter, "error,verity=info");
    let ConnectorSettings::Smtp(smtp) = &s.threepid.email.connector else {
        panic!("expected smtp, got {:?}", s.threepid.email.connector);
    };
    assert_eq!(
        (smtp.host.as_str(), smtp.port, smtp.tls),
        ("smtp.example.org", 587, 2)
    );
    assert_eq!(smtp.password.as_deref(), Some("smtp-password"));
    assert_eq!(s.threepid.email.identity.from, "matrix-id@example.org");
    let ConnectorSettings::Twilio(twilio) = &s.threepid.msisdn.connector else {
        panic!("expected twilio, got {:?}", s.threepid.msisdn.connector);
    };
    assert_eq!(twilio.number, "+15555555555");
    assert!(s.threepid.email.configured && s.threepid.msisdn.configured);
    assert_eq!(
        s.federation.overrides,
        [("example.org".to_owned(), "http://localhost:8008".to_owned())]
    );
    // ma1sd's hashing block is followed as written, rotation included.
    assert!(s.lookups.hashing.enabled && s.lookups.bindings);
    assert_eq!(s.lookups.hashing.pepper_length, 20);
    assert_eq!(
        s.lookups.hashing.rotation,
        verity_application::usecases::RotationPolicy::PerRequests(10)
    );
    assert_eq!(
        s.lookups.lookup.algorithms,
        [LookupAlgorithm::None, LookupAlgorithm::Sha256]
    );
    // ma1sd's `//host/db?user=...&password=...` becomes one URL with the credentials in it.
    let synapse = s.synapse_sql.expect("synapseSql is enabled");
    assert!(
        matches!(
            &synapse.database,
            SynapseDatabase::Postgres { url } if url == "postgres://synapse:synapse@localhost/synapse"
        ),
        "{:?}",
        synapse.database
    );
    assert!(
        synapse
            .identity
            .is_some_and(|identity| identity.query.is_none())
    );
}
