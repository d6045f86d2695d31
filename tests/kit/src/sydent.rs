//! A deployment made by the real Sydent 2.6.1, for the import tests: a directory with the
//! `sydent.conf` Sydent reads, its `terms.yaml`, and a `sydent.db` that Sydent's own code created
//! and filled (bindings signed by Sydent's signer, an unbound address, a re-bound one, accounts
//! with tokens, accepted terms, a delivered and a pending invite with their ephemeral keys).
//!
//! Like every long-running Sydent 2.6.1, it has signed associations that carry a stale `invites`
//! field: once a bind delivered an invite, Sydent adds that list to every association it signs
//! afterwards (its `ThreepidAssociation.extra_fields` default is one dict shared by all), and
//! stores them so. The v1 lookup serves them verbatim; their signatures cover the field.
//!
//! [`SydentDeployment::make`] runs `tests/kit/scripts/make_sydent_deployment.py` with the python of
//! the virtualenv `scripts/test` installs Sydent into, and returns what Sydent made as a
//! [`Summary`], so tests compare with what Sydent wrote rather than with values typed here. No
//! Sydent process keeps running: the script builds Sydent on Twisted's in-memory reactor, which
//! opens nothing (no listener, no SMTP, no homeserver call), and exits.
//!
//! Where Sydent is: [`python`] reads `VERITY_TEST_SYDENT` (the virtualenv's python).
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// The variable naming the python of a virtualenv with `matrix-sydent` installed.
pub const SYDENT_VAR: &str = "VERITY_TEST_SYDENT";

/// When set, the deployment's directory is kept after the test (its path goes to stderr).
pub const KEEP_VAR: &str = "VERITY_TEST_SYDENT_KEEP";

/// The Sydent release the deployment is made with (`scripts/test` installs it).
pub const SYDENT_VERSION: &str = "2.6.1";

/// The script that makes the deployment.
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scripts/make_sydent_deployment.py"
);

/// The python of the Sydent virtualenv, from [`SYDENT_VAR`].
///
/// Unset: `None` with a note on stderr (the Sydent tests then pass without running), except under
/// CI (`CI` set), where it panics: CI must run them. Set to a path that does not exist: panics.
pub fn python() -> Option<PathBuf> {
    match std::env::var_os(SYDENT_VAR) {
        Some(path) if !path.is_empty() => {
            let path = PathBuf::from(path);
            assert!(
                path.exists(),
                "{SYDENT_VAR}={} does not exist: run scripts/test, which installs Sydent there",
                path.display()
            );
            Some(path)
        }
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "CI is set but {SYDENT_VAR} is not: CI must run the Sydent tests (scripts/test \
                 installs Sydent {SYDENT_VERSION} and sets it)"
            )
        }
        _ => {
            static NOTE: Once = Once::new();
            NOTE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "note: {SYDENT_VAR} is not set; the Sydent tests pass without running \
                     (scripts/test installs Sydent {SYDENT_VERSION} and sets it)"
                );
            });
            None
        }
    }
}

/// What the deployment is made with.
#[derive(Debug, Clone)]
pub struct Options {
    /// `[general] server.name`: the name Sydent signs associations with.
    pub server_name: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            server_name: "sydent.example".to_owned(),
        }
    }
}

/// A Sydent deployment on disk; the directory is removed when the value is dropped (unless
/// [`KEEP_VAR`] is set).
pub struct SydentDeployment {
    dir: Option<tempfile::TempDir>,
    summary: Summary,
    took: Duration,
}

impl SydentDeployment {
    /// Makes a deployment in a new temporary directory with Sydent's `python`.
    ///
    /// # Panics
    /// When the script fails (with its output) or prints something that is not a summary.
    pub fn make(python: &Path, options: &Options) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory for Sydent");
        let began = Instant::now();
        let output = Command::new(python)
            .arg(SCRIPT)
            .arg(dir.path())
            .arg("--server-name")
            .arg(&options.server_name)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap_or_else(|error| panic!("run {SCRIPT} with {}: {error}", python.display()));
        let took = began.elapsed();
        assert!(
            output.status.success(),
            "{SCRIPT} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let summary: Summary = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "{SCRIPT} printed no summary ({error}):\n{}\n--- stderr\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        Self {
            dir: Some(dir),
            summary,
            took,
        }
    }

    /// The deployment's directory.
    pub fn dir(&self) -> &Path {
        self.dir.as_ref().map_or(Path::new(""), |dir| dir.path())
    }

    /// `sydent.conf`, as Sydent left it after generating its signing key.
    pub fn conf_path(&self) -> PathBuf {
        PathBuf::from(&self.summary.conf_path)
    }

    /// `sydent.db`.
    pub fn db_path(&self) -> PathBuf {
        PathBuf::from(&self.summary.db_path)
    }

    /// What Sydent made.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// How long making it took (python start-up, Sydent's imports, schema, writes).
    pub fn took(&self) -> Duration {
        self.took
    }
}

