//! The `ldap` identity backend (mxisd/ma1sd's LDAP identity store, also used for NetIQ
//! eDirectory): the organisation's users and their email addresses and phone numbers, read from
//! an LDAP directory or Active Directory.
pub mod config;

pub use config::{BindPassword, LdapConfig, TlsMode, UidType};
