//! The REST backend against the testkit's fake REST service, a real HTTP server on loopback:
//! the identity backend contract (with the `identity.all` feed), ma1sd's id types, and every
//! way the service can fail.
use std::time::Duration;

use pretty_assertions::assert_eq;
use verity_application::contract::identity::{Identity, Kept};
use verity_application::ports::driven::{BackendError, Binding, IdentityBackend};
use verity_domain::{Medium, ThreePid, UserId};
use verity_testkit::rest_backend::{FakeRestBackend, Misbehave};

use crate::config::{
    DEFAULT_IDENTITY_BULK, DEFAULT_IDENTITY_SINGLE, MXISD_PREFIX, endpoint, parse_host,
};
use crate::{RestBackend, RestConfig};

mod auth;
mod directory;
mod failures;

/// A backend with the fake it asks, which lives as long as it.
pub(crate) type Seeded = Kept<RestBackend, FakeRestBackend>;

/// A configuration for the fake at `url`: ma1sd's default single and bulk paths, and `all` at
/// the same prefix.
pub(crate) fn config_for(url: &str) -> RestConfig {
    let host = parse_host(url).unwrap();
    let mut config = RestConfig::new("example.org");
    config.endpoints.identity_single = endpoint(Some(&host), DEFAULT_IDENTITY_SINGLE).unwrap();
    config.endpoints.identity_bulk = endpoint(Some(&host), DEFAULT_IDENTITY_BULK).unwrap();
    config.endpoints.identity_all =
        endpoint(Some(&host), "/_ma1sd/backend/api/v1/identity/all").unwrap();
    config.host = Some(host);
    config.timeout = Duration::from_secs(2);
    config
}

/// A fake holding `held` (medium, address as written, id type, id value) and a backend on it.
pub(crate) async fn seeded(held: &[(&str, &str, &str, &str)]) -> Seeded {
    let fake = FakeRestBackend::start().await;
    for (medium, address, kind, value) in held {
        fake.add(medium, address, kind, value);
    }
    let backend = RestBackend::new(config_for(&fake.url())).unwrap();
    Kept {
        backend,
        peer: fake,
    }
}

macro_rules! rest_contract {
    ($($case:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $case() {
            let seeded = async |identities: Vec<Identity>| {
                let fake = FakeRestBackend::start().await;
                for identity in &identities {
                    fake.add(
                        identity.threepid.medium().as_str(),
                        &identity.written,
                        "mxid",
                        identity.user_id.as_str(),
                    );
                }
                let backend = RestBackend::new(config_for(&fake.url())).unwrap();
                Kept { backend, peer: fake }
            };
            if let Err(failure) = verity_application::contract::identity::$case(seeded).await {
                panic!("{failure}");
            }
        }
    )*};
}
verity_application::identity_backend_contract!(rest_contract);

fn email(address: &str) -> ThreePid {
    ThreePid::parse(Medium::Email, address).unwrap()
}

fn msisdn(digits: &str) -> ThreePid {
    ThreePid::parse(Medium::Msisdn, digits).unwrap()
}

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

#[tokio::test]
async fn a_single_lookup_posts_ma1sds_body_and_completes_a_localpart_with_the_matrix_domain() {
    let seeded = seeded(&[("email", "alice@example.org", "localpart", "alice")]).await;
    let found = seeded
        .backend
        .lookup(&email("Alice@Example.org"))
        .await
        .unwrap();
    assert_eq!(found, Some(user("@alice:example.org")));
    let received = seeded.peer.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].path, "_ma1sd/backend/api/v1/identity/single");
    assert_eq!(
        received[0].body,
        serde_json::json!({"lookup": {"medium": "email", "address": "alice@example.org"}})
    );
}

