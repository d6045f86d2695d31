//! The `ldap` identity backend (mxisd/ma1sd's LDAP identity store, also used for NetIQ
//! eDirectory): the organisation's users and their email addresses and phone numbers, read from
//! an LDAP directory or Active Directory.
//!
//! - [`LdapConfig`]: every key of ma1sd's `ldap` tree, with its defaults.
//! - [`LdapBackend`]: v1 lookups (single, and bulk in batches of one search), and the feed of the
//!   v2 hashed-lookup table when `ldap.identity.lookup` is on: every value of every configured
//!   attribute of every entry under every base DN, read with the paged results control
//!   (RFC 2696; Active Directory returns at most 1,000 entries a page), put in canonical form
//!   (emails case-folded, phone numbers in E.164 by Verity's phone parser) and sorted in memory.
//!   A value that is no valid address is logged once with its entry's DN.
//! - Filters: values from requests are escaped (RFC 4515, [`filter::escape`]), in the default
//!   queries and in the operator's `identity.medium.<medium>` queries alike.
//! - Phone numbers: the directory cannot compare them in canonical form, so a lookup searches
//!   for values holding the number's digits in order and compares the candidates' canonical
//!   forms ([`filter::phone_candidates`]): `+1 (202) 555-0143`, `+12025550143` and
//!   `1 202-555-0143` are all found as `12025550143`, by v1 lookups and by the feed alike.
//! - Connection: one shared handle, made on first use and again when it breaks, with connect
//!   and operation timeouts; plain LDAP, StartTLS or LDAPS, certificates always verified (the
//!   system's roots, or the CA file's); referrals are not followed (logged at debug level).
//! - uids are lower-cased, as ma1sd does; with `activeDirectory`, UPNs map to localparts.
//! - Logins and profiles ([`auth`](crate::auth)): the user's entry found with `ldap.auth.filter`
//!   (or `ldap.profile.filter`), then a bind as that entry with the password, on a connection of
//!   its own; an empty password is never sent.
//! - The user directory search ([`DirectorySearch`](verity_application::ports::driven::DirectorySearch)):
//!   `*term*` in the name, `directory.attribute.other` or 3PID attributes and the uid, the term
//!   escaped, under `directory.filter`, with a size limit (`people.rs`).
//!
//! Limits: a v1 lookup matches on the directory's side, so an attribute the schema gives no
//! equality rule (OpenLDAP's cosine `otherMailbox`; Active Directory's has one) is found by the
//! feed only; and an email the directory holds with characters that Unicode case folding
//! changes beyond lower case (`Strauß@...`) is found by the feed (which folds it) but not by a
//! v1 lookup of its folded form (`strauss@...`), which the directory's case-insensitive match
//! does not equate.
mod auth;
pub mod backend;
pub mod config;
pub mod directory;
pub mod filter;
mod health;
mod people;
pub mod values;

pub use backend::LdapBackend;
pub use config::{BindPassword, LdapConfig, TlsMode, UidType};
pub use directory::LdapError;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests_ad;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests_auth;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests_connection;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests_directory;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests_people;
