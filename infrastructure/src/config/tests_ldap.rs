//! `ldap.*` and `netiq.*`: ma1sd's keys and defaults into the LDAP adapter's configuration,
//! errors naming the key, and the dump reading back.
use std::time::Duration;

use pretty_assertions::assert_eq;
use verity_adapter_ldap::{LdapConfig, TlsMode, UidType};

use super::{ConfigError, effective_yaml, parse};
use crate::settings::DirectorySettings;

const MINIMAL: &str = "  enabled: true\n  connection:\n    host: ldap.example.org\n    \
                       baseDNs: ['ou=people,dc=example,dc=org']\n";

fn ldap(section: &str) -> Result<Option<DirectorySettings>, ConfigError> {
    parse(&format!(
        "matrix: {{domain: example.org}}\nldap:\n{section}"
    ))
    .map(|loaded| loaded.settings.ldap)
}

fn config(section: &str) -> LdapConfig {
    ldap(section).unwrap().unwrap().config
}

fn error(section: &str) -> (String, String) {
    let err = ldap(section).unwrap_err();
    let key = err
        .key()
        .unwrap_or_else(|| panic!("no key in {err}"))
        .to_owned();
    (key, err.to_string())
}

#[test]
fn the_section_is_off_by_default_and_when_disabled_nothing_else_is_checked() {
    let settings = parse("matrix: {domain: example.org}\n").unwrap().settings;
    assert_eq!((settings.ldap, settings.netiq), (None, None));
    assert_eq!(
        ldap("  enabled: false\n  connection: {tls: maybe}\n").unwrap(),
        None
    );
}

#[test]
fn a_minimal_section_gets_ma1sds_defaults() {
    let settings = ldap(MINIMAL).unwrap().unwrap();
    let mut expected = LdapConfig::new("ldap.example.org", "example.org");
    expected.base_dns = vec!["ou=people,dc=example,dc=org".to_owned()];
    assert_eq!(settings.config, expected);
    // Spelt out, as operators read them in ma1sd's docs.
    assert_eq!(settings.config.port, 389);
    assert_eq!(settings.config.uid_attribute, "saMAccountName");
    assert_eq!(settings.config.identity_token, "%3pid");
    assert_eq!(
        settings.config.threepid_attributes["msisdn"],
        [
            "telephoneNumber",
            "mobile",
            "homePhone",
            "otherTelephone",
            "otherMobile",
            "otherHomePhone"
        ]
    );
    assert!(!settings.config.hash_lookup);
    assert_eq!(settings.config.priority, 20);
    assert_eq!(settings.refresh, Duration::from_secs(300));
}

#[test]
fn every_key_is_read_under_ma1sds_names() {
    let config = config(
        "  enabled: true\n  filter: '(objectClass=person)'\n  activeDirectory: true\n  \
         defaultDomain: corp.example.org\n  connection:\n    host: dc1.corp.example.org\n    \
         port: 3269\n    tls: true\n    caFile: /etc/verity/corp-ca.pem\n    \
         bindDn: 'CN=Verity,OU=Services,DC=corp,DC=example,DC=org'\n    bindPassword: s3cret\n    \
         baseDNs: ['OU=Staff,DC=corp,DC=example,DC=org']\n    connectTimeout: 2s\n    \
         operationTimeout: 1m\n    pageSize: 500\n  attribute:\n    \
         uid: {type: uid, value: userPrincipalName}\n    name: cn\n    \
         threepid: {email: [mail, proxyAddresses]}\n  auth: {filter: '(memberOf=cn=a)'}\n  \
         directory: {filter: '(memberOf=cn=d)', attribute: {other: [nickname]}}\n  \
         profile: {filter: '(memberOf=cn=p)'}\n  identity:\n    filter: '(memberOf=cn=i)'\n    \
         token: '{address}'\n    medium: {email: '(|(mail={address})(proxyAddresses=smtp:{address}))'}\n    \
         lookup: true\n    priority: 25\n",
    );
    assert_eq!(config.host, "dc1.corp.example.org");
    assert_eq!((config.port, config.tls), (3269, TlsMode::Ldaps));
    assert_eq!(
        config.ca_file.as_deref(),
        Some(std::path::Path::new("/etc/verity/corp-ca.pem"))
    );
    assert_eq!(config.bind_password.expose(), "s3cret");
    assert_eq!(config.filter, "(objectClass=person)");
    assert_eq!(config.effective_auth_filter(), "(memberOf=cn=a)");
    assert_eq!(config.effective_directory_filter(), "(memberOf=cn=d)");
    assert_eq!(config.effective_profile_filter(), "(memberOf=cn=p)");
    assert_eq!(config.effective_identity_filter(), "(memberOf=cn=i)");
    assert!(config.active_directory);
    assert_eq!(config.default_domain.as_deref(), Some("corp.example.org"));
    assert_eq!(
        (config.uid_type, config.uid_attribute.as_str()),
        (UidType::Uid, "userPrincipalName")
    );
    assert_eq!(config.name_attribute, "cn");
    assert_eq!(config.directory_other_attributes, ["nickname"]);
    assert_eq!(config.identity_token, "{address}");
    assert_eq!(
        config.identity_queries["email"],
        "(|(mail={address})(proxyAddresses=smtp:{address}))"
    );
    assert!(config.hash_lookup);
    assert_eq!(config.priority, 25);
    assert_eq!(
        (config.connect_timeout, config.operation_timeout),
        (Duration::from_secs(2), Duration::from_secs(60))
    );
    assert_eq!(config.page_size, 500);
}

