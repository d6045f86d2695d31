//! Reading mxisd-style `.eml` email templates.
//!
//! An mxisd template is a whole RFC 822 message: header lines (`Subject:`, often `MIME-Version`
//! and `Content-Type`, sometimes `From:`/`To:` with placeholders), a blank line, then either one
//! body or MIME parts separated by a boundary the template author chose (mxisd's own templates nest
//! a `multipart/related` HTML part inside `multipart/alternative`). mxisd substituted placeholders
//! in that raw text and sent it, so a value containing the fixed boundary could add parts.
//!
//! Verity instead takes the template apart once, at start-up: it keeps the subject, the first
//! `text/plain` part and the first `text/html` part (decoded from quoted-printable or base64), and
//! drops everything else. Placeholders are substituted in those pieces, and the connector builds
//! a new message around them with its own random boundary. `From:` and `To:` lines are ignored,
//! as mxisd overwrote them too: the sender is `identity.from`/`identity.name` and the recipient is
//! the 3PID.

use base64::Engine as _;

use super::text::{decode_charset, decode_encoded_words, decode_quoted_printable, html_to_text};

/// Nesting depth of multiparts accepted in a template.
const MAX_DEPTH: usize = 8;

/// The pieces of an email template, placeholders still in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EmailTemplate {
    /// The unfolded, decoded `Subject:` header; empty when the template has none.
    pub(crate) subject: String,
    /// The first `text/plain` part, or text made from the HTML part when there is none.
    pub(crate) text: String,
    /// The first `text/html` part.
    pub(crate) html: Option<String>,
}

impl EmailTemplate {
    /// Parses a template.
    ///
    /// # Errors
    /// A human-readable reason when the template has neither a text nor an HTML part, a multipart
    /// without a boundary, or parts nested too deeply.
    pub(crate) fn parse(source: &str) -> Result<Self, String> {
        let source = source.trim_start_matches('\u{feff}').replace("\r\n", "\n");
        let (headers, body) = split_entity(&source);
        let subject = header(&headers, "subject")
            .map(|s| decode_encoded_words(&s))
            .unwrap_or_default();
        let mut found = Found::default();
        collect_parts(&headers, body, 0, &mut found)?;
        let (text, html) = match (found.text, found.html) {
            (Some(text), html) => (text, html),
            (None, Some(html)) => (html_to_text(&html), Some(html)),
            (None, None) => return Err("the template has no text/plain or text/html part".into()),
        };
        Ok(Self {
            subject,
            text,
            html,
        })
    }
}

#[derive(Default)]
struct Found {
    text: Option<String>,
    html: Option<String>,
}

/// One parsed header: lower-cased name and unfolded value.
type Header = (String, String);

/// Splits an entity into its headers and its body. Text that does not start with a header line
/// is all body (a template with no headers at all).
fn split_entity(entity: &str) -> (Vec<Header>, &str) {
    let first_line = entity.lines().next().unwrap_or_default();
    if !looks_like_header(first_line) {
        return (Vec::new(), entity.strip_prefix('\n').unwrap_or(entity));
    }
    let (head, body) = match entity.find("\n\n") {
        Some(at) => (&entity[..at], &entity[at + 2..]),
        None => (entity, ""),
    };
    let mut headers: Vec<Header> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    (headers, body)
}

