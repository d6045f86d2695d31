//! The homeserver's user directory search routed to Verity, through the real service and the
//! generated client: a fake homeserver's client API (`whoami` and its own directory, each made
//! to fail on demand) and three stores with a directory (memory, the REST fake, an exec program).
//! What the caller sees when the homeserver cannot check the token, when only its directory
//! fails or does not exist, and for every kind of bad request.
use std::os::unix::fs::PermissionsExt as _;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use verity_testkit::client_api::{FakeClientApi, Reply};
use verity_testkit::exec_programs::DIRECTORY_OVER_PEOPLE;
use verity_testkit::rest_backend::{FakeRestBackend, Person};
use verity_tests::client::types;
use verity_tests::{Backend, TestApp, spawn_app_with};

const SEARCH: &str = "/_matrix/client/v3/user_directory/search";

/// The homeserver, the stores and Verity over them.
struct World {
    homeserver: FakeClientApi,
    _rest: FakeRestBackend,
    _programs: tempfile::TempDir,
    app: TestApp,
}

impl World {
    /// `syt_me` is `@me:example.org` (and `syt_guest` a guest); the homeserver's directory holds
    /// Hannah; memory holds Alice, the REST service Bob, the exec program Carol (and `@me`, whom
    /// a search never lists).
    async fn start() -> Self {
        let homeserver = FakeClientApi::start().await;
        homeserver
            .user("syt_me", "@me:example.org")
            .guest("syt_guest", "@guest:example.org")
            .person(
                "@hannah:example.org",
                Some("Hannah Homeserver"),
                Some("mxc://example.org/h"),
            );
        let rest = FakeRestBackend::start().await;
        rest.add_person(Person {
            user_id: "bob".into(),
            display_name: Some("Bob From Rest".into()),
            avatar_url: None,
            addresses: vec!["bob@builders.example".into()],
        });
        let programs = tempfile::tempdir().expect("temp dir");
        let people = programs.path().join("people.tsv");
        std::fs::write(
            &people,
            "carol\tCarol From Exec\tcarol@exec.example\nme\tMe Myself\tme@example.org\n",
        )
        .expect("people");
        let program = programs.path().join("directory");
        std::fs::write(&program, format!("#!/bin/sh\n{DIRECTORY_OVER_PEOPLE}\n")).expect("program");
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let config = json!({
            "dns": {"overwrite": {"homeserver": {"client": [
                {"name": "127.0.0.1", "value": homeserver.url()},
            ]}}},
            "memory": {"enabled": true, "identities": [
                {"username": "alice", "displayName": "Alice From Memory",
                 "threepids": [{"medium": "email", "address": "alice@wonderland.example"}]},
            ]},
            "rest": {"enabled": true, "host": rest.url()},
            "exec": {"directory": {"enabled": true, "search": {"byName": {
                "command": program,
                "args": ["{type}", "{query}"],
                "env": {"PEOPLE": people},
            }}}},
        });
        let app = spawn_app_with(Backend::Sqlite, &config.to_string()).await;
        Self {
            homeserver,
            _rest: rest,
            _programs: programs,
            app,
        }
    }

    /// The generated client's search as `token`.
    async fn search(
        &self,
        token: &str,
        term: &str,
        limit: Option<i64>,
    ) -> Vec<(String, Option<String>)> {
        let found = self
            .app
            .client_as(token)
            .search_user_directory(&types::UserDirectorySearch {
                search_term: term.into(),
                limit,
            })
            .await
            .unwrap_or_else(|error| panic!("search {term}: {error}"))
            .into_inner();
        found
            .results
            .into_iter()
            .map(|user| (user.user_id, user.display_name))
            .collect()
    }

