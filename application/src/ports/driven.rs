//! Ports the use cases drive: implemented by adapters, mocked in use-case tests.
//!
//! Every port is `Send + Sync` because one instance is shared by all request-handling tasks.

mod account_store;
mod binding_store;
mod clock;
mod credentials;
mod directory_search;
mod hash_store;
mod health;
mod homeserver;
mod homeserver_as_user;
mod identity;
mod import;
mod invite_store;
mod key_store;
mod lookup_index;
mod notify;
mod pending_invites;
mod rate_limiter;
mod registration_relay;
mod remote_identity;
mod room_invite_relay;
mod secrets;
mod session_store;
mod signer;

pub use account_store::{AccountStore, TermsStore};
pub use binding_store::{BindingChange, BindingStore, StoredBinding};
pub use clock::Clock;
pub use credentials::{AccountName, PasswordVerdict, PasswordVerifier, ProfileSource};
pub use directory_search::DirectorySearch;
pub use hash_store::{HashEntry, HashStore, HashTable, SavedTable};
pub use health::HealthCheck;
pub use homeserver::{HomeserverClient, HomeserverError, OpenIdToken};
pub use homeserver_as_user::{
    ClientApiVersion, HomeserverAsUser, HomeserverAsUserError, HomeserverRoute, HomeserverUser,
};
pub use identity::{
    BackendError, Binding, FeedCursor, FeedRow, FeedRows, IdentityBackend, Published,
};
pub use import::{
    AcceptedTerms, ImportSink, ImportSource, ImportedBinding, ImportedInvite, PageOutcome,
    SourceCounts, SourceError, SourceRow,
};
pub use invite_store::InviteStore;
pub use key_store::{KeyStore, StoredKey};
pub use lookup_index::{HashLookups, IndexError, IndexRefresh, Unanswered};
pub use notify::{
    EmailMessage, InviteNotice, Notification, NotificationConnector, NotificationGenerator,
    NotifyError, SmsMessage, ValidationNotice,
};
pub use pending_invites::PendingInvites;
pub use rate_limiter::RateLimiter;
pub use registration_relay::{RegistrationRelay, RelayedAnswer, RelayedRequest};
pub use remote_identity::{RemoteError, RemoteIdentityServers, RemoteServer, RemoteTokenRequest};
pub use room_invite_relay::RoomInviteRelay;
pub use secrets::SecretGenerator;
pub use session_store::{Change, Counted, SessionStore, StoreError};
pub use signer::Signer;

#[cfg(any(test, feature = "mocks"))]
pub use account_store::{MockAccountStore, MockTermsStore};
#[cfg(any(test, feature = "mocks"))]
pub use binding_store::MockBindingStore;
#[cfg(any(test, feature = "mocks"))]
pub use clock::MockClock;
#[cfg(any(test, feature = "mocks"))]
pub use credentials::{MockPasswordVerifier, MockProfileSource};
#[cfg(any(test, feature = "mocks"))]
pub use directory_search::MockDirectorySearch;
#[cfg(any(test, feature = "mocks"))]
pub use hash_store::MockHashStore;
#[cfg(any(test, feature = "mocks"))]
pub use health::MockHealthCheck;
#[cfg(any(test, feature = "mocks"))]
pub use homeserver::MockHomeserverClient;
#[cfg(any(test, feature = "mocks"))]
pub use homeserver_as_user::MockHomeserverAsUser;
#[cfg(any(test, feature = "mocks"))]
pub use identity::MockIdentityBackend;
#[cfg(any(test, feature = "mocks"))]
pub use import::{MockImportSink, MockImportSource};
#[cfg(any(test, feature = "mocks"))]
pub use invite_store::MockInviteStore;
#[cfg(any(test, feature = "mocks"))]
pub use key_store::MockKeyStore;
#[cfg(any(test, feature = "mocks"))]
pub use lookup_index::{MockHashLookups, MockIndexRefresh};
#[cfg(any(test, feature = "mocks"))]
pub use notify::{MockNotificationConnector, MockNotificationGenerator};
#[cfg(any(test, feature = "mocks"))]
pub use pending_invites::MockPendingInvites;
#[cfg(any(test, feature = "mocks"))]
pub use rate_limiter::MockRateLimiter;
#[cfg(any(test, feature = "mocks"))]
pub use registration_relay::MockRegistrationRelay;
#[cfg(any(test, feature = "mocks"))]
pub use remote_identity::MockRemoteIdentityServers;
#[cfg(any(test, feature = "mocks"))]
pub use room_invite_relay::MockRoomInviteRelay;
#[cfg(any(test, feature = "mocks"))]
pub use secrets::MockSecretGenerator;
#[cfg(any(test, feature = "mocks"))]
pub use session_store::MockSessionStore;
#[cfg(any(test, feature = "mocks"))]
pub use signer::MockSigner;
