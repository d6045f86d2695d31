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

    /// The UTC calendar date and time of this instant (to the second).
    pub fn utc(self) -> UtcTime {
        UtcTime::from_unix(self.0 / 1000)
    }
}

impl std::fmt::Display for Timestamp {
    /// `2026-11-28T10:15:02Z`: what an operator reads in a command's output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = self.utc();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        )
    }
}

/// A UTC date and time, for file names, `Date:` lines and operators' output without a date
/// crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    /// The year.
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
    /// 0 (Sunday) to 6.
    pub weekday: usize,
    /// 0 to 23.
    pub hour: u64,
    /// 0 to 59.
    pub minute: u64,
    /// 0 to 59.
    pub second: u64,
}

impl UtcTime {
    /// The date and time `seconds` after the Unix epoch.
    pub fn from_unix(seconds: u64) -> Self {
        let days = i64::try_from(seconds / 86_400).unwrap_or_default();
        let rest = seconds % 86_400;
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
        let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year,
            month,
            day,
            // 1970-01-01 was a Thursday.
            weekday: usize::try_from((days + 4).rem_euclid(7)).unwrap_or_default(),
            hour: rest / 3600,
            minute: rest % 3600 / 60,
            second: rest % 60,
        }
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
    fn a_timestamp_prints_as_its_utc_date_and_time() {
        assert_eq!(
            Timestamp::from_millis(1_795_860_902_999).to_string(),
            "2026-11-28T10:15:02Z"
        );
        assert_eq!(
            Timestamp::from_millis(951_782_400_000).to_string(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(UtcTime::from_unix(0).weekday, 4);
    }

    #[test]
    fn adding_a_huge_duration_saturates_instead_of_wrapping() {
        let t = Timestamp::from_millis(u64::MAX - 1).saturating_add(Duration::from_secs(10));
        assert_eq!(t.as_millis(), u64::MAX);
    }
}
