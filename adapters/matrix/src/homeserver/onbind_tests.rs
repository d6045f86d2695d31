//! `3pid/onbind` against the testkit's fake homeserver (TLS, reached by name through fake DNS).
use std::sync::Arc;

use pretty_assertions::assert_eq;
use serde_json::json;
use verity_application::ports::driven::{HomeserverClient, HomeserverError};
use verity_domain::ServerName;
use verity_testkit::homeserver::FakeHomeserver;

use super::test_support::FakeDns;
use super::{FederationConfig, ReqwestHomeserverClient};

fn client(allowed: &[&str]) -> ReqwestHomeserverClient {
    let dns = Arc::new(FakeDns::new().host("hs.test", &["127.0.0.1"]));
    let config = FederationConfig {
        allowed_networks: allowed.iter().map(|net| net.parse().unwrap()).collect(),
        verify_tls: false,
        ..FederationConfig::default()
    };
    ReqwestHomeserverClient::with_dns(config, dns, None).unwrap()
}

fn body() -> verity_domain::JsonObject {
    verity_domain::JsonObject::from_value(
        json!({"medium": "email", "address": "a@example.org", "mxid": "@a:hs.test", "invites": []}),
    )
    .unwrap()
}

#[tokio::test]
async fn the_invites_are_posted_to_the_onbind_path_with_the_spec_host_header() {
    let homeserver = FakeHomeserver::builder().tls().start().await;
    let server = ServerName::parse(&format!("hs.test:{}", homeserver.port())).unwrap();

    client(&["127.0.0.0/8"])
        .onbind(&server, &body())
        .await
        .unwrap();

    assert_eq!(homeserver.onbind_calls(), vec![body().to_value()]);
    let requests = homeserver.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/_matrix/federation/v1/3pid/onbind");
    assert_eq!(requests[0].host, Some(server.to_string()));
}

#[tokio::test]
async fn a_refusal_is_an_error_to_retry() {
    let homeserver = FakeHomeserver::builder().tls().start().await;
    homeserver.fail_onbind(1, 500);
    let server = ServerName::parse(&format!("hs.test:{}", homeserver.port())).unwrap();
    let client = client(&["127.0.0.0/8"]);

    let error = client.onbind(&server, &body()).await.unwrap_err();
    assert!(
        matches!(error, HomeserverError::Unreachable(_)),
        "{error:?}"
    );
    client.onbind(&server, &body()).await.unwrap();
    assert_eq!(homeserver.onbind_calls().len(), 2);
}

#[tokio::test]
async fn a_homeserver_on_a_private_address_is_not_called() {
    let homeserver = FakeHomeserver::builder().tls().start().await;
    let server = ServerName::parse(&format!("hs.test:{}", homeserver.port())).unwrap();

    let error = client(&[]).onbind(&server, &body()).await.unwrap_err();

    assert!(matches!(error, HomeserverError::Blocked(_)), "{error:?}");
    assert!(homeserver.requests().is_empty());
}
