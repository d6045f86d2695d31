use std::path::{Path, PathBuf};
use std::sync::Arc;

use pretty_assertions::assert_eq;
use tempfile::TempDir;
use verity_adapter_http::SharedViews;
use verity_adapter_notify::TemplateGenerator;
use verity_application::ports::driven::RateLimiter as _;
use verity_domain::{LimitKey, Medium};

use super::swap::{SwapGenerator, SwapLimiter};
use super::{ReloadPoints, Reloaded, Reloader};
use crate::config;
use crate::wiring::limits::rate_limiter;

/// A configuration file in a temporary directory, a reloader of it, and its swap points.
struct Fixture {
    dir: TempDir,
    reloader: Reloader,
    points: ReloadPoints,
}

const BASE: &str = "matrix:\n  domain: example.org\nkey:\n  path: ':memory:'\n";

fn template(subject: &str) -> String {
    format!("Subject: {subject}\nContent-Type: text/plain; charset=UTF-8\n\n%VALIDATION_LINK%\n")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `yaml` may name files of the directory as `{dir}`.
fn config_text(dir: &Path, yaml: &str) -> String {
    format!(
        "{BASE}{}",
        yaml.replace("{dir}", &dir.display().to_string())
    )
}

fn fixture(yaml: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "validate.eml", &template("First"));
    write(dir.path(), "failure.html", "first");
    let path = write(dir.path(), "verity.yaml", &config_text(dir.path(), yaml));
    let settings = config::load(&path).unwrap().settings;
    let email = &settings.threepid.email;
    let generator = TemplateGenerator::new(
        &Medium::Email,
        &settings.matrix.domain,
        &email.identity,
        &email.generator,
    )
    .unwrap();
    let points = ReloadPoints {
        limiter: Arc::new(SwapLimiter::new(rate_limiter(&settings.ratelimit))),
        templates: vec![(Medium::Email, Arc::new(SwapGenerator::new(generator)))],
        views: Arc::new(SharedViews::new(settings.views.clone())),
    };
    let reloader = Reloader::new(path, None, None, points.clone(), settings);
    Fixture {
        dir,
        reloader,
        points,
    }
}

impl Fixture {
    fn rewrite(&self, yaml: &str) {
        write(
            self.dir.path(),
            "verity.yaml",
            &config_text(self.dir.path(), yaml),
        );
    }

    fn generator(&self) -> Arc<TemplateGenerator> {
        self.points.templates[0].1.current()
    }
}

const TEMPLATES: &str = "threepid:\n  medium:\n    email:\n      generators:\n        template:\n          \
     session:\n            validation: '{dir}/validate.eml'\n";

const BUDGET_ONE: &str = "ratelimit:\n  msisdn:\n    hourlyBudget: 1\n";

#[tokio::test]
async fn a_new_limit_applies_from_the_reload_on() {
    let mut fixture = fixture(BUDGET_ONE);
    let limiter = fixture.points.limiter.clone();
    assert!(limiter.check(&LimitKey::SmsBudget, 1).is_ok());
    assert!(limiter.check(&LimitKey::SmsBudget, 1).is_err());

    fixture.rewrite("ratelimit:\n  msisdn:\n    hourlyBudget: 3\n");
    let reloaded = fixture.reloader.reload().unwrap();

    assert_eq!(reloaded.applied, ["ratelimit.msisdn.hourlyBudget"]);
    assert_eq!(reloaded.need_restart, Vec::<String>::new());
    for _ in 0..3 {
        assert!(limiter.check(&LimitKey::SmsBudget, 1).is_ok());
    }
    assert!(limiter.check(&LimitKey::SmsBudget, 1).is_err());
}

#[tokio::test]
async fn an_unchanged_file_replaces_nothing_and_keeps_the_counts() {
    let mut fixture = fixture(BUDGET_ONE);
    let limiter = fixture.points.limiter.clone();
    assert!(limiter.check(&LimitKey::SmsBudget, 1).is_ok());

    let reloaded = fixture.reloader.reload().unwrap();

    assert_eq!(reloaded, Reloaded::default());
    assert!(limiter.check(&LimitKey::SmsBudget, 1).is_err());
}

#[tokio::test]
async fn a_template_file_changed_in_place_is_read_again() {
    let mut fixture = fixture(TEMPLATES);
    let before = fixture.generator();

    write(fixture.dir.path(), "validate.eml", &template("Second"));
    let reloaded = fixture.reloader.reload().unwrap();

    assert_eq!(
        reloaded.applied,
        ["threepid.medium.email.generators.template (files)"]
    );
    assert_ne!(*fixture.generator(), *before);
    // Read again without a change: nothing more to apply.
    assert_eq!(fixture.reloader.reload().unwrap(), Reloaded::default());
}

#[tokio::test]
async fn an_invalid_file_or_a_broken_template_changes_nothing() {
    let mut fixture = fixture(&format!("{TEMPLATES}{BUDGET_ONE}"));
    let limiter = fixture.points.limiter.clone();
    let before = fixture.generator();
    assert!(limiter.check(&LimitKey::SmsBudget, 1).is_ok());

    // Not a valid configuration: a limit of nothing.
    fixture.rewrite(&format!(
        "{TEMPLATES}ratelimit:\n  msisdn:\n    hourlyBudget: many\n"
    ));
    let error = fixture.reloader.reload().unwrap_err();
    assert!(format!("{error:#}").contains("hourlyBudget"), "{error:#}");

    // A valid file naming a template that cannot be read: the new limit is not applied either.
    fixture.rewrite(&format!(
        "{}ratelimit:\n  msisdn:\n    hourlyBudget: 5\n",
        TEMPLATES.replace("validate.eml", "missing.eml")
    ));
    let error = fixture.reloader.reload().unwrap_err();
    assert!(format!("{error:#}").contains("missing.eml"), "{error:#}");

    assert!(limiter.check(&LimitKey::SmsBudget, 1).is_err());
    assert_eq!(*fixture.generator(), *before);
}

#[tokio::test]
async fn changed_keys_that_need_a_restart_are_named_and_not_applied() {
    let mut fixture = fixture("");
    fixture.rewrite("server:\n  port: 9999\nlogging:\n  app: debug\n  format: json\n");

    let reloaded = fixture.reloader.reload().unwrap();

    assert_eq!(reloaded.applied, ["logging.app"]);
    assert_eq!(reloaded.need_restart, ["logging.format", "server.port"]);
    // Still not running on them: named again by the next reload.
    let again = fixture.reloader.reload().unwrap();
    assert_eq!(again.need_restart, ["logging.format", "server.port"]);
    assert_eq!(again.applied, Vec::<String>::new());
}

#[tokio::test]
async fn a_page_file_changed_in_place_is_served_after_the_reload() {
    let mut fixture =
        fixture("view:\n  session:\n    onTokenSubmit:\n      failure: '{dir}/failure.html'\n");
    let first = fixture.points.views.current();
    assert!(first.token_failure.is_some());

    write(fixture.dir.path(), "failure.html", "second");
    let reloaded = fixture.reloader.reload().unwrap();

    assert_eq!(reloaded.applied, ["view (files)"]);
    assert_ne!(fixture.points.views.current(), first);
}
