//! `logging.*` -> [`LoggingSettings`]: mxisd's two levels merged into one `EnvFilter` directive.
use super::error::ConfigError;
use super::raw::RawLogging;
use super::resolve::text;
use crate::settings::{LogFormat, LoggingSettings};

const DEFAULT_LOG_LEVEL: &str = "info";
const LOG_LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// `logging.root` is the level for everything, `logging.app` Verity's own; both are mxisd level
/// names, and `logging.app` may also be a full `EnvFilter` directive.
pub fn resolve(raw: RawLogging) -> Result<LoggingSettings, ConfigError> {
    let root = text(raw.root)
        .map(|level| log_level(&level).ok_or_else(|| bad_level("logging.root", &level)))
        .transpose()?;
    let app = text(raw.app).unwrap_or_else(|| DEFAULT_LOG_LEVEL.to_owned());
    let app_level = log_level(&app);
    // A bare word that is not a level would parse as a target name and silently log nothing of
    // Verity's, so only something that looks like a directive is taken as one.
    if app_level.is_none() && !app.contains(['=', ',', '[']) {
        return Err(bad_level("logging.app", &app));
    }
    let filter = match (app_level, root) {
        (Some(app), Some(root)) if app != root => format!("{root},verity={app}"),
        (Some(app), _) => app,
        (None, Some(root)) => format!("{root},{app}"),
        (None, None) => app,
    };
    tracing_subscriber::EnvFilter::builder()
        .parse(&filter)
        .map_err(|e| {
            ConfigError::invalid(
                "logging.app",
                format!("{filter:?} is not a level or a filter directive: {e}"),
            )
        })?;
    let format = match text(raw.format).map(|f| f.to_ascii_lowercase()).as_deref() {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(other) => {
            return Err(ConfigError::invalid(
                "logging.format",
                format!("unknown format `{other}`; expected `text` or `json`"),
            ));
        }
    };
    Ok(LoggingSettings { filter, format })
}

/// The lowercase level name, accepting mxisd's upper-case spellings and `warning`.
fn log_level(value: &str) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    let lower = if lower == "warning" {
        "warn".to_owned()
    } else {
        lower
    };
    LOG_LEVELS.contains(&lower.as_str()).then_some(lower)
}

fn bad_level(key: &str, value: &str) -> ConfigError {
    ConfigError::invalid(
        key,
        format!(
            "unknown level `{value}`; expected one of {}",
            LOG_LEVELS.join(", ")
        ),
    )
}
