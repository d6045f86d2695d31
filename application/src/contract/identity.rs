//! The contract of [`IdentityBackend`]: what every identity backend (`bindings`, `synapseSql`,
//! `memory`, and the LDAP, SQL, REST and exec stores to come) must answer, whatever stores its
//! 3PIDs.
//!
//! Each case is an async function taking a way to build the backend under test holding exactly
//! the given [`Identity`]s (an async closure, called once per case), and returns `Ok(())` or
//! the broken promise. [`identity_backend_contract!`](crate::identity_backend_contract) names
//! every case, so that a backend's tests run all of them, each as a test of its own:
//!
//! ```ignore
//! macro_rules! memory_contract {
//!     ($($case:ident),* $(,)?) => {$(
//!         #[tokio::test]
//!         async fn $case() {
//!             // `holding`: the test's own helper, the backend configured with these identities.
//!             let seeded = async |identities: Vec<Identity>| holding(identities, true);
//!             if let Err(failure) = verity_application::contract::identity::$case(seeded).await {
//!                 panic!("{failure}");
//!             }
//!         }
//!     )*};
//! }
//! verity_application::identity_backend_contract!(memory_contract);
//! ```
//!
//! The cases: [`lookups`] (canonical form, only what was asked, single and bulk, unknown media)
//! and [`feed`] (order, resuming, the raw rows, empty results).
//!
//! Left to each backend's own tests, because the port leaves them to the backend: what
//! `lookup_published` says beyond the user (when, the window, a signed association), how close
//! `feed_len` counts, how broken source data is reported (`BackendError::Corrupt`), and its
//! configuration (what its source holds but does not publish).
use std::collections::BTreeSet;

use verity_domain::{Medium, ThreePid, UserId};

use crate::ports::driven::{BackendError, Binding};

pub mod feed;
mod kept;
pub mod lookups;

pub use feed::*;
pub use kept::Kept;
pub use lookups::*;

/// Every case of the suite, for a backend's tests to run: `identity_backend_contract!(m)` calls
/// the caller's macro `m!` once with the name of every case, each a function of
/// [`verity_application::contract::identity`](crate::contract::identity). A case added here runs
/// on every backend.
#[macro_export]
macro_rules! identity_backend_contract {
    ($run:ident) => {
        $run! {
            every_seeded_3pid_is_found_under_its_user,
            an_email_written_with_capitals_is_found_and_answered_in_canonical_form,
            a_3pid_that_was_not_seeded_is_not_found,
            lookup_many_answers_exactly_the_asked_3pids_it_knows,
            lookup_many_of_more_3pids_than_one_query_holds_finds_them_all,
            lookup_many_of_nothing_is_empty,
            an_empty_backend_finds_nothing_and_feeds_nothing,
            the_feed_pages_through_every_3pid_in_medium_then_address_order,
            the_feed_resumes_strictly_after_any_3pid_held_or_not,
            a_zero_limit_feeds_nothing,
            the_raw_feed_hands_over_every_3pid_once_whatever_the_page_size,
        }
    };
}

/// A 3PID the backend under test is seeded with, and its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The 3PID in canonical form: what lookups ask for and what the backend must answer.
    pub threepid: ThreePid,
    /// The address as the backend's source may hold it: an email as its user typed it
    /// (`Alice@Example.ORG`). A backend whose source holds 3PIDs as typed (a Synapse database, a
    /// directory) stores this; one that keeps only canonical 3PIDs stores `threepid`.
    pub written: String,
    /// The Matrix user the 3PID is published for.
    pub user_id: UserId,
}

impl Identity {
    /// `address` of `medium` as written, published for `user_id`.
    ///
    /// # Errors
    /// [`ContractFailure::Setup`] when the three do not make a valid 3PID and user.
    pub fn new(medium: &str, written: &str, user_id: &str) -> Result<Self, ContractFailure> {
        let medium = Medium::parse(medium)
            .map_err(|_| ContractFailure::Setup(format!("invalid medium {medium:?}")))?;
        Ok(Self {
            threepid: threepid(medium, written)?,
            written: written.to_owned(),
            user_id: UserId::parse(user_id)
                .map_err(|_| ContractFailure::Setup(format!("invalid user ID {user_id:?}")))?,
        })
    }