fn looks_like_header(line: &str) -> bool {
    line.split_once(':').is_some_and(|(name, _)| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

fn header(headers: &[Header], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// A `Content-Type` value: lower-cased `type/subtype` and its parameters (names lower-cased).
struct ContentType {
    mime: String,
    params: Vec<(String, String)>,
}

impl ContentType {
    fn parse(value: Option<&str>) -> Self {
        let value = value.unwrap_or("text/plain");
        let mut pieces = split_params(value).into_iter();
        let mime = pieces
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let params = pieces
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                Some((k.trim().to_ascii_lowercase(), v.to_owned()))
            })
            .collect();
        Self { mime, params }
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits on `;` outside double quotes.
fn split_params(value: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ';' if !quoted => pieces.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    pieces.push(current);
    pieces
}

fn collect_parts(
    headers: &[Header],
    body: &str,
    depth: usize,
    found: &mut Found,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("MIME parts are nested more than {MAX_DEPTH} deep"));
    }
    let content_type = ContentType::parse(header(headers, "content-type").as_deref());
    if content_type.mime.starts_with("multipart/") {
        let boundary = content_type
            .param("boundary")
            .filter(|b| !b.is_empty())
            .ok_or_else(|| format!("the {} part has no boundary", content_type.mime))?;
        for part in split_multipart(body, boundary) {
            let (part_headers, part_body) = split_entity(part.strip_prefix('\n').unwrap_or(&part));
            collect_parts(&part_headers, part_body, depth + 1, found)?;
        }
        return Ok(());
    }
    let attachment = header(headers, "content-disposition")
        .is_some_and(|d| d.to_ascii_lowercase().starts_with("attachment"));
    let slot = match content_type.mime.as_str() {
        _ if attachment => return Ok(()),
        "text/plain" => &mut found.text,
        "text/html" => &mut found.html,
        _ => return Ok(()),
    };
    if slot.is_none() {
        let encoding = header(headers, "content-transfer-encoding")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let charset = content_type.param("charset").unwrap_or("utf-8");
        *slot = Some(decode_body(body, &encoding, charset));
    }
    Ok(())
}

/// The bodies between `--boundary` lines, up to `--boundary--`; the preamble and epilogue are
/// dropped. The line break before a delimiter belongs to the delimiter.
fn split_multipart(body: &str, boundary: &str) -> Vec<String> {
    let open = format!("--{boundary}");
    let close = format!("--{boundary}--");
    let mut parts = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in body.split('\n') {
        let trimmed = line.trim_end();
        if trimmed == close {
            if let Some(lines) = current.take() {
                parts.push(lines.join("\n"));
            }
            break;
        }
        if trimmed == open {
            if let Some(lines) = current.take() {
                parts.push(lines.join("\n"));
            }
            current = Some(Vec::new());
        } else if let Some(lines) = current.as_mut() {
            lines.push(line);
        }
    }
    if let Some(lines) = current {
        parts.push(lines.join("\n"));
    }
    parts
}

fn decode_body(body: &str, encoding: &str, charset: &str) -> String {
    let bytes = match encoding {
        "quoted-printable" => decode_quoted_printable(body),
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            match base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
                Ok(bytes) => bytes,
                Err(_) => return body.to_owned(),
            }
        }
        _ => return body.to_owned(),
    };
    decode_charset(&bytes, charset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn nested_multiparts_with_their_own_boundaries_give_both_parts() {
        let source = "Subject: Hi %DOMAIN%\r\nContent-Type: multipart/alternative;\r\n\tboundary=\"outer\"\r\n\r\n\
                      preamble\r\n--outer\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nplain %VALIDATION_LINK%\r\n\
                      --outer\r\nContent-Type: multipart/related; boundary=inner; type=\"text/html\"\r\n\r\n\
                      --inner\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--inner--\r\n\r\n--outer--\r\nepilogue";
        let template = EmailTemplate::parse(source).unwrap();
        assert_eq!(template.subject, "Hi %DOMAIN%");
        assert_eq!(template.text, "plain %VALIDATION_LINK%");
        assert_eq!(template.html.as_deref(), Some("<p>html</p>"));
    }

    #[test]
    fn quoted_printable_and_base64_parts_are_decoded() {
        let source = "Subject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\
                      Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n\
                      caf=C3=A9 %DOMAIN% long=\n line\n--b\nContent-Type: text/html\n\
                      Content-Transfer-Encoding: base64\n\nPGI+JURPTUFJTiU8L2I+\n--b--\n";
        let template = EmailTemplate::parse(source).unwrap();
        assert_eq!(template.text, "café %DOMAIN% long line");
        assert_eq!(template.html.as_deref(), Some("<b>%DOMAIN%</b>"));
    }

    #[test]
    fn a_single_part_template_without_content_type_is_plain_text() {
        let template = EmailTemplate::parse("Subject: Hello\n\nBody %DOMAIN%\n").unwrap();
        assert_eq!(
            (template.text.as_str(), template.html),
            ("Body %DOMAIN%\n", None)
        );
    }

    #[test]
    fn an_html_only_template_gets_a_text_version_with_its_links() {
        let source = "Subject: s\nContent-Type: text/html\n\n<html><head><style>p{width:100%%}</style></head>\
                      <body><p>Hi &amp; welcome</p><p><a href=\"%VALIDATION_LINK%\">Confirm</a></p></body></html>";
        let template = EmailTemplate::parse(source).unwrap();
        assert_eq!(
            template.text,
            "Hi & welcome\n\nConfirm (%VALIDATION_LINK%)\n"
        );
    }

    #[test]
    fn a_multipart_without_boundary_or_without_text_is_an_error() {
        assert!(EmailTemplate::parse("Content-Type: multipart/alternative\n\nx").is_err());
        assert!(EmailTemplate::parse("Content-Type: image/png\n\nx").is_err());
    }
}
