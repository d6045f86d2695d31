//! `verity admin`: the operator's commands on a deployment's store and key directory, read from
//! the same configuration file as the server, whether or not the server runs.
//!
//! What a command found or did is written to stdout; every change is also logged, with who made
//! it (`--actor`, else the operating-system user) and what, to stderr in the configured log
//! format (`logging.format`), so that `2>>` or `systemd-cat` keeps the record. Errors go to
//! stderr, with exit code 1 (2 for a configuration that cannot be read, as the server).
pub mod cli;
mod commands;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;
use verity_application::ports::driving::Actor;

use crate::settings::{LogFormat, LoggingSettings};
pub use cli::AdminArgs;

/// Exit code for configuration errors, as the server uses.
const CONFIG_ERROR: u8 = 2;

/// Runs `verity admin ...` to the end.
pub fn run(args: AdminArgs, config: Option<PathBuf>) -> ExitCode {
    let path = crate::config::locate(config);
    let loaded = match crate::config::load(&path) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("verity admin: configuration {}: {error}", path.display());
            return ExitCode::from(CONFIG_ERROR);
        }
    };
    for warning in &loaded.warnings {
        eprintln!("warning: {}: {warning}", path.display());
    }
    if let Err(error) = init_logging(&loaded.settings.logging) {
        eprintln!("verity admin: {error:#}");
        return ExitCode::from(CONFIG_ERROR);
    }
    let actor = actor(args.actor);
    let result = tokio::runtime::Runtime::new()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| {
            runtime.block_on(commands::execute(args.command, &loaded.settings, &actor))
        });
    match result {
        Ok(output) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(output.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            }
        }
        Err(error) => {
            eprintln!("verity admin: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `--actor`, else the operating-system user (`$USER`, `$LOGNAME`), else `unknown`.
fn actor(given: Option<String>) -> Actor {
    let name = given
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .unwrap_or_default();
    Actor::new(name)
}

/// The log of a command, to stderr (stdout is the command's output), in the configured format:
/// the use cases' lines (the changes, with their actor) and every warning; not the store's
/// start-up chatter (migrations). `RUST_LOG` overrides it, as for the server.
fn init_logging(logging: &LoggingSettings) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directive) if !directive.is_empty() => EnvFilter::try_new(directive)?,
        _ => EnvFilter::try_new("warn,verity_application=info")?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr);
    match logging.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    }
    .map_err(|e| anyhow::anyhow!("cannot install the log subscriber: {e}"))
}
