use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use mockall::predicate::eq;
use verity_domain::{InvalidMatrixId, PolicyDocument, Timestamp, TokenFingerprint};

use super::*;
use crate::ports::driven::{
    MockAccountStore, MockClock, MockHomeserverClient, MockSecretGenerator, MockTermsStore,
    OpenIdToken, StoreError,
};

const T0: u64 = 1_700_000_000_000;

struct Mocks {
    accounts: MockAccountStore,
    terms: MockTermsStore,
    homeserver: MockHomeserverClient,
    settings: AccountSettings,
    /// What the clock says, in milliseconds; tests move it forward.
    now: Arc<AtomicU64>,
}

fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

fn policy(name: &str, url: &str) -> TermsPolicy {
    TermsPolicy {
        name: name.into(),
        version: "1".into(),
        translations: BTreeMap::from([(
            "en".to_owned(),
            PolicyDocument {
                name: name.into(),
                url: url.into(),
            },
        )]),
    }
}

impl Mocks {
    fn new() -> Self {
        Self {
            accounts: MockAccountStore::new(),
            terms: MockTermsStore::new(),
            homeserver: MockHomeserverClient::new(),
            settings: AccountSettings {
                domain: MatrixDomain::parse("example.org").unwrap(),
                allow_only_trusted_domain: true,
                token_lifetime: None,
                policies: vec![],
                cache_lifetime: DEFAULT_ACCOUNT_CACHE_LIFETIME,
                cache_capacity: DEFAULT_ACCOUNT_CACHE_CAPACITY,
            },
            now: Arc::new(AtomicU64::new(T0)),
        }
    }

    fn vouching_for(mut self, sub: &'static str) -> Self {
        self.homeserver
            .expect_openid_userinfo()
            .returning(move |_, _| Ok(user(sub)));
        self
    }

    fn build(self) -> AccountService {
        let mut clock = MockClock::new();
        let now = self.now;
        clock
            .expect_now()
            .returning(move || Timestamp::from_millis(now.load(Ordering::SeqCst)));
        let mut secrets = MockSecretGenerator::new();
        secrets
            .expect_access_token()
            .returning(|| AccessToken::parse("issued").unwrap());
        AccountService::new(
            Arc::new(self.accounts),
            Arc::new(self.terms),
            Arc::new(self.homeserver),
            Arc::new(clock),
            Arc::new(secrets),
            self.settings,
        )
    }
}

fn registration(server: &str) -> Registration {
    Registration {
        access_token: OpenIdToken::new("openid"),
        matrix_server_name: server.into(),
    }
}

fn account(user_id: &str, expires_at: Option<u64>) -> Account {
    Account {
        token: AccessToken::parse("issued").unwrap().fingerprint(),
        user_id: user(user_id),
        created_at: Timestamp::from_millis(T0),
        expires_at: expires_at.map(Timestamp::from_millis),
    }
}

fn fingerprint() -> TokenFingerprint {
    AccessToken::parse("issued").unwrap().fingerprint()
}

#[tokio::test]
async fn registering_stores_only_the_fingerprint_of_the_issued_token() {
    let mut m = Mocks::new().vouching_for("@alice:example.org");
    m.accounts
        .expect_insert()
        .times(1)
        .withf(|a| {
            a.token == fingerprint()
                && a.user_id.as_str() == "@alice:example.org"
                && a.expires_at.is_none()
        })
        .returning(|_| Ok(()));
    let token = m
        .build()
        .register(registration("example.org"))
        .await
        .unwrap();
    assert_eq!(token.expose(), "issued");
}