#[test]
fn writing_attribute_threepid_replaces_the_whole_default_map_as_ma1sd_did() {
    let config = config(&format!(
        "{MINIMAL}  attribute:\n    threepid:\n      email: [mail]\n"
    ));
    let media: Vec<&str> = config
        .threepid_attributes
        .keys()
        .map(String::as_str)
        .collect();
    // No msisdn: phone numbers ma1sd never published stay unpublished after the switch.
    assert_eq!(media, ["email"]);
}

#[test]
fn tls_takes_ma1sds_booleans_and_starttls_and_ldaps_defaults_to_port_636() {
    for (tls, mode, port) in [
        ("false", TlsMode::None, 389),
        ("'true'", TlsMode::Ldaps, 636),
        ("yes", TlsMode::Ldaps, 636),
        ("starttls", TlsMode::StartTls, 389),
        ("StartTLS", TlsMode::StartTls, 389),
    ] {
        let config = config(&format!("{MINIMAL}    tls: {tls}\n"));
        assert_eq!((config.tls, config.port), (mode, port), "{tls}");
    }
}

#[test]
fn the_legacy_base_dn_is_added_to_the_list_as_ma1sd_did() {
    let section = "  enabled: true\n  connection:\n    host: h\n    baseDn: 'dc=old'\n";
    assert_eq!(config(section).base_dns, ["dc=old"]);
    let both = "  enabled: true\n  connection:\n    host: h\n    baseDn: 'dc=old'\n    \
                baseDNs: ['dc=a', 'dc=old']\n";
    assert_eq!(config(both).base_dns, ["dc=a", "dc=old"]);
}

#[test]
fn netiq_is_the_same_tree_under_its_own_name() {
    let settings = parse(&format!(
        "matrix: {{domain: example.org}}\nnetiq:\n{MINIMAL}  identity: {{priority: 5}}\n"
    ))
    .unwrap()
    .settings;
    assert_eq!(settings.ldap, None);
    assert_eq!(settings.netiq.unwrap().config.priority, 5);
    let err = parse("matrix: {domain: example.org}\nnetiq: {enabled: true}\n").unwrap_err();
    assert_eq!(err.key(), Some("netiq.connection.host"), "{err}");
}

