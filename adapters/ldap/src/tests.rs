//! The identity backend contract against a real OpenLDAP, and the helpers of the directory tests.
use std::collections::BTreeMap;

use verity_application::contract::identity::{Identity, Kept};
use verity_application::ports::driven::IdentityBackend;
use verity_testkit::slapd::{self, Options, PEOPLE, SUFFIX, Slapd, ldif_line};

use crate::{LdapBackend, LdapConfig, UidType};

/// The attribute each medium of the contract suite is stored in.
const CONTRACT_MEDIA: [(&str, &str); 5] = [
    ("email", "mail"),
    ("msisdn", "telephoneNumber"),
    ("matrix.id", "carLicense"),
    ("chat", "departmentNumber"),
    ("x.handle", "employeeType"),
];

/// A configuration reading `slapd` as the contract seeds it: user IDs whole in `uid`, each
/// medium in its attribute of [`CONTRACT_MEDIA`], the hash feed on.
pub(crate) fn config_for(slapd: &Slapd) -> LdapConfig {
    let mut config = LdapConfig::new("127.0.0.1", "example.org");
    config.port = slapd.port();
    config.base_dns = vec![SUFFIX.to_owned()];
    config.filter = "(objectClass=inetOrgPerson)".to_owned();
    config.uid_type = UidType::Mxid;
    config.uid_attribute = "uid".to_owned();
    config.threepid_attributes = CONTRACT_MEDIA
        .iter()
        .map(|(medium, attribute)| ((*medium).to_owned(), vec![(*attribute).to_owned()]))
        .collect();
    config.hash_lookup = true;
    config
}

/// One inetOrgPerson (with the AD attributes' class) named `cn=<cn>` under `ou=people`, with
/// `attributes`.
pub(crate) fn person(cn: &str, attributes: &[(&str, &str)]) -> String {
    let mut ldif = format!(
        "dn: cn={cn},{PEOPLE}\nobjectClass: inetOrgPerson\nobjectClass: verityTestUser\n\
         cn: {cn}\nsn: {cn}\n"
    );
    for (attribute, value) in attributes {
        ldif.push_str(&ldif_line(attribute, value));
    }
    ldif.push('\n');
    ldif
}

/// The LDIF of `identities`: an entry per user, each 3PID as written in its medium's attribute.
fn ldif_of(identities: &[Identity]) -> String {
    let mut by_user: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for identity in identities {
        let medium = identity.threepid.medium();
        let attribute = CONTRACT_MEDIA
            .iter()
            .find(|(name, _)| *name == medium.as_str())
            .map(|(_, attribute)| *attribute)
            .expect("a medium of the contract");
        by_user
            .entry(identity.user_id.as_str())
            .or_default()
            .push((attribute, &identity.written));
    }
    by_user
        .into_iter()
        .enumerate()
        .map(|(n, (user_id, mut attributes))| {
            attributes.push(("uid", user_id));
            person(&format!("u{n}"), &attributes)
        })
        .collect()
}

/// The identity backend contract (`verity_application::contract::identity`), every case,
/// against a slapd seeded with the case's identities.
mod contract {
    use super::*;

    macro_rules! ldap_contract {
        ($($case:ident),* $(,)?) => {$(
            #[tokio::test]
            async fn $case() {
                if slapd::binary().is_none() {
                    return;
                }
                let seeded = async |identities: Vec<Identity>| {
                    let slapd = Slapd::start(&ldif_of(&identities), &Options::default())
                        .expect("slapd");
                    Kept { backend: LdapBackend::new(config_for(&slapd)), peer: slapd }
                };
                if let Err(failure) = verity_application::contract::identity::$case(seeded).await {
                    panic!("{failure}");
                }
            }
        )*};
    }

    verity_application::identity_backend_contract!(ldap_contract);
}

#[test]
fn a_backend_named_after_the_netiq_section_is_netiq_in_lookups_and_in_status() {
    use verity_application::ports::driven::HealthCheck;
    let ldap = LdapBackend::new(LdapConfig::new("127.0.0.1", "example.org"));
    assert_eq!(IdentityBackend::name(&ldap), "ldap");
    assert_eq!(HealthCheck::name(&ldap), "ldap");
    let netiq = ldap.named("netiq");
    assert_eq!(IdentityBackend::name(&netiq), "netiq");
    assert_eq!(HealthCheck::name(&netiq), "netiq");
    // Optional: the other backends stand in for a directory that is down.
    assert!(!netiq.required());
}
