//! Following a pepper published in the store by someone else: `verity admin pepper rotate`,
//! which writes the new pepper while the servers run, or another instance on the same database
//! whose rotation policy made one. The store is the one place the pepper is decided; each
//! instance builds the stored pepper's table and swaps it in with the pepper at once, as its
//! own rotation does, so the old pepper and its table answer until then.
use std::sync::atomic::Ordering;

use super::{HashIndex, IndexError, Target};

impl HashIndex {
    /// When the store publishes another pepper than this index, builds its table and swaps both
    /// in (the stored pepper is not published again). Returns whether it did; `false` when
    /// hashing is off, a rebuild is running (it is looked at again at the next call), or the
    /// store publishes this index's pepper.
    ///
    /// # Errors
    /// [`IndexError`] when the store or a backend fails; the published pepper keeps answering.
    pub async fn follow_stored_pepper(&self) -> Result<bool, IndexError> {
        if !self.settings.enabled || self.rebuilding.load(Ordering::Acquire) {
            return Ok(false);
        }
        let Some(stored) = self.hashes.published().await? else {
            return Ok(false);
        };
        if self
            .published()
            .is_some_and(|published| published.pepper == stored.pepper)
        {
            return Ok(false);
        }
        tracing::info!(
            generation = stored.generation,
            "the stored lookup pepper changed (verity admin pepper rotate, or another \
             instance's rotation): building its table; the current pepper answers until then"
        );
        self.rebuild_to(Target::Stored(stored)).await
    }
}
