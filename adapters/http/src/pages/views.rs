//! The operator's own pages: mxisd/ma1sd's `view.*` HTML files and Sydent's
//! `verify_response_template`, loaded at start-up and served instead of the built-in pages.
//!
//! Placeholders follow the mail templates' rules (one left-to-right pass, a value is copied in
//! and never scanned again, unknown names are kept as written), and every value is HTML-escaped,
//! which is safe both between tags and inside a quoted attribute (`href="%CHECK_LINK%"`).
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// How a page file writes its placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSyntax {
    /// mxisd/ma1sd pages: `%NAME%` as in the mail templates, and mxisd's `${remoteSessionLink}`
    /// and `${checkLink}`. `%%` is kept as written (mxisd served its pages as they were).
    Mxisd,
    /// Sydent's `verify_response_template`: Python `%` formatting, so `%(message)s` is the
    /// message and `%%` is a single `%`. `%NAME%` placeholders work too.
    Sydent,
}

/// One page file, read at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomPage {
    source: PathBuf,
    text: String,
    syntax: PageSyntax,
}

impl CustomPage {
    /// The page `text`, read from `source` (kept to show in `--dump-config`).
    pub fn new(source: impl Into<PathBuf>, text: impl Into<String>, syntax: PageSyntax) -> Self {
        Self {
            source: source.into(),
            text: text.into(),
            syntax,
        }
    }

    /// The file the page was read from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// How its placeholders are written.
    pub fn syntax(&self) -> PageSyntax {
        self.syntax
    }

    /// The page with every placeholder `values` knows replaced by its HTML-escaped value.
    pub(crate) fn render(&self, values: &PageValues<'_>) -> String {
        let mut out = String::with_capacity(self.text.len() + 128);
        let mut rest = self.text.as_str();
        while let Some(at) = rest.find(['%', '$']) {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            match self.placeholder(tail, values) {
                Some((value, len)) => {
                    out.push_str(&html_escape(&value));
                    rest = &tail[len..];
                }
                None => {
                    // Not a placeholder: keep the sign and rescan after it, so
                    // `%UNKNOWN%DOMAIN%` still expands `%DOMAIN%`, as in the mail templates.
                    out.push_str(&tail[..1]);
                    rest = &tail[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The value of the placeholder `tail` starts with, and the placeholder's length.
    fn placeholder<'v>(
        &self,
        tail: &str,
        values: &'v PageValues<'_>,
    ) -> Option<(Cow<'v, str>, usize)> {
        const SYDENT_MESSAGE: &str = "%(message)s";
        if self.syntax == PageSyntax::Sydent && tail.starts_with("%%") {
            return Some((Cow::Borrowed("%"), 2));
        }
        if tail.starts_with(SYDENT_MESSAGE) {
            return Some((Cow::Borrowed(values.message.as_str()), SYDENT_MESSAGE.len()));
        }
        if let Some(body) = tail.strip_prefix("${") {
            let end = body.find('}')?;
            let name = match &body[..end] {
                "remoteSessionLink" => "REMOTE_SESSION_LINK",
                "checkLink" => "CHECK_LINK",
                _ => return None,
            };
            return values.get(name).map(|value| (value, end + 3));
        }
        let body = tail.strip_prefix('%')?;
        let len = body
            .bytes()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            .count();
        if len == 0 || body.as_bytes().get(len) != Some(&b'%') {
            return None;
        }
        values.get(&body[..len]).map(|value| (value, len + 2))
    }
}

/// What one page may show. `None` fields are not known on that page: their placeholders stay
/// as written, as unknown names do in the mail templates.
#[derive(Debug, Default)]
pub(crate) struct PageValues<'a> {
    /// `matrix.domain`.
    pub(crate) domain: &'a str,
    /// What happened and what to do, in Verity's words (Sydent's `%(message)s`).
    pub(crate) message: String,
    /// The 3PID's medium and address.
    pub(crate) threepid: Option<(&'a str, &'a str)>,
    /// The start of the remote step (mxisd's `${remoteSessionLink}`).
    pub(crate) remote_session_link: Option<String>,
    /// The remote step's check (mxisd's `${checkLink}`).
    pub(crate) check_link: Option<String>,
    /// The other identity server, as users know it (its host).
    pub(crate) remote_server: Option<&'a str>,
}

impl PageValues<'_> {
    fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        match name {
            "DOMAIN" => Some(Cow::Borrowed(self.domain)),
            "DOMAIN_PRETTY" => Some(Cow::Owned(pretty(self.domain))),
            "MESSAGE" => Some(Cow::Borrowed(self.message.as_str())),
            "RECIPIENT_MEDIUM" => self.threepid.map(|(medium, _)| Cow::Borrowed(medium)),
            "RECIPIENT_ADDRESS" => self.threepid.map(|(_, address)| Cow::Borrowed(address)),
            "REMOTE_SESSION_LINK" => self.remote_session_link.as_deref().map(Cow::Borrowed),
            "CHECK_LINK" => self.check_link.as_deref().map(Cow::Borrowed),
            "REMOTE_SERVER" => self.remote_server.map(Cow::Borrowed),
            _ => None,
        }
    }
}

/// `example.org` -> `Example.org`, as the mail templates' `%DOMAIN_PRETTY%`.
fn pretty(domain: &str) -> String {
    let mut chars = domain.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// HTML-escapes the five characters that matter in text and in quoted attribute values.
fn html_escape(value: &str) -> Cow<'_, str> {
    if !value.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
#[path = "views_tests.rs"]
mod tests;
