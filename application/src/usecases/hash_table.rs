//! The table of one pepper: each published 3PID's `sha256` lookup hash to its user, held compactly
//! so that 1,000,000 entries take about 65 MiB. An entry is the raw 32-byte digest (not its 43
//! characters of base64: a client's hash is decoded once per lookup instead) and a 4-byte slot in
//! one buffer of user IDs (not a `UserId` of 24 bytes and an allocation of its own), in a sorted
//! array rather than a hash map (whose buckets are half empty after its last growth, and whose
//! million inserts each miss the caches).
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use sha2::{Digest as _, Sha256};

/// A `sha256` lookup hash before its base64 encoding.
pub(super) type Digest = [u8; 32];

/// The digest of `"<address> <medium> <pepper>"`: [`verity_domain::LookupHash::of`] before the encoding, with
/// no string put together first.
pub(super) fn digest(address: &str, medium: &str, pepper: &str) -> Digest {
    let mut sha = Sha256::new();
    sha.update(address.as_bytes());
    sha.update(b" ");
    sha.update(medium.as_bytes());
    sha.update(b" ");
    sha.update(pepper.as_bytes());
    sha.finalize().into()
}

/// A client's hash as a digest, or `None` when it is not the unpadded URL-safe base64 of 32 bytes
/// in its one canonical spelling (43 characters, the unused low bits of the last one zero): such a
/// hash is never one the server computed, so it matches nothing, as it did when the table was keyed
/// by the text.
pub(super) fn decode(hash: &str) -> Option<Digest> {
    // By hand rather than with the base64 crate's general decoder, which was 5 % of a lookup's
    // CPU for 100 hashes: a table of the alphabet, 43 characters in a fixed layout, and one
    // check for a character outside the alphabet at the end rather than one a character.
    let raw: &[u8; 43] = hash.as_bytes().try_into().ok()?;
    let mut values = [0_u8; 44];
    let mut seen = 0_u8;
    for (value, &c) in values.iter_mut().zip(raw) {
        *value = SEXTETS[usize::from(c)];
        seen |= *value;
    }
    // The last character holds 4 bits of the digest and 2 unused ones, which must be zero: the
    // one canonical spelling.
    if seen & !0x3f != 0 || values[42] & 0x03 != 0 {
        return None;
    }
    // Four characters are three bytes; the 44th value (zero) completes the last group, whose
    // third byte is only those zero bits and is dropped.
    let mut bytes = [0_u8; 33];
    for (chars, out) in values.chunks_exact(4).zip(bytes.chunks_exact_mut(3)) {
        let group = u32::from(chars[0]) << 18
            | u32::from(chars[1]) << 12
            | u32::from(chars[2]) << 6
            | u32::from(chars[3]);
        out[0] = (group >> 16) as u8;
        out[1] = (group >> 8) as u8;
        out[2] = group as u8;
    }
    let mut digest = [0_u8; 32];
    digest.copy_from_slice(&bytes[..32]);
    Some(digest)
}

/// A byte that is not in the URL-safe base64 alphabet.
const INVALID: u8 = 0xff;

/// The value of each byte in the URL-safe base64 alphabet, or [`INVALID`].
static SEXTETS: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Why an entry could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the lookup table's user IDs passed 4 GiB")]
pub struct TableFull;

/// The user IDs of a table, one after the other in one buffer; slot `i` ends at `ends[i]`. A slot
/// no entry uses any more (a user changed or removed) stays until the dead bytes are half the
/// buffer, then every live one is copied to a new buffer.
#[derive(Debug, Default)]
struct Users {
    text: String,
    ends: Vec<u32>,
    dead: usize,
}

/// Dead bytes below this are never worth a copy.
const MIN_COMPACTION: usize = 1 << 20;

impl Users {
    fn push(&mut self, user: &str) -> Result<u32, TableFull> {
        let slot = u32::try_from(self.ends.len()).map_err(|_| TableFull)?;
        let end =
            u32::try_from(self.text.len().saturating_add(user.len())).map_err(|_| TableFull)?;
        self.text.push_str(user);
        self.ends.push(end);
        Ok(slot)
    }

