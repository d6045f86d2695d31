//! `view.*` (mxisd/ma1sd) and Sydent's `verify_response_template`: the operator's own HTML pages
//! for the validation link and the remote step, read at start-up. See docs/views.md.
use std::path::Path;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use verity_adapter_http::{CustomPage, PageSyntax, Views};

use super::error::{ConfigError, ConfigWarning};
use super::lenient::{Text, text};

/// Largest page file accepted, as for the mail templates.
const MAX_PAGE_BYTES: u64 = 1024 * 1024;
/// Sydent's key, under `view`.
const SYDENT_KEY: &str = "view.verify_response_template";

/// `view`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawView {
    pub session: Option<RawViewSession>,
    /// Verity only: Sydent's `http.verify_response_template` (one page for both outcomes of
    /// the link, `%(message)s` placeholder).
    #[serde(rename = "verify_response_template", alias = "verifyResponseTemplate")]
    pub verify_response_template: Option<Text>,
}

/// `view.session`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawViewSession {
    /// mxisd 1.3+, ma1sd.
    pub on_token_submit: Option<RawPaths>,
    /// mxisd up to 1.2 (ma1sd's "legacy option").
    pub local: Option<RawLocal>,
    /// mxisd 1.2: the link page when the remote step is offered.
    pub local_remote: Option<RawLocalRemote>,
    /// mxisd 1.2: the remote step.
    pub remote: Option<RawRemoteViews>,
}

/// `view.session.local`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawLocal {
    pub on_token_submit: Option<RawPaths>,
}

/// `view.session.localRemote`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawLocalRemote {
    pub on_token_submit: Option<RawSuccessOnly>,
}

/// `view.session.localRemote.onTokenSubmit`: a failed link does not say which kind of session
/// it was, so `failure` is ignored with a warning (`keys::IGNORED_KEYS`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawSuccessOnly {
    pub success: Option<Text>,
    pub failure: Option<IgnoredAny>,
}

/// `view.session.remote`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawRemoteViews {
    pub on_request: Option<RawPaths>,
    pub on_check: Option<RawPaths>,
}

/// `success` and `failure`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawPaths {
    pub success: Option<Text>,
    pub failure: Option<Text>,
}

/// The keys of one page, first found wins, with the syntax their files use.
struct Candidates<'a>(Vec<(&'static str, Option<&'a Text>, PageSyntax)>);

impl Candidates<'_> {
    fn load(self) -> Result<Option<CustomPage>, ConfigError> {
        for (key, value, syntax) in self.0 {
            if let Some(value) = text(value.cloned()) {
                return load(key, &value, syntax);
            }
        }
        Ok(None)
    }
}

fn success(paths: Option<&RawPaths>) -> Option<&Text> {
    paths.and_then(|p| p.success.as_ref())
}

fn failure(paths: Option<&RawPaths>) -> Option<&Text> {
    paths.and_then(|p| p.failure.as_ref())
}

/// `view.*` as the HTTP adapter serves it: every configured page read now, so a missing file
/// stops start-up (and `--check-config`) with the key and the path.
pub fn resolve(raw: &RawView, domain: &str) -> Result<Views, ConfigError> {
    use PageSyntax::{Mxisd, Sydent};
    let session = raw.session.as_ref();
    let current = session.and_then(|s| s.on_token_submit.as_ref());
    let legacy = session
        .and_then(|s| s.local.as_ref())
        .and_then(|l| l.on_token_submit.as_ref());
    let offer = session
        .and_then(|s| s.local_remote.as_ref())
        .and_then(|l| l.on_token_submit.as_ref())
        .and_then(|p| p.success.as_ref());
    let remote = session.and_then(|s| s.remote.as_ref());
    let on_request = remote.and_then(|r| r.on_request.as_ref());
    let on_check = remote.and_then(|r| r.on_check.as_ref());
    let sydent = raw.verify_response_template.as_ref();
    let one = |key, value| Candidates(vec![(key, value, Mxisd)]).load();
    Ok(Views {
        domain: domain.to_owned(),
        token_success: Candidates(vec![
            (
                "view.session.onTokenSubmit.success",
                success(current),
                Mxisd,
            ),
            (
                "view.session.local.onTokenSubmit.success",
                success(legacy),
                Mxisd,
            ),
            (SYDENT_KEY, sydent, Sydent),
        ])
        .load()?,
        token_failure: Candidates(vec![
            (
                "view.session.onTokenSubmit.failure",
                failure(current),
                Mxisd,
            ),
            (
                "view.session.local.onTokenSubmit.failure",
                failure(legacy),
                Mxisd,
            ),
            (SYDENT_KEY, sydent, Sydent),
        ])
        .load()?,
        offer_success: one("view.session.localRemote.onTokenSubmit.success", offer)?,
        request_success: one("view.session.remote.onRequest.success", success(on_request))?,
        request_failure: one("view.session.remote.onRequest.failure", failure(on_request))?,
        check_success: one("view.session.remote.onCheck.success", success(on_check))?,
        check_failure: one("view.session.remote.onCheck.failure", failure(on_check))?,
    })
}

