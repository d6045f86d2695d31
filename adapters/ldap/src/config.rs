//! `ldap.*` (and `netiq.*`, the same tree), as the configuration resolved it: every key of
//! mxisd/ma1sd's LDAP identity store with ma1sd's defaults.
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The port of plain LDAP and StartTLS.
pub const LDAP_PORT: u16 = 389;
/// The port of LDAPS (TLS from the first byte).
pub const LDAPS_PORT: u16 = 636;

/// How the connection to the directory is protected (`ldap.connection.tls`, plus StartTLS, which
/// ma1sd lacked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// Plain LDAP (`tls: false`, ma1sd's default). The bind password crosses the network in clear.
    #[default]
    None,
    /// LDAPS: TLS from the first byte (`tls: true`), port 636 by default.
    Ldaps,
    /// Plain LDAP upgraded with the StartTLS extended operation before binding, port 389.
    StartTls,
}

impl TlsMode {
    /// The port a connection in this mode uses when none is configured.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Ldaps => LDAPS_PORT,
            Self::None | Self::StartTls => LDAP_PORT,
        }
    }
}

/// `ldap.connection.bindPassword`: `Debug` never prints it, so it cannot reach a log.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct BindPassword(String);

impl BindPassword {
    /// The password as configured.
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    /// The secret itself, to send in the bind request.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether no password is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for BindPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("BindPassword(<empty>)")
        } else {
            f.write_str("BindPassword(<redacted>)")
        }
    }
}

/// `ldap.attribute.uid.type`: what the uid attribute holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UidType {
    /// `uid`: a localpart, completed with [`LdapConfig::matrix_domain`] (ma1sd's default).
    #[default]
    Uid,
    /// `mxid`: a whole Matrix user ID.
    Mxid,
}

/// ma1sd's default `ldap.attribute.threepid.email`.
pub const DEFAULT_EMAIL_ATTRIBUTES: [&str; 3] = ["mailPrimaryAddress", "mail", "otherMailbox"];
/// ma1sd's default `ldap.attribute.threepid.msisdn`.
pub const DEFAULT_MSISDN_ATTRIBUTES: [&str; 6] = [
    "telephoneNumber",
    "mobile",
    "homePhone",
    "otherTelephone",
    "otherMobile",
    "otherHomePhone",
];

/// ma1sd's default `ldap.attribute.threepid`: email and msisdn attributes.
pub fn default_threepid_attributes() -> BTreeMap<String, Vec<String>> {
    let owned = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect();
    BTreeMap::from([
        ("email".to_owned(), owned(&DEFAULT_EMAIL_ATTRIBUTES)),
        ("msisdn".to_owned(), owned(&DEFAULT_MSISDN_ATTRIBUTES)),
    ])
}

