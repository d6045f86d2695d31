//! The public types of the lookup hash table: its settings, what a rebuild does, and why it or a
//! lookup fails.
use std::time::Duration;

use crate::ports::driven::{BackendError, StoreError};

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

/// Why the table could not be read, built or updated.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The hash store failed.
    #[error("the lookup hash store failed")]
    Store(#[from] StoreError),
    /// A backend failed.
    #[error("an identity backend failed")]
    Backend(#[from] BackendError),
}

/// Why a hashed lookup cannot be answered from the table now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unanswered {
    /// The table of the published pepper is still being built (or its build failed and is
    /// retried): answering from part of it could say "not bound" of a bound address.
    NotReady,
    /// The lookup's pepper is not the published one (it changed since it was checked).
    OtherPepper(String),
}
