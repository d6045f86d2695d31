use std::sync::Arc;

use pretty_assertions::assert_eq;
use serde_json::json;
use verity_domain::{
    Addresses, Association, LookupHash, Medium, Pepper, Requester, Timestamp, UserId,
};

use super::*;
use crate::ports::driven::MockSigner;
use crate::ports::driven::{IdentityBackend, MockClock, MockIdentityBackend};
use crate::usecases::hash_index::{HashIndex, HashingSettings, Rebuild, RotationPolicy};
use crate::usecases::test_support::{
    CountingPeppers, FakeBackend, FakeClock, FakeHashStore, binding, email, user,
};

const NOW: u64 = 1_700_000_000_000;

fn both() -> Vec<LookupAlgorithm> {
    vec![LookupAlgorithm::None, LookupAlgorithm::Sha256]
}

fn settings(max_addresses: usize, algorithms: Vec<LookupAlgorithm>) -> LookupSettings {
    LookupSettings {
        max_addresses,
        algorithms,
    }
}

/// An index published over `indexed` (pepper `pepper1`), its table built, with hashing on or
/// off.
async fn index(indexed: &[Binding], enabled: bool) -> Arc<HashIndex> {
    let index = Arc::new(HashIndex::new(
        Arc::new(FakeHashStore::default()),
        Backends::new(vec![
            FakeBackend::new("bindings", indexed) as Arc<dyn IdentityBackend>
        ]),
        Arc::new(CountingPeppers::default()),
        FakeClock::at(NOW),
        HashingSettings {
            enabled,
            pepper_length: 20,
            rotation: RotationPolicy::PerRequests(2),
            page_size: 100,
        },
    ));
    index.start().await.unwrap();
    index.rebuild(Rebuild::SamePepper).await.unwrap();
    index
}

fn service(
    index: Arc<HashIndex>,
    backends: Vec<Arc<dyn IdentityBackend>>,
    settings: LookupSettings,
) -> LookupService {
    let mut clock = MockClock::new();
    clock.expect_now().returning(|| Timestamp::from_millis(NOW));
    let mut keys = MockSigner::new();
    keys.expect_sign().returning(|object| {
        let signed = object.with_member(
            "signatures",
            json!({"id.example.org": {"ed25519:0": "sig"}}),
        );
        Ok(verity_domain::SignedJson::parse(signed.as_str()).unwrap())
    });
    LookupService::new(
        index,
        Backends::new(backends),
        Arc::new(keys),
        Arc::new(clock),
        settings,
    )
}

fn hash(address: &str) -> String {
    LookupHash::of(&email(address), &Pepper::parse("pepper1").unwrap())
        .as_str()
        .to_owned()
}

fn request(algorithm: &str, pepper: &str, addresses: &[String]) -> LookupRequest {
    LookupRequest {
        algorithm: algorithm.into(),
        pepper: pepper.into(),
        addresses: addresses.iter().collect(),
    }
}

/// A requester whose lookups are never forwarded.
fn nobody() -> Requester {
    Requester::unknown()
}

/// A backend that must never be asked.
fn untouchable() -> Arc<dyn IdentityBackend> {
    let mut backend = MockIdentityBackend::new();
    backend.expect_name().return_const("untouchable");
    Arc::new(backend)
}

#[tokio::test]
async fn hash_details_give_the_published_pepper_and_the_algorithms() {
    let index = index(&[], true).await;
    let service = service(index, vec![], settings(10, both()));
    assert_eq!(
        service.hash_details().await,
        HashDetails {
            lookup_pepper: "pepper1".into(),
            algorithms: both(),
        }
    );
}

#[tokio::test]
async fn sha256_lookups_answer_the_asked_hashes_from_the_table_without_asking_the_backends() {
    let index = index(
        &[
            binding("alice@example.org", "@alice:example.org"),
            binding("bob@example.org", "@bob:example.org"),
        ],
        true,
    )
    .await;
    let service = service(index, vec![untouchable()], settings(10, both()));
    let asked = [
        hash("alice@example.org"),
        hash("nobody@example.org"),
        "not even a hash".to_owned(),
        hash("alice@example.org"),
    ];
    let mappings = service
        .lookup(request("sha256", "pepper1", &asked), &nobody())
        .await
        .unwrap();
    assert_eq!(
        mappings,
        BTreeMap::from([(hash("alice@example.org"), user("@alice:example.org"))])
    );
}

/// An index over `indexed` that has loaded its pepper (`pepper1`) but not built its table yet:
/// the state right after a start.
async fn building(indexed: &[Binding]) -> Arc<HashIndex> {
    let index = Arc::new(HashIndex::new(
        Arc::new(FakeHashStore::default()),
        Backends::new(vec![
            FakeBackend::new("bindings", indexed) as Arc<dyn IdentityBackend>
        ]),
        Arc::new(CountingPeppers::default()),
        FakeClock::at(NOW),
        HashingSettings {
            enabled: true,
            pepper_length: 20,
            rotation: RotationPolicy::Never,
            page_size: 100,
        },
    ));
    assert!(index.start().await.unwrap(), "a build is due");
    index
}

