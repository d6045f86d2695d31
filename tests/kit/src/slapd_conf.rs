//! What a throwaway slapd is made of: its `slapd.conf`, a small schema with Active Directory's
//! attributes, the base entries, and a test CA with a server certificate for TLS.
use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;

/// The suffix of the test directory.
pub const SUFFIX: &str = "dc=example,dc=org";
/// Where the seeded people live.
pub const PEOPLE: &str = "ou=people,dc=example,dc=org";
/// The directory's administrator (`rootdn`).
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
/// Its password.
pub const ADMIN_PASSWORD: &str = "verity-test-admin";

/// Active Directory's user attributes that OpenLDAP's schemas lack, and ma1sd's default
/// `mailPrimaryAddress` (Univention's), as directory strings compared without case, as AD
/// compares them (no phone-number matching rule: AD has none), plus an auxiliary class to
/// hang them (and cosine's `otherMailbox`, which inetOrgPerson lacks) on any entry. Private OIDs under the example arc.
const AD_SCHEMA: &str = r"
attributetype ( 1.3.6.1.4.1.32473.1.1.1 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.32473.1.1.2 NAME 'userPrincipalName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.32473.1.1.3 NAME 'otherTelephone'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.32473.1.1.4 NAME 'otherMobile'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.32473.1.1.5 NAME 'otherHomePhone'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.32473.1.1.6 NAME 'mailPrimaryAddress'
  EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )
objectclass ( 1.3.6.1.4.1.32473.1.2.1 NAME 'verityTestUser' AUXILIARY
  MAY ( sAMAccountName $ userPrincipalName $ otherTelephone $ otherMobile $ otherHomePhone $
        mailPrimaryAddress $ otherMailbox ) )
";

/// The files of a server's TLS: the CA the client must trust, the server's chain and key.
pub(crate) struct TlsFiles {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The server's certificate (for `127.0.0.1` and `localhost`), PEM.
    pub cert_pem: String,
    /// Its key, PEM.
    pub key_pem: String,
}

/// A fresh test CA and a server certificate it signed for `127.0.0.1` and `localhost`.
pub(crate) fn test_ca() -> TlsFiles {
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Verity test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("the CA certificate");
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let key = rcgen::KeyPair::generate().expect("a server key");
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("server params");
    let cert = params
        .signed_by(&key, &issuer)
        .expect("the server certificate");
    TlsFiles {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// What `slapd.conf` says.
pub(crate) struct Conf<'a> {
    pub dir: &'a Path,
    /// Whether the TLS files are in `dir`.
    pub tls: bool,
    /// The most entries a search returns, paged or not a page (as Active Directory's
    /// `MaxPageSize`); a paged search still gets every entry.
    pub size_limit: Option<u32>,
}

/// The configuration of a server in `conf.dir`: the schemas, an mdb database, `allow
/// bind_anon_dn` (as Active Directory: a DN with an empty password binds, unauthenticated), and
/// read access for everyone.
pub(crate) fn slapd_conf(conf: &Conf<'_>) -> String {
    let dir = conf.dir.display();
    let mut text = String::new();
    for schema in ["core", "cosine", "inetorgperson"] {
        let _ = writeln!(text, "include /etc/ldap/schema/{schema}.schema");
    }
    let _ = writeln!(text, "include {dir}/verity-ad.schema");
    let _ = writeln!(text, "modulepath /usr/lib/ldap\nmoduleload back_mdb");
    let _ = writeln!(text, "pidfile {dir}/slapd.pid\nargsfile {dir}/slapd.args");
    let _ = writeln!(text, "allow bind_anon_dn");
    if let Some(limit) = conf.size_limit {
        let _ = writeln!(
            text,
            "sizelimit size.soft={limit} size.hard={limit} size.pr={limit} size.prtotal=unlimited"
        );
    }
    if conf.tls {
        let _ = writeln!(text, "TLSCACertificateFile {dir}/ca.pem");
        let _ = writeln!(text, "TLSCertificateFile {dir}/server.pem");
        let _ = writeln!(text, "TLSCertificateKeyFile {dir}/server.key");
    }
    let _ = writeln!(text, "database mdb\nmaxsize 1073741824");
    let _ = writeln!(text, "suffix \"{SUFFIX}\"");
    let _ = writeln!(text, "rootdn \"{ADMIN_DN}\"\nrootpw {ADMIN_PASSWORD}");
    let _ = writeln!(text, "directory {dir}/db");
    let _ = writeln!(text, "index objectClass eq");
    let _ = writeln!(text, "access to * by * read");
    text
}

/// Writes the schema (and the TLS files when given) next to `slapd.conf`.
pub(crate) fn write_files(dir: &Path, conf: &str, tls: Option<&TlsFiles>) {
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text)
            .unwrap_or_else(|error| panic!("write {name}: {error}"));
    };
    write("verity-ad.schema", AD_SCHEMA);
    write("slapd.conf", conf);
    if let Some(tls) = tls {
        write("ca.pem", &tls.ca_pem);
        write("server.pem", &tls.cert_pem);
        write("server.key", &tls.key_pem);
    }
    std::fs::create_dir_all(dir.join("db")).expect("the database directory");
}

/// The suffix and `ou=people` entries every test directory starts with.
pub(crate) const BASE_LDIF: &str = "dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

";

/// One `attribute: value` line of LDIF, base64 (`attribute:: ...`) where the value is not
/// safe as it is (RFC 2849: a NUL, CR or LF anywhere, a leading space, colon or `<`, a trailing
/// space, or anything outside ASCII).
pub fn ldif_line(attribute: &str, value: &str) -> String {
    let unsafe_start = value.starts_with([' ', ':', '<']);
    let unsafe_char = value
        .bytes()
        .any(|b| b == 0 || b == b'\n' || b == b'\r' || !b.is_ascii());
    if unsafe_start || unsafe_char || value.ends_with(' ') {
        let encoded = base64::engine::general_purpose::STANDARD.encode(value);
        format!("{attribute}:: {encoded}\n")
    } else {
        format!("{attribute}: {value}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldif_lines_base64_what_ldif_cannot_carry_as_it_is() {
        assert_eq!(ldif_line("mail", "a@b.org"), "mail: a@b.org\n");
        assert_eq!(ldif_line("cn", "a\0b"), "cn:: YQBi\n");
        assert_eq!(ldif_line("cn", " lead"), "cn:: IGxlYWQ=\n");
        assert_eq!(ldif_line("cn", "Zoë"), "cn:: Wm/Dqw==\n");
    }
}
