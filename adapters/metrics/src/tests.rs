use std::sync::Arc;
use std::time::Duration;

use verity_application::ports::driven::{
    Counted, HealthCheck, MockHealthCheck, MockNotificationConnector, MockRateLimiter,
    MockSessionStore, Notification, NotificationConnector, NotifyError, RateLimiter, SessionStore,
    SmsMessage, StoreError,
};
use verity_domain::{
    LimitKey, Medium, Msisdn, RetryAfter, SessionId, ThreePid, Timestamp, ValidationToken,
};

use super::*;

fn scrape(metrics: &Metrics) -> String {
    metrics.render().unwrap()
}

/// The sample line of `name` with exactly these labels (as written), if any.
fn sample(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
}

/// Metrics whose every family has a child (a family is written once it has one).
pub(crate) fn every_family() -> Metrics {
    let m = Metrics::new();
    m.observe_request("GET", "/", 200, Duration::ZERO);
    let connector = ConnectorLabels {
        medium: "email",
        connector: "smtp",
    };
    m.sent.get_or_create(&connector).inc();
    m.failed.get_or_create(&connector).inc();
    m.sessions_created
        .get_or_create(&MediumLabels { medium: "email" })
        .inc();
    m.limits_hit
        .get_or_create(&LimitLabels { limit: "bind" })
        .inc();
    m.invite_deliveries
        .get_or_create(&OutcomeLabels {
            outcome: "delivered",
        })
        .inc();
    let backend = BackendLabels { backend: "store" };
    m.backend_up.get_or_create(&backend).set(1);
    m.backend_check_seconds.get_or_create(&backend).observe(0.1);
    let operation = OperationLabels {
        backend: "bindings",
        operation: "lookup",
    };
    m.backend_seconds.get_or_create(&operation).observe(0.1);
    m.backend_errors.get_or_create(&operation).inc();
    m
}

#[test]
fn the_scrape_describes_every_metric_the_exporter_lists_and_no_other() {
    let text = scrape(&every_family());
    let described: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|line| line.split(' ').next())
        .collect();
    let mut expected = METRIC_NAMES.to_vec();
    expected.sort_unstable();
    let mut described_sorted = described.clone();
    described_sorted.sort_unstable();
    assert_eq!(described_sorted, expected);
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[test]
fn a_request_is_counted_by_method_route_template_and_status_and_timed() {
    let metrics = Metrics::new();
    let route = "/_matrix/identity/v2/pubkey/{keyId}";
    metrics.observe_request("GET", route, 200, Duration::from_millis(3));
    metrics.observe_request("GET", route, 200, Duration::from_millis(5));
    metrics.observe_request("GET", route, 404, Duration::from_millis(1));
    let text = scrape(&metrics);
    let labels = format!("method=\"GET\",route=\"{route}\"");
    assert_eq!(
        sample(
            &text,
            &format!("verity_http_requests_total{{{labels},status=\"200\"}}")
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &text,
            &format!("verity_http_requests_total{{{labels},status=\"404\"}}")
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            &format!("verity_http_request_duration_seconds_count{{{labels}}}")
        ),
        Some(3.0)
    );
}

#[test]
fn a_method_http_does_not_define_is_labelled_other() {
    let metrics = Metrics::new();
    metrics.observe_request("BREW", "unmatched", 405, Duration::ZERO);
    let text = scrape(&metrics);
    assert!(text.contains("method=\"other\""), "{text}");
    assert!(!text.contains("BREW"), "{text}");
}

#[test]
fn a_refusal_is_counted_under_the_limit_never_the_address_it_protects() {
    let metrics = Arc::new(Metrics::new());
    let mut inner = MockRateLimiter::new();
    inner
        .expect_check()
        .returning(|_, _| Err(RetryAfter::new(Duration::from_secs(1))));
    inner.expect_refund().times(1).return_const(());
    let limiter = MeteredLimiter::new(Arc::new(inner), metrics.clone());
    let victim = ThreePid::parse(Medium::Email, "victim@example.org").unwrap();
    let key = LimitKey::Destination(victim);
    assert!(limiter.check(&key, 1).is_err());
    limiter.refund(&key, 1);
    let text = scrape(&metrics);
    assert_eq!(
        sample(
            &text,
            "verity_limits_hit_total{limit=\"email_destination\"}"
        ),
        Some(1.0)
    );
    assert!(!text.contains("victim"), "{text}");
}

