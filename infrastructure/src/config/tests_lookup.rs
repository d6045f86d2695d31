//! `bindings.*`, `hashing.*`, `memory.*`, `lookup.maxAddresses` and
//! `session.policy.unbind.enabled`.
use std::time::Duration;

use pretty_assertions::assert_eq;

use super::*;
use crate::config::tests::parsed;
use crate::config::{ConfigError, effective_yaml, parse};

fn refused(yaml: &str) -> ConfigError {
    match parse(yaml) {
        Ok(_) => panic!("the configuration was accepted:\n{yaml}"),
        Err(e) => e,
    }
}

fn with(sections: &str) -> String {
    format!("matrix: {{domain: example.org}}\n{sections}")
}

fn lookups(sections: &str) -> LookupsSettings {
    parsed(&with(sections)).settings.lookups
}

#[test]
fn by_default_binds_are_kept_hashing_is_on_and_the_pepper_never_rotates_on_its_own() {
    let s = lookups("");
    assert!(s.bindings);
    assert_eq!(
        s.hashing,
        HashingSettings {
            enabled: true,
            pepper_length: 20,
            rotation: RotationPolicy::Never,
            page_size: FEED_PAGE,
        }
    );
    assert_eq!(
        s.lookup.algorithms,
        [LookupAlgorithm::None, LookupAlgorithm::Sha256]
    );
    assert_eq!(s.lookup.max_addresses, 10_000);
    assert_eq!(s.memory, None);
    assert!(unbind_enabled(""));
}

fn unbind_enabled(sections: &str) -> bool {
    parsed(&with(sections))
        .settings
        .session
        .association
        .unbind_enabled
}

#[test]
fn ma1sd_rotation_policies_are_followed_as_written() {
    let s = lookups("hashing: {rotationPolicy: per_requests, requests: 5000, pepperLength: 32}");
    assert_eq!(s.hashing.rotation, RotationPolicy::PerRequests(5000));
    assert_eq!(s.hashing.pepper_length, 32);
    let s = lookups("hashing: {rotationPolicy: per_requests}");
    assert_eq!(s.hashing.rotation, RotationPolicy::PerRequests(10));
    let s = lookups("hashing: {rotationPolicy: PER_SECONDS, delay: '2d 4h'}");
    assert_eq!(
        s.hashing.rotation,
        RotationPolicy::Every(Duration::from_secs(2 * 86_400 + 4 * 3_600))
    );
    let s = lookups("hashing: {rotationPolicy: per_seconds}");
    assert_eq!(
        s.hashing.rotation,
        RotationPolicy::Every(Duration::from_secs(10))
    );
}

#[test]
fn without_hashing_only_none_is_offered() {
    let s = lookups("hashing: {enabled: false}");
    assert!(!s.hashing.enabled);
    assert_eq!(s.lookup.algorithms, [LookupAlgorithm::None]);
    let s = lookups("hashing: {algorithms: [sha256]}");
    assert_eq!(s.lookup.algorithms, [LookupAlgorithm::Sha256]);
    let err = refused(&with("hashing: {enabled: false, algorithms: [sha256]}"));
    assert_eq!(err.key(), Some("hashing.algorithms"));
}

#[test]
fn bad_hashing_values_name_their_key() {
    for (yaml, key) in [
        ("hashing: {pepperLength: 0}", "hashing.pepperLength"),
        ("hashing: {pepperLength: 256}", "hashing.pepperLength"),
        (
            "hashing: {rotationPolicy: hourly}",
            "hashing.rotationPolicy",
        ),
        (
            "hashing: {rotationPolicy: per_requests, requests: 0}",
            "hashing.requests",
        ),
        ("hashing: {algorithms: [md5]}", "hashing.algorithms[0]"),
        (
            "hashing: {hashStorageType: redis}",
            "hashing.hashStorageType",
        ),
        ("lookup: {maxAddresses: 0}", "lookup.maxAddresses"),
    ] {
        let err = refused(&with(yaml));
        assert_eq!(err.key(), Some(key), "{yaml}: {err}");
    }
}

#[test]
fn keys_without_effect_are_reported() {
    let loaded = parsed(&with(
        "hashing: {hashStorageType: in_memory, delay: 10s, requests: 3}\n\
         memory: {identities: []}\n",
    ));
    let paths: Vec<&str> = loaded.warnings.iter().map(ConfigWarning::path).collect();
    assert_eq!(
        paths,
        [
            "hashing.hashStorageType",
            "hashing.requests",
            "hashing.delay",
            "memory.identities",
        ]
    );
}

