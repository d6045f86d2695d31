//! Configuration reload on SIGHUP, for what can change safely while requests are served: the
//! abuse limits (`ratelimit.*`), the log levels (`logging.app`, `logging.root`), the operator's
//! pages (`view.*`) and the mail and SMS templates (`threepid.medium.*.generators.template.*`,
//! their files read again). Everything else (listeners, storage, keys, connectors, backends)
//! needs a restart; a reload says which of the changed keys those are.
//!
//! The file is read and checked as at start-up, and every template is loaded, before anything
//! is replaced: an invalid file or a broken template changes nothing and the server keeps
//! running on what it had. What is replaced sits behind a swap point ([`swap`], and the HTTP
//! adapter's `SharedViews`) that requests read without a lock.
mod diff;
pub mod swap;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_http::SharedViews;
use verity_adapter_notify::TemplateGenerator;
use verity_domain::Medium;

use crate::config;
use crate::settings::{MediumSettings, Settings};
use crate::telemetry::{FilterApplied, LogFilter};
use swap::{SwapGenerator, SwapLimiter};

/// What a reload replaces in the running server, handed out by the wiring.
#[derive(Clone)]
pub struct ReloadPoints {
    /// Every use case's abuse limits.
    pub limiter: Arc<SwapLimiter>,
    /// The templates of each medium that was set up at start.
    pub templates: Vec<(Medium, Arc<SwapGenerator>)>,
    /// The pages the HTTP adapter serves.
    pub views: Arc<SharedViews>,
}

impl ReloadPoints {
    /// The swap points over what the server starts with.
    pub fn new(
        limiter: Arc<SwapLimiter>,
        templates: Vec<(Medium, Arc<SwapGenerator>)>,
        views: &verity_adapter_http::Views,
    ) -> Self {
        Self {
            limiter,
            templates,
            views: Arc::new(SharedViews::new(views.clone())),
        }
    }
}

/// Reloads the configuration file into the running server.
pub struct Reloader {
    path: PathBuf,
    /// `-v`/`-vv`, `MA1SD_LOG_LEVEL` or `MXISD_LOG_LEVEL`: stronger than `logging.app`, at
    /// start and at every reload.
    level: Option<String>,
    log: Option<LogFilter>,
    points: ReloadPoints,
    /// The settings the server runs on now: those it started with, with what reloads applied.
    running: Settings,
    /// New log levels, put in place once the reload's own lines are written (at a stricter
    /// level, they would not be).
    pending_levels: Option<crate::settings::LoggingSettings>,
}

/// What one reload did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reloaded {
    /// The keys (or, for re-read files, the key naming them) now in effect.
    pub applied: Vec<String>,
    /// The changed keys that take effect only after a restart.
    pub need_restart: Vec<String>,
}

impl Reloader {
    /// A reloader of the file at `path` for a server running on `running`, which `points`
    /// reach into; `log` is the installed log filter (none in tests that share a subscriber).
    pub fn new(
        path: PathBuf,
        level: Option<String>,
        log: Option<LogFilter>,
        points: ReloadPoints,
        running: Settings,
    ) -> Self {
        Self {
            path,
            level,
            log,
            points,
            running,
            pending_levels: None,
        }
    }