#[tokio::test]
async fn a_connector_s_failure_is_counted_as_failed_and_its_error_passed_on() {
    let metrics = Arc::new(Metrics::new());
    let mut inner = MockNotificationConnector::new();
    let mut calls = 0;
    inner.expect_send().times(2).returning(move |_| {
        calls += 1;
        if calls == 1 {
            Ok(())
        } else {
            Err(NotifyError::Unavailable("down".into()))
        }
    });
    let connector = MeteredConnector::new(Arc::new(inner), metrics.clone(), "twilio");
    let sms = Notification::Sms(SmsMessage {
        to: Msisdn::parse("447700900123").unwrap(),
        text: "123456".into(),
    });
    assert!(connector.send(&sms).await.is_ok());
    assert!(matches!(
        connector.send(&sms).await,
        Err(NotifyError::Unavailable(_))
    ));
    let text = scrape(&metrics);
    let labels = "{medium=\"msisdn\",connector=\"twilio\"}";
    assert_eq!(
        sample(&text, &format!("verity_notifications_sent_total{labels}")),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, &format!("verity_notifications_failed_total{labels}")),
        Some(1.0)
    );
    assert!(!text.contains("447700900123"), "{text}");
}

#[tokio::test]
async fn only_a_submission_that_validates_counts_a_validated_session() {
    let metrics = Arc::new(Metrics::new());
    let mut inner = MockSessionStore::new();
    let mut calls = 0;
    inner
        .expect_count_and_validate()
        .returning(move |_, _, _, _| {
            calls += 1;
            Ok(if calls == 1 {
                Counted::Refused { attempt: 1 }
            } else {
                Counted::Validated { attempt: 2 }
            })
        });
    let store = MeteredSessionStore::new(Arc::new(inner), metrics.clone());
    let sid = SessionId::parse("abcdef").unwrap();
    let token = ValidationToken::parse("123456").unwrap();
    let at = Timestamp::from_millis(0);
    assert_eq!(
        store.count_and_validate(&sid, &token, 5, at).await.unwrap(),
        Counted::Refused { attempt: 1 }
    );
    assert_eq!(
        sample(&scrape(&metrics), "verity_sessions_validated_total"),
        Some(0.0)
    );
    assert_eq!(
        store.count_and_validate(&sid, &token, 5, at).await.unwrap(),
        Counted::Validated { attempt: 2 }
    );
    assert_eq!(
        sample(&scrape(&metrics), "verity_sessions_validated_total"),
        Some(1.0)
    );
}

#[tokio::test]
async fn a_failing_health_check_is_down_and_still_fails() {
    let metrics = Arc::new(Metrics::new());
    let mut inner = MockHealthCheck::new();
    inner.expect_name().return_const("store");
    inner
        .expect_check()
        .returning(|| Err(StoreError::Unavailable("refused".into())));
    let check = MeteredHealthCheck::new(Arc::new(inner), metrics.clone());
    assert!(check.check().await.is_err());
    let text = scrape(&metrics);
    assert_eq!(
        sample(&text, "verity_backend_up{backend=\"store\"}"),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &text,
            "verity_backend_check_duration_seconds_count{backend=\"store\"}"
        ),
        Some(1.0)
    );
}

#[test]
fn the_hash_table_sample_sets_its_size_and_counts_each_build_once() {
    let metrics = Metrics::new();
    let sample_of = |builds| HashTableSample {
        entries: Some(42),
        builds,
        last_build: Some(Duration::from_millis(1500)),
    };
    metrics.set_hash_table(sample_of(2));
    metrics.set_hash_table(sample_of(2));
    let text = scrape(&metrics);
    assert_eq!(sample(&text, "verity_hash_table_entries"), Some(42.0));
    assert_eq!(sample(&text, "verity_hash_table_rebuilds_total"), Some(2.0));
    assert_eq!(
        sample(&text, "verity_hash_table_last_rebuild_seconds"),
        Some(1.5)
    );
}
