//! The suite passes a backend that keeps the contract and fails each kind of backend that does
//! not: a suite that cannot fail would prove nothing.
use async_trait::async_trait;
use verity_domain::{ThreePid, UserId};

use super::*;
use crate::ports::driven::{BackendError, FeedCursor, FeedRows, IdentityBackend};

/// How an in-test backend breaks the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    None,
    /// `lookup_many` adds a held binding nobody asked for.
    VolunteersABinding,
    /// `lookup` compares addresses as written, not in canonical form.
    ComparesAsWritten,
    /// `feed` orders by the 3PID type's own order (email, msisdn, then custom media).
    FeedsInDeclarationOrder,
    /// `feed_rows` starts over whatever the cursor (a feed that never ends).
    RawFeedStartsOver,
}

struct Listed {
    identities: Vec<Identity>,
    flaw: Flaw,
}

fn listed(flaw: Flaw) -> impl AsyncFnOnce(Vec<Identity>) -> Listed {
    async move |identities| Listed { identities, flaw }
}

#[async_trait]
impl IdentityBackend for Listed {
    fn name(&self) -> &'static str {
        "listed"
    }

    async fn lookup(&self, threepid: &ThreePid) -> Result<Option<UserId>, BackendError> {
        Ok(self
            .identities
            .iter()
            .find(|identity| match self.flaw {
                Flaw::ComparesAsWritten => {
                    identity.threepid.medium() == threepid.medium()
                        && identity.written == threepid.address()
                }
                _ => identity.threepid == *threepid,
            })
            .map(|identity| identity.user_id.clone()))
    }

    async fn lookup_many(&self, threepids: &[ThreePid]) -> Result<Vec<Binding>, BackendError> {
        let mut found: Vec<Binding> = self
            .identities
            .iter()
            .filter(|identity| threepids.contains(&identity.threepid))
            .map(Identity::binding)
            .collect();
        if self.flaw == Flaw::VolunteersABinding
            && let Some(first) = self.identities.first()
        {
            found.push(first.binding());
        }
        Ok(found)
    }

    async fn feed(
        &self,
        after: Option<ThreePid>,
        limit: u32,
    ) -> Result<Vec<Binding>, BackendError> {
        let mut all: Vec<Binding> = self.identities.iter().map(Identity::binding).collect();
        if self.flaw == Flaw::FeedsInDeclarationOrder {
            all.sort();
            if let Some(after) = after {
                all.retain(|binding| binding.threepid > after);
            }
        } else {
            all.sort_by_key(|binding| feed_key(&binding.threepid));
            if let Some(after) = after {
                all.retain(|binding| feed_key(&binding.threepid) > feed_key(&after));
            }
        }
        all.truncate(limit as usize);
        Ok(all)
    }

    async fn feed_rows(
        &self,
        after: Option<FeedCursor>,
        limit: u32,
        rows: &mut FeedRows,
    ) -> Result<(), BackendError> {
        let after = match (self.flaw, after) {
            (Flaw::RawFeedStartsOver, _) | (_, None) => None,
            (_, Some(FeedCursor::Key { medium, address })) => self
                .identities
                .iter()
                .find(|identity| feed_key(&identity.threepid) == (medium.clone(), address.clone()))
                .map(|identity| identity.threepid.clone()),
            (_, Some(FeedCursor::Position(_))) => unreachable!("never set"),
        };
        rows.clear();
        for binding in self.feed(after, limit).await? {
            rows.push(
                binding.threepid.medium().as_str(),
                binding.threepid.address(),
                binding.user_id.as_str(),
            );
        }
        Ok(())
    }
}

fn feed_key(threepid: &ThreePid) -> (String, String) {
    (
        threepid.medium().as_str().to_owned(),
        threepid.address().to_owned(),
    )
}

mod a_backend_that_keeps_the_contract {
    use super::{Flaw, listed};

    macro_rules! passes {
        ($($case:ident),* $(,)?) => {$(
            #[tokio::test]
            async fn $case() {
                if let Err(failure) = crate::contract::identity::$case(listed(Flaw::None)).await {
                    panic!("{failure}");
                }
            }
        )*};
    }

    crate::identity_backend_contract!(passes);
}

fn broken(result: Result<(), ContractFailure>) -> String {
    match result {
        Err(ContractFailure::Broken(what)) => what,
        other => panic!("expected the contract to be broken, got {other:?}"),
    }
}

#[tokio::test]
async fn a_backend_answering_a_3pid_that_was_not_asked_fails() {
    let what = broken(
        lookup_many_answers_exactly_the_asked_3pids_it_knows(listed(Flaw::VolunteersABinding))
            .await,
    );
    assert!(what.contains("alice@example.org"), "{what}");
    assert!(what.contains("not asked"), "{what}");
}

#[tokio::test]
async fn a_backend_comparing_emails_as_written_fails() {
    let what = broken(
        an_email_written_with_capitals_is_found_and_answered_in_canonical_form(listed(
            Flaw::ComparesAsWritten,
        ))
        .await,
    );
    assert!(what.contains("lookup of the canonical form"), "{what}");
}

#[tokio::test]
async fn a_feed_in_another_order_than_the_strings_fails() {
    let what = broken(
        the_feed_pages_through_every_3pid_in_medium_then_address_order(listed(
            Flaw::FeedsInDeclarationOrder,
        ))
        .await,
    );
    assert!(what.contains("the whole feed in pages of 1"), "{what}");
    broken(
        the_feed_resumes_strictly_after_any_3pid_held_or_not(listed(Flaw::FeedsInDeclarationOrder))
            .await,
    );
}

#[tokio::test]
async fn a_raw_feed_that_never_ends_fails_rather_than_hangs() {
    let what = broken(
        the_raw_feed_hands_over_every_3pid_once_whatever_the_page_size(listed(
            Flaw::RawFeedStartsOver,
        ))
        .await,
    );
    assert!(what.contains("does not end"), "{what}");
}

#[test]
fn the_suites_own_invalid_data_is_a_setup_failure_not_a_broken_backend() {
    assert!(matches!(
        Identity::new("email", "not an email", "@a:example.org"),
        Err(ContractFailure::Setup(_))
    ));
    assert!(matches!(
        Identity::new("Email", "a@example.org", "@a:example.org"),
        Err(ContractFailure::Setup(_))
    ));
}
