//! The connection to the directory: one shared handle (ldap3 multiplexes requests over it),
//! made on first use rather than at start-up (a directory that is down does not stop Verity),
//! made again when it breaks; TLS through rustls with certificate verification; searches paged
//! (RFC 2696) under every base DN.
use std::collections::HashMap;
use std::sync::Arc;

use ldap3::adapters::PagedResults;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry, SearchOptions};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use tokio::sync::Mutex;

use crate::config::{LdapConfig, TlsMode};

/// `referral` (RFC 4511): the directory sends the client elsewhere. Referrals are not followed.
const REFERRAL: u32 = 10;
/// `sizeLimitExceeded` (RFC 4511): the entries up to the size limit were sent, and there are more.
const SIZE_LIMIT_EXCEEDED: u32 = 4;

/// `invalidCredentials` (RFC 4511): a wrong password, or (Active Directory) an account that is
/// locked, disabled or expired.
pub const INVALID_CREDENTIALS: u32 = 49;

/// The bind results that refuse these credentials rather than fail: `inappropriateAuthentication`
/// (48), `invalidCredentials` (49), `insufficientAccessRights` (50), `unwillingToPerform` (53,
/// e.g. OpenLDAP's refusal of an unauthenticated bind).
const REFUSED_BINDS: [u32; 4] = [48, INVALID_CREDENTIALS, 50, 53];

/// The directory's answer to a bind as a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The credentials are the entry's.
    Accepted,
    /// Refused, with the result code (for the logs).
    Refused(u32),
}

/// What talking to the directory can fail with; each message names the keys to look at.
#[derive(Debug, thiserror::Error)]
pub enum LdapError {
    /// The connection (TCP, TLS or StartTLS) could not be made.
    #[error(
        "cannot connect to the directory at {url} (check ldap.connection.host, port, tls and \
         the CA file): {source}"
    )]
    Connect {
        /// Where.
        url: String,
        /// Why.
        #[source]
        source: Box<ldap3::LdapError>,
    },
    /// The connection took longer than the connect timeout.
    #[error(
        "the directory at {url} did not answer within {seconds} s (ldap.connection.host, port)"
    )]
    ConnectTimeout {
        /// Where.
        url: String,
        /// The timeout.
        seconds: u64,
    },
    /// The service account's bind was refused.
    #[error(
        "the directory refused the bind as {dn:?} (ldap.connection.bindDn, bindPassword): \
         {message}"
    )]
    Bind {
        /// The bind DN.
        dn: String,
        /// The directory's answer.
        message: String,
    },
    /// A bind as a user (a login) failed for another reason than the credentials.
    #[error("the directory failed the bind as {dn:?} of a login: {message}")]
    UserBind {
        /// The user's entry.
        dn: String,
        /// The directory's answer.
        message: String,
    },
    /// Half a set of credentials: the directory would take a DN without a password as an
    /// unauthenticated (anonymous) bind, which is never what was meant.
    #[error(
        "ldap.connection.bindDn and ldap.connection.bindPassword must be both set or both empty"
    )]
    HalfCredentials,
    /// The CA file cannot be read.
    #[error("cannot read the CA certificates of ldap.connection.caFile {path}: {message}")]
    CaFile {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// A search failed.
    #[error("the search under {base:?} failed (ldap.connection.baseDNs, the filters): {message}")]
    Search {
        /// The base DN.
        base: String,
        /// The directory's answer.
        message: String,
    },
    /// The connection broke or an operation timed out.
    #[error("the directory connection failed: {0}")]
    Transport(#[source] Box<ldap3::LdapError>),
}

/// An entry as searched: its DN and the values of the attributes asked for, by lower-cased name.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// The entry's DN.
    pub dn: String,
    /// Text values by lower-cased attribute name.
    pub attributes: HashMap<String, Vec<String>>,
    /// Attributes (lower-cased) holding values that are not UTF-8.
    pub binary: Vec<String>,
}

impl Entry {
    fn from_ldap(entry: SearchEntry) -> Self {
        Self {
            dn: entry.dn,
            attributes: entry
                .attrs
                .into_iter()
                .map(|(name, values)| (name.to_ascii_lowercase(), values))
                .collect(),
            binary: entry
                .bin_attrs
                .into_keys()
                .map(|name| name.to_ascii_lowercase())
                .collect(),
        }
    }

    /// The values of `attribute` (any case).
    pub fn values(&self, attribute: &str) -> &[String] {
        self.attributes
            .get(&attribute.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }
}

/// The directory of a configuration, connected on demand.
pub struct Directory {
    config: Arc<LdapConfig>,
    handle: Mutex<Option<Ldap>>,
}

/// A failed request as an [`LdapError`].
fn transport(error: ldap3::LdapError) -> LdapError {
    LdapError::Transport(Box::new(error))
}

/// Whether `error` means the connection is gone (so a new one may succeed).
fn broken(error: &LdapError) -> bool {
    let LdapError::Transport(error) = error else {
        return false;
    };
    matches!(
        **error,
        ldap3::LdapError::Io { .. }
            | ldap3::LdapError::OpSend { .. }
            | ldap3::LdapError::ResultRecv { .. }
            | ldap3::LdapError::EndOfStream
    )
}

impl Directory {
    /// The directory of `config`; nothing is connected yet.
    pub fn new(config: Arc<LdapConfig>) -> Self {
        Self {
            config,
            handle: Mutex::new(None),
        }
    }

