use std::time::Duration;

/// A point in time as milliseconds since the Unix epoch, the unit the Matrix APIs use
/// (`validated_at`, `ts`, `not_before`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// Wraps milliseconds since the Unix epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// This instant moved back by `duration`, saturating at the epoch.
    pub fn saturating_sub(self, duration: Duration) -> Self {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        Self(self.0.saturating_sub(millis))
    }

    /// This instant moved forward by `duration`, saturating instead of overflowing.
    pub fn saturating_add(self, duration: Duration) -> Self {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        Self(self.0.saturating_add(millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_a_duration_moves_the_timestamp_forward_in_milliseconds() {
        let t = Timestamp::from_millis(1_000).saturating_add(Duration::from_secs(2));
        assert_eq!(t.as_millis(), 3_000);
    }

    #[test]
    fn subtracting_past_the_epoch_saturates_at_zero() {
        let t = Timestamp::from_millis(1_000);
        assert_eq!(
            t.saturating_sub(Duration::from_millis(400)).as_millis(),
            600
        );
        assert_eq!(t.saturating_sub(Duration::from_secs(5)).as_millis(), 0);
    }

    #[test]
    fn adding_a_huge_duration_saturates_instead_of_wrapping() {
        let t = Timestamp::from_millis(u64::MAX - 1).saturating_add(Duration::from_secs(10));
        assert_eq!(t.as_millis(), u64::MAX);
    }
}