#[tokio::test]
async fn id_types_are_read_as_ma1sd_reads_them_ignoring_case_and_taking_anything_else_as_a_whole_id()
 {
    let seeded = seeded(&[
        ("email", "upper@example.org", "LocalPart", "Upper"),
        (
            "email",
            "mxid@example.org",
            "mxid",
            "@someone:other.example",
        ),
        ("email", "untyped@example.org", "", "@untyped:example.org"),
        (
            "email",
            "unknown@example.org",
            "email",
            "unknown@example.org",
        ),
        ("email", "spaced@example.org", "localpart", "has space"),
    ])
    .await;
    let lookup = async |address: &str| seeded.backend.lookup(&email(address)).await;
    // The localpart's case is kept, as ma1sd kept it.
    assert_eq!(
        lookup("upper@example.org").await.unwrap(),
        Some(user("@Upper:example.org"))
    );
    assert_eq!(
        lookup("mxid@example.org").await.unwrap(),
        Some(user("@someone:other.example"))
    );
    assert_eq!(
        lookup("untyped@example.org").await.unwrap(),
        Some(user("@untyped:example.org"))
    );
    // An unknown type is read as `mxid`, and this value is no user ID.
    assert!(matches!(
        lookup("unknown@example.org").await,
        Err(BackendError::Corrupt(message)) if message.contains("rest.endpoints.identity.single")
    ));
    assert!(matches!(
        lookup("spaced@example.org").await,
        Err(BackendError::Corrupt(_))
    ));
}

#[tokio::test]
async fn an_empty_object_a_null_lookup_and_a_404_are_not_found() {
    let seeded = seeded(&[]).await;
    let asked = email("nobody@example.org");
    assert_eq!(seeded.backend.lookup(&asked).await.unwrap(), None);
    seeded
        .peer
        .misbehave(Misbehave::Body(r#"{"lookup":null}"#.into()));
    assert_eq!(seeded.backend.lookup(&asked).await.unwrap(), None);
    seeded.peer.misbehave(Misbehave::Status(404));
    assert_eq!(seeded.backend.lookup(&asked).await.unwrap(), None);
    assert_eq!(seeded.backend.lookup_many(&[asked]).await.unwrap(), vec![]);
}

#[tokio::test]
async fn a_bulk_lookup_is_one_request_and_only_the_asked_3pids_are_believed() {
    let seeded = seeded(&[
        ("email", "Alice@Example.org", "localpart", "alice"),
        ("msisdn", "+44 7700 900123", "mxid", "@bob:example.org"),
    ])
    .await;
    let asked = [
        email("alice@example.org"),
        msisdn("447700900123"),
        email("x@example.org"),
    ];
    let found = seeded.backend.lookup_many(&asked).await.unwrap();
    assert_eq!(
        found,
        vec![
            Binding {
                threepid: email("alice@example.org"),
                user_id: user("@alice:example.org")
            },
            Binding {
                threepid: msisdn("447700900123"),
                user_id: user("@bob:example.org")
            },
        ]
    );
    let received = seeded.peer.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].path, "_ma1sd/backend/api/v1/identity/bulk");
    assert_eq!(received[0].body["lookup"].as_array().map(Vec::len), Some(3));

    // A backend answering 3PIDs it was not asked about is not believed for them.
    seeded.peer.misbehave(Misbehave::Body(
        r#"{"lookup":[{"medium":"email","address":"alice@example.org","id":{"type":"mxid","value":"@alice:example.org"}},
                      {"medium":"email","address":"eve@example.org","id":{"type":"mxid","value":"@eve:example.org"}},
                      {"medium":"email","address":"x@example.org"}]}"#
            .into(),
    ));
    let found = seeded.backend.lookup_many(&asked).await.unwrap();
    assert_eq!(
        found,
        vec![Binding {
            threepid: email("alice@example.org"),
            user_id: user("@alice:example.org")
        }]
    );
}

#[tokio::test]
async fn the_mxisd_prefix_works_when_the_endpoints_are_written_with_it() {
    let fake = FakeRestBackend::start().await;
    fake.add("email", "alice@example.org", "localpart", "alice");
    let host = parse_host(&fake.url()).unwrap();
    let mut config = RestConfig::new("example.org");
    config.endpoints.identity_single =
        endpoint(Some(&host), &format!("{MXISD_PREFIX}/identity/single")).unwrap();
    let backend = RestBackend::new(config).unwrap();
    let found = backend.lookup(&email("alice@example.org")).await.unwrap();
    assert_eq!(found, Some(user("@alice:example.org")));
    assert_eq!(
        fake.received()[0].path,
        "_mxisd/backend/api/v1/identity/single"
    );
}

