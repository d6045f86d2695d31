//! Running one program: arguments and environment with their tokens replaced, stdin written and
//! closed, stdout and stderr read up to a limit, killed when it runs too long, its exit code
//! mapped as `exit.success` / `exit.failure` say. At most `exec.concurrency` programs run at
//! once, so a storm of lookups queues instead of forking thousands of processes.
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::Command;
use tokio::sync::Semaphore;

use crate::config::Process;
use crate::template::{Value, raw, redact, substitute};

/// The most of a program's stderr kept (for its first line in the logs); the rest is read and
/// dropped, so a program writing a lot there does not block.
const STDERR_KEPT: u64 = 64 * 1024;

/// Why a program gave no answer. Each message names the configuration key of the process
/// (`exec.identity.lookup.single`) and its command, never the values passed to it.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The process has no `command`.
    #[error("{key}.command is not set")]
    NotConfigured {
        /// The process's key.
        key: String,
    },
    /// The program could not be started (not found, not executable).
    #[error("{key}.command: cannot run {command:?}: {source}")]
    Spawn {
        /// The process's key.
        key: String,
        /// The command as configured.
        command: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// Writing its stdin, reading its output or waiting for it failed.
    #[error("{key}: {command:?} could not be talked to: {source}")]
    Io {
        /// The process's key.
        key: String,
        /// The command.
        command: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// It ran longer than `timeout` and was killed.
    #[error("{key}: {command:?} ran longer than {after:?} ({key}.timeout) and was killed")]
    Timeout {
        /// The process's key.
        key: String,
        /// The command.
        command: String,
        /// The limit.
        after: Duration,
    },
    /// Its stdout grew larger than `maxOutput`; it was killed.
    #[error("{key}: {command:?} wrote more than {limit} bytes ({key}.maxOutput) and was killed")]
    TooLarge {
        /// The process's key.
        key: String,
        /// The command.
        command: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// It exited with a code neither `exit.success` nor `exit.failure` lists, or was killed by
    /// a signal (`code` is `None`).
    #[error("{key}: {command:?} exited with {} ({key}.exit lists neither){}", code.map_or_else(|| "a signal".to_owned(), |c| format!("code {c}")), if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Exit {
        /// The process's key.
        key: String,
        /// The command.
        command: String,
        /// The exit code.
        code: Option<i32>,
        /// The first line of its stderr, secrets masked.
        stderr: String,
    },
    /// It exited with a success code but its stdout is not an answer.
    #[error("{key}: {command:?} answered something that is not {expected}: {message}")]
    Output {
        /// The process's key.
        key: String,
        /// The command.
        command: String,
        /// What was expected (`the json output of a single lookup`).
        expected: String,
        /// What is wrong.
        message: String,
    },
}

/// What a program answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// An `exit.success` code: its stdout.
    Success(String),
    /// An `exit.failure` code: nothing found.
    Failure,
}

/// One run of a process.
pub(crate) struct Call<'a> {
    /// The process's key, for errors.
    pub key: &'a str,
    /// The process.
    pub process: &'a Process,
    /// The tokens and their values.
    pub values: &'a [Value<'a>],
    /// What is written on stdin; `None`: stdin is closed at once.
    pub stdin: Option<String>,
    /// Values never logged (a password).
    pub secrets: &'a [&'a str],
}

/// Runs programs, at most a number at once.
#[derive(Debug, Clone)]
pub(crate) struct Runner {
    permits: Arc<Semaphore>,
}