    /// The binding lookups answer for this identity.
    pub fn binding(&self) -> Binding {
        Binding {
            threepid: self.threepid.clone(),
            user_id: self.user_id.clone(),
        }
    }
}

/// Why a backend does not keep the contract.
#[derive(Debug, thiserror::Error)]
pub enum ContractFailure {
    /// The backend answered something the contract forbids.
    #[error("the backend broke the contract: {0}")]
    Broken(String),
    /// The backend failed where it must answer.
    #[error("the backend failed: {0} ({0:?})")]
    Backend(#[from] BackendError),
    /// The suite could not build its own data (a bug in the suite).
    #[error("the contract suite's own data is invalid: {0}")]
    Setup(String),
}

/// `address` of `medium`, canonical.
fn threepid(medium: Medium, address: &str) -> Result<ThreePid, ContractFailure> {
    ThreePid::parse(medium.clone(), address)
        .map_err(|e| ContractFailure::Setup(format!("{medium}:{address}: {e}")))
}

/// The identities of `rows`, each `(medium, address as written, user ID)`.
fn identities(rows: &[(&str, &str, &str)]) -> Result<Vec<Identity>, ContractFailure> {
    rows.iter()
        .map(|(medium, written, user_id)| Identity::new(medium, written, user_id))
        .collect()
}

/// The bindings of `identities`, sorted.
fn bindings_of(identities: &[Identity]) -> Vec<Binding> {
    let mut bindings: Vec<Binding> = identities.iter().map(Identity::binding).collect();
    bindings.sort();
    bindings
}

/// Fails unless `actual` is `expected`, saying `what` was checked.
fn ensure_eq<T: PartialEq + Show>(
    actual: T,
    expected: T,
    what: &str,
) -> Result<(), ContractFailure> {
    if actual == expected {
        Ok(())
    } else {
        Err(ContractFailure::Broken(format!(
            "{what}\n  expected: {}\n  got:      {}",
            expected.show(),
            actual.show()
        )))
    }
}

/// A value as a failure shows it: 3PIDs in full, which their `Debug` hides (it is for logs).
trait Show {
    fn show(&self) -> String;
}

impl Show for Binding {
    fn show(&self) -> String {
        format!("{} -> {}", self.threepid, self.user_id.as_str())
    }
}

impl Show for UserId {
    fn show(&self) -> String {
        self.as_str().to_owned()
    }
}

impl Show for String {
    fn show(&self) -> String {
        format!("{self:?}")
    }
}

impl Show for usize {
    fn show(&self) -> String {
        self.to_string()
    }
}

impl<T: Show + ?Sized> Show for &T {
    fn show(&self) -> String {
        (**self).show()
    }
}

impl<T: Show> Show for Option<T> {
    fn show(&self) -> String {
        self.as_ref()
            .map_or_else(|| "nothing".to_owned(), Show::show)
    }
}

impl<T: Show> Show for Vec<T> {
    fn show(&self) -> String {
        format!(
            "[{}]",
            self.iter().map(Show::show).collect::<Vec<_>>().join(", ")
        )
    }
}

impl<T: Show> Show for BTreeSet<T> {
    fn show(&self) -> String {
        format!(
            "[{}]",
            self.iter().map(Show::show).collect::<Vec<_>>().join(", ")
        )
    }
}

/// Fails with `what` unless `condition` holds.
fn ensure(condition: bool, what: impl FnOnce() -> String) -> Result<(), ContractFailure> {
    if condition {
        Ok(())
    } else {
        Err(ContractFailure::Broken(what()))
    }
}

#[cfg(test)]
mod tests;
