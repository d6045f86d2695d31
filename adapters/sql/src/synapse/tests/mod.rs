//! The Synapse backend against Synapse's schema: every case runs on SQLite and on PostgreSQL
//! (`synapse::tests::<backend>::<case>`), each in a fresh database.
mod cases;
mod directory;
mod generic;
mod generic_directory;
mod harness;
mod profile;
mod queries;

/// For each backend, a `#[tokio::test]` per case; a case is `async fn(&SynapseDb)` of the module
/// its group names.
macro_rules! synapse_suite {
    ($($module:ident: [$($case:ident),* $(,)?]),* $(,)?) => {
        synapse_suite!(@backend sqlite, Sqlite; $($module: [$($case),*]),*);
        synapse_suite!(@backend postgres, Postgres; $($module: [$($case),*]),*);
    };
    (@backend $backend:ident, $kind:ident; $($module:ident: [$($case:ident),*]),*) => {
        mod $backend {
            $($(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let kind = crate::synapse::tests::harness::Kind::$kind;
                    let Some(db) = crate::synapse::tests::harness::SynapseDb::open(kind).await
                    else {
                        return;
                    };
                    crate::synapse::tests::$module::$case(&db).await;
                    db.finish().await;
                }
            )*)*
        }
    };
}

synapse_suite! {
    cases: [
        the_backend_is_named_as_mxisd_named_the_section,
        a_3pid_only_on_the_account_is_neither_found_nor_published,
        a_3pid_unbound_by_its_user_is_no_longer_found,
        a_3pid_bound_at_several_identity_servers_is_one_binding,
        lookup_many_answers_a_3pid_asked_twice_once,
        the_feed_orders_by_bytes_whatever_the_database_collation,
        a_row_with_an_invalid_user_id_is_corrupt_and_named,
        a_row_with_an_invalid_3pid_is_corrupt_in_the_feed,
        the_connection_cannot_write,
    ],
    directory: [
        the_default_queries_find_people_by_display_name_ignoring_case,
        the_default_queries_find_people_by_any_3pid_on_their_account,
        the_limit_is_kept_and_limited_said_when_more_matched,
        a_term_with_quotes_is_a_value_never_sql,
        a_localpart_with_an_underscore_has_its_own_profile_and_no_other,
        the_terms_like_wildcards_are_searched_literally,
        on_postgres_guests_and_bridged_users_are_not_listed,
        an_operator_query_of_localparts_is_completed_with_the_domain,
        a_broken_directory_query_stops_start_up,
    ],
    profile: [
        the_default_queries_read_the_display_name_by_localpart_and_every_3pid_on_the_account,
        a_user_synapse_does_not_hold_has_no_profile,
        an_operators_role_query_answers_each_role_once_by_localpart_or_matrix_id,
        a_profile_query_the_database_refuses_is_a_store_error_not_an_unknown_user,
    ],
    queries: [
        a_custom_identity_query_replaces_the_default,
        a_per_medium_query_takes_precedence_and_named_placeholders_work,
        a_localpart_query_is_completed_with_the_domain,
        a_custom_lookup_query_feeds_the_hash_table,
        identity_lookups_can_be_switched_off_while_the_feed_stays,
        a_missing_table_or_a_broken_custom_query_stops_start_up,
    ],
}

/// The identity backend contract ([`verity_application::contract::identity`]), every case, on
/// each database (`synapse::tests::contract::<backend>::<case>`): the identities are what
/// Synapse holds when users add and share them, as they typed them.
mod contract {
    macro_rules! synapse_contract {
        ($($case:ident),* $(,)?) => {
            synapse_contract!(@backend sqlite, Sqlite; $($case),*);
            synapse_contract!(@backend postgres, Postgres; $($case),*);
        };
        (@backend $backend:ident, $kind:ident; $($case:ident),*) => {
            mod $backend {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        use verity_application::contract::identity::Identity;
                        let kind = crate::synapse::tests::harness::Kind::$kind;
                        let Some(db) = crate::synapse::tests::harness::SynapseDb::open(kind).await
                        else {
                            return;
                        };
                        let seeded = async |identities: Vec<Identity>| {
                            db.seed(&identities).await;
                            db.backend().await
                        };
                        let outcome = verity_application::contract::identity::$case(seeded).await;
                        db.finish().await;
                        if let Err(failure) = outcome {
                            panic!("{failure}");
                        }
                    }
                )*
            }
        };
    }

    verity_application::identity_backend_contract!(synapse_contract);
}

// SQLite only: the file itself.

#[tokio::test]
async fn a_missing_sqlite_file_is_refused_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("homeserver.db");
    let config = crate::synapse::SynapseSqlConfig::new(crate::synapse::SynapseDatabase::Sqlite {
        path: path.clone(),
    });
    let err = crate::synapse::SynapseSqlBackend::connect(&config)
        .await
        .unwrap_err();
    assert!(
        matches!(err, crate::synapse::SynapseSqlError::Connect(_)),
        "{err:?}"
    );
    assert!(!path.exists(), "the backend created {}", path.display());
}

#[tokio::test]
async fn a_sqlite_path_with_url_characters_is_opened_as_written() {
    use verity_application::ports::driven::IdentityBackend;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("synapse data?#%20.db");
    let writer = sea_orm::Database::connect(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("synapse data%3F%23%2520.db").display()
    ))
    .await
    .unwrap();
    use sea_orm::ConnectionTrait;
    writer
        .execute_unprepared(
            "CREATE TABLE user_threepid_id_server ( user_id TEXT NOT NULL, medium TEXT NOT \
             NULL, address TEXT NOT NULL, id_server TEXT NOT NULL ); INSERT INTO \
             user_threepid_id_server VALUES ('@a:example.org', 'email', 'a@example.org', 'x')",
        )
        .await
        .unwrap();
    writer.close().await.unwrap();
    assert!(path.exists(), "the test wrote elsewhere");
    let config =
        crate::synapse::SynapseSqlConfig::new(crate::synapse::SynapseDatabase::Sqlite { path });
    let backend = crate::synapse::SynapseSqlBackend::connect(&config)
        .await
        .unwrap();
    assert_eq!(backend.feed(None, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_unreachable_postgres_server_is_refused_without_echoing_the_password() {
    // Port 1 on the loopback: nothing listens there.
    let config = crate::synapse::SynapseSqlConfig::new(crate::synapse::SynapseDatabase::Postgres {
        url: "postgres://synapse:hunter2@127.0.0.1:1/synapse".into(),
    });
    let err = crate::synapse::SynapseSqlBackend::connect(&config)
        .await
        .unwrap_err();
    assert!(
        matches!(err, crate::synapse::SynapseSqlError::Connect(_)),
        "{err:?}"
    );
    let mut shown = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(inner) = source {
        shown.push_str(&inner.to_string());
        source = inner.source();
    }
    assert!(!shown.contains("hunter2"), "{shown}");
}
