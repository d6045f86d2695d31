//! Ports the use cases drive: implemented by adapters, mocked in use-case tests.
//!
//! Every port is `Send + Sync` because one instance is shared by all request-handling tasks.

mod clock;
mod health;
mod secrets;
mod session_store;

pub use clock::Clock;
pub use health::HealthCheck;
pub use secrets::SecretGenerator;
pub use session_store::{SessionStore, StoreError};

#[cfg(any(test, feature = "mocks"))]
pub use clock::MockClock;
#[cfg(any(test, feature = "mocks"))]
pub use health::MockHealthCheck;
#[cfg(any(test, feature = "mocks"))]
pub use secrets::MockSecretGenerator;
#[cfg(any(test, feature = "mocks"))]
pub use session_store::MockSessionStore;
