//! Sydent's email templates turned into Verity's: Python `%(name)s` placeholders (Sydent's `.eml`
//! files) and Jinja `{{ name }}` expressions (its `.eml.j2` files) become Verity's `%NAME%`
//! placeholders (docs/templates.md) where Verity has the value; the others are reported.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::SydentConf;

/// Which message a template writes: a few Sydent names mean different things in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    /// `verification_template.eml`: the validation email (Verity's `session.validation`).
    Verification,
    /// `invite_template.eml`: the room invite (Verity's `invite`).
    Invite,
}

impl TemplateKind {
    /// Sydent's file name in a brand directory.
    pub fn sydent_file(self) -> &'static str {
        match self {
            Self::Verification => "verification_template.eml",
            Self::Invite => "invite_template.eml",
        }
    }

    /// The file name the converted template is written under.
    pub fn verity_file(self) -> &'static str {
        match self {
            Self::Verification => "validate-template.eml",
            Self::Invite => "invite-template.eml",
        }
    }
}

/// The boundary written in place of Sydent's random `multipart_boundary`: Verity only uses it to
/// take the template apart and sends the message with a boundary of its own.
pub const TEMPLATE_BOUNDARY: &str = "verity-template-boundary";

/// A converted template and what did not convert.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Converted {
    /// The template in Verity's syntax.
    pub text: String,
    /// Sydent names Verity has no value for; left out (empty) in `text`.
    pub unmapped: BTreeSet<String>,
    /// Names converted with a difference the operator should check.
    pub notes: BTreeSet<String>,
    /// Jinja statements (`{% ... %}`) or expressions that are not a plain name: left as written.
    pub unconverted: BTreeSet<String>,
}

/// Verity's placeholder for one Sydent name, without the `_forhtml` / `_forurl` suffix.
fn mapping(kind: TemplateKind, name: &str) -> Option<&'static str> {
    let common = match name {
        "to" => Some("RECIPIENT_ADDRESS"),
        "from" => Some("FROM_EMAIL"),
        _ => None,
    };
    let specific = match (kind, name) {
        (TemplateKind::Verification, "link") => Some("VALIDATION_LINK"),
        (TemplateKind::Verification, "token") => Some("VALIDATION_TOKEN"),
        (TemplateKind::Invite, "token") => Some("INVITE_TOKEN"),
        (TemplateKind::Invite, "sender") => Some("SENDER_ID"),
        (TemplateKind::Invite, "sender_display_name") => Some("SENDER_NAME"),
        (TemplateKind::Invite, "sender_avatar_url") => Some("SENDER_AVATAR_URL"),
        (TemplateKind::Invite, "room_id") => Some("ROOM_ID"),
        (TemplateKind::Invite, "room_name") => Some("ROOM_NAME"),
        (TemplateKind::Invite, "room_alias") => Some("ROOM_ALIAS"),
        (TemplateKind::Invite, "room_avatar_url") => Some("ROOM_AVATAR_URL"),
        (TemplateKind::Invite, "room_join_rules") => Some("ROOM_JOIN_RULES"),
        (TemplateKind::Invite, "room_type") => Some("ROOM_TYPE"),
        (TemplateKind::Invite, "guest_user_id") => Some("GUEST_USER_ID"),
        (TemplateKind::Invite, "guest_access_token") => Some("GUEST_ACCESS_TOKEN"),
        (TemplateKind::Invite, "web_client_location") => Some("WEB_CLIENT_LOCATION"),
        (TemplateKind::Invite, "ephemeral_private_key") => Some("EPHEMERAL_PRIVATE_KEY"),
        (TemplateKind::Invite, "medium") => Some("INVITE_MEDIUM"),
        (TemplateKind::Invite, "address") => Some("INVITE_ADDRESS"),
        _ => None,
    };
    common.or(specific)
}

/// The placeholders that have a URL-encoded form in Verity.
fn url_encoded(placeholder: &str) -> Option<String> {
    matches!(
        placeholder,
        "RECIPIENT_ADDRESS" | "RECIPIENT_MEDIUM" | "INVITE_ADDRESS" | "INVITE_MEDIUM"
    )
    .then(|| format!("{placeholder}_URL_ENCODED"))
}

