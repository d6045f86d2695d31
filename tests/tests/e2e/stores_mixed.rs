//! Every kind of store at once (reference section 4.10): Verity's own bindings, a real slapd, the
//! operator's SQL database and a REST service, asked in priority order. A 3PID several of them
//! know is answered by the highest priority one, alike in v1, bulk and hashed lookups; each
//! 3PID only one store knows is found there; a bulk lookup gets every answer at once.
use pretty_assertions::assert_eq;
use serde_json::json;
use verity_adapter_sql::testing::execute;
use verity_testkit::rest_backend::FakeRestBackend;
use verity_testkit::slapd::{Options, Slapd};
use verity_tests::Backend;

use crate::ldap::{ldap_yaml, person};
use crate::rest_store::rest_yaml;
use crate::sessions::{app_with_peers, register_alice};
use crate::sql_store::PeopleDb;
use crate::store_lookups::{bind_alice, bulk_sorted, hashed_eventually, v1_lookup};

#[tokio::test]
async fn a_3pid_several_stores_know_is_answered_by_the_highest_priority_one_in_every_lookup() {
    let seed = [
        person("ann", &["shared@example.org"], &[]),
        person("lena", &["only-ldap@example.org"], &[]),
    ]
    .concat();
    let Some(slapd) = Slapd::start(&seed, &Options::default()) else {
        return;
    };
    let Some(people) = PeopleDb::open(false).await else {
        return;
    };
    // bob is the SQL store's own; sam shares his address with ann and rick.
    execute(
        &people.writer_url,
        &["INSERT INTO people VALUES ('sam', '@sam:example.org', 'shared@example.org', NULL)"],
    )
    .await;
    let rest = FakeRestBackend::start().await;
    rest.add("email", "shared@example.org", "mxid", "@rick:example.org");
    rest.add(
        "email",
        "only-rest@example.org",
        "mxid",
        "@rita:example.org",
    );
    // The REST service above the others (20 by default): its answer for the shared address wins.
    // rest_yaml ends in its `identity` block.
    let yaml = format!(
        "{}{}    priority: 25\n{}",
        ldap_yaml(slapd.port()),
        rest_yaml(&rest.url(), "5s"),
        people.yaml()
    );
    let (app, peers) = app_with_peers(Backend::Sqlite, &yaml).await;
    let token = register_alice(&app, &peers).await;
    bind_alice(&app, &peers, &token, "alice@example.org").await;

    let expected = [
        ("shared@example.org", "@rick:example.org"),
        ("only-ldap@example.org", "@lena:example.org"),
        ("only-rest@example.org", "@rita:example.org"),
        ("bob@example.org", "@bob:example.org"),
        ("alice@example.org", "@alice:example.org"),
    ];
    for (address, user) in expected {
        let found = v1_lookup(&app.client, "email", address).await;
        assert_eq!(found["mxid"], user, "{address}: {found}");
    }
    let asked: Vec<(&str, &str)> = expected
        .iter()
        .map(|(address, _)| ("email", *address))
        .chain([("email", "nobody@example.org")])
        .collect();
    let mut wanted: Vec<Vec<String>> = expected
        .iter()
        .map(|(address, user)| vec!["email".into(), (*address).into(), (*user).into()])
        .collect();
    wanted.sort();
    assert_eq!(bulk_sorted(&app.client, &asked).await, wanted);
    let pairs: Vec<(&str, &str)> = expected
        .iter()
        .map(|(address, _)| (*address, "email"))
        .collect();
    let mut users: Vec<&str> = expected.iter().map(|(_, user)| *user).collect();
    users.sort_unstable();
    hashed_eventually(&app.client_as(&token), &pairs, json!(users)).await;

    app.stop().await.expect("stop");
    people.finish().await;
}