/// The page at `value`; `None` for mxisd's own built-in pages (`classpath:`), which mean
/// Verity's built-in page.
fn load(key: &str, value: &str, syntax: PageSyntax) -> Result<Option<CustomPage>, ConfigError> {
    if let Some(name) = value.strip_prefix("classpath:") {
        let name = name.trim_start_matches('/');
        if name.starts_with("templates/session/") && name.ends_with(".html") {
            return Ok(None);
        }
        return Err(ConfigError::invalid(
            key,
            format!(
                "`{value}` is not one of mxisd's built-in pages \
                 (`classpath:/templates/session/...html`, which mean Verity's own page): give the \
                 path of an HTML file"
            ),
        ));
    }
    let path = Path::new(value);
    let cannot = |why: String| {
        ConfigError::invalid(
            key,
            format!("cannot read the page {}: {why}", path.display()),
        )
    };
    let size = std::fs::metadata(path)
        .map_err(|e| cannot(e.to_string()))?
        .len();
    if size > MAX_PAGE_BYTES {
        return Err(cannot(format!(
            "the file has {size} bytes, more than the {MAX_PAGE_BYTES} allowed"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| cannot(e.to_string()))?;
    Ok(Some(CustomPage::new(path, text, syntax)))
}

/// Keys that are set but lose to another one.
pub fn warnings(raw: &RawView) -> Vec<ConfigWarning> {
    let Some(session) = raw.session.as_ref() else {
        return sydent_unused(raw, false, false);
    };
    let set = |value: Option<&Text>| text(value.cloned()).is_some();
    let current = session.on_token_submit.as_ref();
    let legacy = session
        .local
        .as_ref()
        .and_then(|l| l.on_token_submit.as_ref());
    let mut warnings = Vec::new();
    for (outcome, now, old) in [
        ("success", set(success(current)), set(success(legacy))),
        ("failure", set(failure(current)), set(failure(legacy))),
    ] {
        if now && old {
            warnings.push(ConfigWarning::Unused {
                path: format!("view.session.local.onTokenSubmit.{outcome}"),
                reason: format!(
                    "`view.session.onTokenSubmit.{outcome}` is set and is used instead, as in \
                     ma1sd"
                ),
            });
        }
    }
    let success_set = set(success(current)) || set(success(legacy));
    let failure_set = set(failure(current)) || set(failure(legacy));
    warnings.extend(sydent_unused(raw, success_set, failure_set));
    warnings
}

fn sydent_unused(raw: &RawView, success_set: bool, failure_set: bool) -> Vec<ConfigWarning> {
    let sydent = text(raw.verify_response_template.clone()).is_some();
    (sydent && success_set && failure_set)
        .then(|| ConfigWarning::Unused {
            path: SYDENT_KEY.to_owned(),
            reason: "`view.session.onTokenSubmit.success` and `.failure` are both set and are \
                     used instead"
                .to_owned(),
        })
        .into_iter()
        .collect()
}

/// `view` as `--dump-config` shows it: the files read, `null` for a built-in page.
#[derive(Serialize)]
pub struct ViewDump {
    session: SessionDump,
    #[serde(
        rename = "verify_response_template",
        skip_serializing_if = "Option::is_none"
    )]
    sydent: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionDump {
    on_token_submit: PathsDump,
    local_remote: LocalRemoteDump,
    remote: RemoteDump,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LocalRemoteDump {
    on_token_submit: SuccessDump,
}

#[derive(Serialize)]
struct SuccessDump {
    success: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RemoteDump {
    on_request: PathsDump,
    on_check: PathsDump,
}

#[derive(Serialize)]
struct PathsDump {
    success: Option<String>,
    failure: Option<String>,
}

/// The dump of `views` (parses back to the same pages).
pub fn dump(views: &Views) -> ViewDump {
    let path = |page: &Option<CustomPage>| {
        page.as_ref()
            .map(|page| page.source().display().to_string())
    };
    // Sydent's page is written under its own key, so that it parses back with Sydent's syntax.
    let mxisd = |page: &Option<CustomPage>| {
        path(page).filter(|_| {
            page.as_ref()
                .is_some_and(|p| p.syntax() == PageSyntax::Mxisd)
        })
    };
    let sydent = [&views.token_success, &views.token_failure]
        .into_iter()
        .flatten()
        .find(|page| page.syntax() == PageSyntax::Sydent)
        .map(|page| page.source().display().to_string());
    // A built-in page chosen over Sydent's must say so, or Sydent's would be read back for it.
    let or_builtin = |page: &Option<CustomPage>, builtin: &str| match (page, &sydent) {
        (None, Some(_)) => Some(builtin.to_owned()),
        _ => mxisd(page),
    };
    ViewDump {
        session: SessionDump {
            on_token_submit: PathsDump {
                success: or_builtin(
                    &views.token_success,
                    "classpath:/templates/session/tokenSubmitSuccess.html",
                ),
                failure: or_builtin(
                    &views.token_failure,
                    "classpath:/templates/session/tokenSubmitFailure.html",
                ),
            },
            local_remote: LocalRemoteDump {
                on_token_submit: SuccessDump {
                    success: path(&views.offer_success),
                },
            },
            remote: RemoteDump {
                on_request: PathsDump {
                    success: path(&views.request_success),
                    failure: path(&views.request_failure),
                },
                on_check: PathsDump {
                    success: path(&views.check_success),
                    failure: path(&views.check_failure),
                },
            },
        },
        sydent,
    }
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
