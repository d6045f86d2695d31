use async_trait::async_trait;
use verity_domain::{DirectoryResults, SearchLimit, SearchTerm};

use super::BackendError;

/// An identity store whose people can be searched for the user directory (mxisd's "directory
/// providers"): LDAP, the SQL stores, the REST and exec stores, the memory store.
///
/// Implementations MUST treat the term as text, never as syntax of their query language (an LDAP
/// filter escapes it, SQL binds it), MUST return at most `limit` people and set `limited` when
/// more matched, SHOULD match case-insensitively where the technology allows, and MUST answer an
/// empty result, not an error, when nobody matches. A failure (the store is down, its answer is
/// not understood) is a [`BackendError`]; the search then answers from the other sources.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DirectorySearch: Send + Sync {
    /// A short name for logs (`ldap`, `synapseSql`, `rest`).
    fn name(&self) -> &'static str;

    /// The people whose name (display name, user ID or login, and the store's extra name
    /// attributes) contains `term`.
    async fn search_by_name(
        &self,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, BackendError>;

    /// The people one of whose 3PIDs (email addresses, phone numbers) contains `term`.
    async fn search_by_threepid(
        &self,
        term: &SearchTerm,
        limit: SearchLimit,
    ) -> Result<DirectoryResults, BackendError>;
}
