//! The public types of the lookup hash table: its settings, what a rebuild does, and why it or a
//! lookup fails.
use std::time::Duration;

// Defined beside the ports the other use cases read and refresh the table through.
pub use crate::ports::driven::{IndexError, Unanswered};

/// When the pepper changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationPolicy {
    /// Never on its own (Verity's default): a pepper is made on the first start and kept.
    Never,
    /// After this many `/lookup` requests (ma1sd's `per_requests`).
    PerRequests(u64),
    /// When the pepper is this old (ma1sd's `per_seconds`).
    Every(Duration),
}

/// `hashing.*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingSettings {
    /// Whether `sha256` lookups are offered and the table kept.
    pub enabled: bool,
    /// The length of new peppers.
    pub pepper_length: usize,
    /// When the pepper changes.
    pub rotation: RotationPolicy,
    /// How many bindings a rebuild reads from a backend at once.
    pub page_size: u32,
}

/// Which pepper a rebuild uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebuild {
    /// The published pepper: builds the table of the pepper loaded at start-up.
    SamePepper,
    /// A new pepper (rotation).
    NewPepper,
}

/// The table's size and builds, for the operator's metrics ([`HashIndex::stats`](super::HashIndex::stats)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// Entries of the complete table answering lookups; `None` while none is complete.
    pub entries: Option<u64>,
    /// Complete builds since the start (start-up, retries, rotations, a followed pepper).
    pub builds: u64,
    /// How long the last complete build took, by the use case's clock.
    pub last_build: Option<Duration>,
}

impl super::HashIndex {
    /// The table's size and builds (the metrics listener reads it at each scrape).
    pub fn stats(&self) -> IndexStats {
        let state = self.read_state();
        IndexStats {
            entries: state
                .entries
                .as_ref()
                .map(|table| u64::try_from(table.len()).unwrap_or(u64::MAX)),
            builds: state.builds,
            last_build: state.last_build_ms.map(Duration::from_millis),
        }
    }
}
