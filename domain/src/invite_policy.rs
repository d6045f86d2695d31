//! What an identity server refuses to mail on a homeserver's behalf: invites from blocklisted
//! rooms or homeservers, invites whose text carries a blocklisted keyword (Sydent's
//! `third_party_invite_*_blocklist`), and text with control or bidirectional-override characters,
//! which would reach the message's text part as terminal escapes, fake line breaks or reordered
//! words.
use std::collections::BTreeSet;

use crate::UserId;

/// The operator's blocklists for `store-invite`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InviteBlocklist {
    /// Case-folded keywords; an invite any of whose text fields contains one is refused.
    keywords: BTreeSet<String>,
    /// Room IDs, exactly as sent.
    rooms: BTreeSet<String>,
    /// Server names (with the port when one is given), compared without case.
    homeservers: BTreeSet<String>,
}

/// Why [`InviteBlocklist::refusal`] refused an invite: what matched, never the text itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteRefusal {
    /// The room is blocklisted.
    Room,
    /// The sender's homeserver is blocklisted.
    Homeserver,
    /// The named field contains the keyword.
    Keyword {
        /// The field's wire name.
        field: String,
        /// The (case-folded) keyword found.
        keyword: String,
    },
}

impl InviteBlocklist {
    /// The blocklists; blank entries are dropped, keywords case-folded.
    pub fn new(
        keywords: impl IntoIterator<Item = String>,
        rooms: impl IntoIterator<Item = String>,
        homeservers: impl IntoIterator<Item = String>,
    ) -> Self {
        let kept = |value: String| {
            let trimmed = value.trim();
            (!trimmed.is_empty()).then(|| trimmed.to_owned())
        };
        Self {
            keywords: keywords
                .into_iter()
                .filter_map(kept)
                .map(|k| caseless::default_case_fold_str(&k))
                .collect(),
            rooms: rooms.into_iter().filter_map(kept).collect(),
            homeservers: homeservers
                .into_iter()
                .filter_map(kept)
                .map(|h| h.to_ascii_lowercase())
                .collect(),
        }
    }

    /// The keywords, case-folded.
    pub fn keywords(&self) -> impl Iterator<Item = &str> {
        self.keywords.iter().map(String::as_str)
    }

    /// The room IDs.
    pub fn rooms(&self) -> impl Iterator<Item = &str> {
        self.rooms.iter().map(String::as_str)
    }

    /// The server names, lower-case.
    pub fn homeservers(&self) -> impl Iterator<Item = &str> {
        self.homeservers.iter().map(String::as_str)
    }

    /// Why an invite to `room_id` from `sender` with the text `fields` (`(wire name, value)`,
    /// every string of the request) must be refused, if it must. As Sydent: the room and the
    /// sender's server first, then each keyword as a case-insensitive substring of each field,
    /// with `org.matrix.web_client_location`'s `http://` or `https://` left out (so a keyword
    /// such as `http` does not refuse every invite that names a web client).
    pub fn refusal(
        &self,
        room_id: &str,
        sender: &UserId,
        fields: &[(&str, &str)],
    ) -> Option<InviteRefusal> {
        if self.rooms.contains(room_id) {
            return Some(InviteRefusal::Room);
        }
        if self
            .homeservers
            .contains(&sender.server_name().to_ascii_lowercase())
        {
            return Some(InviteRefusal::Homeserver);
        }
        if self.keywords.is_empty() {
            return None;
        }
        fields.iter().find_map(|(field, value)| {
            let value = if *field == WEB_CLIENT_LOCATION {
                strip_scheme(value)
            } else {
                value
            };
            let folded = caseless::default_case_fold_str(value);
            self.keywords
                .iter()
                .find(|keyword| folded.contains(keyword.as_str()))
                .map(|keyword| InviteRefusal::Keyword {
                    field: (*field).to_owned(),
                    keyword: keyword.clone(),
                })
        })
    }
}

/// The wire name of the web client field, whose scheme the keyword check skips.
pub const WEB_CLIENT_LOCATION: &str = "org.matrix.web_client_location";

/// `value` without a leading `http://` or `https://` (any case, as Sydent's regex is applied to
/// the raw value: only lower case there; any case here, since a URL scheme is case-insensitive).
fn strip_scheme(value: &str) -> &str {
    for scheme in ["https://", "http://"] {
        if let Some(head) = value.get(..scheme.len())
            && head.eq_ignore_ascii_case(scheme)
        {
            return value.get(scheme.len()..).unwrap_or(value);
        }
    }
    value
}

/// Whether `c` may not appear in an invite's text: every C0 control (tab and line breaks
/// included: no invite field is multi-line, and a line break in a room name would fake lines in
/// the message), DEL, every C1 control, and the bidirectional embeddings, overrides and isolates
/// (U+202A..U+202E, U+2066..U+2069), which reorder what the reader sees (a display name that
/// reads as another one). Ordinary marks (U+200E, U+200F) stay: right-to-left names need them.
pub fn is_forbidden_in_invite_text(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The first forbidden character of `value` ([`is_forbidden_in_invite_text`]), if any.
pub fn forbidden_invite_char(value: &str) -> Option<char> {
    value.chars().find(|c| is_forbidden_in_invite_text(*c))
}

#[cfg(test)]
#[path = "invite_policy_tests.rs"]
mod tests;
