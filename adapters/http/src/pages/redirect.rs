//! `next_link` redirects only to places the operator listed (no open redirect).
use url::Url;

/// Whether `link` falls under one of the `allowed` URL prefixes: same scheme, host and port,
/// and a path under the prefix's path (`https://app.example.org/` allows every path there;
/// `https://example.org/welcome/` only that directory).
pub(crate) fn redirect_allowed(link: &str, allowed: &[String]) -> bool {
    let Ok(link) = Url::parse(link) else {
        return false;
    };
    if !matches!(link.scheme(), "http" | "https") || link.cannot_be_a_base() {
        return false;
    }
    allowed
        .iter()
        .filter_map(|prefix| Url::parse(prefix).ok())
        .any(|prefix| {
            prefix.scheme() == link.scheme()
                && prefix.host_str().is_some()
                && prefix.host_str() == link.host_str()
                && prefix.port_or_known_default() == link.port_or_known_default()
                && link.username().is_empty()
                && link.password().is_none()
                && path_under(link.path(), prefix.path())
        })
}

fn path_under(path: &str, prefix: &str) -> bool {
    prefix == "/"
        || path == prefix
        || path.starts_with(&format!("{}/", prefix.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec![
            "https://app.element.io/".into(),
            "https://example.org/welcome".into(),
        ]
    }

    #[test]
    fn links_under_an_allowed_prefix_are_allowed() {
        for link in [
            "https://app.element.io/",
            "https://app.element.io/#/room/x",
            "https://example.org/welcome",
            "https://example.org/welcome/step2?x=1",
        ] {
            assert!(redirect_allowed(link, &allowed()), "{link}");
        }
    }

    #[test]
    fn look_alike_and_foreign_links_are_refused() {
        for link in [
            "https://app.element.io.evil.example/",
            "https://evil.example/https://app.element.io/",
            "http://app.element.io/",
            "https://app.element.io:8443/",
            "https://example.org/welcomeX",
            "https://example.org/",
            "https://user@app.element.io/",
            "javascript:alert(1)",
            "//app.element.io/",
            "not a url",
        ] {
            assert!(!redirect_allowed(link, &allowed()), "{link}");
        }
    }

    #[test]
    fn nothing_is_allowed_without_a_list() {
        assert!(!redirect_allowed("https://app.element.io/", &[]));
    }
}
