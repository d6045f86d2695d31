//! `server_keys` against the testkit's fake homeserver: the key document is fetched like every
//! federation request and only returned when it is self-signed, names the server and is current.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use verity_adapter_matrix::{FederationConfig, ReqwestHomeserverClient};
use verity_application::ports::driven::{HomeserverClient, HomeserverError};
use verity_domain::ServerName;
use verity_testkit::homeserver::FakeHomeserver;

fn client(hs: &FakeHomeserver) -> ReqwestHomeserverClient {
    ReqwestHomeserverClient::new(FederationConfig {
        overrides: vec![("example.org".to_owned(), hs.base_url())],
        ..FederationConfig::default()
    })
    .unwrap()
}

fn example() -> ServerName {
    ServerName::parse("example.org").unwrap()
}

#[tokio::test]
async fn a_self_signed_key_document_gives_the_servers_keys() {
    let hs = FakeHomeserver::start().await;
    hs.sign_as("example.org");
    let keys = client(&hs).server_keys(&example()).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].0.as_str(), "ed25519:fake");
}

#[tokio::test]
async fn a_key_document_for_another_server_is_refused() {
    let hs = FakeHomeserver::start().await;
    hs.sign_as("impostor.example.org");
    let error = client(&hs).server_keys(&example()).await.unwrap_err();
    assert!(
        matches!(error, HomeserverError::InvalidResponse(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_server_without_keys_is_unreachable_for_this_purpose() {
    let hs = FakeHomeserver::start().await;
    let error = client(&hs).server_keys(&example()).await.unwrap_err();
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
        .server_keys(&ServerName::parse(&hs.server_name()).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(error, HomeserverError::Blocked(_)), "{error:?}");
    assert!(hs.requests().is_empty());
}