/// Everything the LDAP identity backend needs, with ma1sd's defaults from [`LdapConfig::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapConfig {
    /// `ldap.connection.host`: host name or address of the directory (needed; no default).
    /// With TLS it is also the name the server's certificate must carry.
    pub host: String,
    /// `ldap.connection.port`: 389, or 636 with LDAPS ([`TlsMode::default_port`]).
    pub port: u16,
    /// `ldap.connection.tls` (`true` is [`TlsMode::Ldaps`]), or StartTLS.
    pub tls: TlsMode,
    /// A PEM file of CA certificates the directory's certificate must chain to, instead of the
    /// system's roots (a private CA, as directories usually have). Certificates are always
    /// verified, and must name [`host`](Self::host).
    pub ca_file: Option<PathBuf>,
    /// `ldap.connection.bindDn`: empty for an anonymous bind (with an empty password).
    pub bind_dn: String,
    /// `ldap.connection.bindPassword`.
    pub bind_password: BindPassword,
    /// `ldap.connection.baseDNs` (or the legacy single `baseDn`): every search runs under each.
    pub base_dns: Vec<String>,
    /// `ldap.filter`: the global filter ANDed with every query (empty: none).
    pub filter: String,
    /// `ldap.identity.filter`; `None` uses [`filter`](Self::filter).
    pub identity_filter: Option<String>,
    /// `ldap.directory.filter`; `None` uses [`filter`](Self::filter).
    pub directory_filter: Option<String>,
    /// `ldap.auth.filter`; `None` uses [`filter`](Self::filter).
    pub auth_filter: Option<String>,
    /// `ldap.profile.filter`; `None` uses [`filter`](Self::filter).
    pub profile_filter: Option<String>,
    /// `ldap.attribute.uid.type`.
    pub uid_type: UidType,
    /// `ldap.attribute.uid.value`: the attribute holding the uid. ma1sd's default is
    /// `saMAccountName` (its spelling; attribute names are case-insensitive, so it matches
    /// Active Directory's `sAMAccountName`), kept so that configurations carry over; an OpenLDAP
    /// directory usually wants `uid`.
    pub uid_attribute: String,
    /// `ldap.attribute.name`: the display name attribute.
    pub name_attribute: String,
    /// `ldap.attribute.threepid`: per medium, the attributes holding its addresses. ma1sd's
    /// default is [`default_threepid_attributes`]; as in ma1sd, configuring the map replaces it
    /// whole (setting `email` alone drops `msisdn`).
    pub threepid_attributes: BTreeMap<String, Vec<String>>,
    /// `ldap.directory.attribute.other`: extra attributes the directory search by name looks in.
    pub directory_other_attributes: Vec<String>,
    /// `ldap.identity.token`: the placeholder of [`identity_queries`](Self::identity_queries)
    /// replaced by the (escaped) 3PID address.
    pub identity_token: String,
    /// `ldap.identity.medium.<medium>`: a custom filter for the lookup of that medium, with
    /// [`identity_token`](Self::identity_token) where the address goes. Without one, the lookup
    /// is an OR of equality matches on the medium's attributes.
    pub identity_queries: BTreeMap<String, String>,
    /// `ldap.identity.lookup`: whether the directory's 3PIDs feed the hashed-lookup table (v2);
    /// default false, as ma1sd (v1 lookups answer either way).
    pub hash_lookup: bool,
    /// `ldap.activeDirectory`: the uid attribute holds a UPN (`login@domain`); the localpart is
    /// `login` when the domain is [`default_domain`](Self::default_domain), else `login/domain`.
    pub active_directory: bool,
    /// `ldap.defaultDomain`: Active Directory's default UPN domain.
    pub default_domain: Option<String>,
    /// How long to wait for the TCP connection (and TLS handshake and bind).
    pub connect_timeout: Duration,
    /// How long to wait for the answer to one request (a bind, a search, or one page of a paged
    /// search).
    pub operation_timeout: Duration,
    /// The page size of the paged results control (RFC 2696) the feed asks for: Active
    /// Directory's default limit is 1,000 entries a page.
    pub page_size: u32,
    /// `matrix.domain`: completes a localpart uid into `@uid:domain`.
    pub matrix_domain: String,
    /// The lookup priority (ma1sd: 20; higher is asked first).
    pub priority: i32,
}

/// Default [`LdapConfig::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default [`LdapConfig::operation_timeout`].
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(30);
/// Default [`LdapConfig::page_size`].
pub const DEFAULT_PAGE_SIZE: u32 = 1000;
/// Default [`LdapConfig::priority`].
pub const DEFAULT_PRIORITY: i32 = 20;

