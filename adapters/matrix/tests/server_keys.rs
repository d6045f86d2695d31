//! `server_keys` against the testkit's fake homeserver: the key document is fetched like every
//! federation request and only returned when it is self-signed, names the server and is current.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use verity_adapter_matrix::{FederationConfig, ReqwestHomeserverClient};
use verity_application::ports::driven::{HomeserverClient, HomeserverError};
use verity_domain::{KeyId, ServerName};
use verity_testkit::homeserver::FakeHomeserver;

fn client(hs: &FakeHomeserver) -> ReqwestHomeserverClient {
    ReqwestHomeserverClient::new(FederationConfig {
        overrides: vec![("example.org".to_owned(), hs.base_url())],
        ..FederationConfig::default()
    })
    .unwrap()
}

fn fake_key() -> KeyId {
    KeyId::parse("ed25519:fake").unwrap()
}

fn example() -> ServerName {
    ServerName::parse("example.org").unwrap()
}

#[tokio::test]
async fn a_self_signed_key_document_gives_the_servers_keys() {
    let hs = FakeHomeserver::start().await;
    hs.sign_as("example.org");
    let keys = client(&hs)
        .server_keys(&example(), &fake_key())
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].0.as_str(), "ed25519:fake");
}

#[tokio::test]
async fn a_key_document_for_another_server_is_refused() {
    let hs = FakeHomeserver::start().await;
    hs.sign_as("impostor.example.org");
    let error = client(&hs)
        .server_keys(&example(), &fake_key())
        .await
        .unwrap_err();
    assert!(
        matches!(error, HomeserverError::InvalidResponse(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_server_without_keys_is_unreachable_for_this_purpose() {
    let hs = FakeHomeserver::start().await;
    let error = client(&hs)
        .server_keys(&example(), &fake_key())
        .await
        .unwrap_err();
    assert!(
        matches!(error, HomeserverError::Unreachable(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_private_address_is_refused_before_any_request() {
    let hs = FakeHomeserver::start().await;
    hs.sign_as(&hs.server_name());
    let plain = ReqwestHomeserverClient::new(FederationConfig::default()).unwrap();
    let error = plain
        .server_keys(&ServerName::parse(&hs.server_name()).unwrap(), &fake_key())
        .await
        .unwrap_err();
    assert!(matches!(error, HomeserverError::Blocked(_)), "{error:?}");
    assert!(hs.requests().is_empty());
}

/// A clock the test moves.
struct TestClock(std::sync::atomic::AtomicU64);

impl verity_application::ports::driven::Clock for TestClock {
    fn now(&self) -> verity_domain::Timestamp {
        verity_domain::Timestamp::from_millis(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

impl TestClock {
    fn starting_now() -> std::sync::Arc<Self> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        std::sync::Arc::new(Self(std::sync::atomic::AtomicU64::new(now)))
    }

    fn millis(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn set(&self, millis: u64) {
        self.0.store(millis, std::sync::atomic::Ordering::SeqCst);
    }
}

const MINUTE: u64 = 60_000;

#[tokio::test]
async fn keys_are_fetched_once_and_again_only_after_their_valid_until_ts() {
    let hs = FakeHomeserver::start().await;
    hs.sign_as("example.org");
    let clock = TestClock::starting_now();
    let t0 = clock.millis();
    hs.keys_valid_until(t0 + 10 * MINUTE);
    let client = client(&hs).with_clock(clock.clone());

    for _ in 0..3 {
        client.server_keys(&example(), &fake_key()).await.unwrap();
    }
    assert_eq!(hs.key_fetches(), 1, "served from the cache");

    clock.set(t0 + 10 * MINUTE - 1);
    client.server_keys(&example(), &fake_key()).await.unwrap();
    assert_eq!(hs.key_fetches(), 1, "still valid a millisecond before");

    // At valid_until_ts the keys may not be used any more: fetched again.
    hs.keys_valid_until(t0 + 60 * MINUTE);
    clock.set(t0 + 10 * MINUTE);
    client.server_keys(&example(), &fake_key()).await.unwrap();
    assert_eq!(hs.key_fetches(), 2);
    client.server_keys(&example(), &fake_key()).await.unwrap();
    assert_eq!(hs.key_fetches(), 2);
}

#[tokio::test]
async fn keys_valid_for_a_year_are_fetched_again_after_a_day() {
    let hs = FakeHomeserver::start().await;
    hs.sign_as("example.org");
    let clock = TestClock::starting_now();
    let t0 = clock.millis();
    hs.keys_valid_until(t0 + 365 * 24 * 60 * MINUTE);
    let client = client(&hs).with_clock(clock.clone());
    client.server_keys(&example(), &fake_key()).await.unwrap();
    clock.set(t0 + 24 * 60 * MINUTE - 1);
    client.server_keys(&example(), &fake_key()).await.unwrap();
    assert_eq!(hs.key_fetches(), 1);
    clock.set(t0 + 24 * 60 * MINUTE);
    client.server_keys(&example(), &fake_key()).await.unwrap();
    assert_eq!(hs.key_fetches(), 2);
}

#[tokio::test]
async fn a_key_the_cached_document_lacks_refetches_at_most_every_five_minutes() {
    let hs = FakeHomeserver::start().await;
    hs.sign_as("example.org");
    let clock = TestClock::starting_now();
    let t0 = clock.millis();
    hs.keys_valid_until(t0 + 60 * MINUTE);
    let client = client(&hs).with_clock(clock.clone());
    let made_up = KeyId::parse("ed25519:made_up").unwrap();
    client.server_keys(&example(), &fake_key()).await.unwrap();
    for _ in 0..5 {
        client.server_keys(&example(), &made_up).await.unwrap();
    }
    assert_eq!(hs.key_fetches(), 1);
    clock.set(t0 + 5 * MINUTE);
    client.server_keys(&example(), &made_up).await.unwrap();
    assert_eq!(hs.key_fetches(), 2);
}

#[tokio::test]
async fn a_refused_key_document_is_not_cached() {
    let hs = FakeHomeserver::start().await;
    hs.sign_as("impostor.example.org");
    let client = client(&hs);
    for _ in 0..2 {
        assert!(client.server_keys(&example(), &fake_key()).await.is_err());
    }
    assert_eq!(hs.key_fetches(), 2);
}