#[tokio::test]
async fn while_the_table_is_built_a_sha256_lookup_is_refused_as_retryable_never_answered_empty() {
    let index = building(&[binding("alice@example.org", "@alice:example.org")]).await;
    let service = service(index.clone(), vec![untouchable()], settings(10, both()));
    assert_eq!(
        service.hash_details().await.lookup_pepper,
        "pepper1",
        "the pepper is given at once"
    );
    let asked = [hash("alice@example.org"), hash("nobody@example.org")];
    let err = service
        .lookup(request("sha256", "pepper1", &asked), &nobody())
        .await
        .unwrap_err();
    assert!(matches!(err, LookupError::NotReady), "{err:?}");

    index.rebuild(Rebuild::SamePepper).await.unwrap();
    let mappings = service
        .lookup(request("sha256", "pepper1", &asked), &nobody())
        .await
        .unwrap();
    assert_eq!(
        mappings,
        BTreeMap::from([(hash("alice@example.org"), user("@alice:example.org"))])
    );
}

#[tokio::test]
async fn while_the_table_is_built_none_lookups_are_answered_through_the_backends() {
    let index = building(&[]).await;
    let backend = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let service = service(index, vec![backend], settings(10, both()));
    let mappings = service
        .lookup(
            request("none", "pepper1", &["a@example.org email".to_owned()]),
            &nobody(),
        )
        .await
        .unwrap();
    assert_eq!(
        mappings,
        BTreeMap::from([("a@example.org email".to_owned(), user("@a:example.org"))])
    );
}

#[tokio::test]
async fn a_lookup_whose_pepper_rotated_after_it_was_checked_is_told_the_new_one() {
    let index = index(&[binding("a@example.org", "@a:example.org")], true).await;
    index.rebuild(Rebuild::NewPepper).await.unwrap();
    let asked = Addresses::from_iter([hash("a@example.org")]);
    assert_eq!(
        index.find("pepper1", &asked),
        Err(Unanswered::OtherPepper("pepper2".into()))
    );
}

