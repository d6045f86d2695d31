use std::path::{Path, PathBuf};

use pretty_assertions::assert_eq;
use tempfile::TempDir;
use verity_adapter_http::{PageSyntax, Views};

use crate::config::tests::parsed;
use crate::config::{ConfigWarning, effective_yaml, parse};

/// A directory of page files, each holding its own name.
struct Pages(TempDir);

impl Pages {
    fn new(names: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for name in names {
            std::fs::write(dir.path().join(name), format!("<p>{name}</p>")).unwrap();
        }
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn yaml(&self, template: &str) -> String {
        let dir = self.0.path().display().to_string();
        format!(
            "matrix: {{domain: example.org}}\n{}",
            template.replace("DIR", &dir)
        )
    }
}

/// The file each configured page was read from, and its syntax.
fn sources(views: &Views) -> Vec<(&'static str, PathBuf, PageSyntax)> {
    [
        ("token_success", &views.token_success),
        ("token_failure", &views.token_failure),
        ("offer_success", &views.offer_success),
        ("request_success", &views.request_success),
        ("request_failure", &views.request_failure),
        ("check_success", &views.check_success),
        ("check_failure", &views.check_failure),
    ]
    .into_iter()
    .filter_map(|(name, page)| {
        page.as_ref()
            .map(|p| (name, p.source().to_owned(), p.syntax()))
    })
    .collect()
}

#[test]
fn without_a_view_section_every_page_is_built_in() {
    let views = parsed("matrix: {domain: example.org}").settings.views;
    assert_eq!(
        views,
        Views {
            domain: "example.org".into(),
            ..Views::default()
        }
    );
}

#[test]
fn every_mxisd_and_ma1sd_page_key_is_read_and_its_file_loaded() {
    let names = [
        "ok.html",
        "ko.html",
        "offer.html",
        "rs.html",
        "rf.html",
        "cs.html",
        "cf.html",
    ];
    let pages = Pages::new(&names);
    let loaded = parsed(&pages.yaml(
        "view:
  session:
    onTokenSubmit: {success: DIR/ok.html, failure: DIR/ko.html}
    localRemote: {onTokenSubmit: {success: DIR/offer.html}}
    remote:
      onRequest: {success: DIR/rs.html, failure: DIR/rf.html}
      onCheck: {success: DIR/cs.html, failure: DIR/cf.html}
",
    ));
    assert_eq!(loaded.warnings, []);
    let fields = [
        "token_success",
        "token_failure",
        "offer_success",
        "request_success",
        "request_failure",
        "check_success",
        "check_failure",
    ];
    let expected: Vec<_> = fields
        .iter()
        .zip(names)
        .map(|(field, name)| (*field, pages.path(name), PageSyntax::Mxisd))
        .collect();
    assert_eq!(sources(&loaded.settings.views), expected);
}

#[test]
fn the_legacy_local_keys_are_used_when_the_current_ones_are_unset_and_warned_about_otherwise() {
    let pages = Pages::new(&["old-ok.html", "old-ko.html", "new-ok.html"]);
    let loaded = parsed(&pages.yaml(
        "view:
  session:
    onTokenSubmit: {success: DIR/new-ok.html}
    local: {onTokenSubmit: {success: DIR/old-ok.html, failure: DIR/old-ko.html}}
",
    ));
    let views = &loaded.settings.views;
    assert_eq!(
        sources(views),
        [
            (
                "token_success",
                pages.path("new-ok.html"),
                PageSyntax::Mxisd
            ),
            (
                "token_failure",
                pages.path("old-ko.html"),
                PageSyntax::Mxisd
            ),
        ]
    );
    let unused: Vec<&str> = loaded.warnings.iter().map(ConfigWarning::path).collect();
    assert_eq!(unused, ["view.session.local.onTokenSubmit.success"]);
}

#[test]
fn sydents_page_serves_both_outcomes_with_its_syntax_unless_an_mxisd_key_is_set() {
    let pages = Pages::new(&["verify_response_template.html", "ko.html"]);
    for (key, extra) in [
        ("verify_response_template", ""),
        (
            "verifyResponseTemplate",
            "  session: {onTokenSubmit: {failure: DIR/ko.html}}\n",
        ),
    ] {
        let loaded = parsed(&pages.yaml(&format!(
            "view:\n  {key}: DIR/verify_response_template.html\n{extra}"
        )));
        assert_eq!(loaded.warnings, [], "{key}");
        let sydent = pages.path("verify_response_template.html");
        let failure = if extra.is_empty() {
            (sydent.clone(), PageSyntax::Sydent)
        } else {
            (pages.path("ko.html"), PageSyntax::Mxisd)
        };
        assert_eq!(
            sources(&loaded.settings.views),
            [
                ("token_success", sydent, PageSyntax::Sydent),
                ("token_failure", failure.0, failure.1),
            ],
            "{key}"
        );
    }
}

#[test]
fn a_missing_page_file_refuses_to_start_naming_the_key_and_the_path() {
    let pages = Pages::new(&[]);
    for (yaml, key) in [
        (
            "view: {session: {onTokenSubmit: {success: DIR/nope.html}}}",
            "view.session.onTokenSubmit.success",
        ),
        (
            "view: {session: {remote: {onCheck: {failure: DIR/nope.html}}}}",
            "view.session.remote.onCheck.failure",
        ),
        (
            "view: {verify_response_template: DIR/nope.html}",
            "view.verify_response_template",
        ),
    ] {
        let Err(error) = parse(&pages.yaml(yaml)) else {
            panic!("a missing page was accepted: {yaml}");
        };
        let message = error.to_string();
        assert_eq!(error.key(), Some(key), "{message}");
        let path = pages.path("nope.html").display().to_string();
        assert!(
            message.contains(&path) && message.contains("No such file"),
            "{message}"
        );
    }
}

#[test]
fn a_page_that_is_not_utf8_or_too_large_is_refused() {
    let pages = Pages::new(&[]);
    std::fs::write(pages.path("latin1.html"), b"caf\xe9").unwrap();
    std::fs::write(pages.path("big.html"), vec![b'a'; 1024 * 1024 + 1]).unwrap();
    for name in ["latin1.html", "big.html"] {
        let yaml = format!("view: {{session: {{onTokenSubmit: {{failure: DIR/{name}}}}}}}");
        let Err(error) = parse(&pages.yaml(&yaml)) else {
            panic!("{name} was accepted");
        };
        assert_eq!(error.key(), Some("view.session.onTokenSubmit.failure"));
    }
}

#[test]
fn mxisds_own_classpath_pages_mean_the_built_in_page_and_other_classpath_names_are_refused() {
    let loaded = parsed(
        "matrix: {domain: example.org}
view:
  session:
    onTokenSubmit:
      success: 'classpath:/templates/session/tokenSubmitSuccess.html'
      failure: 'classpath:templates/session/tokenSubmitFailure.html'
",
    );
    assert_eq!(sources(&loaded.settings.views), []);
    let Err(error) = parse(
        "matrix: {domain: example.org}\nview: {session: {onTokenSubmit: {success: \
         'classpath:/threepids/email/validate-template.eml'}}}",
    ) else {
        panic!("a mail template was accepted as a page");
    };
    assert_eq!(error.key(), Some("view.session.onTokenSubmit.success"));
}

#[test]
fn the_view_section_is_no_longer_reported_as_unused_and_local_remote_failure_is_ignored() {
    let pages = Pages::new(&["ok.html"]);
    let loaded = parsed(&pages.yaml(
        "view:
  session:
    localRemote: {onTokenSubmit: {success: DIR/ok.html, failure: DIR/whatever.html}}
",
    ));
    let warnings: Vec<(&str, bool)> = loaded
        .warnings
        .iter()
        .map(|w| (w.path(), matches!(w, ConfigWarning::Ignored { .. })))
        .collect();
    assert_eq!(
        warnings,
        [("view.session.localRemote.onTokenSubmit.failure", true)]
    );
}

#[test]
fn the_dump_names_the_files_and_parses_back_to_the_same_pages() {
    let pages = Pages::new(&["ok.html", "sydent.html", "cf.html"]);
    for section in [
        "",
        "view: {session: {onTokenSubmit: {success: DIR/ok.html}, remote: {onCheck: {failure: DIR/cf.html}}}}",
        "view: {verify_response_template: DIR/sydent.html, session: {onTokenSubmit: {success: DIR/ok.html}}}",
        "view: {verify_response_template: DIR/sydent.html, session: {onTokenSubmit: {failure: \
         'classpath:/templates/session/tokenSubmitFailure.html'}}}",
    ] {
        let settings = parsed(&pages.yaml(section)).settings;
        let yaml = effective_yaml(&settings);
        assert!(yaml.contains("view:"), "{yaml}");
        let again = parse(&yaml).unwrap().settings;
        assert_eq!(again.views, settings.views, "{section}\n{yaml}");
    }
    let settings =
        parsed(&pages.yaml("view: {session: {onTokenSubmit: {success: DIR/ok.html}}}")).settings;
    let shown = pages.path("ok.html").display().to_string();
    assert!(effective_yaml(&settings).contains(&shown));
    assert!(Path::new(&shown).is_absolute());
}