    /// Every entry under every base DN matching `filter`, with `attributes`, page by page. A
    /// connection that broke since its last use is made again, once.
    pub async fn search(
        &self,
        filter: &str,
        attributes: &[String],
    ) -> Result<Vec<Entry>, LdapError> {
        match self.search_once(filter, attributes).await {
            Err(error) if broken(&error) => {
                tracing::debug!(%error, "the directory connection broke; connecting again");
                *self.handle.lock().await = None;
                self.search_once(filter, attributes).await
            }
            other => other,
        }
    }

    /// At most `max` entries under the base DNs (in their order) matching `filter`, with
    /// `attributes`, and whether the directory had more (its size limit was reached). One plain
    /// search per base DN with a size limit: a user directory search wants a handful of entries,
    /// never the whole directory. A broken connection is made again, once.
    pub async fn search_limited(
        &self,
        filter: &str,
        attributes: &[String],
        max: usize,
    ) -> Result<(Vec<Entry>, bool), LdapError> {
        match self.search_limited_once(filter, attributes, max).await {
            Err(error) if broken(&error) => {
                tracing::debug!(%error, "the directory connection broke; connecting again");
                *self.handle.lock().await = None;
                self.search_limited_once(filter, attributes, max).await
            }
            other => other,
        }
    }

    async fn search_limited_once(
        &self,
        filter: &str,
        attributes: &[String],
        max: usize,
    ) -> Result<(Vec<Entry>, bool), LdapError> {
        let mut ldap = self.connection().await?;
        let mut entries = Vec::new();
        let mut more = false;
        for base in &self.config.base_dns {
            let left = max.saturating_sub(entries.len());
            if left == 0 {
                // Whether this base holds more is not worth a search: the answer is full.
                more = true;
                break;
            }
            let sizelimit = i32::try_from(left).unwrap_or(i32::MAX);
            let result = ldap
                .with_timeout(self.config.operation_timeout)
                .with_search_options(SearchOptions::new().sizelimit(sizelimit))
                .search(base, Scope::Subtree, filter, attributes.to_vec())
                .await
                .map_err(transport)?;
            match result.1.rc {
                0 | REFERRAL => {}
                SIZE_LIMIT_EXCEEDED => more = true,
                rc => {
                    return Err(LdapError::Search {
                        base: base.clone(),
                        message: format!("result code {rc}: {}", result.1.text),
                    });
                }
            }
            for entry in result.0 {
                if entry.is_ref() {
                    tracing::debug!(base, "the directory sent a referral; not followed");
                } else if entries.len() < max {
                    entries.push(Entry::from_ldap(SearchEntry::construct(entry)));
                } else {
                    more = true;
                }
            }
        }
        Ok((entries, more))
    }

    async fn search_once(
        &self,
        filter: &str,
        attributes: &[String],
    ) -> Result<Vec<Entry>, LdapError> {
        let mut ldap = self.connection().await?;
        let mut entries = Vec::new();
        for base in &self.config.base_dns {
            self.search_base(&mut ldap, base, filter, attributes, &mut entries)
                .await?;
        }
        Ok(entries)
    }

    async fn search_base(
        &self,
        ldap: &mut Ldap,
        base: &str,
        filter: &str,
        attributes: &[String],
        entries: &mut Vec<Entry>,
    ) -> Result<(), LdapError> {
        let page_size = i32::try_from(self.config.page_size.max(1)).unwrap_or(i32::MAX);
        let mut stream = ldap
            .with_timeout(self.config.operation_timeout)
            .streaming_search_with(
                PagedResults::new(page_size),
                base,
                Scope::Subtree,
                filter,
                attributes.to_vec(),
            )
            .await
            .map_err(transport)?;
        while let Some(entry) = stream.next().await.map_err(transport)? {
            if entry.is_ref() {
                tracing::debug!(
                    base,
                    "the directory sent a referral; referrals are not followed"
                );
            } else if !entry.is_intermediate() {
                entries.push(Entry::from_ldap(SearchEntry::construct(entry)));
            }
        }
        let done = stream.finish().await;
        match done.rc {
            0 => Ok(()),
            REFERRAL => {
                tracing::debug!(base, refs = ?done.refs, "the directory answered with a referral; not followed");
                Ok(())
            }
            rc => Err(LdapError::Search {
                base: base.to_owned(),
                message: format!("result code {rc}: {}", done.text),
            }),
        }
    }