    /// Reloads on every SIGHUP until the process ends, logging what each reload did.
    #[cfg(unix)]
    pub async fn run_on_sighup(mut self) {
        let mut hangups = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::hangup(),
        ) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGHUP: the configuration is not reloaded");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            tracing::info!(config = %self.path.display(), "SIGHUP received, reloading the configuration");
            self.reload_and_log();
        }
    }

    /// Reloads once and logs the outcome: one line for what changed, one for what needs a
    /// restart, or one saying why the file was refused.
    pub fn reload_and_log(&mut self) {
        let config = self.path.display().to_string();
        match self.reload() {
            Err(error) => tracing::error!(
                %config,
                error = format!("{error:#}"),
                "the configuration was not reloaded; still running on the previous one"
            ),
            Ok(reloaded) => {
                if reloaded.applied.is_empty() {
                    tracing::info!(%config, "configuration reloaded: nothing that a reload applies changed");
                } else {
                    tracing::info!(%config, changed = reloaded.applied.join(", "), "configuration reloaded: these now apply");
                }
                if !reloaded.need_restart.is_empty() {
                    tracing::warn!(%config, keys = reloaded.need_restart.join(", "), "these changed keys take effect only after a restart");
                }
            }
        }
        self.apply_levels();
    }

    /// Puts the log levels of the last reload in place.
    fn apply_levels(&mut self) {
        let (Some(levels), Some(log)) = (self.pending_levels.take(), &self.log) else {
            return;
        };
        match log.apply(&levels) {
            Ok(FilterApplied::Replaced) => {}
            Ok(FilterApplied::KeptByEnvironment) => tracing::info!(
                "RUST_LOG is set and stays stronger than logging.app and logging.root"
            ),
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "the log level was not changed"
                );
            }
        }
    }

    /// Reads and checks the file, then applies what a reload can.
    ///
    /// # Errors
    /// The file cannot be read or is invalid, or a template cannot be loaded: nothing changed.
    pub fn reload(&mut self) -> anyhow::Result<Reloaded> {
        let mut new = config::load(&self.path)?.settings;
        if let Some(level) = &self.level {
            new.logging = new.logging.with_app_level(level);
        }
        let templates: Vec<String> = self
            .points
            .templates
            .iter()
            .map(|(medium, _)| medium.to_string())
            .collect();
        let (mut applied, need_restart): (Vec<_>, Vec<_>) = diff::changed_keys(&self.running, &new)
            .into_iter()
            .partition(|key| diff::reloadable(key, &templates));

        // Everything that can fail comes first, so that a failure replaces nothing.
        let mut generators = Vec::new();
        for (medium, swap) in &self.points.templates {
            let generator = self.generator(medium, &new)?;
            if *swap.current() != generator {
                generators.push((medium.clone(), swap.clone(), generator));
            }
        }
        let views = verity_adapter_http::Views {
            domain: self.running.views.domain.clone(),
            ..new.views.clone()
        };

        if applied.iter().any(|key| key.starts_with("ratelimit")) {
            self.points
                .limiter
                .replace(crate::wiring::limits::rate_limiter(&new.ratelimit));
            self.running.ratelimit.enabled = new.ratelimit.enabled;
            self.running.ratelimit.limits = new.ratelimit.limits;
        }
        if self.running.logging.filter != new.logging.filter {
            self.pending_levels = Some(new.logging.clone());
            self.running.logging.filter = new.logging.filter.clone();
            self.running.logging.root = new.logging.root.clone();
        }
        for (medium, swap, generator) in generators {
            let key = format!("threepid.medium.{medium}.generators.template");
            if !applied.iter().any(|changed| changed.starts_with(&key)) {
                applied.push(format!("{key} (files)"));
            }
            swap.replace(generator);
            if let Some(running) = self.medium_mut(&medium) {
                running.generator = medium_of(&new, &medium).generator.clone();
            }
        }
        if views != *self.points.views.current() {
            if !applied.iter().any(|key| key.starts_with("view")) {
                applied.push("view (files)".to_owned());
            }
            self.points.views.replace(views.clone());
            self.running.views = views;
        }
        applied.sort();
        Ok(Reloaded {
            applied,
            need_restart,
        })
    }

    /// The templates of `medium` as `new` names them, with the running domain and sender
    /// (those need a restart).
    fn generator(&self, medium: &Medium, new: &Settings) -> anyhow::Result<TemplateGenerator> {
        let running = medium_of(&self.running, medium);
        TemplateGenerator::new(
            medium,
            &self.running.matrix.domain,
            &running.identity,
            &medium_of(new, medium).generator,
        )
        .with_context(|| format!("threepid.medium.{medium}.generators.template"))
    }

    fn medium_mut(&mut self, medium: &Medium) -> Option<&mut MediumSettings> {
        match medium {
            Medium::Email => Some(&mut self.running.threepid.email),
            Medium::Msisdn => Some(&mut self.running.threepid.msisdn),
            Medium::Other(_) => None,
        }
    }
}

/// The settings of `medium` (the others never have templates: SMS settings stand in).
fn medium_of<'s>(settings: &'s Settings, medium: &Medium) -> &'s MediumSettings {
    match medium {
        Medium::Email => &settings.threepid.email,
        _ => &settings.threepid.msisdn,
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
