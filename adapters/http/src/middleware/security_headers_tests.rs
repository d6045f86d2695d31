//! The security headers on pages, operator pages, JSON answers and errors.
use std::sync::Arc;

use base64::Engine as _;
use poem::test::TestResponse;
use sha2::{Digest, Sha256};
use verity_application::ports::driving::{MockValidation, TokenAccepted};
use verity_domain::{EmailAddress, SessionMode, ThreePid};

use super::*;
use crate::pages::STYLE;
use crate::test_support::{client, mocked_deps};
use crate::{CustomPage, HttpDeps, PageSyntax, Views};

const LINK: &str = "/_matrix/identity/v2/validate/email/submitToken?sid=s&client_secret=c&token=t";

fn accepting() -> MockValidation {
    let mut validation = MockValidation::new();
    validation.expect_submit_token().returning(|_| {
        Ok(TokenAccepted {
            threepid: ThreePid::Email(EmailAddress::parse("alice@example.org").unwrap()),
            mode: SessionMode::Local,
            next_link: None,
            remote_code_from: None,
        })
    });
    validation
}

fn header<'a>(resp: &'a TestResponse, name: &str) -> &'a str {
    resp.0
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

fn assert_common(resp: &TestResponse) {
    assert_eq!(header(resp, "x-frame-options"), "DENY");
    assert_eq!(header(resp, "x-content-type-options"), "nosniff");
    assert_eq!(header(resp, "referrer-policy"), "no-referrer");
    assert_eq!(header(resp, "cache-control"), "no-store");
}

#[tokio::test]
async fn a_built_in_page_forbids_scripts_framing_sniffing_caching_and_referrers() {
    let deps = HttpDeps {
        validation: Arc::new(accepting()),
        ..mocked_deps()
    };
    let resp = client(&deps, true).get(LINK).send().await;
    resp.assert_status_is_ok();
    assert_common(&resp);
    let csp = header(&resp, "content-security-policy");
    assert_eq!(csp, BUILT_IN_PAGE_CSP);
    assert!(!csp.contains("script-src") && csp.starts_with("default-src 'none'"));
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"));
}

#[tokio::test]
async fn an_operator_page_gets_the_policy_that_lets_its_styles_load_but_no_script() {
    let deps = HttpDeps {
        validation: Arc::new(accepting()),
        views: Arc::new(
            Views {
                token_success: Some(CustomPage::new(
                    "/etc/verity/ok.html",
                    "<style>p{}</style><p>ok</p>",
                    PageSyntax::Mxisd,
                )),
                ..Views::default()
            }
            .into(),
        ),
        ..mocked_deps()
    };
    let resp = client(&deps, true).get(LINK).send().await;
    resp.assert_status_is_ok();
    assert_common(&resp);
    let csp = header(&resp, "content-security-policy");
    assert_eq!(csp, OPERATOR_PAGE_CSP);
    assert!(csp.contains("script-src 'none'") && csp.contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn json_answers_and_errors_are_neither_cached_sniffed_nor_framed() {
    let app = client(&mocked_deps(), true);
    for resp in [
        app.get("/_matrix/identity/v2/no/such/path").send().await,
        app.post("/_matrix/identity/v2/validate/email/requestToken")
            .body("{")
            .content_type("application/json")
            .send()
            .await,
        app.options("/_matrix/identity/v2/lookup").send().await,
    ] {
        assert_common(&resp);
        assert_eq!(header(&resp, "content-security-policy"), API_CSP);
    }
}

#[test]
fn the_policy_names_the_hash_of_the_built_in_style() {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    assert!(
        BUILT_IN_PAGE_CSP.contains(&format!("style-src 'sha256-{hash}'")),
        "{hash}"
    );
}
