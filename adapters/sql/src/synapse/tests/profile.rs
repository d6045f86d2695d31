//! Profiles from `synapseSql` and `sql` (mxisd's `SqlProfileProvider`): the default queries on
//! Synapse's `profiles` and `user_threepids` (the harness's schema), and an operator's role
//! query, on SQLite and PostgreSQL.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{BackendError, ProfileSource};
use verity_domain::{EmailAddress, MatrixDomain, Msisdn, Profile, ThreePid, UserId};

use super::harness::{SynapseDb, quote};
use crate::synapse::{ProfileQueries, ProfileQuery, ProfileUser, SynapseSqlBackend};

fn domain() -> MatrixDomain {
    MatrixDomain::parse("example.org").unwrap()
}

fn user(raw: &str) -> UserId {
    UserId::parse(raw).unwrap()
}

async fn backend_with(db: &SynapseDb, profile: ProfileQueries) -> SynapseSqlBackend {
    let mut config = db.config();
    config.profile = Some(profile);
    db.backend_with(config).await
}

async fn named(db: &SynapseDb, localpart: &str, display_name: &str) {
    db.execute(&format!(
        "INSERT INTO profiles (user_id, full_user_id, displayname) VALUES ({}, {}, {})",
        quote(localpart),
        quote(&format!("@{localpart}:example.org")),
        quote(display_name)
    ))
    .await;
}

pub(crate) async fn the_default_queries_read_the_display_name_by_localpart_and_every_3pid_on_the_account(
    db: &SynapseDb,
) {
    named(db, "alice", "Alice Liddell").await;
    db.add("@alice:example.org", "email", "alice@example.org")
        .await;
    db.share("@alice:example.org", "msisdn", "447911123456")
        .await;
    // Not Alice's: another user, and a row Verity cannot read as a 3PID.
    db.add("@bob:example.org", "email", "bob@example.org").await;
    db.add("@alice:example.org", "email", "not an address")
        .await;
    let backend = backend_with(db, ProfileQueries::synapse_defaults(domain()).unwrap()).await;

    let profile = backend
        .profile(&user("@alice:example.org"))
        .await
        .unwrap()
        .expect("Synapse knows alice");
    let mut expected = Profile::named("Alice Liddell");
    expected.add_threepid(ThreePid::Email(
        EmailAddress::parse("alice@example.org").unwrap(),
    ));
    expected.add_threepid(ThreePid::Msisdn(Msisdn::parse("447911123456").unwrap()));
    assert_eq!(profile, expected);
    assert_eq!(backend.name(), "synapseSql");
}

pub(crate) async fn a_user_synapse_does_not_hold_has_no_profile(db: &SynapseDb) {
    named(db, "alice", "Alice Liddell").await;
    let backend = backend_with(db, ProfileQueries::synapse_defaults(domain()).unwrap()).await;
    assert_eq!(
        backend.profile(&user("@nobody:example.org")).await.unwrap(),
        None
    );
    // The same localpart on another server is someone else: Synapse's profiles are its own
    // users'.
    assert_eq!(
        backend
            .profile(&user("@alice:elsewhere.org"))
            .await
            .unwrap(),
        None
    );
}

pub(crate) async fn an_operators_role_query_answers_each_role_once_by_localpart_or_matrix_id(
    db: &SynapseDb,
) {
    db.execute("CREATE TABLE staff (login TEXT, team TEXT)")
        .await;
    db.execute(
        "INSERT INTO staff (login, team) VALUES ('alice', 'hr'), ('alice', ' it '), \
         ('alice', 'hr'), ('alice', NULL), ('bob', 'sales')",
    )
    .await;
    let by_localpart = ProfileQueries {
        roles: Some(
            ProfileQuery::parse(
                "SELECT team FROM staff WHERE login = ?",
                ProfileUser::Localpart,
            )
            .unwrap(),
        ),
        ..ProfileQueries::none(domain())
    };
    let backend = backend_with(db, by_localpart).await;
    let profile = backend
        .profile(&user("@alice:example.org"))
        .await
        .unwrap()
        .expect("alice has roles");
    let mut roles = profile.roles.clone();
    roles.sort();
    assert_eq!(roles, ["hr", "it"], "trimmed, each once, NULL left out");
    assert_eq!(profile.display_name, None);

    let by_mxid = ProfileQueries {
        roles: Some(
            ProfileQuery::parse(
                "SELECT team FROM staff WHERE '@' || login || ':example.org' = :user",
                ProfileUser::Mxid,
            )
            .unwrap(),
        ),
        ..ProfileQueries::none(domain())
    };
    let backend = backend_with(db, by_mxid).await;
    let profile = backend.profile(&user("@bob:example.org")).await.unwrap();
    assert_eq!(profile.map(|p| p.roles), Some(vec!["sales".to_owned()]));
}

pub(crate) async fn a_profile_query_the_database_refuses_is_a_store_error_not_an_unknown_user(
    db: &SynapseDb,
) {
    // ma1sd's default role query: Synapse dropped `group_users` with groups.
    let groups = ProfileQueries {
        roles: Some(
            ProfileQuery::parse(
                "SELECT DISTINCT(group_id) FROM group_users WHERE user_id = ?",
                ProfileUser::Mxid,
            )
            .unwrap(),
        ),
        ..ProfileQueries::none(domain())
    };
    let backend = backend_with(db, groups).await;
    let err = backend
        .profile(&user("@alice:example.org"))
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::Unavailable(_)), "{err:?}");
}
