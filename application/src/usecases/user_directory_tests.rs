use std::sync::atomic::{AtomicU64, Ordering};

use mockall::predicate::{always, eq};
use pretty_assertions::assert_eq;
use verity_domain::{DirectoryEntry, ServerName, Timestamp, UserId};

use super::*;
use crate::ports::driven::{
    ClientApiVersion, Clock, HomeserverUser, MockClock, MockDirectorySearch, MockHomeserverAsUser,
    MockRateLimiter,
};
use crate::ports::driving::LimitExceeded;
use verity_domain::{LimitClass, LimitKey, RequesterKey, RetryAfter};

const T0: u64 = 1_700_000_000_000;

fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

fn token(raw: &str) -> HomeserverAccessToken {
    HomeserverAccessToken::parse(raw).unwrap()
}

fn route(host: &str) -> HomeserverRoute {
    HomeserverRoute {
        host: Some(ServerName::parse(host).unwrap()),
        version: ClientApiVersion::V3,
    }
}

fn term(raw: &str) -> SearchTerm {
    SearchTerm::parse(raw).unwrap()
}

fn found(ids: &[&str]) -> DirectoryResults {
    DirectoryResults {
        entries: ids
            .iter()
            .map(|id| DirectoryEntry::new(user(id), Some(format!("name of {id}"))))
            .collect(),
        limited: false,
    }
}

fn ids(results: &DirectoryResults) -> Vec<&str> {
    results.entries.iter().map(|e| e.user_id.as_str()).collect()
}

/// A clock the test moves.
fn clock(now: &Arc<AtomicU64>) -> Arc<dyn Clock> {
    let mut clock = MockClock::new();
    let now = now.clone();
    clock
        .expect_now()
        .returning(move || Timestamp::from_millis(now.load(Ordering::SeqCst)));
    Arc::new(clock)
}

fn service(
    homeserver: MockHomeserverAsUser,
    stores: Vec<MockDirectorySearch>,
    settings: UserDirectorySettings,
) -> UserDirectoryService {
    let now = Arc::new(AtomicU64::new(T0));
    service_at(homeserver, stores, settings, &now)
}

fn service_at(
    homeserver: MockHomeserverAsUser,
    stores: Vec<MockDirectorySearch>,
    settings: UserDirectorySettings,
    now: &Arc<AtomicU64>,
) -> UserDirectoryService {
    let mut limiter = MockRateLimiter::new();
    limiter.expect_check().returning(|_, _| Ok(()));
    with_limiter(homeserver, stores, settings, now, limiter)
}

fn with_limiter(
    homeserver: MockHomeserverAsUser,
    stores: Vec<MockDirectorySearch>,
    settings: UserDirectorySettings,
    now: &Arc<AtomicU64>,
    limiter: MockRateLimiter,
) -> UserDirectoryService {
    let homeserver = Arc::new(homeserver);
    let whoami = CachedWhoami::new(
        homeserver.clone(),
        clock(now),
        settings.whoami_lifetime,
        settings.whoami_capacity,
    );
    UserDirectoryService::new(
        homeserver,
        Arc::new(whoami),
        stores
            .into_iter()
            .map(|s| Arc::new(s) as Arc<dyn DirectorySearch>)
            .collect(),
        Arc::new(limiter),
        settings,
    )
}

fn caller() -> DirectoryCaller {
    DirectoryCaller {
        user_id: user("@me:example.org"),
        token: token("syt_me"),
        route: route("example.org"),
    }
}

/// A store answering `by_name` and `by_threepid`.
fn store(name: &'static str, by_name: &[&str], by_threepid: &[&str]) -> MockDirectorySearch {
    let mut store = MockDirectorySearch::new();
    store.expect_name().return_const(name);
    let (by_name, by_threepid) = (found(by_name), found(by_threepid));
    store
        .expect_search_by_name()
        .returning(move |_, _| Ok(by_name.clone()));
    store
        .expect_search_by_threepid()
        .returning(move |_, _| Ok(by_threepid.clone()));
    store
}

fn failing_store(name: &'static str) -> MockDirectorySearch {
    let mut store = MockDirectorySearch::new();
    store.expect_name().return_const(name);
    store
        .expect_search_by_name()
        .returning(|_, _| Err(BackendError::Corrupt("down".into())));
    store
        .expect_search_by_threepid()
        .returning(|_, _| Err(BackendError::Corrupt("down".into())));
    store
}