#[test]
fn every_bad_value_is_refused_naming_its_key() {
    let base = "  enabled: true\n  connection:\n    host: h\n    baseDNs: [dc=x]\n";
    for (section, key) in [
        ("  enabled: true\n".to_owned(), "ldap.connection.host"),
        (
            "  enabled: true\n  connection: {host: h}\n".to_owned(),
            "ldap.connection.baseDNs",
        ),
        (
            "  enabled: true\n  connection: {host: 'ldaps://h:636', baseDNs: [dc=x]}\n".to_owned(),
            "ldap.connection.host",
        ),
        (format!("{base}    port: 0\n"), "ldap.connection.port"),
        (format!("{base}    tls: ssl\n"), "ldap.connection.tls"),
        (
            format!("{base}    caFile: /ca.pem\n"),
            "ldap.connection.caFile",
        ),
        (
            format!("{base}    bindDn: 'cn=admin'\n"),
            "ldap.connection.bindPassword",
        ),
        (
            format!("{base}    bindPassword: pw\n"),
            "ldap.connection.bindDn",
        ),
        (
            format!("{base}    pageSize: 0\n"),
            "ldap.connection.pageSize",
        ),
        (
            format!("{base}    operationTimeout: 0\n"),
            "ldap.connection.operationTimeout",
        ),
        (format!("{base}  filter: 'uid=*'\n"), "ldap.filter"),
        (
            format!("{base}  identity: {{filter: '(a=1)(b=2)'}}\n"),
            "ldap.identity.filter",
        ),
        (
            format!("{base}  auth: {{filter: '(a=1'}}\n"),
            "ldap.auth.filter",
        ),
        (
            format!("{base}  attribute: {{uid: {{type: localpart}}}}\n"),
            "ldap.attribute.uid.type",
        ),
        (
            format!("{base}  attribute: {{uid: {{value: 'uid)(x'}}}}\n"),
            "ldap.attribute.uid.value",
        ),
        (
            format!("{base}  attribute: {{threepid: {{email: [mail, 'm*']}}}}\n"),
            "ldap.attribute.threepid.email[1]",
        ),
        (
            format!("{base}  attribute: {{threepid: {{Email: [mail]}}}}\n"),
            "ldap.attribute.threepid.Email",
        ),
        (
            format!("{base}  activeDirectory: true\n  attribute: {{uid: {{type: mxid}}}}\n"),
            "ldap.attribute.uid.type",
        ),
        (
            format!("{base}  defaultDomain: 'user@corp'\n"),
            "ldap.defaultDomain",
        ),
        (
            format!("{base}  identity: {{token: '  '}}\n"),
            "ldap.identity.token",
        ),
        (
            format!("{base}  identity: {{medium: {{email: '(mail=fixed@example.org)'}}}}\n"),
            "ldap.identity.medium.email",
        ),
        (
            format!("{base}  identity: {{priority: -1}}\n"),
            "ldap.identity.priority",
        ),
        (
            format!("{base}  identity: {{refresh: soon}}\n"),
            "ldap.identity.refresh",
        ),
    ] {
        assert_eq!(error(&section).0, key, "{section}");
    }
    let (_, message) = error("  enabled: true\n  connection: {host: h}\n");
    assert!(
        message.contains("ldap.connection.baseDNs") && message.contains("at least one base DN"),
        "{message}"
    );
}

#[test]
fn the_dump_masks_the_bind_password_and_reads_back_to_the_same_settings() {
    for section in [
        MINIMAL.to_owned(),
        format!(
            "{MINIMAL}    tls: starttls\n    caFile: /ca.pem\n    bindDn: 'cn=verity'\n    \
             bindPassword: hunter2\n  attribute: {{threepid: {{email: [mail], msisdn: []}}}}\n  \
             identity: {{lookup: true, refresh: 0, medium: {{email: '(mail=%3pid)'}}}}\n"
        ),
    ] {
        let yaml = format!("matrix: {{domain: example.org}}\nldap:\n{section}");
        let settings = parse(&yaml).unwrap().settings;
        let dumped = effective_yaml(&settings);
        assert!(!dumped.contains("hunter2"), "{dumped}");
        let again = parse(&dumped).unwrap();
        assert_eq!(again.warnings, [], "{dumped}");
        let (mut expected, found) = (settings.ldap.unwrap(), again.settings.ldap.unwrap());
        if !expected.config.bind_password.is_empty() {
            assert!(dumped.contains("bindPassword: <redacted>"), "{dumped}");
            expected.config.bind_password = found.config.bind_password.clone();
        }
        assert_eq!(found, expected, "{dumped}");
        assert_eq!(again.settings.netiq, None);
    }
}
