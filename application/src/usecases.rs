//! The services implementing the driving ports on top of the driven ones.

mod accounts;
mod admin;
mod association;
mod authentication;
mod backends;
mod binding_changes;
mod hash_index;
mod import;
mod invites;
mod keys;
mod limits;
mod lookup;
mod notifier;
mod registration_gate;
mod remote_sessions;
mod room_invite_gate;
mod sender_roles;
mod status;
mod timed_cache;
mod user_directory;
mod user_directory_cache;
mod validation;

#[cfg(test)]
mod invites_test_support;
#[cfg(test)]
mod test_support;

pub use accounts::{
    AccountService, AccountSettings, DEFAULT_ACCOUNT_CACHE_CAPACITY, DEFAULT_ACCOUNT_CACHE_LIFETIME,
};
pub use admin::{AdminDeps, AdminService, AdminSettings};
pub use association::{AssociationService, AssociationSettings};
pub use authentication::AuthenticationService;
pub use backends::Backends;
pub use binding_changes::{BindingFollower, CHANGES_KEPT, GAP_WAIT};
pub use hash_index::{HashIndex, HashingSettings, IndexError, IndexStats, Rebuild, RotationPolicy};
pub use import::{
    DEFAULT_PAGE_SIZE, ImportError, ImportOptions, ImportReport, ImportService, ImportTable,
    KeyOutcome, Progress, ProgressFn, RowIssue, TableReport,
};
pub use invites::{
    DEFAULT_DELIVERY_LEASE, DeliveryReport, DeliveryWake, InviteDeps, InviteService, InviteSettings,
};
pub use keys::{KeyService, KeyStartError};
pub use limits::LimitService;
pub use lookup::{DEFAULT_MAX_ADDRESSES, LookupService, LookupSettings, RecursionSettings};
pub use notifier::{MediumHandler, Notifier};
pub use registration_gate::RegistrationGateService;
pub use remote_sessions::RemoteSessionService;
pub use room_invite_gate::RoomInviteGateService;
pub use sender_roles::SenderRoleCheck;
pub use status::StatusService;
pub use user_directory::{
    DEFAULT_WHOAMI_CACHE_CAPACITY, DEFAULT_WHOAMI_CACHE_LIFETIME, UserDirectoryService,
    UserDirectorySettings,
};
pub use user_directory_cache::CachedWhoami;
pub use validation::{ValidationService, ValidationSettings};