fn homeserver_finding(ids: &'static [&'static str]) -> MockHomeserverAsUser {
    let mut homeserver = MockHomeserverAsUser::new();
    homeserver
        .expect_search_user_directory()
        .returning(move |_, _, _, _| Ok(found(ids)));
    homeserver
}

#[tokio::test]
async fn a_token_the_homeserver_knows_is_its_users_and_the_answer_is_reused_until_it_runs_out() {
    let mut homeserver = MockHomeserverAsUser::new();
    homeserver
        .expect_whoami()
        .with(eq(route("example.org")), eq(token("syt_alice")))
        .times(2)
        .returning(|_, _| {
            Ok(HomeserverUser {
                user_id: user("@alice:example.org"),
                is_guest: false,
            })
        });
    let now = Arc::new(AtomicU64::new(T0));
    let service = service_at(homeserver, vec![], UserDirectorySettings::default(), &now);
    for _ in 0..3 {
        let caller = service
            .authenticate(token("syt_alice"), route("example.org"))
            .await
            .unwrap();
        assert_eq!(caller.user_id, user("@alice:example.org"));
        assert_eq!(caller.token, token("syt_alice"));
    }
    now.fetch_add(60_000, Ordering::SeqCst);
    service
        .authenticate(token("syt_alice"), route("example.org"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_rejected_token_is_unknown_and_the_rejection_is_cached_too() {
    let mut homeserver = MockHomeserverAsUser::new();
    homeserver
        .expect_whoami()
        .times(1)
        .returning(|_, _| Err(HomeserverAsUserError::TokenRejected));
    let service = service(homeserver, vec![], UserDirectorySettings::default());
    for _ in 0..2 {
        let refused = service
            .authenticate(token("syt_dead"), route("example.org"))
            .await;
        assert!(matches!(refused, Err(DirectoryError::UnknownToken)));
    }
}

#[tokio::test]
async fn a_homeserver_that_cannot_answer_refuses_the_search_and_is_asked_again_next_time() {
    let mut homeserver = MockHomeserverAsUser::new();
    homeserver.expect_whoami().times(2).returning(|_, _| {
        Err(HomeserverAsUserError::Unavailable(
            "connection refused".into(),
        ))
    });
    let service = service(homeserver, vec![], UserDirectorySettings::default());
    for _ in 0..2 {
        let refused = service
            .authenticate(token("syt_alice"), route("example.org"))
            .await;
        assert!(matches!(
            refused,
            Err(DirectoryError::HomeserverUnavailable)
        ));
    }
}

#[tokio::test]
async fn an_invalid_whoami_answer_is_never_taken_as_a_valid_token() {
    let mut homeserver = MockHomeserverAsUser::new();
    homeserver
        .expect_whoami()
        .returning(|_, _| Err(HomeserverAsUserError::InvalidResponse("no user_id".into())));
    let service = service(homeserver, vec![], UserDirectorySettings::default());
    let refused = service
        .authenticate(token("syt_alice"), route("example.org"))
        .await;
    assert!(matches!(
        refused,
        Err(DirectoryError::HomeserverUnavailable)
    ));
}

#[tokio::test]
async fn a_guest_may_not_search() {
    let mut homeserver = MockHomeserverAsUser::new();
    homeserver.expect_whoami().returning(|_, _| {
        Ok(HomeserverUser {
            user_id: user("@guest:example.org"),
            is_guest: true,
        })
    });
    let service = service(homeserver, vec![], UserDirectorySettings::default());
    let refused = service
        .authenticate(token("syt_guest"), route("example.org"))
        .await;
    assert!(matches!(refused, Err(DirectoryError::GuestAccessForbidden)));
}

#[tokio::test]
async fn the_same_token_sent_for_another_homeserver_is_checked_there() {
    let mut homeserver = MockHomeserverAsUser::new();
    homeserver
        .expect_whoami()
        .with(eq(route("example.org")), always())
        .times(1)
        .returning(|_, _| {
            Ok(HomeserverUser {
                user_id: user("@alice:example.org"),
                is_guest: false,
            })
        });
    homeserver
        .expect_whoami()
        .with(eq(route("other.example")), always())
        .times(1)
        .returning(|_, _| Err(HomeserverAsUserError::TokenRejected));
    let service = service(homeserver, vec![], UserDirectorySettings::default());
    assert!(
        service
            .authenticate(token("t"), route("example.org"))
            .await
            .is_ok()
    );
    assert!(
        service
            .authenticate(token("t"), route("other.example"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_cache_holds_at_most_its_capacity() {
    let mut homeserver = MockHomeserverAsUser::new();
    homeserver.expect_whoami().times(4).returning(|_, _| {
        Ok(HomeserverUser {
            user_id: user("@alice:example.org"),
            is_guest: false,
        })
    });
    let settings = UserDirectorySettings {
        whoami_capacity: 2,
        ..UserDirectorySettings::default()
    };
    let service = service(homeserver, vec![], settings);
    for raw in ["a", "b", "c"] {
        service
            .authenticate(token(raw), route("example.org"))
            .await
            .unwrap();
    }
    assert_eq!(service.whoami.len(), 2);
    // `a`, the oldest, was evicted: asked again (the fourth call).
    service
        .authenticate(token("a"), route("example.org"))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_homeserver_and_every_store_by_name_and_by_3pid_are_merged_without_the_searcher() {
    let mut homeserver = MockHomeserverAsUser::new();
    homeserver
        .expect_search_user_directory()
        .with(
            eq(route("example.org")),
            eq(token("syt_me")),
            eq(term("ali")),
            eq(SearchLimit::from_request(Some(5))),
        )
        .returning(|_, _, _, _| Ok(found(&["@me:example.org", "@hs:example.org"])));
    let ldap = store("ldap", &["@alice:example.org"], &["@hs:example.org"]);
    let rest = store("rest", &["@bob:example.org"], &["@carol:example.org"]);
    let service = service(
        homeserver,
        vec![ldap, rest],
        UserDirectorySettings::default(),
    );
    let results = service
        .search(&caller(), &term("@ali"), SearchLimit::from_request(Some(5)))
        .await
        .unwrap();
    assert_eq!(
        ids(&results),
        [
            "@hs:example.org",
            "@alice:example.org",
            "@bob:example.org",
            "@carol:example.org"
        ]
    );
    assert!(!results.limited);
}

#[tokio::test]
async fn the_limit_is_honoured_over_all_sources_and_says_limited() {
    let homeserver = homeserver_finding(&["@a:example.org", "@b:example.org"]);
    let ldap = store("ldap", &["@c:example.org"], &[]);
    let service = service(homeserver, vec![ldap], UserDirectorySettings::default());
    let results = service
        .search(&caller(), &term("x"), SearchLimit::from_request(Some(2)))
        .await
        .unwrap();
    assert_eq!(ids(&results), ["@a:example.org", "@b:example.org"]);
    assert!(results.limited);
}

#[tokio::test]
async fn an_excluded_homeserver_is_never_asked_and_excluded_3pids_are_never_searched() {
    let mut ldap = MockDirectorySearch::new();
    ldap.expect_name().return_const("ldap");
    ldap.expect_search_by_name()
        .times(1)
        .returning(|_, _| Ok(found(&["@alice:example.org"])));
    ldap.expect_search_by_threepid().never();
    let settings = UserDirectorySettings {
        exclude_homeserver: true,
        exclude_threepid: true,
        ..UserDirectorySettings::default()
    };
    // No expectation on the homeserver: a call would fail the test.
    let service = service(MockHomeserverAsUser::new(), vec![ldap], settings);
    let results = service
        .search(&caller(), &term("ali"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(ids(&results), ["@alice:example.org"]);
}

#[tokio::test]
async fn a_homeserver_without_a_directory_is_tolerated() {
    let mut homeserver = MockHomeserverAsUser::new();
    homeserver
        .expect_search_user_directory()
        .returning(|_, _, _, _| Err(HomeserverAsUserError::Unsupported));
    let service = service(
        homeserver,
        vec![store("memory", &["@alice:example.org"], &[])],
        UserDirectorySettings::default(),
    );
    let results = service
        .search(&caller(), &term("ali"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(ids(&results), ["@alice:example.org"]);
}

#[tokio::test]
async fn when_only_the_homeserver_directory_fails_the_stores_answer() {
    for failure in [
        HomeserverAsUserError::Unavailable("502".into()),
        HomeserverAsUserError::InvalidResponse("not JSON".into()),
        HomeserverAsUserError::TokenRejected,
    ] {
        let failure = std::sync::Mutex::new(Some(failure));
        let mut homeserver = MockHomeserverAsUser::new();
        homeserver
            .expect_search_user_directory()
            .returning(move |_, _, _, _| Err(failure.lock().unwrap().take().unwrap()));
        let service = service(
            homeserver,
            vec![store("ldap", &["@alice:example.org"], &[])],
            UserDirectorySettings::default(),
        );
        let results = service
            .search(&caller(), &term("ali"), SearchLimit::default())
            .await
            .unwrap();
        assert_eq!(ids(&results), ["@alice:example.org"]);
    }
}

#[tokio::test]
async fn a_failing_store_is_left_out_and_the_others_answer() {
    let service = service(
        homeserver_finding(&["@hs:example.org"]),
        vec![
            failing_store("ldap"),
            store("rest", &["@bob:example.org"], &[]),
        ],
        UserDirectorySettings::default(),
    );
    let results = service
        .search(&caller(), &term("b"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(ids(&results), ["@hs:example.org", "@bob:example.org"]);
}

#[tokio::test]
async fn when_every_source_fails_the_search_is_refused() {
    let mut homeserver = MockHomeserverAsUser::new();
    homeserver
        .expect_search_user_directory()
        .returning(|_, _, _, _| Err(HomeserverAsUserError::Unavailable("down".into())));
    let service = service(
        homeserver,
        vec![failing_store("ldap")],
        UserDirectorySettings::default(),
    );
    let refused = service
        .search(&caller(), &term("b"), SearchLimit::default())
        .await;
    assert!(matches!(refused, Err(DirectoryError::Unavailable)));
}

#[tokio::test]
async fn with_no_source_at_all_nobody_is_found() {
    let settings = UserDirectorySettings {
        exclude_homeserver: true,
        ..UserDirectorySettings::default()
    };
    let service = service(MockHomeserverAsUser::new(), vec![], settings);
    let results = service
        .search(&caller(), &term("b"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(results, DirectoryResults::default());
}

#[tokio::test]
async fn an_empty_term_finds_nobody_without_asking_anyone() {
    let mut ldap = MockDirectorySearch::new();
    ldap.expect_search_by_name().never();
    ldap.expect_search_by_threepid().never();
    let service = service(
        MockHomeserverAsUser::new(),
        vec![ldap],
        UserDirectorySettings::default(),
    );
    let results = service
        .search(&caller(), &term(" @ "), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(results, DirectoryResults::default());
}

#[tokio::test]
async fn a_user_who_searched_too_often_is_refused_with_the_wait_and_nothing_is_searched() {
    let mut ldap = MockDirectorySearch::new();
    ldap.expect_name().return_const("ldap");
    ldap.expect_search_by_name().never();
    ldap.expect_search_by_threepid().never();
    let mut homeserver = MockHomeserverAsUser::new();
    homeserver.expect_search_user_directory().never();
    let mut limiter = MockRateLimiter::new();
    let key = LimitKey::Requester(
        LimitClass::DirectorySearch,
        RequesterKey::Account(user("@me:example.org")),
    );
    limiter
        .expect_check()
        .with(eq(key), eq(1))
        .times(1)
        .returning(|_, _| Err(RetryAfter::new(std::time::Duration::from_millis(250))));
    let now = Arc::new(AtomicU64::new(T0));
    let service = with_limiter(
        homeserver,
        vec![ldap],
        UserDirectorySettings::default(),
        &now,
        limiter,
    );

    let refused = service
        .search(&caller(), &term("alice"), SearchLimit::default())
        .await;

    assert!(
        matches!(refused, Err(DirectoryError::Limited(LimitExceeded(wait))) if wait.as_millis() == 250),
        "{refused:?}"
    );
}

#[test]
fn a_caller_never_prints_its_token() {
    let shown = format!("{:?}", caller());
    assert!(!shown.contains("syt_me"), "{shown}");
    assert!(shown.contains("@me:example.org"), "{shown}");
}