#[tokio::test]
async fn a_wrong_pepper_is_refused_with_the_current_one() {
    let index = index(&[], true).await;
    let service = service(index, vec![], settings(10, both()));
    for algorithm in ["sha256", "none"] {
        let err = service
            .lookup(request(algorithm, "stale", &[]), &nobody())
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                LookupError::InvalidPepper { algorithm: a, lookup_pepper }
                    if a.as_str() == algorithm && lookup_pepper == "pepper1"
            ),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn an_algorithm_not_offered_is_refused() {
    let index = index(&[], true).await;
    let service = service(index, vec![], settings(10, vec![LookupAlgorithm::Sha256]));
    for algorithm in ["md5", "SHA256", "none"] {
        let err = service
            .lookup(request(algorithm, "pepper1", &[]), &nobody())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, LookupError::UnsupportedAlgorithm(a) if a == algorithm),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn too_many_addresses_are_refused_before_anything_else() {
    let index = index(&[], true).await;
    let service = service(index, vec![untouchable()], settings(2, both()));
    let three = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
    let err = service
        .lookup(request("md5", "wrong", &three), &nobody())
        .await
        .unwrap_err();
    assert!(matches!(err, LookupError::TooLarge { max: 2 }), "{err:?}");
    let err = service
        .lookup_bulk(&vec![email("a@b.c"); 3], &nobody())
        .await
        .unwrap_err();
    assert!(matches!(err, LookupError::TooLarge { max: 2 }), "{err:?}");
}

#[tokio::test]
async fn none_lookups_pass_the_unresolved_rest_to_the_next_backend_and_echo_the_client_strings() {
    let index = index(&[], true).await;
    let mut first = MockIdentityBackend::new();
    first.expect_name().return_const("memory");
    first
        .expect_lookup_many()
        .withf(|asked| asked == [email("alice@example.org"), email("bob@example.org")])
        .times(1)
        .returning(|_| Ok(vec![binding("alice@example.org", "@alice:memory.example")]));
    let mut second = MockIdentityBackend::new();
    second.expect_name().return_const("bindings");
    second
        .expect_lookup_many()
        .withf(|asked| asked == [email("bob@example.org")])
        .times(1)
        .returning(|_| {
            Ok(vec![
                binding("bob@example.org", "@bob:example.org"),
                // Not asked: never answered.
                binding("eve@example.org", "@eve:example.org"),
            ])
        });
    let service = service(
        index,
        vec![Arc::new(first), Arc::new(second)],
        settings(10, both()),
    );
    let asked = [
        "Alice@Example.org email".to_owned(),
        "bob@example.org email".to_owned(),
        "not-an-email email".to_owned(),
    ];
    let mappings = service
        .lookup(request("none", "pepper1", &asked), &nobody())
        .await
        .unwrap();
    assert_eq!(
        mappings,
        BTreeMap::from([
            (
                "Alice@Example.org email".to_owned(),
                user("@alice:memory.example")
            ),
            ("bob@example.org email".to_owned(), user("@bob:example.org")),
        ])
    );
}

#[tokio::test]
async fn a_none_entry_that_is_not_an_address_and_a_medium_is_refused() {
    let index = index(&[], true).await;
    let service = service(index, vec![untouchable()], settings(10, both()));
    let err = service
        .lookup(
            request("none", "pepper1", &["alice@example.org".to_owned()]),
            &nobody(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, LookupError::MalformedEntry(_)), "{err:?}");
}

#[tokio::test]
async fn with_hashing_off_the_pepper_is_empty_and_only_none_is_offered() {
    let index = index(&[], false).await;
    let backend = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let service = service(
        index,
        vec![backend],
        settings(10, vec![LookupAlgorithm::None]),
    );
    let details = service.hash_details().await;
    assert_eq!(details.lookup_pepper, "");
    let found = service
        .lookup(
            request("none", "", &["a@example.org email".to_owned()]),
            &nobody(),
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let err = service
        .lookup(request("sha256", "", &[]), &nobody())
        .await
        .unwrap_err();
    assert!(
        matches!(err, LookupError::UnsupportedAlgorithm(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn lookups_count_towards_a_per_requests_rotation() {
    let index = index(&[], true).await;
    let service = service(index.clone(), vec![], settings(10, both()));
    service
        .lookup(request("sha256", "pepper1", &[]), &nobody())
        .await
        .unwrap();
    // A refused lookup does not count.
    service
        .lookup(request("sha256", "stale", &[]), &nobody())
        .await
        .unwrap_err();
    assert!(!index.rotation_due());
    service
        .lookup(request("sha256", "pepper1", &[]), &nobody())
        .await
        .unwrap();
    assert!(index.rotation_due());
}

#[tokio::test]
async fn the_v1_lookup_answers_a_signed_association_or_nothing() {
    let index = index(&[], true).await;
    let backend = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let service = service(index, vec![backend], settings(10, both()));
    let signed = service
        .lookup_signed(&email("a@example.org"), &nobody())
        .await
        .unwrap()
        .unwrap()
        .to_value();
    assert_eq!(signed["mxid"], "@a:example.org");
    assert_eq!(signed["address"], "a@example.org");
    assert_eq!(signed["ts"], NOW);
    assert_eq!(signed["signatures"]["id.example.org"]["ed25519:0"], "sig");
    assert_eq!(
        service
            .lookup_signed(&email("b@example.org"), &nobody())
            .await
            .unwrap(),
        None
    );
}

/// sydent hands out the association made at bind time; a fresh `ts` on every lookup made the
/// same binding look re-made and its signature change.
#[tokio::test]
async fn the_v1_lookup_answers_the_association_made_at_bind_time_not_a_new_one() {
    const BOUND: u64 = NOW - 86_400_000;
    let index = index(&[], true).await;
    let backend = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    backend.bound_at(Timestamp::from_millis(BOUND));
    let service = service(index, vec![backend], settings(10, both()));
    let signed = service
        .lookup_signed(&email("a@example.org"), &nobody())
        .await
        .unwrap()
        .unwrap()
        .to_value();
    let made_at_bind = Association::vouched_at(
        email("a@example.org"),
        UserId::parse("@a:example.org").unwrap(),
        Timestamp::from_millis(BOUND),
    );
    assert_eq!(signed["ts"], BOUND);
    assert_eq!(signed["not_before"], BOUND);
    let mut unsigned = signed.clone();
    unsigned.as_object_mut().unwrap().remove("signatures");
    assert_eq!(unsigned, made_at_bind.to_json());
}

#[tokio::test]
async fn the_v1_bulk_lookup_answers_in_the_order_asked_and_skips_a_failing_backend() {
    let index = index(&[], true).await;
    let broken = FakeBackend::new("synapseSql", &[]);
    broken.fail();
    let backend = FakeBackend::new(
        "bindings",
        &[
            binding("a@example.org", "@a:example.org"),
            binding("b@example.org", "@b:example.org"),
        ],
    );
    let phone = ThreePid::parse(Medium::Msisdn, "447911123456").unwrap();
    let service = service(index, vec![broken, backend], settings(10, both()));
    let found = service
        .lookup_bulk(
            &[
                email("b@example.org"),
                phone,
                email("a@example.org"),
                email("b@example.org"),
            ],
            &nobody(),
        )
        .await
        .unwrap();
    assert_eq!(
        found,
        vec![
            binding("b@example.org", "@b:example.org"),
            binding("a@example.org", "@a:example.org"),
        ]
    );
}

#[tokio::test]
async fn lookups_fail_when_every_backend_fails() {
    let index = index(&[], true).await;
    let broken = FakeBackend::new("bindings", &[]);
    broken.fail();
    let service = service(index, vec![broken], settings(10, both()));
    assert!(matches!(
        service
            .lookup_signed(&email("a@example.org"), &nobody())
            .await,
        Err(LookupError::Backend(_))
    ));
    assert!(matches!(
        service
            .lookup_bulk(&[email("a@example.org")], &nobody())
            .await,
        Err(LookupError::Backend(_))
    ));
}

#[path = "lookup_recursion_tests.rs"]
mod recursion;

#[path = "lookup_stored_tests.rs"]
mod stored;
