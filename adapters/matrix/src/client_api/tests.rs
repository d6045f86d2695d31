//! [`ReqwestHomeserverAsUser`] against a fake homeserver's client API on loopback.
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;
use verity_application::ports::driven::ClientApiVersion;
use verity_domain::ServerName;
use verity_testkit::client_api::{FakeClientApi, Reply};

use super::*;

fn config(overrides: Vec<(String, String)>) -> ClientApiConfig {
    ClientApiConfig {
        overrides,
        matrix_domain: "example.org".to_owned(),
        verify_tls: true,
        timeout: Duration::from_secs(5),
        max_response_bytes: 64 * 1024,
        trusted_proxies: vec![verity_domain::IpNetwork::parse("10.0.0.0/8").unwrap()],
    }
}

/// A client sending requests for `matrix.example.org` to `fake`.
fn client_of(fake: &FakeClientApi) -> ReqwestHomeserverAsUser {
    ReqwestHomeserverAsUser::new(config(vec![("matrix.example.org".to_owned(), fake.url())]))
        .unwrap()
}

fn route(host: Option<&str>, version: ClientApiVersion) -> HomeserverRoute {
    HomeserverRoute {
        host: host.map(|host| ServerName::parse(host).unwrap()),
        version,
    }
}

fn called() -> HomeserverRoute {
    route(Some("matrix.example.org:443"), ClientApiVersion::V3)
}

fn token(raw: &str) -> HomeserverAccessToken {
    HomeserverAccessToken::parse(raw).unwrap()
}

#[tokio::test]
async fn whoami_asks_the_homeserver_the_host_maps_to_with_the_token_in_the_header_only() {
    let fake = FakeClientApi::start().await;
    fake.user("syt_alice", "@alice:example.org");
    let user = client_of(&fake)
        .whoami(&called(), &token("syt_alice"))
        .await
        .unwrap();
    assert_eq!(user.user_id.as_str(), "@alice:example.org");
    assert!(!user.is_guest);
    let asked = fake.requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].path, "/_matrix/client/v3/account/whoami");
    assert_eq!(asked[0].bearer.as_deref(), Some("syt_alice"));
    assert!(!asked[0].token_in_query);
}

#[tokio::test]
async fn the_homeserver_is_asked_on_the_api_version_the_client_called() {
    let fake = FakeClientApi::start().await;
    fake.user("t", "@alice:example.org");
    client_of(&fake)
        .whoami(
            &route(Some("matrix.example.org"), ClientApiVersion::R0),
            &token("t"),
        )
        .await
        .unwrap();
    assert_eq!(fake.requests()[0].path, "/_matrix/client/r0/account/whoami");
}

#[tokio::test]
async fn an_unknown_token_is_rejected_and_a_guest_is_said_to_be_one() {
    let fake = FakeClientApi::start().await;
    fake.guest("syt_guest", "@g:example.org");
    let client = client_of(&fake);
    assert!(matches!(
        client.whoami(&called(), &token("syt_nobody")).await,
        Err(HomeserverAsUserError::TokenRejected)
    ));
    assert!(
        client
            .whoami(&called(), &token("syt_guest"))
            .await
            .unwrap()
            .is_guest
    );
}

#[tokio::test]
async fn a_failing_or_nonsensical_whoami_is_never_a_user() {
    let fake = FakeClientApi::start().await;
    let client = client_of(&fake);
    fake.whoami_replies(Reply::error(502, "M_UNKNOWN"));
    assert!(matches!(
        client.whoami(&called(), &token("t")).await,
        Err(HomeserverAsUserError::Unavailable(_))
    ));
    fake.whoami_replies(Reply::Fixed {
        status: 200,
        body: json!({"user_id": "nobody"}).to_string(),
    });
    assert!(matches!(
        client.whoami(&called(), &token("t")).await,
        Err(HomeserverAsUserError::InvalidResponse(_))
    ));
    fake.whoami_replies(Reply::Fixed {
        status: 200,
        body: format!(
            "{{\"user_id\":\"@a:x.org\",\"pad\":\"{}\"}}",
            "x".repeat(70_000)
        ),
    });
    assert!(matches!(
        client.whoami(&called(), &token("t")).await,
        Err(HomeserverAsUserError::InvalidResponse(_))
    ));
}

#[tokio::test]
async fn a_homeserver_that_is_down_is_unavailable() {
    let fake = FakeClientApi::start().await;
    let url = fake.url();
    drop(fake);
    let client =
        ReqwestHomeserverAsUser::new(config(vec![("matrix.example.org".to_owned(), url)])).unwrap();
    assert!(matches!(
        client.whoami(&called(), &token("t")).await,
        Err(HomeserverAsUserError::Unavailable(_))
    ));
}