/// Converts one Sydent name (maybe with `_forhtml` / `_forurl`, or a Jinja `urlencode` filter)
/// into Verity's text for it.
fn replace(
    kind: TemplateKind,
    name: &str,
    url: bool,
    invite_subject: &str,
    out: &mut Converted,
) -> String {
    let (base, for_url) = if let Some(base) = name.strip_suffix("_forurl") {
        (base, true)
    } else {
        (name.strip_suffix("_forhtml").unwrap_or(name), url)
    };
    match base {
        "multipart_boundary" => return TEMPLATE_BOUNDARY.to_owned(),
        // Headers Verity's connector writes itself.
        "date" | "messageid" => return String::new(),
        "subject_header_value" if kind == TemplateKind::Invite => {
            let subject = convert_python(kind, invite_subject, "");
            out.unmapped.extend(subject.unmapped);
            out.notes.extend(subject.notes);
            out.notes.insert(
                "subject_header_value: replaced by [email] email.invite.subject, converted"
                    .to_owned(),
            );
            return subject.text;
        }
        _ => {}
    }
    let Some(placeholder) = mapping(kind, base) else {
        out.unmapped.insert(base.to_owned());
        return String::new();
    };
    if base == "web_client_location" {
        out.notes.insert("web_client_location: Verity's %WEB_CLIENT_LOCATION% is empty when the homeserver sends none, where Sydent used email.default_web_client_location".to_owned());
    }
    // Tokens and URL-safe base64 keys need no encoding in a URL.
    let url_safe = matches!(
        placeholder,
        "INVITE_TOKEN" | "VALIDATION_TOKEN" | "EPHEMERAL_PRIVATE_KEY"
    );
    if for_url && !url_safe {
        if let Some(encoded) = url_encoded(placeholder) {
            return format!("%{encoded}%");
        }
        out.notes.insert(format!(
            "{name}: Verity has no URL-encoded form of %{placeholder}%; it is inserted as is"
        ));
    }
    format!("%{placeholder}%")
}

/// Converts a template written for Python's `%` formatting (`%(name)s`, `%%`). `invite_subject`
/// replaces `%(subject_header_value)s` in invites.
pub fn convert_python(kind: TemplateKind, text: &str, invite_subject: &str) -> Converted {
    let mut out = Converted::default();
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        result.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('%') {
            result.push('%');
            rest = tail;
            continue;
        }
        let named = after
            .strip_prefix('(')
            .and_then(|inner| inner.find(")s").map(|close| (inner, close)));
        if let Some((inner, close)) = named {
            let value = replace(kind, &inner[..close], false, invite_subject, &mut out);
            result.push_str(&value);
            rest = &inner[close + 2..];
        } else {
            result.push('%');
            rest = after;
        }
    }
    result.push_str(rest);
    out.text = result;
    out
}

/// Converts a Jinja template (Sydent's `.eml.j2`): `{{ name }}`, `{{ name|safe }}`,
/// `{{ name|e }}` and `{{ name|urlencode }}`; anything else is left as written and reported.
pub fn convert_jinja(kind: TemplateKind, text: &str, invite_subject: &str) -> Converted {
    let mut out = Converted::default();
    let text = else_branches(text, &mut out);
    let mut result = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find(['{']) {
        result.push_str(&rest[..open]);
        let after = &rest[open..];
        let (close_mark, statement) = if after.starts_with("{{") {
            ("}}", false)
        } else if after.starts_with("{%") {
            ("%}", true)
        } else {
            result.push('{');
            rest = &after[1..];
            continue;
        };
        let Some(close) = after[2..].find(close_mark) else {
            result.push_str(after);
            rest = "";
            break;
        };
        let whole = &after[..close + 4];
        let inner = after[2..close + 2].trim().trim_matches('-').trim();
        rest = &after[close + 4..];
        let mut parts = inner.split('|').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let filters: Vec<&str> = parts.collect();
        let plain_name =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let known_filters = filters
            .iter()
            .all(|f| matches!(*f, "safe" | "e" | "escape" | "urlencode"));
        if statement || !plain_name || !known_filters {
            out.unconverted.insert(whole.to_owned());
            result.push_str(whole);
            continue;
        }
        let url = filters.contains(&"urlencode");
        let value = replace(kind, name, url, invite_subject, &mut out);
        result.push_str(&value);
    }
    result.push_str(rest);
    out.text = result;
    out
}

/// Replaces each `{% if ... %}A{% else %}B{% endif %}` (not nested) by `B`, and an `if` without
/// `else` by nothing: Verity's templates have no conditions. Sydent 2.6.1's invite templates use
/// one (`space` or `room`); the `else` branch is the common case.
fn else_branches(text: &str, out: &mut Converted) -> String {
    let mut result = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{% if ") {
        let block = &rest[start..];
        let Some(condition_end) = block.find("%}") else {
            break;
        };
        let Some(endif) = block.find("{% endif %}") else {
            break;
        };
        let body = &block[condition_end + 2..endif];
        if body.contains("{% if ") || condition_end > endif {
            break;
        }
        let kept = body
            .find("{% else %}")
            .map_or("", |at| &body[at + "{% else %}".len()..]);
        out.notes.insert(format!(
            "{} ... {{% endif %}}: Verity's templates have no conditions; the else branch ({kept:?}) is kept",
            &block[..condition_end + 2]
        ));
        result.push_str(&rest[..start]);
        result.push_str(kept);
        rest = &block[endif + "{% endif %}".len()..];
    }
    result.push_str(rest);
    result
}

