//! The REST service's user directory against the testkit's fake: ma1sd's request and answer,
//! localparts completed, the limit, and a service that fails.
use pretty_assertions::assert_eq;
use serde_json::json;
use verity_application::ports::driven::{BackendError, DirectorySearch};
use verity_domain::{DirectoryResults, SearchLimit, SearchTerm};
use verity_testkit::rest_backend::{FakeRestBackend, Misbehave, Person};

use crate::config::{DEFAULT_DIRECTORY, endpoint, parse_host};
use crate::{RestConfig, RestDirectory};

fn person(user_id: &str, name: Option<&str>, addresses: &[&str]) -> Person {
    Person {
        user_id: user_id.to_owned(),
        display_name: name.map(str::to_owned),
        avatar_url: None,
        addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
    }
}

async fn directory() -> (RestDirectory, FakeRestBackend) {
    let fake = FakeRestBackend::start().await;
    fake.add_person(person(
        "alice",
        Some("Alice Liddell"),
        &["alice@wonderland.example"],
    ));
    fake.add_person(Person {
        avatar_url: Some("mxc://example.org/bob".into()),
        ..person("@bob:example.org", Some("Bob"), &["bob@builders.example"])
    });
    fake.add_person(person("not a user", Some("Broken Alias"), &[]));
    let host = parse_host(&fake.url()).unwrap();
    let mut config = RestConfig::new("example.org");
    config.endpoints.directory = endpoint(Some(&host), DEFAULT_DIRECTORY).unwrap();
    config.host = Some(host);
    (RestDirectory::new(&config).unwrap().unwrap(), fake)
}

fn term(raw: &str) -> SearchTerm {
    SearchTerm::parse(raw).unwrap()
}

#[tokio::test]
async fn a_search_by_name_posts_mxisds_request_and_reads_its_answer() {
    let (directory, fake) = directory().await;
    let found = directory
        .search_by_name(&term("ALICE"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(found.entries.len(), 1);
    // A localpart is completed with matrix.domain.
    assert_eq!(found.entries[0].user_id.as_str(), "@alice:example.org");
    assert_eq!(
        found.entries[0].display_name.as_deref(),
        Some("Alice Liddell")
    );
    let received = fake.received();
    assert_eq!(
        received[0].path,
        "_ma1sd/backend/api/v1/directory/user/search"
    );
    assert_eq!(
        received[0].body,
        json!({"by": "name", "search_term": "ALICE"})
    );
}

#[tokio::test]
async fn a_search_by_3pid_says_threepid_and_keeps_the_avatar() {
    let (directory, fake) = directory().await;
    let found = directory
        .search_by_threepid(&term("builders"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(found.entries.len(), 1);
    assert_eq!(found.entries[0].user_id.as_str(), "@bob:example.org");
    assert_eq!(
        found.entries[0].avatar_url.as_deref(),
        Some("mxc://example.org/bob")
    );
    assert_eq!(fake.received()[0].body["by"], "threepid");
}

#[tokio::test]
async fn invalid_user_ids_are_left_out_and_the_limit_is_kept() {
    let (directory, _fake) = directory().await;
    // "Broken Alias" has no valid user ID: only the two others are people.
    let found = directory
        .search_by_name(&term("i"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(found.entries.len(), 1, "{found:?}");
    let found = directory
        .search_by_name(&term("b"), SearchLimit::from_request(Some(0)))
        .await
        .unwrap();
    assert_eq!(found.entries, vec![]);
    assert!(found.limited);
}

#[tokio::test]
async fn a_failing_or_nonsensical_service_is_an_error() {
    let (directory, fake) = directory().await;
    let a = term("a");
    let search = || directory.search_by_name(&a, SearchLimit::default());
    fake.misbehave(Misbehave::Status(500));
    assert!(matches!(search().await, Err(BackendError::Unavailable(_))));
    fake.misbehave(Misbehave::Body(json!({"results": "x"}).to_string()));
    assert!(matches!(search().await, Err(BackendError::Corrupt(_))));
    fake.misbehave(Misbehave::Body("{}".to_owned()));
    assert_eq!(search().await.unwrap(), DirectoryResults::default());
}

#[test]
fn a_blank_endpoint_is_no_directory() {
    assert!(
        RestDirectory::new(&RestConfig::new("example.org"))
            .unwrap()
            .is_none()
    );
}