#[tokio::test]
async fn the_directory_search_sends_the_term_and_limit_and_reads_the_people() {
    let fake = FakeClientApi::start().await;
    fake.user("t", "@me:example.org")
        .person(
            "@alice:example.org",
            Some("Alice"),
            Some("mxc://example.org/a"),
        )
        .person("@alan:example.org", None, None)
        .person("@bob:example.org", Some("Bob"), None);
    let term = SearchTerm::parse("al").unwrap();
    let results = client_of(&fake)
        .search_user_directory(
            &called(),
            &token("t"),
            &term,
            SearchLimit::from_request(Some(1)),
        )
        .await
        .unwrap();
    assert_eq!(results.entries.len(), 1);
    assert_eq!(results.entries[0].user_id.as_str(), "@alice:example.org");
    assert_eq!(
        results.entries[0].avatar_url.as_deref(),
        Some("mxc://example.org/a")
    );
    assert!(results.limited);
    let sent = fake.requests_to("/user_directory/search");
    assert_eq!(sent[0].body, json!({"search_term": "al", "limit": 1}));
    assert_eq!(sent[0].bearer.as_deref(), Some("t"));
}

#[tokio::test]
async fn a_homeserver_without_a_directory_says_so_and_other_failures_are_told_apart() {
    let fake = FakeClientApi::start().await;
    let client = client_of(&fake);
    let term = SearchTerm::parse("al").unwrap();
    let (route, token) = (called(), token("t"));
    let search = || client.search_user_directory(&route, &token, &term, SearchLimit::default());
    fake.directory_replies(Reply::error(404, "M_UNRECOGNIZED"));
    assert!(matches!(
        search().await,
        Err(HomeserverAsUserError::Unsupported)
    ));
    fake.directory_replies(Reply::error(500, "M_UNKNOWN"));
    assert!(matches!(
        search().await,
        Err(HomeserverAsUserError::Unavailable(_))
    ));
    fake.directory_replies(Reply::Fixed {
        status: 200,
        body: "[]".to_owned(),
    });
    assert!(matches!(
        search().await,
        Err(HomeserverAsUserError::InvalidResponse(_))
    ));
}

#[tokio::test]
async fn without_an_entry_for_the_host_the_well_known_of_the_matrix_domain_is_used_once() {
    let fake = FakeClientApi::start().await;
    fake.user("t", "@alice:example.org");
    fake.well_known(&fake.url());
    let client = ReqwestHomeserverAsUser::new(config(vec![]))
        .unwrap()
        .with_origin(&fake.url());
    for host in [None, Some("elsewhere.example")] {
        let user = client
            .whoami(&route(host, ClientApiVersion::V3), &token("t"))
            .await
            .unwrap();
        assert_eq!(user.user_id.as_str(), "@alice:example.org");
    }
    assert_eq!(fake.requests_to("/.well-known/matrix/client").len(), 1);
    assert_eq!(fake.requests_to("/account/whoami").len(), 2);
}

#[tokio::test]
async fn a_matrix_domain_without_a_well_known_leaves_the_homeserver_unavailable() {
    let fake = FakeClientApi::start().await;
    let client = ReqwestHomeserverAsUser::new(config(vec![]))
        .unwrap()
        .with_origin(&fake.url());
    assert!(matches!(
        client
            .whoami(&route(None, ClientApiVersion::V3), &token("t"))
            .await,
        Err(HomeserverAsUserError::Unavailable(_))
    ));
    assert_eq!(fake.requests_to("/account/whoami").len(), 0);
}

#[tokio::test]
async fn a_well_known_redirect_to_another_host_is_followed_only_while_tls_is_verified() {
    let target = FakeClientApi::start().await;
    target.user("t", "@alice:example.org");
    target.well_known(&target.url());
    let redirecting = FakeClientApi::start().await;
    redirecting.well_known_redirects_to(&format!("{}/.well-known/matrix/client", target.url()));
    let client = |verify_tls| {
        ReqwestHomeserverAsUser::new(ClientApiConfig {
            verify_tls,
            ..config(vec![])
        })
        .unwrap()
        .with_origin(&redirecting.url())
    };

    let unverified = client(false)
        .whoami(&route(None, ClientApiVersion::V3), &token("t"))
        .await;
    assert!(
        matches!(unverified, Err(HomeserverAsUserError::Unavailable(_))),
        "{unverified:?}"
    );
    assert!(
        target.requests().is_empty(),
        "the other host was never asked"
    );

    let verified = client(true)
        .whoami(&route(None, ClientApiVersion::V3), &token("t"))
        .await
        .unwrap();
    assert_eq!(verified.user_id.as_str(), "@alice:example.org");
}

mod relay {
    use verity_application::ports::driven::{RegistrationRelay as _, RelayedRequest};
    use verity_domain::{Medium, Requester};

    use pretty_assertions::assert_eq;

    use super::*;

    fn request(body: &str) -> RelayedRequest {
        RelayedRequest {
            body: body.as_bytes().to_vec(),
            requester: Requester::new(Some("10.0.0.9".parse().unwrap()), ["203.0.113.5"]),
        }
    }

