//! Structured logs to stdout, as text or JSON lines.
use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::settings::{LogFormat, LoggingSettings};

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `logging.app`.
///
/// # Errors
/// When the filter directive is invalid or a subscriber is already installed.
pub fn init(logging: &LoggingSettings) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directive) if !directive.is_empty() => EnvFilter::try_new(directive)?,
        _ => EnvFilter::try_new(&logging.filter)
            .map_err(|e| anyhow::anyhow!("logging.app: invalid level or directive: {e}"))?,
    };
    // Colours only for a person at a terminal, never in journald or a log file.
    let ansi = std::io::stdout().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stdout);
    match logging.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    }
    .map_err(|e| anyhow::anyhow!("cannot install the log subscriber: {e}"))
}