/// Converts Sydent's SMS `bodyTemplate` (Python `str.format`, `{token}`): `{token}` becomes
/// `%VALIDATION_TOKEN%`, `{{`/`}}` become braces; other fields are reported.
pub fn convert_sms(body: &str) -> Converted {
    let mut out = Converted::default();
    let mut result = String::new();
    let mut rest = body;
    while let Some(at) = rest.find(['{', '}']) {
        result.push_str(&rest[..at]);
        let after = &rest[at..];
        if after.starts_with("{{") || after.starts_with("}}") {
            result.push_str(&after[..1]);
            rest = &after[2..];
        } else if let (true, Some(close)) = (after.starts_with('{'), after.find('}')) {
            let field = &after[1..close];
            if field == "token" {
                result.push_str("%VALIDATION_TOKEN%");
            } else {
                out.unmapped.insert(field.to_owned());
            }
            rest = &after[close + 1..];
        } else {
            result.push_str(&after[..1]);
            rest = &after[1..];
        }
    }
    result.push_str(rest);
    out.text = result;
    out
}

/// Where Sydent reads a template, as `Sydent.get_branded_template` decides: the deprecated key
/// when set, otherwise `<templates.path>/<brand.default>/<name>.j2` when it exists, otherwise the
/// file without `.j2`. Relative paths are taken from `sydent_dir` (Sydent's working directory).
pub fn sydent_template_path(conf: &SydentConf, kind: TemplateKind, sydent_dir: &Path) -> PathBuf {
    let legacy = match kind {
        TemplateKind::Verification => conf.email.template.as_deref(),
        TemplateKind::Invite => conf.email.invite_template.as_deref(),
    };
    if let Some(path) = legacy {
        return sydent_dir.join(path);
    }
    let brand = sydent_dir
        .join(&conf.general.templates_path)
        .join(&conf.general.brand_default);
    let jinja = brand.join(format!("{}.j2", kind.sydent_file()));
    if jinja.is_file() {
        jinja
    } else {
        brand.join(kind.sydent_file())
    }
}

/// Where Sydent reads the validation link's page (`verify_response_template`, or the brand's
/// `verify_response_template.html`). Verity reads that file as is (`%(message)s`).
pub fn sydent_page_path(conf: &SydentConf, sydent_dir: &Path) -> PathBuf {
    match &conf.http.verify_response_template {
        Some(path) => sydent_dir.join(path),
        None => sydent_dir
            .join(&conf.general.templates_path)
            .join(&conf.general.brand_default)
            .join("verify_response_template.html"),
    }
}

/// One template converted and written for Verity.
#[derive(Debug, Clone)]
pub struct WrittenTemplate {
    /// Which message.
    pub kind: TemplateKind,
    /// Sydent's file.
    pub source: PathBuf,
    /// The converted file.
    pub written: PathBuf,
    /// What did not convert.
    pub conversion: Converted,
}

/// Reads Sydent's email templates (those that exist), converts them and writes them into
/// `out_dir` (created), as `validate-template.eml` and `invite-template.eml`.
///
/// # Errors
/// The first file that cannot be read or written.
pub fn write_converted(
    conf: &SydentConf,
    sydent_dir: &Path,
    out_dir: &Path,
) -> std::io::Result<Vec<WrittenTemplate>> {
    let mut written = Vec::new();
    for kind in [TemplateKind::Verification, TemplateKind::Invite] {
        let source = sydent_template_path(conf, kind, sydent_dir);
        if !source.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&source)?;
        let subject = &conf.email.invite_subject;
        let conversion = if source.extension().is_some_and(|ext| ext == "j2") {
            convert_jinja(kind, &text, subject)
        } else {
            convert_python(kind, &text, subject)
        };
        let target = out_dir.join(kind.verity_file());
        write_unless_edited(&target, &conversion.text)?;
        written.push(WrittenTemplate {
            kind,
            source,
            written: target,
            conversion,
        });
    }
    Ok(written)
}

/// Writes `text` at `path` (creating its directory) unless a file with other content is there:
/// the operator may have edited it since the last import, and it is kept.
///
/// # Errors
/// The directory or file cannot be read or written.
pub fn write_unless_edited(path: &Path, text: &str) -> std::io::Result<()> {
    match std::fs::read_to_string(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, text)
        }
        Err(error) => Err(error),
    }
}