    #[tokio::test]
    async fn an_allowed_registration_goes_to_the_homeserver_unchanged_with_the_clients_addresses() {
        let fake = FakeClientApi::start().await;
        let body = r#"{"client_secret":"cs","email":"alice@example.org","send_attempt":1}"#;
        let answer = client_of(&fake)
            .request_token(&called(), &Medium::Email, &request(body))
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
        assert!(
            String::from_utf8(answer.body)
                .unwrap()
                .contains("fake-sid-")
        );
        let asked = fake.requests();
        assert_eq!(asked.len(), 1);
        assert_eq!(
            asked[0].path,
            "/_matrix/client/v3/register/email/requestToken"
        );
        assert_eq!(
            asked[0].body,
            serde_json::from_str::<serde_json::Value>(body).unwrap()
        );
        assert_eq!(asked[0].forwarded_for.as_deref(), Some("203.0.113.5"));
        assert_eq!(asked[0].bearer, None);
    }

    #[tokio::test]
    async fn what_an_untrusted_client_writes_in_x_forwarded_for_never_reaches_the_homeserver() {
        let fake = FakeClientApi::start().await;
        let request = RelayedRequest {
            body: b"{}".to_vec(),
            requester: Requester::new(Some("198.51.100.7".parse().unwrap()), ["1.2.3.4, 10.0.0.1"]),
        };
        client_of(&fake)
            .request_token(&called(), &Medium::Email, &request)
            .await
            .unwrap();
        assert_eq!(
            fake.requests()[0].forwarded_for.as_deref(),
            Some("198.51.100.7")
        );
    }

    #[tokio::test]
    async fn the_homeservers_refusal_is_an_answer_with_its_status_not_an_error() {
        let fake = FakeClientApi::start().await;
        fake.register_replies(Reply::error(400, "M_THREEPID_IN_USE"));
        let answer = client_of(&fake)
            .request_token(
                &route(Some("matrix.example.org"), ClientApiVersion::R0),
                &Medium::Msisdn,
                &request(r#"{"country":"GB","phone_number":"7911123456"}"#),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 400);
        assert!(
            String::from_utf8(answer.body)
                .unwrap()
                .contains("M_THREEPID_IN_USE")
        );
        assert_eq!(
            fake.requests()[0].path,
            "/_matrix/client/r0/register/msisdn/requestToken"
        );
    }

    #[tokio::test]
    async fn an_answer_that_is_not_json_is_an_invalid_response() {
        let fake = FakeClientApi::start().await;
        fake.register_replies(Reply::Fixed {
            status: 502,
            body: "<html>Bad Gateway</html>".to_owned(),
        });
        let error = client_of(&fake)
            .request_token(&called(), &Medium::Email, &request("{}"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, HomeserverAsUserError::InvalidResponse(_)),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_room_invite_goes_to_the_homeserver_with_the_users_token_and_the_room_as_one_segment()
    {
        use verity_application::ports::driven::RoomInviteRelay as _;

        let fake = FakeClientApi::start().await;
        fake.user("syt_alice", "@alice:example.org");
        let body = r#"{"medium":"email","address":"bob@example.org","id_server":"id.example.org"}"#;
        let client = client_of(&fake);
        let answer = client
            .invite(
                &called(),
                &token("syt_alice"),
                "!room:example.org",
                &request(body),
            )
            .await
            .unwrap();
        assert_eq!((answer.status, answer.body), (200, b"{}".to_vec()));
        // A room ID with path characters stays one segment of the path.
        let answer = client
            .invite(
                &called(),
                &token("syt_alice"),
                "!a/../../account/whoami?x#y",
                &request(body),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
        let asked = fake.requests();
        assert_eq!(asked.len(), 2);
        assert_eq!(
            asked[0].path,
            "/_matrix/client/v3/rooms/!room:example.org/invite"
        );
        assert_eq!(
            asked[1].path,
            "/_matrix/client/v3/rooms/!a%2F..%2F..%2Faccount%2Fwhoami%3Fx%23y/invite"
        );
        assert_eq!(asked[0].bearer.as_deref(), Some("syt_alice"));
        assert!(!asked[0].token_in_query);
        assert_eq!(
            asked[0].body,
            serde_json::from_str::<serde_json::Value>(body).unwrap()
        );
        assert_eq!(asked[0].forwarded_for.as_deref(), Some("203.0.113.5"));
    }

    #[tokio::test]
    async fn a_room_invite_the_homeserver_refuses_comes_back_as_an_answer() {
        use verity_application::ports::driven::RoomInviteRelay as _;

        let fake = FakeClientApi::start().await;
        let answer = client_of(&fake)
            .invite(
                &called(),
                &token("syt_nobody"),
                "!room:example.org",
                &request("{}"),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 401);
        assert!(
            String::from_utf8(answer.body)
                .unwrap()
                .contains("M_UNKNOWN_TOKEN")
        );
    }
}
