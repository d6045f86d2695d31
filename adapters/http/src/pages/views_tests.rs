use pretty_assertions::assert_eq;

use super::*;

fn values() -> PageValues<'static> {
    PageValues {
        domain: "example.org",
        message: "Tea & <Cake>".to_owned(),
        threepid: Some(("email", "o'hara@example.org")),
        remote_session_link: Some("/remote?sid=a&client_secret=b".to_owned()),
        check_link: None,
        remote_server: Some("matrix.org"),
    }
}

fn render(text: &str, syntax: PageSyntax) -> String {
    CustomPage::new("/etc/page.html", text, syntax).render(&values())
}

#[test]
fn every_known_placeholder_is_replaced_by_its_html_escaped_value() {
    assert_eq!(
        render(
            "<h1>%DOMAIN_PRETTY%</h1><p>%MESSAGE%</p><p>%RECIPIENT_MEDIUM% %RECIPIENT_ADDRESS% on \
             %DOMAIN% via %REMOTE_SERVER%</p><a href=\"%REMOTE_SESSION_LINK%\">go</a>",
            PageSyntax::Mxisd
        ),
        "<h1>Example.org</h1><p>Tea &amp; &lt;Cake&gt;</p><p>email o&#39;hara@example.org on \
         example.org via matrix.org</p><a href=\"/remote?sid=a&amp;client_secret=b\">go</a>"
    );
}

#[test]
fn mxisd_dollar_placeholders_and_sydent_message_are_replaced_too() {
    assert_eq!(
        render(
            "<a href=\"${remoteSessionLink}\">x</a> %(message)s",
            PageSyntax::Mxisd
        ),
        "<a href=\"/remote?sid=a&amp;client_secret=b\">x</a> Tea &amp; &lt;Cake&gt;"
    );
}

#[test]
fn placeholders_unknown_on_a_page_lone_signs_and_double_percents_are_kept_as_written() {
    let text =
        "width: 100%%; %CHECK_LINK% ${checkLink} ${other} %NOPE% 50 % $5 %UNKNOWN%DOMAIN% ${";
    assert_eq!(
        render(text, PageSyntax::Mxisd),
        "width: 100%%; %CHECK_LINK% ${checkLink} ${other} %NOPE% 50 % $5 %UNKNOWNexample.org ${"
    );
}

#[test]
fn a_sydent_page_reads_double_percents_as_one_as_python_formatting_does() {
    assert_eq!(
        render(
            "<div style=\"width:100%%\">%(message)s</div>",
            PageSyntax::Sydent
        ),
        "<div style=\"width:100%\">Tea &amp; &lt;Cake&gt;</div>"
    );
}

#[test]
fn a_value_containing_a_placeholder_is_not_expanded_again() {
    let page = CustomPage::new("p.html", "%MESSAGE%", PageSyntax::Mxisd);
    let values = PageValues {
        domain: "example.org",
        message: "%DOMAIN% ${remoteSessionLink}".to_owned(),
        ..PageValues::default()
    };
    assert_eq!(page.render(&values), "%DOMAIN% ${remoteSessionLink}");
}

#[test]
fn the_page_keeps_its_source_and_syntax_for_the_configuration_dump() {
    let page = CustomPage::new("/srv/ok.html", "x", PageSyntax::Sydent);
    assert_eq!(page.source(), Path::new("/srv/ok.html"));
    assert_eq!(page.syntax(), PageSyntax::Sydent);
}