    fn get(&self, slot: u32) -> &str {
        let slot = slot as usize;
        let start = match slot.checked_sub(1) {
            Some(before) => self.ends.get(before).copied().unwrap_or_default(),
            None => 0,
        };
        let end = self.ends.get(slot).copied().unwrap_or_default();
        self.text
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    fn free(&mut self, slot: u32) {
        self.dead = self.dead.saturating_add(self.get(slot).len());
    }

    fn bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * size_of::<u32>()
    }
}

/// The directory has one bucket per entry or so (`2^bits` for the smallest power of two at least
/// the entries, within these bounds), so that a lookup reads its bucket's start, then about one
/// entry: two cache misses at 1,000,000 entries instead of one for every step of a search. At
/// 1,000,000 entries the directory takes 4 MiB.
const MIN_BITS: u32 = 8;
const MAX_BITS: u32 = 24;

fn directory_bits(entries: usize) -> u32 {
    let bits = usize::BITS - entries.saturating_sub(1).leading_zeros();
    bits.clamp(MIN_BITS, MAX_BITS)
}

/// Hashes a digest for the map of changes by taking 8 of its bytes: they are already a SHA-256
/// output, uniform and not chosen by anyone (the server hashes only 3PIDs it validated or its
/// backends hold), so SipHash's work on each of a lookup's 100 digests would buy nothing.
#[derive(Debug, Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // A digest is written as its length then its 32 bytes; only the bytes count.
        let mut word = [0_u8; 8];
        for (to, from) in word.iter_mut().zip(bytes.iter().skip(8)) {
            *to = *from;
        }
        self.0 ^= u64::from_le_bytes(word);
    }
}

type Changes = HashMap<Digest, Option<u32>, BuildHasherDefault<DigestHasher>>;

/// Below this many changes since the build, they are never merged into the sorted entries.
const MIN_MERGE: usize = 4_096;

/// The first 8 bytes of `digest`, as one number to compare.
fn prefix(digest: &Digest) -> u64 {
    let [a, b, c, d, e, f, g, h, ..] = *digest;
    u64::from_be_bytes([a, b, c, d, e, f, g, h])
}

/// The bucket of `digest` in a directory of `2^bits` buckets: its first `bits` bits, so that the
/// buckets in order hold the digests in order.
fn bucket(digest: &Digest, bits: u32) -> usize {
    let prefix = u64::from(u32::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3],
    ]));
    // `bits` is at most MAX_BITS (24), so the bucket fits any usize.
    usize::try_from(prefix >> (32 - bits.min(32))).unwrap_or(0)
}

/// Every entry of one pepper's table: digest to user. Built once from the feeds as a sorted array
/// with a directory of where each prefix starts (36 bytes an entry and 4 to 8 bytes of directory,
/// and a lookup reads a bucket of about one entry), then changed through a small map of
/// the 3PIDs bound or unbound since, merged back when it grows.
#[derive(Debug, Default)]
pub(super) struct Table {
    /// The build's entries, by digest; each digest once.
    sorted: Vec<(Digest, u32)>,
    /// `sorted[starts[b]..starts[b + 1]]` are the entries of bucket `b`; empty until sealed.
    starts: Vec<u32>,
    /// The directory's buckets are the digests' first `bits` bits.
    bits: u32,
    /// Entries set (`Some`) or removed (`None`) since the build.
    changes: Changes,
    users: Users,
    len: usize,
}

impl Table {
    /// An empty table with room for `entries` entries and their user IDs.
    pub(super) fn with_capacity(entries: usize) -> Self {
        Self {
            sorted: Vec::with_capacity(entries),
            users: Users {
                // `@user123456:example.org`: a guess, grown like any string if short.
                text: String::with_capacity(entries.saturating_mul(24)),
                ends: Vec::with_capacity(entries),
                dead: 0,
            },
            ..Self::default()
        }
    }

    /// Adds an entry while the table is built, before [`seal`](Self::seal): a later entry of the
    /// same digest wins (a higher priority backend's, read later).
    ///
    /// # Errors
    /// [`TableFull`] when the user IDs would pass 4 GiB.
    pub(super) fn push(&mut self, digest: Digest, user: &str) -> Result<(), TableFull> {
        let slot = self.users.push(user)?;
        self.sorted.push((digest, slot));
        Ok(())
    }

