//! The access token of v2 requests: `Authorization: Bearer`, or the deprecated `access_token`
//! query parameter that Synapse still sends (spec v1.11 deprecated it; v1.20 removes it).
use poem_openapi::SecurityScheme;
use poem_openapi::auth::{ApiKey, Bearer};

/// `Authorization: Bearer <token>`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer")]
pub struct BearerToken(Bearer);

/// `?access_token=<token>` (deprecated; still sent by Synapse).
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "access_token", key_in = "query")]
pub struct QueryToken(ApiKey);

/// Either form; with neither, the use case answers 401 `M_UNAUTHORIZED` itself.
#[derive(SecurityScheme)]
pub enum IdentityAuth {
    /// The header.
    BearerToken(BearerToken),
    /// The query parameter.
    QueryToken(QueryToken),
    /// No token: handled by the use case, so the error has the Matrix shape.
    #[oai(fallback)]
    Missing,
}

impl IdentityAuth {
    /// The presented token, unparsed.
    pub fn token(self) -> Option<String> {
        match self {
            Self::BearerToken(BearerToken(bearer)) => Some(bearer.token),
            Self::QueryToken(QueryToken(key)) => Some(key.key),
            Self::Missing => None,
        }
    }
}
