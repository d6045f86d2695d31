//! The application over mocked use cases, for the in-process endpoint tests.
use std::sync::Arc;

use poem::test::TestClient;
use verity_application::ports::driving::{
    MockAccounts, MockAssociation, MockInvites, MockKeys, MockLookup, MockStatus,
    MockUserDirectory, MockValidation,
};

use crate::{AppEndpoint, HttpConfig, HttpDeps, app};

/// Every use case mocked without expectations (any call fails the test), no remote sessions, no
/// allowed `next_link`: a test replaces the use cases it drives.
pub(crate) fn mocked_deps() -> HttpDeps {
    HttpDeps {
        status: Arc::new(MockStatus::new()),
        accounts: Arc::new(MockAccounts::new()),
        validation: Arc::new(MockValidation::new()),
        keys: Arc::new(MockKeys::new()),
        association: Arc::new(MockAssociation::new()),
        lookup: Arc::new(MockLookup::new()),
        limits: crate::test_support::admit_all(),
        invites: Arc::new(MockInvites::new()),
        user_directory: Arc::new(MockUserDirectory::new()),
        remote_sessions: None,
        registration: None,
        room_invites: None,
        next_link_allowed: Arc::from(Vec::new()),
        views: Arc::default(),
        public_url: Arc::from(""),
    }
}

/// The application over `deps` with v2 on, v1 on or off, and a 64 KiB body limit.
pub(crate) fn client(deps: &HttpDeps, v1: bool) -> TestClient<AppEndpoint> {
    let config = HttpConfig {
        max_body_bytes: 65536,
        v1,
        v2: true,
    };
    TestClient::new(app(deps, config))
}

/// Limits that admit everything (the tests of limits set their own).
pub(crate) fn admit_all() -> std::sync::Arc<dyn verity_application::ports::driving::Limits> {
    let mut limits = verity_application::ports::driving::MockLimits::new();
    limits.expect_admit().returning(|_, _| Ok(()));
    std::sync::Arc::new(limits)
}