    /// Sorts the entries pushed and indexes them: a counting sort on the directory's prefix (which
    /// keeps the order of pushes), then each small bucket sorted and rid of all but the last
    /// entry of a digest. Then, and only then, [`get`](Self::get) sees them.
    pub(super) fn seal(&mut self) -> Result<(), TableFull> {
        let bits = directory_bits(self.sorted.len());
        let buckets = 1_usize << bits;
        let mut counts = vec![0_usize; buckets + 1];
        for (digest, _) in &self.sorted {
            counts[bucket(digest, bits) + 1] += 1;
        }
        for b in 0..buckets {
            counts[b + 1] += counts[b];
        }
        let mut next = counts.clone();
        let mut placed = vec![([0_u8; 32], 0_u32); self.sorted.len()];
        for &(digest, slot) in &self.sorted {
            let at = &mut next[bucket(&digest, bits)];
            placed[*at] = (digest, slot);
            *at += 1;
        }
        // Each bucket in place: stable, so the last of equal digests is the last pushed.
        let mut kept = 0;
        let mut starts = Vec::with_capacity(buckets + 1);
        for b in 0..buckets {
            starts.push(u32::try_from(kept).map_err(|_| TableFull)?);
            let (from, to) = (counts[b], counts[b + 1]);
            placed[from..to].sort_by_key(|entry| entry.0);
            for i in from..to {
                if i + 1 == to || placed[i + 1].0 != placed[i].0 {
                    placed[kept] = placed[i];
                    kept += 1;
                } else {
                    self.users.free(placed[i].1);
                }
            }
        }
        starts.push(u32::try_from(kept).map_err(|_| TableFull)?);
        placed.truncate(kept);
        placed.shrink_to_fit();
        self.sorted = placed;
        self.starts = starts;
        self.bits = bits;
        self.len = kept;
        Ok(())
    }

    /// The number of entries.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The user of `digest`, if it is in the table: [`get_many`](Self::get_many) of one.
    #[cfg(test)]
    pub(super) fn get(&self, digest: &Digest) -> Option<&str> {
        self.get_many(std::slice::from_ref(digest)).pop().flatten()
    }

    /// The users of many digests, in their order: [`get`](Self::get) for each, done in phases
    /// (every bucket's bounds, then the first 8 bytes of every bucket's entries, then the whole
    /// digest of each candidate, then every user), each a short loop whose iterations do not
    /// wait for one another, so that the cache misses of different digests overlap instead of
    /// following one another: at 1,000,000 entries each phase's first read misses the caches,
    /// and one lookup asks for up to 100 digests (a profile put the misses at a quarter of the
    /// lookup's server time when they came one after the other).
    pub(super) fn get_many(&self, digests: &[Digest]) -> Vec<Option<&str>> {
        let ranges: Vec<(usize, usize)> = digests
            .iter()
            .map(|digest| {
                let b = bucket(digest, self.bits);
                let from = self.starts.get(b).map_or(0, |&at| at as usize);
                let to = self.starts.get(b + 1).map_or(from, |&at| at as usize);
                (from, to)
            })
            .collect();
        // A bucket holds about one entry; most digests asked are in no table, and their first
        // 8 bytes already differ from every entry's.
        let candidates: Vec<Option<usize>> = digests
            .iter()
            .zip(&ranges)
            .map(|(digest, &(from, to))| {
                let wanted = prefix(digest);
                let entries = self.sorted.get(from..to)?;
                let at = entries.iter().position(|(d, _)| prefix(d) == wanted)?;
                Some(from + at)
            })
            .collect();
        let mut slots: Vec<Option<u32>> = digests
            .iter()
            .zip(candidates)
            .map(|(digest, candidate)| match self.sorted.get(candidate?) {
                Some((d, slot)) if d == digest => Some(*slot),
                // Two digests of one bucket with the same first 8 bytes: search it.
                _ => self.sorted_slot(digest),
            })
            .collect();
        if !self.changes.is_empty() {
            for (digest, slot) in digests.iter().zip(&mut slots) {
                if let Some(change) = self.changes.get(digest) {
                    *slot = *change;
                }
            }
        }
        slots
            .into_iter()
            .map(|slot| slot.map(|slot| self.users.get(slot)))
            .collect()
    }