#[test]
fn the_binding_store_and_unbinding_can_be_switched_off() {
    let sections = "bindings: {enabled: false}\nsession: {policy: {unbind: {enabled: false}}}";
    assert!(!lookups(sections).bindings);
    assert!(!unbind_enabled(sections));
}

#[test]
fn unbind_notifications_are_on_unless_ma1sds_key_turns_them_off() {
    assert!(lookups("").unbind_notifications);
    let sections = "session: {policy: {unbind: {notifications: false}}}";
    assert!(!lookups(sections).unbind_notifications);
    assert!(unbind_enabled(sections));
}

const MEMORY: &str = "
memory:
  enabled: true
  identities:
    - username: alice
      password: secret
      displayName: Alice
      roles: [admin]
      threepids:
        - medium: email
          address: Alice@Example.org
        - medium: msisdn
          address: '447911123456'
    - username: '@bob:other.example'
      threepids:
        - {medium: email, address: bob@other.example}
";

#[test]
fn memory_identities_become_users_of_the_domain_with_canonical_3pids() {
    let loaded = parsed(&with(MEMORY));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let memory = loaded.settings.lookups.memory.unwrap();
    assert!(memory.hash_enabled, "Verity's default");
    let users: Vec<&str> = memory
        .identities
        .iter()
        .map(|i| i.user_id.as_str())
        .collect();
    assert_eq!(users, ["@alice:example.org", "@bob:other.example"]);
    let alice: Vec<String> = memory.identities[0]
        .threepids
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(alice, ["email:alice@example.org", "msisdn:447911123456"]);
    let off = lookups(&format!("{MEMORY}  hashEnabled: false\n"));
    assert!(!off.memory.unwrap().hash_enabled);
}

#[test]
fn a_disabled_memory_store_is_not_used() {
    let s = lookups(&MEMORY.replace("enabled: true", "enabled: false"));
    assert_eq!(s.memory, None);
}

#[test]
fn bad_memory_entries_name_their_key() {
    for (yaml, key) in [
        (
            "memory: {enabled: true, identities: [{threepids: []}]}",
            "memory.identities[0].username",
        ),
        (
            "memory: {enabled: true, identities: [{username: 'bad name'}]}",
            "memory.identities[0].username",
        ),
        (
            "memory: {enabled: true, identities: [{username: a, threepids: [{medium: email, address: 'x'}]}]}",
            "memory.identities[0].threepids[0].address",
        ),
        (
            "memory: {enabled: true, identities: [{username: a, threepids: [{address: a@b.c}]}]}",
            "memory.identities[0].threepids[0].medium",
        ),
        (
            "memory: {enabled: true, identities: [{username: a, threepids: [{medium: email, address: a@b.c}]}, {username: b, threepids: [{medium: email, address: A@B.c}]}]}",
            "memory.identities[1].threepids[0]",
        ),
    ] {
        let err = refused(&with(yaml));
        assert_eq!(err.key(), Some(key), "{yaml}: {err}");
    }
}

#[test]
fn the_dump_parses_back_into_the_same_settings_without_the_memory_passwords() {
    let original = parsed(&with(&format!(
        "{MEMORY}\nhashing: {{rotationPolicy: per_seconds, delay: 1h, algorithms: [sha256, none]}}\n\
         bindings: {{enabled: false}}\nlookup: {{maxAddresses: 50}}\n\
         session: {{policy: {{unbind: {{enabled: false}}}}}}\n"
    )))
    .settings;
    let yaml = effective_yaml(&original);
    assert!(!yaml.contains(": secret"), "{yaml}");
    let again = parsed(&yaml).settings;
    assert!(!again.session.association.unbind_enabled);
    let again = again.lookups;
    // The passwords come back as the mask; everything else as it was.
    let masked = |memory: Option<MemorySettings>| {
        memory.map(|mut memory| {
            for identity in &mut memory.identities {
                if identity.password.is_some() {
                    identity.password = Some(verity_domain::Password::parse("<redacted>").unwrap());
                }
            }
            memory
        })
    };
    assert_eq!(again.memory, masked(original.lookups.memory.clone()));
    let alice = &original.lookups.memory.as_ref().unwrap().identities[0];
    assert_eq!(alice.password.as_ref().map(|p| p.expose()), Some("secret"));
    assert_eq!(alice.display_name.as_deref(), Some("Alice"));
    assert_eq!(alice.roles, ["admin"]);
    assert_eq!(again.hashing, original.lookups.hashing);
    assert_eq!(again.lookup.algorithms, original.lookups.lookup.algorithms);
    assert_eq!(again.lookup.max_addresses, 50);
    assert!(!again.bindings);
}