impl LdapConfig {
    /// ma1sd's defaults for a directory at `host` (port 389, no TLS, anonymous bind) holding the
    /// users of `matrix_domain`; base DNs are to be set.
    pub fn new(host: impl Into<String>, matrix_domain: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port: LDAP_PORT,
            tls: TlsMode::None,
            ca_file: None,
            bind_dn: String::new(),
            bind_password: BindPassword::default(),
            base_dns: Vec::new(),
            filter: String::new(),
            identity_filter: None,
            directory_filter: None,
            auth_filter: None,
            profile_filter: None,
            uid_type: UidType::Uid,
            uid_attribute: "saMAccountName".to_owned(),
            name_attribute: "displayName".to_owned(),
            threepid_attributes: default_threepid_attributes(),
            directory_other_attributes: Vec::new(),
            identity_token: "%3pid".to_owned(),
            identity_queries: BTreeMap::new(),
            hash_lookup: false,
            active_directory: false,
            default_domain: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            page_size: DEFAULT_PAGE_SIZE,
            matrix_domain: matrix_domain.into(),
            priority: DEFAULT_PRIORITY,
        }
    }

    /// The filter of 3PID lookups and the feed: `identity.filter`, else the global one.
    pub fn effective_identity_filter(&self) -> &str {
        self.identity_filter.as_deref().unwrap_or(&self.filter)
    }

    /// The filter of directory searches: `directory.filter`, else the global one.
    pub fn effective_directory_filter(&self) -> &str {
        self.directory_filter.as_deref().unwrap_or(&self.filter)
    }

    /// The filter of logins: `auth.filter`, else the global one.
    pub fn effective_auth_filter(&self) -> &str {
        self.auth_filter.as_deref().unwrap_or(&self.filter)
    }

    /// The filter of profile reads: `profile.filter`, else the global one.
    pub fn effective_profile_filter(&self) -> &str {
        self.profile_filter.as_deref().unwrap_or(&self.filter)
    }

    /// The URL the connection is made to (`ldap://` or `ldaps://`).
    pub fn url(&self) -> String {
        let scheme = match self.tls {
            TlsMode::Ldaps => "ldaps",
            TlsMode::None | TlsMode::StartTls => "ldap",
        };
        // An IPv6 literal needs brackets in a URL.
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }
}

impl Default for LdapConfig {
    /// [`LdapConfig::new`] with no host nor domain, for a configuration to fill in.
    fn default() -> Self {
        Self::new("", "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_ma1sds() {
        let config = LdapConfig::new("ldap.example.org", "example.org");
        assert_eq!(config.port, 389);
        assert_eq!(config.tls, TlsMode::None);
        assert_eq!(config.uid_attribute, "saMAccountName");
        assert_eq!(config.name_attribute, "displayName");
        assert_eq!(config.identity_token, "%3pid");
        assert_eq!(config.page_size, 1000);
        assert_eq!(config.priority, 20);
        assert!(!config.hash_lookup);
        assert_eq!(
            config.threepid_attributes.get("email").map(Vec::len),
            Some(3)
        );
        assert_eq!(
            config.threepid_attributes.get("msisdn").map(Vec::len),
            Some(6)
        );
        assert_eq!(config.url(), "ldap://ldap.example.org:389");
    }

    #[test]
    fn ldaps_defaults_to_port_636_and_its_scheme() {
        let mut config = LdapConfig::new("::1", "example.org");
        config.tls = TlsMode::Ldaps;
        config.port = config.tls.default_port();
        assert_eq!(config.url(), "ldaps://[::1]:636");
    }

    #[test]
    fn per_feature_filters_fall_back_to_the_global_one() {
        let mut config = LdapConfig::new("h", "example.org");
        config.filter = "(objectClass=person)".to_owned();
        config.auth_filter = Some("(memberOf=cn=matrix)".to_owned());
        assert_eq!(config.effective_identity_filter(), "(objectClass=person)");
        assert_eq!(config.effective_auth_filter(), "(memberOf=cn=matrix)");
    }

    #[test]
    fn the_bind_password_never_prints() {
        let mut config = LdapConfig::new("h", "example.org");
        config.bind_password = BindPassword::new("hunter2");
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"));
        assert!(printed.contains("<redacted>"));
    }
}
