//! The user directory (client-server API, `POST /_matrix/client/v3/user_directory/search`), as
//! Verity answers it for the homeserver: the search term as users type it, the limit, the people
//! found and how the answers of the homeserver and of the identity stores are merged.
use std::collections::HashMap;
use std::fmt;

use crate::{InvalidAccessToken, TokenFingerprint, UserId};

/// The longest search term, in characters. Synapse limits display names to 256 characters and
/// user IDs to 255 bytes, so a longer term cannot match anyone; refusing it keeps huge terms out
/// of every store's query.
pub const MAX_SEARCH_TERM_CHARS: usize = 256;
/// The number of results when the request gives no `limit` (the specification's default).
pub const DEFAULT_SEARCH_LIMIT: u32 = 10;
/// The most results one search answers, whatever `limit` asks (Synapse's cap).
pub const MAX_SEARCH_LIMIT: u32 = 50;
/// The longest access token accepted from a client (Synapse's are under 100 characters; room is
/// left for the longer tokens of an OpenID Connect provider).
pub const MAX_HOMESERVER_TOKEN_CHARS: usize = 4096;

/// Why a search term was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSearchTerm {
    /// Longer than [`MAX_SEARCH_TERM_CHARS`].
    #[error("search_term is longer than {max} characters")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// A control character (a NUL, a line break): nobody's name or address holds one, and some
    /// stores would fail on it.
    #[error("search_term contains a control character")]
    ControlCharacter,
}

/// What the user typed, as ma1sd searched it: surrounding spaces trimmed and one leading `@`
/// removed (`@ali` finds `alice`). Matched as plain text by every store: it is never query
/// syntax (an LDAP filter, an SQL pattern) until the store escapes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm(String);

impl SearchTerm {
    /// Parses the term of a request.
    ///
    /// # Errors
    /// [`InvalidSearchTerm`] for a term longer than [`MAX_SEARCH_TERM_CHARS`] or holding a
    /// control character.
    pub fn parse(raw: &str) -> Result<Self, InvalidSearchTerm> {
        let trimmed = raw.trim();
        let term = trimmed.strip_prefix('@').unwrap_or(trimmed).trim();
        if term.chars().nth(MAX_SEARCH_TERM_CHARS).is_some() {
            return Err(InvalidSearchTerm::TooLong {
                max: MAX_SEARCH_TERM_CHARS,
            });
        }
        if term.chars().any(char::is_control) {
            return Err(InvalidSearchTerm::ControlCharacter);
        }
        Ok(Self(term.to_owned()))
    }

    /// The term.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether nothing is left to search for (a blank term, or `@` alone): such a search finds
    /// nobody rather than everybody.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// How many results a search answers: the request's `limit` (default 10) kept between 0 and
/// [`MAX_SEARCH_LIMIT`], as Synapse does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchLimit(u32);

impl SearchLimit {
    /// The limit of a request that asked for `requested` (`None`: the default).
    pub fn from_request(requested: Option<i64>) -> Self {
        let limit = requested.map_or(i64::from(DEFAULT_SEARCH_LIMIT), |n| {
            n.clamp(0, i64::from(MAX_SEARCH_LIMIT))
        });
        Self(u32::try_from(limit).unwrap_or(DEFAULT_SEARCH_LIMIT))
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The number, to count with.
    pub fn as_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

impl Default for SearchLimit {
    fn default() -> Self {
        Self(DEFAULT_SEARCH_LIMIT)
    }
}

/// One person found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// Their Matrix ID.
    pub user_id: UserId,
    /// Their display name, if one is known (an empty one is none).
    pub display_name: Option<String>,
    /// Their avatar (an `mxc://` URI), as the homeserver or a store gave it.
    pub avatar_url: Option<String>,
}

impl DirectoryEntry {
    /// A person with a display name (a blank one is left out) and no avatar.
    pub fn new(user_id: UserId, display_name: Option<String>) -> Self {
        Self {
            user_id,
            display_name: display_name.filter(|name| !name.trim().is_empty()),
            avatar_url: None,
        }
    }
}

/// The people one source found, or the merged answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryResults {
    /// The people, best match first.
    pub entries: Vec<DirectoryEntry>,
    /// Whether more people matched than are listed.
    pub limited: bool,
}

impl DirectoryResults {
    /// At most `limit` of `found` (in order, each user once), `limited` when more were found:
    /// what a store answers.
    pub fn within(found: Vec<DirectoryEntry>, limit: SearchLimit) -> Self {
        Self::merge(
            [Self {
                entries: found,
                limited: false,
            }],
            limit,
            None,
        )
    }

    /// The answer made of `parts` (the homeserver's first, then the stores'), as the client API
    /// gives it: each user once (the first listing wins its place; a later one fills in a
    /// display name or avatar the first lacked), `searcher` left out (Synapse never lists the
    /// user who searches), at most `limit` people, and `limited` when any part was limited or
    /// the merge left people out.
    pub fn merge(
        parts: impl IntoIterator<Item = Self>,
        limit: SearchLimit,
        searcher: Option<&UserId>,
    ) -> Self {
        let mut entries: Vec<DirectoryEntry> = Vec::new();
        let mut seen: HashMap<UserId, usize> = HashMap::new();
        let mut limited = false;
        for part in parts {
            limited |= part.limited;
            for entry in part.entries {
                if Some(&entry.user_id) == searcher {
                    continue;
                }
                match seen.get(&entry.user_id) {
                    Some(&at) => {
                        if let Some(first) = entries.get_mut(at) {
                            if first.display_name.is_none() {
                                first.display_name = entry.display_name;
                            }
                            if first.avatar_url.is_none() {
                                first.avatar_url = entry.avatar_url;
                            }
                        }
                    }
                    None => {
                        seen.insert(entry.user_id.clone(), entries.len());
                        entries.push(entry);
                    }
                }
            }
        }
        if entries.len() > limit.as_usize() {
            entries.truncate(limit.as_usize());
            limited = true;
        }
        Self { entries, limited }
    }
}

/// An access token the user's homeserver issued for its client-server API, as the client sent
/// it to the intercepted directory search. A secret: `Debug` shows a marker, and it is cached and
/// logged only by its [fingerprint](Self::fingerprint).
#[derive(Clone, PartialEq, Eq)]
pub struct HomeserverAccessToken(String);

impl HomeserverAccessToken {
    /// Wraps a presented token: 1 to [`MAX_HOMESERVER_TOKEN_CHARS`] printable ASCII characters,
    /// so that it can be sent on in a header as is.
    ///
    /// # Errors
    /// [`InvalidAccessToken`] for anything else (no homeserver issued it).
    pub fn parse(raw: &str) -> Result<Self, InvalidAccessToken> {
        if (1..=MAX_HOMESERVER_TOKEN_CHARS).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_graphic())
        {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidAccessToken)
        }
    }

    /// The token, for the request to the homeserver that issued it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the token, hex: what the answers about it are cached by.
    pub fn fingerprint(&self) -> TokenFingerprint {
        TokenFingerprint::of(&self.0)
    }
}

impl fmt::Debug for HomeserverAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HomeserverAccessToken(<redacted>)")
    }
}

#[cfg(test)]
#[path = "user_directory_tests.rs"]
mod tests;
