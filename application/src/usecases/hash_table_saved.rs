//! A table as bytes, so that a restart can load it instead of reading every binding again
//! (`HashStore::save_table`). The format is the table's own, checked when loaded:
//!
//! ```text
//! "VLT" 1 | entries: u64 LE | entries × (digest: 32 bytes | user length: u8 | user: UTF-8)
//! ```
//! A Matrix ID is at most 255 bytes, so its length fits a byte. The entries are written in no
//! particular order: loading pushes them and seals the table, which sorts them and builds its
//! directory, as a build does (about a tenth of a build's time: nothing is parsed or hashed).
use super::{Digest, Table, TableFull};

const MAGIC: &[u8; 4] = b"VLT\x01";
const HEADER: usize = MAGIC.len() + size_of::<u64>();
/// The smallest entry: a digest and an empty user's length.
const SMALLEST_ENTRY: usize = 32 + 1;

/// Why saved bytes are not a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(in crate::usecases) enum Unreadable {
    /// Not this format (another version, or not a table at all).
    #[error("the saved lookup table is not in this version's format")]
    Format,
    /// The bytes end early, go on after the last entry, or hold a user that is not text.
    #[error("the saved lookup table is damaged (at byte {0})")]
    Damaged(usize),
    /// Its user IDs pass what a table holds.
    #[error(transparent)]
    Full(#[from] TableFull),
}

impl Table {
    /// Every entry of the table (the changes since its build included), in the saved format.
    ///
    /// # Errors
    /// [`TableFull`] for a user ID longer than 255 bytes, which no valid Matrix ID is.
    pub(in crate::usecases) fn save(&self) -> Result<Vec<u8>, TableFull> {
        let mut out = Vec::with_capacity(HEADER + self.len * (SMALLEST_ENTRY + 24));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.len as u64).to_le_bytes());
        let live = self
            .sorted
            .iter()
            .filter(|(digest, _)| !self.changes.contains_key(digest))
            .map(|&(digest, slot)| (digest, slot))
            .chain(
                self.changes
                    .iter()
                    .filter_map(|(digest, slot)| Some((*digest, (*slot)?))),
            );
        for (digest, slot) in live {
            let user = self.users.get(slot);
            let length = u8::try_from(user.len()).map_err(|_| TableFull)?;
            out.extend_from_slice(&digest);
            out.push(length);
            out.extend_from_slice(user.as_bytes());
        }
        Ok(out)
    }

    /// The table [`save`](Self::save) wrote, sealed.
    ///
    /// # Errors
    /// [`Unreadable`] when `data` is not a whole saved table.
    pub(in crate::usecases) fn load(data: &[u8]) -> Result<Self, Unreadable> {
        let (magic, rest) = data
            .split_at_checked(MAGIC.len())
            .ok_or(Unreadable::Format)?;
        if magic != MAGIC {
            return Err(Unreadable::Format);
        }
        let (count, mut rest) = rest
            .split_first_chunk::<8>()
            .ok_or(Unreadable::Damaged(MAGIC.len()))?;
        let count = u64::from_le_bytes(*count);
        // A count the bytes cannot hold is damage, not a reason to reserve memory for it.
        let count = usize::try_from(count)
            .ok()
            .filter(|count| count.saturating_mul(SMALLEST_ENTRY) <= rest.len())
            .ok_or(Unreadable::Damaged(MAGIC.len()))?;
        let mut table = Self::with_capacity(count);
        for _ in 0..count {
            let at = data.len() - rest.len();
            let (digest, after) = rest
                .split_first_chunk::<32>()
                .ok_or(Unreadable::Damaged(at))?;
            let (&length, after) = after.split_first().ok_or(Unreadable::Damaged(at))?;
            let (user, after) = after
                .split_at_checked(usize::from(length))
                .ok_or(Unreadable::Damaged(at))?;
            let user = std::str::from_utf8(user).map_err(|_| Unreadable::Damaged(at))?;
            table.push(Digest::from(*digest), user)?;
            rest = after;
        }
        if !rest.is_empty() {
            return Err(Unreadable::Damaged(data.len() - rest.len()));
        }
        table.seal()?;
        Ok(table)
    }
}

#[cfg(test)]
#[path = "hash_table_saved_tests.rs"]
mod tests;
