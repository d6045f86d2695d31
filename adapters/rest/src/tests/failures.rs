//! Every way the service fails, each a typed error naming the key to fix, within the limits.
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use verity_application::ports::driven::{BackendError, HealthCheck, IdentityBackend};
use verity_testkit::rest_backend::Misbehave;

use super::{email, seeded};
use crate::{RestBackend, RestError};

/// The message of `error` and of its source, as a log shows them.
fn shown(error: &BackendError) -> String {
    match error {
        BackendError::Unavailable(source) => format!("{error}: {source}"),
        BackendError::Corrupt(message) => message.clone(),
    }
}

fn rest_error(error: &BackendError) -> &RestError {
    match error {
        BackendError::Unavailable(source) => source.downcast_ref::<RestError>().unwrap(),
        BackendError::Corrupt(message) => panic!("not a transport failure: {message}"),
    }
}

#[tokio::test]
async fn a_500_fails_the_lookup_naming_the_endpoint_key_and_shows_in_the_health_check() {
    let seeded = seeded(&[("email", "a@example.org", "localpart", "a")]).await;
    seeded.peer.misbehave(Misbehave::Status(500));
    let error = seeded
        .backend
        .lookup(&email("a@example.org"))
        .await
        .unwrap_err();
    assert!(matches!(
        rest_error(&error),
        RestError::Status { status: 500, .. }
    ));
    assert!(
        shown(&error).contains("rest.endpoints.identity.single"),
        "{}",
        shown(&error)
    );
    let error = seeded
        .backend
        .lookup_many(&[email("a@example.org")])
        .await
        .unwrap_err();
    assert!(
        shown(&error).contains("rest.endpoints.identity.bulk"),
        "{}",
        shown(&error)
    );
    assert!(seeded.backend.check().await.is_err());
    assert!(!seeded.backend.required());
    seeded.peer.misbehave(Misbehave::No);
    assert!(seeded.backend.check().await.is_ok());
}

#[tokio::test]
async fn malformed_answers_are_corrupt_naming_the_endpoint_key() {
    let seeded = seeded(&[]).await;
    for body in [
        "not json",
        "[]",
        r#"{"lookup": "alice"}"#,
        r#"{"lookup": {"medium": "email", "address": "a@example.org"}}"#,
        r#"{"lookup": {"id": {"type": "localpart"}}}"#,
    ] {
        seeded.peer.misbehave(Misbehave::Body(body.into()));
        let error = seeded
            .backend
            .lookup(&email("a@example.org"))
            .await
            .unwrap_err();
        assert!(
            matches!(&error, BackendError::Corrupt(message) if message.contains("rest.endpoints.identity.single")),
            "{body}: {error:?}"
        );
    }
    seeded
        .peer
        .misbehave(Misbehave::Body(r#"{"lookup": {}}"#.into()));
    assert!(
        seeded.backend.feed_len().await.is_err(),
        "`all` must answer a list"
    );
}

#[tokio::test]
async fn a_slow_backend_times_out_within_the_configured_timeout() {
    let seeded = seeded(&[("email", "a@example.org", "localpart", "a")]).await;
    let mut config = seeded.backend.config().clone();
    config.timeout = Duration::from_millis(300);
    let backend = RestBackend::new(config).unwrap();
    seeded
        .peer
        .misbehave(Misbehave::Slow(Duration::from_secs(5)));
    let began = Instant::now();
    let error = backend.lookup(&email("a@example.org")).await.unwrap_err();
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    assert!(
        matches!(rest_error(&error), RestError::Timeout { .. }),
        "{error:?}"
    );
    assert!(shown(&error).contains("rest.timeout"), "{}", shown(&error));
}

#[tokio::test]
async fn an_oversized_answer_is_refused_without_reading_it_whole() {
    let seeded = seeded(&[]).await;
    let mut config = seeded.backend.config().clone();
    config.max_response_bytes = 64 * 1024;
    let backend = RestBackend::new(config).unwrap();
    seeded
        .peer
        .misbehave(Misbehave::Oversized(10 * 1024 * 1024));
    let error = backend.feed_len().await.unwrap_err();
    assert!(
        matches!(rest_error(&error), RestError::TooLarge { limit: 65536, .. }),
        "{error:?}"
    );
    assert!(
        shown(&error).contains("rest.maxResponseBytes"),
        "{}",
        shown(&error)
    );
    // Under the limit, the same backend is read.
    seeded.peer.misbehave(Misbehave::Oversized(1024));
    assert_eq!(backend.feed_len().await.unwrap(), Some(0));
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let seeded = seeded(&[("email", "a@example.org", "localpart", "a")]).await;
    let target = format!(
        "{}/_ma1sd/backend/api/v1/identity/single",
        seeded.peer.url()
    );
    seeded.peer.misbehave(Misbehave::Redirect(target));
    let error = seeded
        .backend
        .lookup(&email("a@example.org"))
        .await
        .unwrap_err();
    assert!(
        matches!(rest_error(&error), RestError::Redirect { status: 302, .. }),
        "{error:?}"
    );
    assert_eq!(seeded.peer.received().len(), 1, "the redirect was followed");
}

#[tokio::test]
async fn a_backend_that_is_down_is_unavailable_and_the_error_never_shows_the_password() {
    let seeded = seeded(&[]).await;
    let mut config = seeded.backend.config().clone();
    let host = crate::parse_host(
        &seeded
            .peer
            .url()
            .replace("http://", "http://verity:s3cret@"),
    )
    .unwrap();
    config.endpoints.identity_single =
        crate::endpoint(Some(&host), "/_ma1sd/backend/api/v1/identity/single").unwrap();
    seeded.peer.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let backend = RestBackend::new(config).unwrap();
    let error = backend.lookup(&email("a@example.org")).await.unwrap_err();
    assert!(
        matches!(rest_error(&error), RestError::Transport { .. }),
        "{error:?}"
    );
    let shown = format!("{} {error:?}", shown(&error));
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("rest.endpoints.identity.single"), "{shown}");
}
