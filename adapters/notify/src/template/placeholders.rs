//! `%NAME%` placeholders: the values of one message and the single-pass substitution.
//!
//! mxisd replaced each placeholder with a plain string replacement, one after the other and with no
//! escaping, so a value could inject HTML, add a header through the subject, or contain another
//! placeholder that a later replacement expanded (CVE-2021-29432 is the same class of bug in
//! Sydent). Here the template is scanned once, left to right: a placeholder's value is copied
//! out already escaped for the place it lands in, and the scan never looks at it again.

use std::borrow::Cow;
use std::collections::BTreeMap;

/// Longest value, in characters, that one placeholder may put into a subject line.
pub(crate) const MAX_SUBJECT_VALUE_CHARS: usize = 100;
/// Longest rendered subject, in characters.
pub(crate) const MAX_SUBJECT_CHARS: usize = 250;

/// Where a template's text ends up, which decides how a value is escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    /// The `Subject:` header: one line, so control characters (CR, LF, tab...) become spaces, and
    /// each value is capped at [`MAX_SUBJECT_VALUE_CHARS`].
    Subject,
    /// A text/plain part or an SMS: copied as is. The connector encodes the body, so a line
    /// break in a value cannot end the part or add a header.
    Text,
    /// A text/html part: `&`, `<`, `>`, `"` and `'` become entities, which is safe both between
    /// tags and inside a quoted attribute such as `href="%VALIDATION_LINK%"`.
    Html,
}

/// The placeholder values of one message, by name (without the `%`).
///
/// Events share the common set built by the generator; each event adds its own (validation adds
/// `VALIDATION_LINK`, `VALIDATION_TOKEN`, `NEXT_URL`; room invites will add `SENDER_NAME_OR_ID`,
/// `ROOM_NAME_OR_ID`...). Values are raw: escaping happens on substitution.
#[derive(Clone, Default)]
pub(crate) struct Values(BTreeMap<&'static str, String>);

impl Values {
    /// Sets (or replaces) a placeholder's value.
    pub(crate) fn set(&mut self, name: &'static str, value: impl Into<String>) -> &mut Self {
        self.0.insert(name, value.into());
        self
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// Replaces every known `%NAME%` in `template` with its value escaped for `context`.
///
/// A name is one or more of `A-Z`, `0-9` and `_`. Unknown names, lone `%` signs and `%%` are kept
/// as written, as in mxisd (whose templates contain CSS such as `width: 100%%`).
pub(crate) fn substitute(template: &str, values: &Values, context: Context) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let name_len = after
            .bytes()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            .count();
        let closed = after.as_bytes().get(name_len) == Some(&b'%');
        match values.get(&after[..name_len]) {
            Some(value) if name_len > 0 && closed => {
                out.push_str(&escape(value, context));
                rest = &after[name_len + 1..];
            }
            _ => {
                // Not a known placeholder: keep the `%` and rescan from the next character, so
                // `%UNKNOWN%DOMAIN%` still expands `%DOMAIN%` as mxisd did.
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    if context == Context::Subject {
        one_line(&out, MAX_SUBJECT_CHARS).into_owned()
    } else {
        out
    }
}

/// `value` made safe for `context`.
pub(crate) fn escape(value: &str, context: Context) -> Cow<'_, str> {
    match context {
        Context::Text => Cow::Borrowed(value),
        Context::Subject => one_line(value, MAX_SUBJECT_VALUE_CHARS),
        Context::Html => html_escape(value),
    }
}

/// HTML-escapes the five characters that matter in text and in quoted attribute values.
pub(crate) fn html_escape(value: &str) -> Cow<'_, str> {
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

/// `value` on one line: every control or line-separating character becomes a space and the
/// result is cut to `max_chars` (ending with `…` when cut).
pub(crate) fn one_line(value: &str, max_chars: usize) -> Cow<'_, str> {
    let breaks = |c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}';
    let count = value.chars().count();
    if count <= max_chars && !value.contains(breaks) {
        return Cow::Borrowed(value);
    }
    let mut out: String = value
        .chars()
        .map(|c| if breaks(c) { ' ' } else { c })
        .take(max_chars)
        .collect();
    if count > max_chars {
        out.pop();
        out.push('…');
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn values() -> Values {
        let mut values = Values::default();
        values
            .set("DOMAIN", "example.org")
            .set("EVIL", "<a href=\"x\">&'</a>");
        values
    }

    #[test]
    fn unknown_names_lone_percent_signs_and_double_percents_are_kept() {
        let out = substitute(
            "100%% of %NOPE% at 50% for %DOMAIN% %lower% %",
            &values(),
            Context::Text,
        );
        assert_eq!(out, "100%% of %NOPE% at 50% for example.org %lower% %");
    }

    #[test]
    fn an_unknown_name_does_not_hide_a_known_one_that_shares_its_closing_percent() {
        let out = substitute("%NOPE%DOMAIN%", &values(), Context::Text);
        assert_eq!(out, "%NOPEexample.org");
    }

    #[test]
    fn html_context_escapes_all_five_characters() {
        let out = substitute("<p>%EVIL%</p>", &values(), Context::Html);
        assert_eq!(
            out,
            "<p>&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;</p>"
        );
    }

    #[test]
    fn subject_values_lose_line_breaks_and_are_capped() {
        let mut v = Values::default();
        v.set(
            "X",
            format!("a\r\nBcc: eve@evil.example{}", "y".repeat(500)),
        );
        let out = substitute("Hi %X%", &v, Context::Subject);
        assert!(!out.contains(['\r', '\n']));
        assert_eq!(out.chars().count(), 3 + MAX_SUBJECT_VALUE_CHARS);
        assert!(out.ends_with('…'));
    }
}
