//! The store contract suite: each case is written once, as an async function of the port it checks
//! (or of the [`harness::TestDb`] when it needs raw SQL), and [`contract_suite!`] runs every case on
//! every backend, each in a fresh database:
//!
//! ```text
//! contract::<backend>::<group>::<case>      backend: sqlite_file | sqlite_memory | postgres
//! ```
//!
//! A new table joins by adding a module of cases and a group line below, e.g.
//! `terms(db => &db.terms()): [a_user_who_accepted_nothing_has_an_empty_set, ...]`.
//! PostgreSQL: see [`harness`] for `VERITY_TEST_POSTGRES_URL` and `CI`.
//!
//! The `bindings` table is also an identity backend: [`identity`] runs the identity backend
//! contract suite of `verity-application` on it, on every database.

mod accounts;
mod admin_bindings;
mod admin_invites;
mod binding_changes;
mod bindings;
mod database;
mod harness;
mod hashes;
mod identity;
mod import;
mod import_invites;
mod invite_claims;
mod invites;
mod saved_tables;
mod session_changes;
mod session_races;
mod sessions;
mod sqlite;
mod terms;

/// For each backend, a module of `#[tokio::test]`s: one per case of each group. A group line is
/// `module(db => what the cases take): [cases]`, where `db` is the open [`harness::TestDb`].
macro_rules! contract_suite {
    ($($group:ident ($db:ident => $subject:expr): [$($case:ident),* $(,)?]),* $(,)?) => {
        contract_suite!(@backend sqlite_file, SqliteFile;
            $($group ($db => $subject): [$($case),*]),*);
        contract_suite!(@backend sqlite_memory, SqliteMemory;
            $($group ($db => $subject): [$($case),*]),*);
        contract_suite!(@backend postgres, Postgres;
            $($group ($db => $subject): [$($case),*]),*);
    };
    (@backend $backend:ident, $variant:ident;
        $($group:ident ($db:ident => $subject:expr): [$($case:ident),*]),*) => {
        mod $backend {
            $(mod $group {
                $(
                    // Two workers, so tasks spawned by a case really run in parallel.
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        let backend = crate::contract::harness::Backend::$variant;
                        let Some($db) = crate::contract::harness::TestDb::open(backend).await
                        else {
                            return;
                        };
                        crate::contract::$group::$case($subject).await;
                        $db.finish().await;
                    }
                )*
            })*
        }
    };
}