    /// A raw request: the status and the JSON answer.
    async fn post(&self, path: &str, token: Option<&str>, body: String) -> (u16, Value) {
        let mut request = self
            .app
            .http
            .post(self.app.url(path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn ids(found: &[(String, Option<String>)]) -> Vec<&str> {
    let mut ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn a_user_finds_the_homeservers_people_and_every_stores_merged_in_the_client_apis_format() {
    let world = World::start().await;
    let found = world.search("syt_me", "from", None).await;
    assert_eq!(
        ids(&found),
        [
            "@alice:example.org",
            "@bob:example.org",
            "@carol:example.org"
        ]
    );
    let found = world.search("syt_me", "@hannah", None).await;
    assert_eq!(
        found,
        [(
            "@hannah:example.org".to_owned(),
            Some("Hannah Homeserver".to_owned())
        )]
    );
    // By 3PID, from the stores; the searcher is never listed.
    assert_eq!(
        ids(&world.search("syt_me", "builders.example", None).await),
        ["@bob:example.org"]
    );
    assert_eq!(
        ids(&world.search("syt_me", "Myself", None).await),
        Vec::<&str>::new()
    );
    // The homeserver was asked with the user's own token, in the header only.
    let asked = world.homeserver.requests_to("/user_directory/search");
    assert!(
        asked
            .iter()
            .all(|r| r.bearer.as_deref() == Some("syt_me") && !r.token_in_query)
    );
    assert_eq!(asked[0].body, json!({"search_term": "from", "limit": 10}));
    // One whoami for all of these searches: the answer is cached.
    assert_eq!(world.homeserver.requests_to("/account/whoami").len(), 1);
}

#[tokio::test]
async fn the_limit_is_honoured_over_all_sources_and_says_limited() {
    let world = World::start().await;
    let (status, answer) = world
        .post(
            SEARCH,
            Some("syt_me"),
            json!({"search_term": "from", "limit": 2}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["results"].as_array().map(Vec::len),
        Some(2),
        "{answer}"
    );
    assert_eq!(answer["limited"], true, "{answer}");
}

#[tokio::test]
async fn a_token_the_homeserver_rejects_or_cannot_check_is_never_taken_as_valid() {
    let world = World::start().await;
    let body = json!({"search_term": "from"}).to_string();
    let (status, answer) = world.post(SEARCH, Some("syt_stolen"), body.clone()).await;
    assert_eq!(
        (status, answer["errcode"].as_str()),
        (401, Some("M_UNKNOWN_TOKEN")),
        "{answer}"
    );
    let (status, answer) = world.post(SEARCH, Some("syt_guest"), body.clone()).await;
    assert_eq!(
        (status, answer["errcode"].as_str()),
        (403, Some("M_GUEST_ACCESS_FORBIDDEN")),
        "{answer}"
    );
    // whoami down: refused with a 5xx, not answered from the stores.
    world
        .homeserver
        .whoami_replies(Reply::error(503, "M_UNKNOWN"));
    let (status, answer) = world.post(SEARCH, Some("syt_other"), body).await;
    assert_eq!(
        (status, answer["errcode"].as_str()),
        (502, Some("M_UNKNOWN")),
        "{answer}"
    );
    assert!(
        world
            .homeserver
            .requests_to("/user_directory/search")
            .is_empty(),
        "the homeserver's directory was asked for an unchecked token"
    );
}

#[tokio::test]
async fn when_only_the_homeservers_directory_fails_or_is_missing_the_stores_answer() {
    let world = World::start().await;
    for reply in [
        Reply::error(500, "M_UNKNOWN"),
        Reply::error(404, "M_UNRECOGNIZED"),
        Reply::Fixed {
            status: 200,
            body: "not json".into(),
        },
    ] {
        world.homeserver.directory_replies(reply.clone());
        assert_eq!(
            ids(&world.search("syt_me", "from", None).await),
            [
                "@alice:example.org",
                "@bob:example.org",
                "@carol:example.org"
            ],
            "{reply:?}"
        );
    }
}

#[tokio::test]
async fn bad_requests_get_the_client_apis_errors_before_the_homeserver_is_asked() {
    let world = World::start().await;
    for (token, body, status, errcode) in [
        (
            None,
            json!({"search_term": "a"}).to_string(),
            401,
            "M_MISSING_TOKEN",
        ),
        (Some("syt_me"), "not json".to_owned(), 400, "M_NOT_JSON"),
        (
            Some("syt_me"),
            json!({"limit": 3}).to_string(),
            400,
            "M_BAD_JSON",
        ),
        (
            Some("syt_me"),
            json!({"search_term": "a", "limit": "3"}).to_string(),
            400,
            "M_BAD_JSON",
        ),
        (
            Some("syt_me"),
            json!({"search_term": "x".repeat(10_000)}).to_string(),
            400,
            "M_INVALID_PARAM",
        ),
    ] {
        let (got, answer) = world.post(SEARCH, token, body.clone()).await;
        assert_eq!(
            (got, answer["errcode"].as_str()),
            (status, Some(errcode)),
            "{}: {answer}",
            &body[..body.len().min(60)]
        );
    }
    assert!(
        world.homeserver.requests().is_empty(),
        "{:?}",
        world.homeserver.requests()
    );
    // The r0 path and the query-parameter token work as well.
    let (status, answer) = world
        .post(
            "/_matrix/client/r0/user_directory/search?access_token=syt_me",
            None,
            json!({"search_term": "carol"}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["results"][0]["user_id"], "@carol:example.org");
    assert!(
        world
            .homeserver
            .requests_to("/account/whoami")
            .iter()
            .all(|r| r.path == "/_matrix/client/r0/account/whoami")
    );
}