#[tokio::test]
async fn a_password_in_the_host_is_sent_as_basic_credentials_and_never_shown() {
    let fake = FakeRestBackend::start().await;
    let host = parse_host(&fake.url().replace("http://", "http://verity:s3cret@")).unwrap();
    let mut config = RestConfig::new("example.org");
    config.endpoints.identity_single = endpoint(Some(&host), DEFAULT_IDENTITY_SINGLE).unwrap();
    let shown = format!("{config:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("verity:redacted@"), "{shown}");
    let backend = RestBackend::new(config).unwrap();
    backend.lookup(&email("a@example.org")).await.unwrap();
    // base64("verity:s3cret")
    assert_eq!(
        fake.received()[0].authorization.as_deref(),
        Some("Basic dmVyaXR5OnMzY3JldA==")
    );
}

#[tokio::test]
async fn endpoints_switched_off_ask_nothing_and_find_nothing() {
    let fake = FakeRestBackend::start().await;
    fake.add("email", "alice@example.org", "localpart", "alice");
    let backend = RestBackend::new(RestConfig::new("example.org")).unwrap();
    let asked = email("alice@example.org");
    assert_eq!(backend.lookup(&asked).await.unwrap(), None);
    assert_eq!(backend.lookup_many(&[asked]).await.unwrap(), vec![]);
    assert_eq!(backend.feed(None, 10).await.unwrap(), vec![]);
    assert_eq!(backend.feed_len().await.unwrap(), Some(0));
    assert!(backend.health().await.is_ok());
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn the_feed_reads_identity_all_once_and_pages_from_memory() {
    let seeded = seeded(&[
        ("email", "B@example.org", "localpart", "b"),
        ("email", "a@example.org", "mxid", "@a:example.org"),
        ("msisdn", "+1 202 555 0143", "localpart", "c"),
        ("email", "broken", "localpart", "d"),
    ])
    .await;
    assert_eq!(seeded.backend.feed_len().await.unwrap(), Some(3));
    let first = seeded.backend.feed(None, 2).await.unwrap();
    let rest = seeded
        .backend
        .feed(Some(first[1].threepid.clone()), 2)
        .await
        .unwrap();
    assert_eq!(
        [first, rest].concat(),
        vec![
            Binding {
                threepid: email("a@example.org"),
                user_id: user("@a:example.org")
            },
            Binding {
                threepid: email("b@example.org"),
                user_id: user("@b:example.org")
            },
            Binding {
                threepid: msisdn("12025550143"),
                user_id: user("@c:example.org")
            },
        ]
    );
    let received = seeded.peer.received();
    assert_eq!(
        received.len(),
        1,
        "feed_len's read serves the feed: {received:?}"
    );
    assert_eq!(received[0].path, "_ma1sd/backend/api/v1/identity/all");
    assert_eq!(received[0].body, serde_json::json!({}));
}

#[tokio::test]
async fn an_address_that_looks_like_json_or_a_query_is_sent_as_a_json_string_and_finds_nothing() {
    let seeded = seeded(&[("email", "alice@example.org", "localpart", "alice")]).await;
    let hostile = ThreePid::parse(
        Medium::parse("m.handle").unwrap(),
        r#"x"},"id":{"type":"mxid","value":"@eve:example.org"}"#,
    )
    .unwrap();
    assert_eq!(seeded.backend.lookup(&hostile).await.unwrap(), None);
    let wildcard = email("*'||'1'='1@example.org");
    assert_eq!(
        seeded.backend.lookup_many(&[wildcard]).await.unwrap(),
        vec![]
    );
    let received = seeded.peer.received();
    assert_eq!(
        received[0].body,
        serde_json::json!({"lookup": {"medium": "m.handle", "address": hostile.address()}})
    );
    assert_eq!(
        received[1].body,
        serde_json::json!({"lookup": [{"medium": "email", "address": "*'||'1'='1@example.org"}]})
    );
}