contract_suite! {
    sessions(db => &db.sessions()): [
        a_session_round_trips_every_field,
        inserting_an_existing_sid_is_a_conflict_and_keeps_the_original,
        finding_an_unknown_sid_returns_none,
        find_latest_picks_the_newest_session_of_the_3pid_and_secret,
        find_latest_breaks_a_tie_in_creation_time_by_the_greatest_sid,
        purge_deletes_exactly_the_sessions_last_modified_before_the_cutoff,
        a_cutoff_past_every_storable_time_purges_everything,
        a_time_past_the_storable_range_is_refused_rather_than_wrapped,
        concurrent_inserts_of_distinct_sessions_all_land,
        concurrent_token_attempts_each_get_their_own_count,
        a_session_round_trips_with_and_without_its_remote_part,
    ],
    session_changes(db => &db.sessions()): [
        changes_to_an_unknown_sid_are_stale_and_create_nothing,
        a_resend_raises_send_attempt_only_and_never_lowers_it,
        a_validation_is_recorded_once_with_its_remote_part_and_keeps_the_count,
        a_counted_submission_validates_only_with_the_right_token_within_the_cap,
        a_remote_start_and_its_validation_apply_only_on_the_state_they_follow,
        a_bind_is_recorded_and_forgotten_only_for_the_user_it_names,
    ],
    session_races(db => &db.sessions()): [
        resends_racing_token_attempts_never_undo_a_count,
        a_validation_racing_resends_and_guesses_applies_once_and_keeps_every_count,
        concurrent_remote_starts_from_one_state_apply_exactly_once,
        wrong_tokens_racing_resends_are_each_counted_once_and_never_validate,
        the_right_token_racing_wrong_ones_and_resends_validates_once_and_ends_the_count,
        concurrent_submissions_to_many_sessions_each_count_and_validate_their_own,
    ],
    accounts(db => &db.accounts()): [
        accounts_round_trip_with_and_without_expiry,
        inserting_an_existing_fingerprint_is_a_conflict_and_keeps_the_original,
        finding_an_unknown_token_returns_none,
        delete_returns_true_then_false_and_spares_the_others,
        purge_deletes_exactly_the_accounts_expired_at_or_before_now,
        a_now_past_every_storable_time_purges_every_expiring_account_only,
        accounts_of_different_users_are_independent,
        a_time_past_the_storable_range_is_refused_rather_than_wrapped,
    ],
    terms(db => &db.terms()): [
        a_user_who_accepted_nothing_has_an_empty_set,
        accepting_again_is_not_an_error_and_changes_nothing,
        acceptances_are_per_user,
        several_urls_are_accepted_at_once,
        more_urls_than_one_statement_binds_are_all_accepted,
        a_time_past_the_storable_range_is_refused_and_records_nothing,
        concurrent_acceptances_of_the_same_urls_all_succeed,
    ],
    bindings(db => &db.bindings()): [
        a_binding_round_trips_for_every_medium,
        binding_a_bound_3pid_again_replaces_its_user,
        unbind_removes_the_binding_of_that_user_only,
        the_raw_feed_counts_every_binding,
        a_time_past_the_storable_range_is_refused_and_binds_nothing,
        the_bindings_backend_is_named_bindings,
        the_bindings_backend_says_when_each_3pid_was_bound,
        concurrent_binds_of_one_3pid_leave_exactly_one,
        concurrent_binds_and_unbinds_end_as_each_3pid_last_left_it,
    ],
    admin_bindings(db => &db.bindings()): [
        a_binding_is_read_with_when_it_was_made_and_the_bindings_of_a_user_in_order,
    ],
    binding_changes(db => &db.bindings()): [
        an_empty_store_has_no_changes,
        binds_and_unbinds_that_removed_a_binding_are_recorded_in_order,
        a_refused_bind_records_no_change,
        the_purge_deletes_exactly_the_changes_before_the_cutoff,
        ids_are_not_reused_after_every_change_was_purged,
    ],
    saved_tables(db => &db): [
        a_saved_table_is_read_back_whole_and_only_for_its_pepper,
        the_purge_keeps_the_changes_after_a_saved_table_until_it_is_too_old,
    ],
    hashes(db => &db.hashes()): [
        nothing_is_published_in_a_new_store,
        entries_are_put_found_and_removed,
        putting_a_hash_again_replaces_its_binding,
        the_tables_of_two_peppers_are_separate,
        publishing_records_the_table_and_sweeps_older_generations_of_its_pepper,
        a_lookup_beyond_one_statement_finds_every_hash,
        a_generation_past_the_storable_range_is_refused,
        concurrent_first_publications_all_get_the_one_that_landed,
        concurrent_readers_see_each_publication_whole,
        concurrent_puts_of_the_same_hashes_all_succeed,
    ],
    invites(db => &db.invites()): [
        an_invite_round_trips_with_and_without_expiry_and_delivery,
        inserting_an_existing_token_is_a_conflict_and_keeps_the_original,
        unbound_lists_the_live_unbound_invites_of_the_3pid_oldest_first,
        record_bind_sets_the_delivery_once,
        due_returns_live_due_invites_whose_time_has_come_most_overdue_first,
        update_delivery_records_attempts_and_the_next_time,
        an_ephemeral_key_is_in_use_while_its_invite_lives,
        purge_deletes_exactly_the_expired_invites_and_delete_removes_one,
        concurrent_binds_of_one_invite_record_exactly_one,
        unbound_pages_walk_every_live_unbound_invite_of_every_address_once,
    ],
    invite_claims(db => &db.invites()): [
        a_claim_holds_the_invite_until_it_runs_out_and_then_another_may_take_it,
        concurrent_claims_of_one_invite_let_exactly_one_through,
        concurrent_delivery_passes_deliver_each_due_invite_exactly_once,
    ],
    admin_invites(db => &db.invites()): [
        every_invite_is_paged_in_token_order_expired_and_bound_ones_included,
        an_expired_invite_is_gone_from_every_query_and_an_earlier_expiry_is_kept,
    ],
    import(db => &db): [
        imported_bindings_are_served_with_their_times_and_signed_association,
        imported_bindings_drop_the_saved_lookup_table_which_would_not_know_them,
        importing_again_changes_nothing_and_says_so,
        a_3pid_bound_here_differently_is_a_conflict_and_verity_keeps_its_row,
        a_bind_here_replaces_what_the_import_stored,
        a_dry_run_reports_the_same_outcome_and_writes_nothing,
        accounts_are_keyed_by_fingerprint_and_another_users_token_is_kept,
        accepted_terms_are_added_once,
        a_page_larger_than_one_statement_is_written_whole,
    ],
    import_invites(db => &db): [
        an_imported_invite_without_its_key_is_pending_and_its_keys_are_valid,
        an_imported_invite_with_its_key_keeps_it_and_never_expires_without_expiry,
        an_invite_token_verity_holds_differently_is_a_conflict_and_kept,
        a_dry_run_of_invites_and_keys_reports_the_outcome_and_writes_nothing,
    ],
    database(db => &db): [
        a_row_that_does_not_parse_is_reported_as_corrupt,
        an_account_row_that_does_not_parse_is_reported_as_corrupt,
        accepting_again_keeps_the_first_acceptance_time,
        the_health_check_passes_while_the_database_answers,
        a_closed_database_is_reported_unavailable,
    ],
}
