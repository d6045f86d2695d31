//! Structured logs to stdout, as text or JSON lines, with a level filter that a configuration
//! reload (SIGHUP) can replace.
use std::io::IsTerminal as _;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, Registry, reload};

use crate::settings::{LogFormat, LoggingSettings};

/// The installed level filter, for a reload to replace.
#[derive(Clone)]
pub struct LogFilter {
    handle: reload::Handle<EnvFilter, Registry>,
    /// `RUST_LOG` chose the filter: the configuration's levels do not apply, at start or reload.
    from_env: bool,
}

/// What [`LogFilter::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterApplied {
    /// The new filter is in place.
    Replaced,
    /// `RUST_LOG` is set and stays stronger than the configuration: nothing was replaced.
    KeptByEnvironment,
}

impl LogFilter {
    /// Filters with `logging.app`/`logging.root` from now on, unless `RUST_LOG` chose the
    /// filter at start.
    ///
    /// # Errors
    /// When the filter directive is invalid (configuration loading already refused it) or the
    /// subscriber is gone.
    pub fn apply(&self, logging: &LoggingSettings) -> anyhow::Result<FilterApplied> {
        if self.from_env {
            return Ok(FilterApplied::KeptByEnvironment);
        }
        let filter = EnvFilter::try_new(&logging.filter)
            .map_err(|e| anyhow::anyhow!("logging.app: invalid level or directive: {e}"))?;
        self.handle
            .reload(filter)
            .map_err(|e| anyhow::anyhow!("cannot replace the log filter: {e}"))?;
        Ok(FilterApplied::Replaced)
    }
}

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `logging.app`.
///
/// # Errors
/// When the filter directive is invalid or a subscriber is already installed.
pub fn init(logging: &LoggingSettings) -> anyhow::Result<LogFilter> {
    let (filter, from_env) = match std::env::var("RUST_LOG") {
        Ok(directive) if !directive.is_empty() => (EnvFilter::try_new(directive)?, true),
        _ => (
            EnvFilter::try_new(&logging.filter)
                .map_err(|e| anyhow::anyhow!("logging.app: invalid level or directive: {e}"))?,
            false,
        ),
    };
    let (filter, handle) = reload::Layer::new(filter);
    // Colours only for a person at a terminal, never in journald or a log file.
    let ansi = std::io::stdout().is_terminal();
    let lines = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(std::io::stdout);
    let lines = match logging.format {
        LogFormat::Text => lines.boxed(),
        LogFormat::Json => lines.json().flatten_event(true).boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(lines)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot install the log subscriber: {e}"))?;
    Ok(LogFilter { handle, from_env })
}
