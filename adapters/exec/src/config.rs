//! What the `exec` backend runs: ma1sd's `ExecConfig` (tokens, processes, input and output
//! formats, exit codes) with Verity's limits (time, output size, processes at once). The
//! infrastructure fills these from `exec.*` with the defaults below.
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a lookup's program may run before it is killed (Verity; ma1sd waited forever).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the program listing every 3PID (`lookup.all`) may run.
pub const DEFAULT_ALL_TIMEOUT: Duration = Duration::from_secs(60);
/// The most a lookup's program may write on stdout.
pub const DEFAULT_MAX_OUTPUT: usize = 1024 * 1024;
/// The most the program listing every 3PID may write on stdout.
pub const DEFAULT_ALL_MAX_OUTPUT: usize = 64 * 1024 * 1024;
/// How many programs run at once, all lookups together.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// The placeholders replaced in `args`, `env` values and the stdin template, as ma1sd named
/// them (`exec.token.*`, overridden per process by `<process>.token.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// `{localpart}`: a Matrix user's localpart (authentication, profiles).
    pub localpart: String,
    /// `{domain}`: a Matrix user's domain.
    pub domain: String,
    /// `{mxid}`: a whole Matrix user ID.
    pub mxid: String,
    /// `{password}`: the password to check (authentication); never logged.
    pub password: String,
    /// `{medium}`: a 3PID's medium (identity lookups).
    pub medium: String,
    /// `{address}`: a 3PID's address (identity lookups).
    pub address: String,
    /// `{type}`: the kind of directory search.
    pub kind: String,
    /// `{query}`: the directory search's text.
    pub query: String,
}

impl Default for Tokens {
    fn default() -> Self {
        Self {
            localpart: "{localpart}".into(),
            domain: "{domain}".into(),
            mxid: "{mxid}".into(),
            password: "{password}".into(),
            medium: "{medium}".into(),
            address: "{address}".into(),
            kind: "{type}".into(),
            query: "{query}".into(),
        }
    }
}

/// How stdin is written or stdout read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON, in the REST backend's shapes.
    Json,
    /// Lines (and tab-separated fields).
    Plain,
}

impl Format {
    /// The name in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Plain => "plain",
        }
    }
}

/// `<process>.input` or `<process>.output`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Io {
    /// `type`; `None`: ma1sd's "unset" (no stdin; stdout read as JSON, see the crate docs).
    pub format: Option<Format>,
    /// `template`: stdin as the operator writes it, tokens replaced.
    pub template: Option<String>,
}

/// `<process>.exit`: which exit codes mean what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// `success` (default `[0]`): stdout holds the answer.
    pub success: Vec<i32>,
    /// `failure` (default `[1]`): not found. Any other code is an error.
    pub failure: Vec<i32>,
}

impl Default for Exit {
    fn default() -> Self {
        Self {
            success: vec![0],
            failure: vec![1],
        }
    }
}

/// One program and how it is called (ma1sd's `ExecConfig.Process`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// `command`: the program, run directly (no shell); `None`: not configured.
    pub command: Option<String>,
    /// `args`: each one argument, tokens replaced.
    pub args: Vec<String>,
    /// `env`: variables added to Verity's environment, tokens replaced in the values.
    pub env: BTreeMap<String, String>,
    /// `input`.
    pub input: Io,
    /// `output`.
    pub output: Io,
    /// `exit`.
    pub exit: Exit,
    /// `token` over `exec.token`: the placeholders of this process.
    pub token: Tokens,
    /// `timeout` (Verity): killed after this long.
    pub timeout: Duration,
    /// `maxOutput` (Verity): killed when stdout grows larger, in bytes.
    pub max_output: usize,
}

impl Default for Process {
    fn default() -> Self {
        Self {
            command: None,
            args: Vec::new(),
            env: BTreeMap::new(),
            input: Io::default(),
            output: Io::default(),
            exit: Exit::default(),
            token: Tokens::default(),
            timeout: DEFAULT_TIMEOUT,
            max_output: DEFAULT_MAX_OUTPUT,
        }
    }
}

/// `exec.identity.*`: the identity lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecIdentityConfig {
    /// `matrix.domain`: the domain of the users a program names by localpart.
    pub matrix_domain: String,
    /// `lookup.single`: one 3PID; without a command, `bulk` is asked with a list of one (and
    /// without either, nothing is found).
    pub single: Process,
    /// `lookup.bulk`: a list of 3PIDs; without a command, bulk lookups run `single` for each.
    pub bulk: Process,
    /// `lookup.all` (Verity): every 3PID, the hash table's feed; without a command, the feed
    /// runs `bulk` with an empty request (what ma1sd's `hashLookup` did).
    pub all: Process,
    /// `hashLookup`: feed the v2 hashed-lookup table.
    pub hash_lookup: bool,
    /// `priority` (default 0, ma1sd's).
    pub priority: i32,
    /// `exec.concurrency` (Verity): programs running at once.
    pub concurrency: usize,
}

impl ExecIdentityConfig {
    /// The defaults for users of `matrix_domain`; no command set.
    pub fn new(matrix_domain: impl Into<String>) -> Self {
        Self {
            matrix_domain: matrix_domain.into(),
            single: Process::default(),
            bulk: Process::default(),
            all: Process {
                timeout: DEFAULT_ALL_TIMEOUT,
                max_output: DEFAULT_ALL_MAX_OUTPUT,
                ..Process::default()
            },
            hash_lookup: false,
            priority: 0,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// `exec.auth`: the program that checks a user's password, for the homeserver's logins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecAuthConfig {
    /// `matrix.domain`: the domain of the account a program names by localpart.
    pub matrix_domain: String,
    /// The process (its `command` is set: without one, logins are not asked of `exec`).
    pub process: Process,
    /// `exec.concurrency`: logins running at once (their own allowance, beside the lookups').
    pub concurrency: usize,
}

impl ExecAuthConfig {
    /// The defaults for users of `matrix_domain`, running `process`.
    pub fn new(matrix_domain: impl Into<String>, process: Process) -> Self {
        Self {
            matrix_domain: matrix_domain.into(),
            process,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}
