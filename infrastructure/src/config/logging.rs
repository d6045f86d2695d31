//! `logging.*` -> [`LoggingSettings`]: mxisd's two levels merged into one `EnvFilter` directive.
use super::error::ConfigError;
use super::lenient::text;
use super::raw::RawLogging;
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
    let filter = match (app_level, root.clone()) {
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
    Ok(LoggingSettings {
        filter,
        root,
        format,
    })
}

/// A level for Verity's own logs given outside the file, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelOverride {
    /// `-v`, `-vv`, `MA1SD_LOG_LEVEL` or `MXISD_LOG_LEVEL`.
    pub source: &'static str,
    /// The lowercase level name.
    pub level: String,
}

/// The level the command line or the environment sets for Verity's own logs, strongest first:
/// `-vv` (`trace`), `-v` (`debug`), then `MA1SD_LOG_LEVEL`, then `MXISD_LOG_LEVEL` (blank values
/// count as unset, as in ma1sd). `None` leaves `logging.app` in charge. `RUST_LOG` is stronger
/// still and is applied by `telemetry`.
///
/// # Errors
/// [`ConfigError::Invalid`] naming the variable when its value is not a level name (ma1sd fell
/// back to `info` without a word).
pub fn log_level_override(
    verbose: u8,
    ma1sd: Option<&str>,
    mxisd: Option<&str>,
) -> Result<Option<LevelOverride>, ConfigError> {
    let flag = match verbose {
        0 => None,
        1 => Some(("-v", "debug")),
        _ => Some(("-vv", "trace")),
    };
    if let Some((source, level)) = flag {
        return Ok(Some(LevelOverride {
            source,
            level: level.to_owned(),
        }));
    }
    for (source, value) in [("MA1SD_LOG_LEVEL", ma1sd), ("MXISD_LOG_LEVEL", mxisd)] {
        let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        let level = log_level(value).ok_or_else(|| bad_level(source, value))?;
        return Ok(Some(LevelOverride { source, level }));
    }
    Ok(None)
}

impl LoggingSettings {
    /// `logging.app` as `--dump-config` writes it next to `logging.root`: the filter without the
    /// root level that [`resolve`] put in front, so that both keys read back give this filter.
    pub fn app(&self) -> &str {
        let Some(root) = self.root.as_deref() else {
            return &self.filter;
        };
        let rest = self.filter.strip_prefix(root);
        match rest.and_then(|r| r.strip_prefix(",verity=")) {
            Some(level) if log_level(level).is_some() => level,
            _ => rest
                .and_then(|r| r.strip_prefix(','))
                .unwrap_or(&self.filter),
        }
    }

    /// These settings with Verity's own logs at `level`; everything else stays at
    /// `logging.root` (`info` when unset, slf4j's default that ma1sd's `-v` kept).
    #[must_use]
    pub fn with_app_level(mut self, level: &str) -> Self {
        let root = self.root.as_deref().unwrap_or(DEFAULT_LOG_LEVEL);
        self.filter = if root == level {
            level.to_owned()
        } else {
            format!("{root},verity={level}")
        };
        self
    }
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
