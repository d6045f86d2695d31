use pretty_assertions::assert_eq;
use verity_application::contract::identity::Identity;
use verity_domain::Medium;

use super::*;

/// The backend the configuration would build listing `identities`, each user's 3PIDs together.
fn holding(identities: Vec<Identity>, hash_enabled: bool) -> MemoryBackend {
    let mut by_user: BTreeMap<UserId, Vec<ThreePid>> = BTreeMap::new();
    for identity in identities {
        by_user
            .entry(identity.user_id)
            .or_default()
            .push(identity.threepid);
    }
    MemoryBackend::new(&MemorySettings {
        hash_enabled,
        identities: by_user
            .into_iter()
            .map(|(user_id, threepids)| MemoryIdentity::new(user_id, threepids))
            .collect(),
    })
}

/// The identity backend contract (`verity_application::contract::identity`), every case.
mod contract {
    use super::*;

    macro_rules! memory_contract {
        ($($case:ident),* $(,)?) => {$(
            #[tokio::test]
            async fn $case() {
                let seeded = async |identities: Vec<Identity>| holding(identities, true);
                if let Err(failure) = verity_application::contract::identity::$case(seeded).await {
                    panic!("{failure}");
                }
            }
        )*};
    }

    verity_application::identity_backend_contract!(memory_contract);
}

#[test]
fn the_backend_is_named_as_mxisd_named_the_section() {
    assert_eq!(holding(Vec::new(), true).name(), "memory");
}

#[tokio::test]
async fn without_hash_enabled_the_feed_is_empty_but_lookups_still_answer() {
    let bob = Identity::new("email", "bob@example.org", "@bob:example.org").unwrap();
    let memory = holding(vec![bob.clone()], false);
    assert!(memory.feed(None, 10).await.unwrap().is_empty());
    assert_eq!(
        memory.lookup(&bob.threepid).await.unwrap(),
        Some(bob.user_id.clone())
    );
    assert_eq!(
        memory
            .lookup_many(&[
                ThreePid::parse(Medium::Email, "eve@example.org").unwrap(),
                bob.threepid.clone()
            ])
            .await
            .unwrap(),
        vec![bob.binding()]
    );
}
