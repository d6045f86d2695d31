//! The table behind the ports the other use cases see it through: a bind or an unbind refreshes
//! it, a lookup reads it; only the start-up tasks hold the [`HashIndex`] itself.
use async_trait::async_trait;
use verity_domain::{Addresses, Pepper, ThreePid, UserId};

use super::{HashIndex, IndexError, Unanswered};
use crate::ports::driven::{HashLookups, IndexRefresh};

#[async_trait]
impl IndexRefresh for HashIndex {
    fn is_enabled(&self) -> bool {
        HashIndex::is_enabled(self)
    }

    async fn refresh(&self, threepid: &ThreePid) -> Result<(), IndexError> {
        HashIndex::refresh(self, threepid).await
    }
}

impl HashLookups for HashIndex {
    fn pepper(&self) -> Option<Pepper> {
        self.published().map(|table| table.pepper)
    }

    fn find(&self, pepper: &str, hashes: &Addresses) -> Result<Vec<(usize, UserId)>, Unanswered> {
        HashIndex::find(self, pepper, hashes)
    }

    fn count_lookup(&self) {
        HashIndex::count_lookup(self);
    }
}