impl Drop for SydentDeployment {
    fn drop(&mut self) {
        if std::env::var_os(KEEP_VAR).is_some()
            && let Some(dir) = self.dir.take()
        {
            let kept = dir.keep();
            let _ = writeln!(
                std::io::stderr(),
                "{KEEP_VAR}: the Sydent deployment is kept at {}",
                kept.display()
            );
        }
    }
}

/// What the script reports: read back from the database with Sydent's own stores.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// `2.6.1`.
    pub sydent_version: String,
    /// `[general] server.name`.
    pub server_name: String,
    /// The absolute path of `sydent.conf`.
    pub conf_path: String,
    /// The absolute path of `sydent.db` (`[db] db.file`).
    pub db_path: String,
    /// The absolute path of `terms.yaml` (`[general] terms.path`).
    pub terms_path: String,
    /// `PRAGMA user_version` after Sydent's migrations (5 for 2.6.1).
    pub schema_version: i64,
    /// The key Sydent generated (`[crypto] ed25519.signingkey`); its public half only.
    pub signing_key: PublicSigningKey,
    /// The pepper of Sydent's hashed lookups (`hashing_metadata`).
    pub lookup_pepper: String,
    /// `local_threepid_associations`, in id order, with what the v1 lookup serves for each.
    pub bindings: Vec<Binding>,
    /// `global_threepid_associations`, in id order (a re-bound address has two rows).
    pub global_associations: Vec<GlobalAssociation>,
    /// `accounts`, by user id, with their `tokens`.
    pub accounts: Vec<Account>,
    /// `accepted_terms_urls`, by user id.
    pub accepted_terms: Vec<AcceptedTerms>,
    /// `master_version` of `terms.yaml`: an account that accepted every document has it as its
    /// consent version.
    pub terms_master_version: String,
    /// `invite_tokens`, in id order: one delivered by a bind, one pending.
    pub invites: Vec<Invite>,
    /// `ephemeral_public_keys` (unpadded URL-safe base64, as Sydent stores them).
    pub ephemeral_public_keys: Vec<String>,
}

/// A public signing key as `/_matrix/identity/v2/pubkey/{keyId}` would serve it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicSigningKey {
    /// `ed25519:0`.
    pub id: String,
    /// Unpadded standard base64.
    pub public_key: String,
}

/// A row of `local_threepid_associations`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    /// `id`: Sydent's origin id for replication.
    pub local_id: i64,
    /// `email` or `msisdn`.
    pub medium: String,
    /// As Sydent stored it (emails casefolded).
    pub address: String,
    /// `None` once unbound (Sydent keeps the row with a NULL mxid and NULL validity).
    pub mxid: Option<String>,
    /// Milliseconds since the epoch.
    pub ts: Option<i64>,
    /// Milliseconds since the epoch.
    pub not_before: Option<i64>,
    /// Milliseconds since the epoch (a hundred years after `ts`).
    pub not_after: Option<i64>,
    /// The signed association Sydent's v1 lookup serves for the address, verbatim (Python's
    /// `json.dumps`, not canonical JSON; possibly with a stale `invites` field, see the module);
    /// `None` once unbound.
    pub sg_assoc: Option<String>,
}

/// A row of `global_threepid_associations` (without the `sgAssoc`, which [`Binding`] carries
/// for the current one).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalAssociation {
    /// `email` or `msisdn`.
    pub medium: String,
    /// As stored.
    pub address: String,
    /// Never NULL in this table.
    pub mxid: String,
    /// Milliseconds since the epoch.
    pub ts: i64,
    /// The server that made it (this one).
    pub origin_server: String,
    /// Its id in the origin's `local_threepid_associations`.
    pub origin_id: i64,
}

/// A row of `accounts` and its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The Matrix user id.
    pub user_id: String,
    /// Milliseconds since the epoch.
    pub created_ts: i64,
    /// The terms' master version once every document was accepted.
    pub consent_version: Option<String>,
    /// The account's access tokens (Sydent's 64 alphanumeric characters).
    pub tokens: Vec<Secret>,
}

/// The URLs one user accepted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptedTerms {
    /// The Matrix user id.
    pub user_id: String,
    /// Sorted.
    pub urls: Vec<String>,
}

/// A third-party invite (`invite_tokens`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    /// `email`.
    pub medium: String,
    /// Casefolded.
    pub address: String,
    /// The room.
    pub room_id: String,
    /// Who invited.
    pub sender: String,
    /// The invite token (128 characters).
    pub token: Secret,
    /// Seconds (not milliseconds) since the epoch, as Sydent stores it.
    pub received_ts: i64,
    /// When a bind handed it to the homeserver (seconds); `None` while pending.
    pub sent_ts: Option<i64>,
}

/// A token from the deployment: compared and used by tests, never printed.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The token itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}
