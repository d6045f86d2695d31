//! Verity end to end: the real server, built as `main` builds it, on `127.0.0.1:0`, called through
//! the client generated from `api-spec/openapi.yaml`. One test binary for the whole suite (linking
//! is what makes test suites slow on two cores).

// Test helpers outside #[test] functions are not "tests" to clippy; panicking is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod admin_cli;
mod backup_restore;
mod browser;
mod crash_safety;
mod deployment;
mod deployment_proxy;
mod deployment_tools;
mod discovery;
mod errors;
mod exec_store;
mod import_ma1sd;
mod import_sydent;
mod import_sydent_invites;
mod instances;
mod internal_bind;
mod invite_blocklist;
mod invites;
mod keys;
mod ldap;
mod lifecycle;
mod limits;
mod limits_endpoints;
mod login;
mod login_logs;
mod login_stores;
mod lookups;
mod lookups_first_start;
mod lookups_instances;
mod lookups_restart;
mod observability;
mod outbound;
mod oversized_bodies;
mod pages_in_browser;
mod policies;
mod profile_stores;
mod public_url_path;
mod real_synapse;
mod recursive;
mod registration;
mod reload;
mod remote_offer;
mod remote_sessions;
mod rest_store;
mod room_invites;
mod security_headers;
mod session_rules;
mod sessions;
mod signed_associations;
mod sql_store;
mod store_lookups;
mod stores_mixed;
mod synapse;
mod unbind_notifications;
mod user_directory;
mod views;
