use verity_domain::Timestamp;

/// The current time. Use cases never read the system clock themselves, so expiry is testable.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in milliseconds since the Unix epoch.
    fn now(&self) -> Timestamp;
}