#[tokio::test]
async fn a_token_lifetime_sets_the_expiry() {
    let mut m = Mocks::new().vouching_for("@alice:example.org");
    m.settings.token_lifetime = Some(Duration::from_secs(60));
    m.accounts
        .expect_insert()
        .withf(|a| a.expires_at == Some(Timestamp::from_millis(T0 + 60_000)))
        .times(1)
        .returning(|_| Ok(()));
    m.build()
        .register(registration("example.org"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_server_name_that_is_not_one_is_refused_before_any_request() {
    for bad in ["example.org/path", "user@example.org", "127.0.0.1:0", ""] {
        let mut m = Mocks::new();
        m.homeserver.expect_openid_userinfo().never();
        let error = m.build().register(registration(bad)).await.unwrap_err();
        assert!(
            matches!(error, RegistrationError::InvalidServerName(_)),
            "{bad}: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_numeric_server_name_is_refused_with_its_reason_before_any_request() {
    for bad in ["127.1", "0x7f.1", "2130706433", "0177.0.0.1:8448"] {
        let mut m = Mocks::new();
        m.homeserver.expect_openid_userinfo().never();
        let error = m.build().register(registration(bad)).await.unwrap_err();
        assert!(
            matches!(
                error,
                RegistrationError::InvalidServerName(InvalidMatrixId::NumericHost)
            ),
            "{bad}: {error:?}"
        );
        assert!(error.to_string().contains("IPv4"), "{error}");
    }
}

#[tokio::test]
async fn a_homeserver_vouching_for_another_servers_user_is_refused() {
    let mut m = Mocks::new().vouching_for("@victim:other.example");
    m.settings.allow_only_trusted_domain = false;
    m.accounts.expect_insert().never();
    let error = m
        .build()
        .register(registration("example.org"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistrationError::Unauthorized(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn only_local_users_register_while_only_trusted_domains_are_allowed() {
    let mut m = Mocks::new().vouching_for("@bob:elsewhere.example");
    m.accounts.expect_insert().never();
    let error = m
        .build()
        .register(registration("elsewhere.example"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistrationError::Unauthorized(_)),
        "{error:?}"
    );

    let mut open = Mocks::new().vouching_for("@bob:elsewhere.example");
    open.settings.allow_only_trusted_domain = false;
    open.accounts.expect_insert().returning(|_| Ok(()));
    open.build()
        .register(registration("elsewhere.example"))
        .await
        .unwrap();
}

#[tokio::test]
async fn homeserver_failures_map_to_their_registration_errors() {
    type Case = (fn() -> HomeserverError, fn(&RegistrationError) -> bool);
    let cases: [Case; 4] = [
        (
            || HomeserverError::TokenRejected,
            |e| matches!(e, RegistrationError::Unauthorized(_)),
        ),
        (
            || HomeserverError::Blocked("10.0.0.1".into()),
            |e| matches!(e, RegistrationError::DestinationBlocked),
        ),
        (
            || HomeserverError::Unreachable("down".into()),
            |e| matches!(e, RegistrationError::HomeserverUnavailable),
        ),
        (
            || HomeserverError::InvalidResponse("x".into()),
            |e| matches!(e, RegistrationError::HomeserverUnavailable),
        ),
    ];
    for (error, expected) in cases {
        let mut m = Mocks::new();
        m.homeserver
            .expect_openid_userinfo()
            .returning(move |_, _| Err(error()));
        m.accounts.expect_insert().never();
        let got = m
            .build()
            .register(registration("example.org"))
            .await
            .unwrap_err();
        assert!(expected(&got), "{got:?}");
    }
}

#[tokio::test]
async fn a_known_token_authenticates_its_user() {
    let mut m = Mocks::new();
    m.accounts
        .expect_find()
        .with(eq(fingerprint()))
        .returning(|_| Ok(Some(account("@alice:example.org", None))));
    let who = m
        .build()
        .authenticate(Some("issued".into()), true)
        .await
        .unwrap();
    assert_eq!(who.as_str(), "@alice:example.org");
}

#[tokio::test]
async fn missing_malformed_and_unknown_tokens_are_unauthorized() {
    for token in [
        None,
        Some(String::new()),
        Some("has space".into()),
        Some("unknown".into()),
    ] {
        let mut m = Mocks::new();
        m.accounts.expect_find().returning(|_| Ok(None));
        let error = m
            .build()
            .authenticate(token.clone(), false)
            .await
            .unwrap_err();
        assert!(
            matches!(error, AuthError::Unauthorized),
            "{token:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn an_expired_token_is_deleted_and_unauthorized() {
    let mut m = Mocks::new();
    m.accounts
        .expect_find()
        .returning(|_| Ok(Some(account("@alice:example.org", Some(T0)))));
    m.accounts
        .expect_delete()
        .with(eq(fingerprint()))
        .times(1)
        .returning(|_| Ok(true));
    let error = m
        .build()
        .authenticate(Some("issued".into()), false)
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::Unauthorized), "{error:?}");
}

#[tokio::test]
async fn unsigned_terms_block_gated_requests_but_not_ungated_ones() {
    let mut m = Mocks::new();
    m.settings.policies = vec![policy("tos", "https://example.org/tos-1")];
    m.accounts
        .expect_find()
        .returning(|_| Ok(Some(account("@alice:example.org", None))));
    m.terms.expect_accepted().returning(|_| Ok(BTreeSet::new()));
    let service = m.build();
    let error = service
        .authenticate(Some("issued".into()), true)
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::TermsNotSigned), "{error:?}");
    assert!(
        service
            .authenticate(Some("issued".into()), false)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn accepted_terms_let_gated_requests_through() {
    let mut m = Mocks::new();
    m.settings.policies = vec![policy("tos", "https://example.org/tos-1")];
    m.accounts
        .expect_find()
        .returning(|_| Ok(Some(account("@alice:example.org", None))));
    m.terms
        .expect_accepted()
        .returning(|_| Ok(BTreeSet::from(["https://example.org/tos-1".to_owned()])));
    assert!(
        m.build()
            .authenticate(Some("issued".into()), true)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn only_urls_of_configured_policies_are_recorded() {
    let mut m = Mocks::new();
    m.settings.policies = vec![policy("tos", "https://example.org/tos-1")];
    m.terms
        .expect_accept()
        .withf(|u, urls, _| {
            u.as_str() == "@alice:example.org" && urls == ["https://example.org/tos-1".to_owned()]
        })
        .times(1)
        .returning(|_, _, _| Ok(()));
    let urls = vec![
        "https://evil.example/x".to_owned(),
        "https://example.org/tos-1".to_owned(),
    ];
    m.build()
        .accept_terms(&user("@alice:example.org"), urls)
        .await
        .unwrap();
}

#[tokio::test]
async fn accepting_only_unknown_urls_writes_nothing() {
    let mut m = Mocks::new();
    m.terms.expect_accept().never();
    m.build()
        .accept_terms(&user("@alice:example.org"), vec!["https://x".into()])
        .await
        .unwrap();
}

#[tokio::test]
async fn logout_deletes_the_token_and_an_unknown_token_is_unauthorized() {
    let mut m = Mocks::new();
    let mut first = true;
    m.accounts.expect_delete().times(2).returning(move |_| {
        let deleted = first;
        first = false;
        Ok(deleted)
    });
    let service = m.build();
    service.logout(Some("issued".into())).await.unwrap();
    let error = service.logout(Some("issued".into())).await.unwrap_err();
    assert!(matches!(error, AuthError::Unauthorized), "{error:?}");
}

#[tokio::test]
async fn a_store_failure_is_internal() {
    let mut m = Mocks::new();
    m.accounts
        .expect_find()
        .returning(|_| Err(StoreError::Unavailable("down".into())));
    let error = m
        .build()
        .authenticate(Some("issued".into()), false)
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::Internal(_)), "{error:?}");
}

// The account cache (accountConfig.cacheLifetime, 10 s in these tests).

fn token(name: &str) -> TokenFingerprint {
    AccessToken::parse(name).unwrap().fingerprint()
}

/// A store that knows every token, as `@alice`, and expects `reads` reads of `name`.
fn expect_reads(m: &mut Mocks, name: &str, reads: usize) {
    m.accounts
        .expect_find()
        .with(eq(token(name)))
        .times(reads)
        .returning(|fingerprint| {
            Ok(Some(Account {
                token: fingerprint.clone(),
                ..account("@alice:example.org", None)
            }))
        });
}

async fn authenticates(service: &AccountService, name: &str) -> bool {
    service.authenticate(Some(name.into()), false).await.is_ok()
}

#[tokio::test]
async fn a_second_authentication_within_the_cache_lifetime_does_not_read_the_store() {
    let mut m = Mocks::new();
    expect_reads(&mut m, "issued", 1);
    let now = m.now.clone();
    let service = m.build();
    assert!(authenticates(&service, "issued").await);
    now.store(T0 + 9_999, Ordering::SeqCst);
    assert!(authenticates(&service, "issued").await);
}

#[tokio::test]
async fn once_the_cache_lifetime_has_passed_the_store_is_read_again() {
    let mut m = Mocks::new();
    expect_reads(&mut m, "issued", 2);
    let now = m.now.clone();
    let service = m.build();
    assert!(authenticates(&service, "issued").await);
    now.store(T0 + 10_000, Ordering::SeqCst);
    assert!(authenticates(&service, "issued").await);
    assert!(authenticates(&service, "issued").await, "cached again");
}

#[tokio::test]
async fn logout_evicts_the_cached_account_so_the_token_is_refused_at_once() {
    let mut m = Mocks::new();
    let mut stored = true;
    m.accounts.expect_find().times(2).returning(move |_| {
        let found = stored.then(|| account("@alice:example.org", None));
        stored = false;
        Ok(found)
    });
    m.accounts
        .expect_delete()
        .with(eq(fingerprint()))
        .times(1)
        .returning(|_| Ok(true));
    let service = m.build();
    assert!(authenticates(&service, "issued").await);
    service.logout(Some("issued".into())).await.unwrap();
    let error = service
        .authenticate(Some("issued".into()), false)
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::Unauthorized), "{error:?}");
}

#[tokio::test]
async fn a_cached_account_is_refused_once_its_token_expires() {
    let mut m = Mocks::new();
    m.accounts
        .expect_find()
        .times(1)
        .returning(|_| Ok(Some(account("@alice:example.org", Some(T0 + 5_000)))));
    m.accounts
        .expect_delete()
        .with(eq(fingerprint()))
        .times(1)
        .returning(|_| Ok(true));
    let now = m.now.clone();
    let service = m.build();
    assert!(authenticates(&service, "issued").await);
    now.store(T0 + 5_000, Ordering::SeqCst);
    let error = service
        .authenticate(Some("issued".into()), false)
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::Unauthorized), "{error:?}");
}

#[tokio::test]
async fn unknown_tokens_are_not_cached() {
    let mut m = Mocks::new();
    m.accounts.expect_find().times(2).returning(|_| Ok(None));
    let service = m.build();
    assert!(!authenticates(&service, "unknown").await);
    assert!(!authenticates(&service, "unknown").await);
}

#[tokio::test]
async fn the_cache_holds_at_most_its_capacity_and_evicts_the_oldest() {
    let mut m = Mocks::new();
    m.settings.cache_capacity = 2;
    expect_reads(&mut m, "first", 2);
    expect_reads(&mut m, "second", 1);
    expect_reads(&mut m, "third", 1);
    let service = m.build();
    for name in ["first", "second", "third", "first", "third"] {
        assert!(authenticates(&service, name).await, "{name}");
    }
    assert_eq!(service.cache.len(), 2);
}

#[tokio::test]
async fn a_zero_cache_lifetime_reads_the_store_every_time() {
    let mut m = Mocks::new();
    m.settings.cache_lifetime = Duration::ZERO;
    expect_reads(&mut m, "issued", 3);
    let service = m.build();
    for _ in 0..3 {
        assert!(authenticates(&service, "issued").await);
    }
}

#[tokio::test]
async fn signed_terms_are_read_once_while_the_account_is_cached() {
    let mut m = Mocks::new();
    m.settings.policies = vec![policy("tos", "https://example.org/tos-1")];
    expect_reads(&mut m, "issued", 1);
    m.terms
        .expect_accepted()
        .times(1)
        .returning(|_| Ok(BTreeSet::from(["https://example.org/tos-1".to_owned()])));
    let service = m.build();
    for _ in 0..3 {
        assert!(
            service
                .authenticate(Some("issued".into()), true)
                .await
                .is_ok()
        );
    }
}

#[tokio::test]
async fn unsigned_terms_are_read_again_on_every_request_until_they_are_signed() {
    let mut m = Mocks::new();
    m.settings.policies = vec![policy("tos", "https://example.org/tos-1")];
    expect_reads(&mut m, "issued", 1);
    let mut reads = 0;
    m.terms.expect_accepted().times(3).returning(move |_| {
        reads += 1;
        // Accepted (on any instance) between the second and the third request.
        Ok(if reads < 3 {
            BTreeSet::new()
        } else {
            BTreeSet::from(["https://example.org/tos-1".to_owned()])
        })
    });
    let service = m.build();
    for _ in 0..2 {
        let error = service
            .authenticate(Some("issued".into()), true)
            .await
            .unwrap_err();
        assert!(matches!(error, AuthError::TermsNotSigned), "{error:?}");
    }
    assert!(
        service
            .authenticate(Some("issued".into()), true)
            .await
            .is_ok()
    );
    assert!(
        service
            .authenticate(Some("issued".into()), true)
            .await
            .is_ok()
    );
}