    /// Whether the directory answers: a connection (and bind), then a read of the first base
    /// DN's entry.
    pub async fn check(&self) -> Result<(), LdapError> {
        let mut ldap = match self.connection().await {
            Err(error) if broken(&error) => {
                *self.handle.lock().await = None;
                self.connection().await?
            }
            other => other?,
        };
        let Some(base) = self.config.base_dns.first() else {
            return Ok(());
        };
        let result = ldap
            .with_timeout(self.config.operation_timeout)
            .search(base, Scope::Base, "(objectClass=*)", vec!["1.1"])
            .await;
        let result = match result {
            Ok(result) => result,
            Err(error) => {
                *self.handle.lock().await = None;
                return Err(transport(error));
            }
        };
        match result.1.rc {
            0 | REFERRAL => Ok(()),
            rc => Err(LdapError::Search {
                base: base.clone(),
                message: format!("result code {rc}: {}", result.1.text),
            }),
        }
    }

    /// The shared handle, connecting and binding when there is none or it closed.
    async fn connection(&self) -> Result<Ldap, LdapError> {
        let mut handle = self.handle.lock().await;
        if let Some(ldap) = handle.as_mut()
            && !ldap.is_closed()
        {
            return Ok(ldap.clone());
        }
        let url = self.config.url();
        let timeout = self.config.connect_timeout;
        let ldap = tokio::time::timeout(timeout, self.connect(&url))
            .await
            .map_err(|_| LdapError::ConnectTimeout {
                url: url.clone(),
                seconds: timeout.as_secs(),
            })??;
        *handle = Some(ldap.clone());
        Ok(ldap)
    }

    async fn connect(&self, url: &str) -> Result<Ldap, LdapError> {
        let config = &self.config;
        if config.bind_dn.trim().is_empty() != config.bind_password.is_empty() {
            return Err(LdapError::HalfCredentials);
        }
        let mut ldap = self.open(url).await?;
        if !config.bind_dn.trim().is_empty() {
            let bound = ldap
                .with_timeout(config.operation_timeout)
                .simple_bind(&config.bind_dn, config.bind_password.expose())
                .await
                .map_err(transport)?;
            if bound.rc != 0 {
                return Err(LdapError::Bind {
                    dn: config.bind_dn.clone(),
                    message: format!("result code {}: {}", bound.rc, bound.text),
                });
            }
        }
        Ok(ldap)
    }

    /// A new connection to the directory (TCP, then TLS or StartTLS as configured), not bound.
    async fn open(&self, url: &str) -> Result<Ldap, LdapError> {
        let config = &self.config;
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(config.connect_timeout)
            .set_starttls(config.tls == TlsMode::StartTls);
        if config.tls != TlsMode::None
            && let Some(path) = &config.ca_file
        {
            settings = settings.set_config(Arc::new(tls_config(path)?));
        }
        let (driver, ldap) =
            LdapConnAsync::with_settings(settings, url)
                .await
                .map_err(|source| LdapError::Connect {
                    url: url.to_owned(),
                    source: Box::new(source),
                })?;
        tokio::spawn(async move {
            if let Err(error) = driver.drive().await {
                tracing::debug!(%error, "the directory connection ended");
            }
        });
        Ok(ldap)
    }

    /// Whether the directory accepts `password` for the entry `dn`: a simple bind on a
    /// connection of its own (the shared one stays bound as the service account), closed
    /// after. An empty password is never sent: the directory would take it as an
    /// unauthenticated bind (RFC 4513 section 5.1.2) and answer success.
    ///
    /// # Errors
    /// [`LdapError`] when the directory cannot be reached or answers with an error that is not
    /// about the credentials.
    pub async fn bind_as(&self, dn: &str, password: &str) -> Result<Bound, LdapError> {
        if password.is_empty() || dn.trim().is_empty() {
            return Ok(Bound::Refused(INVALID_CREDENTIALS));
        }
        let url = self.config.url();
        let timeout = self.config.connect_timeout;
        let mut ldap = tokio::time::timeout(timeout, self.open(&url))
            .await
            .map_err(|_| LdapError::ConnectTimeout {
                url: url.clone(),
                seconds: timeout.as_secs(),
            })??;
        let bound = ldap
            .with_timeout(self.config.operation_timeout)
            .simple_bind(dn, password)
            .await
            .map_err(transport);
        // The connection was the user's for this one bind; a failed unbind only means it is
        // already gone.
        let _ = ldap.unbind().await;
        let bound = bound?;
        match bound.rc {
            0 => Ok(Bound::Accepted),
            rc if REFUSED_BINDS.contains(&rc) => Ok(Bound::Refused(rc)),
            rc => Err(LdapError::UserBind {
                dn: dn.to_owned(),
                message: format!("result code {rc}: {}", bound.text),
            }),
        }
    }
}

/// A TLS client trusting the CA certificates of `path` (PEM): the directory's certificate must
/// chain to one of them and name the configured host.
fn tls_config(path: &std::path::Path) -> Result<rustls::ClientConfig, LdapError> {
    let error = |message: String| LdapError::CaFile {
        path: path.display().to_string(),
        message,
    };
    let mut roots = rustls::RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(e.to_string()))?;
    if certificates.is_empty() {
        return Err(error("no certificate in the file".to_owned()));
    }
    for certificate in certificates {
        roots.add(certificate).map_err(|e| error(e.to_string()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| error(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