impl Runner {
    /// A runner of at most `concurrency` programs at once (at least one).
    pub(crate) fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// Runs `call` to its end, its time limit or its output limit.
    pub(crate) async fn run(&self, mut call: Call<'_>) -> Result<Outcome, ExecError> {
        let process = call.process;
        let key = call.key;
        let command = process
            .command
            .as_deref()
            .ok_or_else(|| ExecError::NotConfigured {
                key: key.to_owned(),
            })?;
        let io = |source| ExecError::Io {
            key: key.to_owned(),
            command: command.to_owned(),
            source,
        };
        // The semaphore is never closed; a closed one would only mean no program runs.
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| io(std::io::Error::other("the exec backend is shutting down")))?;
        let mut program = Command::new(command);
        for arg in &process.args {
            program.arg(substitute(arg, call.values, raw));
        }
        for (name, value) in &process.env {
            program.env(name, substitute(value, call.values, raw));
        }
        program
            .stdin(if call.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A group of its own, so that what it started is killed with it.
            .process_group(0)
            .kill_on_drop(true);
        tracing::debug!(key, command, "running an exec program");
        let mut child = program.spawn().map_err(|source| ExecError::Spawn {
            key: key.to_owned(),
            command: command.to_owned(),
            source,
        })?;
        // Killed with the program if this future is dropped before the program was reaped (a
        // client that went away): `kill_on_drop` alone would leave what it started running.
        let mut group = Group(child.id().and_then(|id| i32::try_from(id).ok()));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let limit = process.max_output;
        let talk = async {
            let (_, out, err) = tokio::try_join!(
                write_stdin(stdin, call.stdin.take()),
                read_stdout(stdout, limit),
                read_stderr(stderr),
            )?;
            let status = child.wait().await.map_err(Failed::Io)?;
            Ok::<_, Failed>((status, out, err))
        };
        let finished = tokio::time::timeout(process.timeout, talk).await;
        let (status, out, err) = match finished {
            Ok(Ok(done)) => {
                // Reaped: its id may name another group from now on.
                group.0 = None;
                done
            }
            Ok(Err(failed)) => {
                // Killed (and reaped) here rather than left to `kill_on_drop`.
                group.kill();
                let _ = child.kill().await;
                return Err(match failed {
                    Failed::Io(source) => io(source),
                    Failed::TooLarge => ExecError::TooLarge {
                        key: key.to_owned(),
                        command: command.to_owned(),
                        limit,
                    },
                });
            }
            Err(_) => {
                group.kill();
                let _ = child.kill().await;
                return Err(ExecError::Timeout {
                    key: key.to_owned(),
                    command: command.to_owned(),
                    after: process.timeout,
                });
            }
        };
        finish(&call, command, status.code(), out, &err)
    }
}

/// The outcome of a program that exited with `code`, as its `exit` codes say.
fn finish(
    call: &Call<'_>,
    command: &str,
    code: Option<i32>,
    out: Vec<u8>,
    err: &[u8],
) -> Result<Outcome, ExecError> {
    let (key, process) = (call.key, call.process);
    match code {
        Some(code) if process.exit.success.contains(&code) => String::from_utf8(out)
            .map(Outcome::Success)
            .map_err(|_| ExecError::Output {
                key: key.to_owned(),
                command: command.to_owned(),
                expected: "UTF-8 text".into(),
                message: "its stdout is not UTF-8".into(),
            }),
        Some(code) if process.exit.failure.contains(&code) => Ok(Outcome::Failure),
        _ => {
            let first = String::from_utf8_lossy(err);
            let first = first
                .lines()
                .find(|line| !line.trim().is_empty())
                .unwrap_or("");
            let stderr = redact(first.trim(), call.secrets);
            tracing::warn!(key, command, code, stderr = %stderr, "an exec program exited with a code its exit.success and exit.failure do not list");
            Err(ExecError::Exit {
                key: key.to_owned(),
                command: command.to_owned(),
                code,
                stderr,
            })
        }
    }
}

/// A program's process group (its id), killed when dropped unless the program was reaped.
struct Group(Option<i32>);

impl Group {
    /// Kills every process of the group (the program and what it started: a shell's `sleep`).
    /// Called only before the program was reaped, so its id still names its group.
    fn kill(&mut self) {
        if let Some(group) = self.0.take() {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(group),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Why talking to a running program stopped.
enum Failed {
    Io(std::io::Error),
    TooLarge,
}

/// Writes `text` and closes stdin. A program that exits without reading it is no error (it
/// may take everything from its arguments).
async fn write_stdin(
    pipe: Option<tokio::process::ChildStdin>,
    text: Option<String>,
) -> Result<(), Failed> {
    let (Some(mut pipe), Some(text)) = (pipe, text) else {
        return Ok(());
    };
    match pipe.write_all(text.as_bytes()).await {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        Err(error) => return Err(Failed::Io(error)),
    }
    match pipe.shutdown().await {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(Failed::Io(error)),
        _ => Ok(()),
    }
}

/// All of stdout, or [`Failed::TooLarge`] as soon as it passes `limit` bytes.
async fn read_stdout(
    pipe: Option<impl AsyncRead + Unpin>,
    limit: usize,
) -> Result<Vec<u8>, Failed> {
    let mut out = Vec::new();
    let Some(pipe) = pipe else {
        return Ok(out);
    };
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    pipe.take(cap)
        .read_to_end(&mut out)
        .await
        .map_err(Failed::Io)?;
    if out.len() > limit {
        return Err(Failed::TooLarge);
    }
    Ok(out)
}

/// The first [`STDERR_KEPT`] bytes of stderr; the rest read and dropped.
async fn read_stderr(pipe: Option<impl AsyncRead + Unpin>) -> Result<Vec<u8>, Failed> {
    let mut kept = Vec::new();
    let Some(mut pipe) = pipe else {
        return Ok(kept);
    };
    (&mut pipe)
        .take(STDERR_KEPT)
        .read_to_end(&mut kept)
        .await
        .map_err(Failed::Io)?;
    tokio::io::copy(&mut pipe, &mut tokio::io::sink())
        .await
        .map_err(Failed::Io)?;
    Ok(kept)
}
