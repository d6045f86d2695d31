//! `rest.*` as the configuration resolved it: ma1sd's REST identity store keys with ma1sd's
//! defaults, each endpoint already an absolute URL (or off), plus Verity's own limits.
use std::fmt;
use std::time::Duration;

use url::Url;

/// The prefix of ma1sd's default endpoints.
pub const MA1SD_PREFIX: &str = "/_ma1sd/backend/api/v1";
/// The prefix of mxisd's default endpoints (the same contract; a backend written for mxisd
/// serves these paths, so its operator writes them in `rest.endpoints.*`).
pub const MXISD_PREFIX: &str = "/_mxisd/backend/api/v1";

/// ma1sd's default `rest.endpoints.auth`.
pub const DEFAULT_AUTH: &str = "/_ma1sd/backend/api/v1/auth/login";
/// ma1sd's default `rest.endpoints.directory`.
pub const DEFAULT_DIRECTORY: &str = "/_ma1sd/backend/api/v1/directory/user/search";
/// ma1sd's default `rest.endpoints.identity.single`.
pub const DEFAULT_IDENTITY_SINGLE: &str = "/_ma1sd/backend/api/v1/identity/single";
/// ma1sd's default `rest.endpoints.identity.bulk`.
pub const DEFAULT_IDENTITY_BULK: &str = "/_ma1sd/backend/api/v1/identity/bulk";
/// ma1sd's default `rest.endpoints.profile.displayName`.
pub const DEFAULT_PROFILE_DISPLAY_NAME: &str = "/_ma1sd/backend/api/v1/profile/displayName";
/// ma1sd's default `rest.endpoints.profile.threepids`.
pub const DEFAULT_PROFILE_THREEPIDS: &str = "/_ma1sd/backend/api/v1/profile/threepids";
/// ma1sd's default `rest.endpoints.profile.roles`.
pub const DEFAULT_PROFILE_ROLES: &str = "/_ma1sd/backend/api/v1/profile/roles";

/// The default request timeout (Verity only; ma1sd used Apache HttpClient's, which has none).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default limit on a response body (Verity only): room for `identity.all` answers of
/// a few hundred thousand bindings.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// ma1sd's fixed priority of the REST store's lookups.
pub const DEFAULT_PRIORITY: i32 = 20;

/// A URL that may carry a secret (a password in its user part, a token in its query): `Debug`
/// and [`redacted`](Self::redacted) hide both, so it can be logged and dumped.
#[derive(Clone, PartialEq, Eq)]
pub struct BackendUrl(Url);

impl BackendUrl {
    /// The URL itself, to send requests to.
    pub fn expose(&self) -> &Url {
        &self.0
    }

    /// The URL with its password and query replaced by `redacted` (a word the URL syntax
    /// keeps as written).
    pub fn redacted(&self) -> String {
        let mut shown = self.0.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("redacted"));
        }
        if shown.query().is_some() {
            shown.set_query(Some("redacted"));
        }
        shown.to_string()
    }
}

impl fmt::Debug for BackendUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BackendUrl({})", self.redacted())
    }
}

/// Why `rest.host` or an endpoint cannot be used (the caller names the key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Not a URL at all.
    #[error("not a URL ({0}); write it as http(s)://host[:port][/path]")]
    NotUrl(String),
    /// Another scheme than http and https.
    #[error("the scheme `{0}` is not supported; use http or https")]
    Scheme(String),
    /// `rest.host` with a query or fragment, which endpoint paths would be appended after.
    #[error("a query or fragment cannot precede the endpoint paths appended to it")]
    HostQuery,
    /// A relative endpoint without `rest.host`.
    #[error("`{0}` is a path, so rest.host is needed (or write the endpoint as a full URL)")]
    NeedsHost(String),
}

/// Parses `rest.host`: an absolute http(s) URL without query or fragment.
///
/// # Errors
/// [`EndpointError`] saying what is wrong (never echoing the URL, which may hold a password).
pub fn parse_host(written: &str) -> Result<BackendUrl, EndpointError> {
    let url = absolute(written)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(EndpointError::HostQuery);
    }
    Ok(BackendUrl(url))
}

/// An endpoint as ma1sd builds it: blank is off (`None`); a value starting with `/` is appended
/// to `host` (its trailing `/` dropped, so `https://h/` and `https://h` are the same); anything
/// else is a full URL.
///
/// # Errors
/// [`EndpointError`]: a path without a host, or an unusable URL.
pub fn endpoint(
    host: Option<&BackendUrl>,
    written: &str,
) -> Result<Option<BackendUrl>, EndpointError> {
    let written = written.trim();
    if written.is_empty() {
        return Ok(None);
    }
    if !written.starts_with('/') {
        return absolute(written).map(|url| Some(BackendUrl(url)));
    }
    let host = host.ok_or_else(|| EndpointError::NeedsHost(written.to_owned()))?;
    let base = host.0.as_str().trim_end_matches('/');
    absolute(&format!("{base}{written}")).map(|url| Some(BackendUrl(url)))
}

fn absolute(written: &str) -> Result<Url, EndpointError> {
    let url =
        Url::parse(written.trim()).map_err(|error| EndpointError::NotUrl(error.to_string()))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url),
        "http" | "https" => Err(EndpointError::NotUrl("no host".into())),
        other => Err(EndpointError::Scheme(other.to_owned())),
    }
}

/// `rest.endpoints.*`, resolved: `None` is a feature switched off (an empty string).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoints {
    /// `auth`: checks a user's password, for the homeserver's logins (`check_credentials`).
    pub auth: Option<BackendUrl>,
    /// `directory`: the user directory search ([`RestDirectory`](crate::RestDirectory)).
    pub directory: Option<BackendUrl>,
    /// `identity.single`: v1 lookups of one 3PID.
    pub identity_single: Option<BackendUrl>,
    /// `identity.bulk`: v1 bulk lookups.
    pub identity_bulk: Option<BackendUrl>,
    /// `identity.all` (Verity only, off by default): every binding, the hashed-lookup table's
    /// feed.
    pub identity_all: Option<BackendUrl>,
    /// `profile.displayName`: a user's display name.
    pub profile_display_name: Option<BackendUrl>,
    /// `profile.threepids`: a user's 3PIDs.
    pub profile_threepids: Option<BackendUrl>,
    /// `profile.roles`: a user's roles.
    pub profile_roles: Option<BackendUrl>,
}

/// Everything the REST backend reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestConfig {
    /// `matrix.domain`: completes the `localpart` ids the backend answers.
    pub matrix_domain: String,
    /// `rest.host`, when set.
    pub host: Option<BackendUrl>,
    /// `rest.endpoints.*`.
    pub endpoints: Endpoints,
    /// `rest.timeout` (Verity only): the limit on each request, connecting included.
    pub timeout: Duration,
    /// `rest.maxResponseBytes` (Verity only): the largest response body read.
    pub max_response_bytes: usize,
    /// `rest.identity.priority` (Verity only; ma1sd's fixed 20).
    pub priority: i32,
}

impl RestConfig {
    /// A configuration with Verity's limits and no endpoint at all (tests and the configuration
    /// fill them in).
    pub fn new(matrix_domain: impl Into<String>) -> Self {
        Self {
            matrix_domain: matrix_domain.into(),
            host: None,
            endpoints: Endpoints::default(),
            timeout: DEFAULT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            priority: DEFAULT_PRIORITY,
        }
    }
}
