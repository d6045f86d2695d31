//! The `exec` identity backend (ma1sd's exec identity store): the 3PIDs the operator's own
//! programs know, asked by running them.
//!
//! - [`ExecIdentityConfig`]: ma1sd's `exec.identity` keys (`lookup.single`, `lookup.bulk`,
//!   `hashLookup`, `priority`, each process's `command`, `args`, `env`, `input`, `output`,
//!   `exit`, `token`), with Verity's `lookup.all`, `timeout`, `maxOutput` and `concurrency`.
//! - [`ExecBackend`]: v1 single and bulk lookups, and the feed of the v2 hashed-lookup table
//!   with `hashLookup`.
//! - [`ExecAuth`]: logins for the homeserver (`exec.auth`), in ma1sd's json and plain formats
//!   ([`auth`](crate::auth)).
//! - [`ExecDirectory`]: the user directory search (`exec.directory.search.byName` and
//!   `.byThreepid`).
//! - [`ExecProfile`]: profiles (`exec.profile.displayName`, `.threePid`, `.role`).
//! - Running: the command is executed directly, never through a shell (unless the operator's
//!   command is one); tokens are replaced in each argument, in `env` values and in the stdin
//!   template, and an argument stays one argument whatever a 3PID holds. Stdin is written then
//!   closed; stdout and stderr are read up to a limit; a program running too long is killed with
//!   its process group (what it started); at
//!   most `exec.concurrency` run at once.
//! - Exit codes: `exit.success` (default `[0]`) reads stdout, `exit.failure` (default `[1]`)
//!   means not found, any other is an error naming the process's key and command, with the first
//!   line of its stderr in the log.
//!
//! Differences from ma1sd, on purpose: `output.type` unset reads JSON (ma1sd failed every
//! lookup with "no success handler"); the bulk `input.type` unset writes JSON (ma1sd wrote
//! nothing, so the program could not know what was asked); tokens are replaced in one pass and
//! JSON-escaped in a json template; the global `exec.token` applies to every process (ma1sd read
//! only the process's own); bulk answers are read as bindings (ma1sd's put the user ID where the
//! address belongs); the command itself is not a template.
mod auth;
pub mod backend;
pub mod config;
mod directory;
mod formats;
mod health;
mod profile;
pub mod run;
mod template;

pub use auth::ExecAuth;
pub use backend::ExecBackend;
pub use config::{ExecAuthConfig, ExecIdentityConfig, Exit, Format, Io, Process, Tokens};
pub use directory::{ExecDirectory, ExecDirectoryConfig};
pub use profile::{ExecProfile, ExecProfileConfig};
pub use run::ExecError;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests_auth;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests_directory;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests_profile;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests_run;