    fn slot(&self, digest: &Digest) -> Option<u32> {
        if let Some(change) = self.changes.get(digest) {
            return *change;
        }
        self.sorted_slot(digest)
    }

    fn sorted_slot(&self, digest: &Digest) -> Option<u32> {
        let b = bucket(digest, self.bits);
        let from = *self.starts.get(b)? as usize;
        let to = *self.starts.get(b + 1)? as usize;
        let entries = self.sorted.get(from..to)?;
        let at = entries.binary_search_by(|(d, _)| d.cmp(digest)).ok()?;
        entries.get(at).map(|&(_, slot)| slot)
    }

    /// Sets the user of `digest`.
    ///
    /// # Errors
    /// [`TableFull`] when the user IDs would pass 4 GiB.
    pub(super) fn insert(&mut self, digest: Digest, user: &str) -> Result<(), TableFull> {
        let old = self.slot(&digest);
        if let Some(old) = old
            && self.users.get(old) == user
        {
            return Ok(());
        }
        let slot = self.users.push(user)?;
        self.change(digest, old, Some(slot))
    }

    /// Removes the entry of `digest`, if any.
    pub(super) fn remove(&mut self, digest: &Digest) -> Result<(), TableFull> {
        match self.slot(digest) {
            Some(old) => self.change(*digest, Some(old), None),
            None => Ok(()),
        }
    }

    fn change(
        &mut self,
        digest: Digest,
        old: Option<u32>,
        new: Option<u32>,
    ) -> Result<(), TableFull> {
        if let Some(old) = old {
            self.users.free(old);
            self.len -= 1;
        }
        if new.is_some() {
            self.len += 1;
        }
        self.changes.insert(digest, new);
        if self.changes.len() > MIN_MERGE.max(self.sorted.len() / 8) {
            self.merge()?;
        }
        self.compact_if_worth_it()
    }

    /// The changes into the sorted entries, which are sorted again.
    fn merge(&mut self) -> Result<(), TableFull> {
        let changes = std::mem::take(&mut self.changes);
        let mut entries: Vec<(Digest, u32)> = Vec::with_capacity(self.len);
        entries.extend(
            self.sorted
                .iter()
                .filter(|(digest, _)| !changes.contains_key(digest)),
        );
        entries.extend(
            changes
                .into_iter()
                .filter_map(|(digest, slot)| Some((digest, slot?))),
        );
        self.sorted = entries;
        self.seal()
    }

    /// About how many bytes the table holds, for the log.
    pub(super) fn bytes(&self) -> usize {
        self.sorted.capacity() * size_of::<(Digest, u32)>()
            + self.starts.capacity() * size_of::<u32>()
            + self.changes.capacity() * (size_of::<(Digest, Option<u32>)>() + 1)
            + self.users.bytes()
    }

    fn compact_if_worth_it(&mut self) -> Result<(), TableFull> {
        let users = &self.users;
        if users.dead < MIN_COMPACTION || users.dead < users.text.len() / 2 {
            return Ok(());
        }
        let live = users.text.len().saturating_sub(users.dead);
        let mut compacted = Users {
            text: String::with_capacity(live),
            ends: Vec::with_capacity(self.len),
            dead: 0,
        };
        for (digest, slot) in &mut self.sorted {
            // An entry a change replaced is never read again.
            if !self.changes.contains_key(digest) {
                *slot = compacted.push(self.users.get(*slot))?;
            }
        }
        for slot in self.changes.values_mut().flatten() {
            *slot = compacted.push(self.users.get(*slot))?;
        }
        self.users = compacted;
        Ok(())
    }
}

#[path = "hash_table_saved.rs"]
mod saved;

#[cfg(test)]
#[path = "hash_table_tests.rs"]
mod tests;
