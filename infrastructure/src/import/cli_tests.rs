use pretty_assertions::assert_eq;
use verity_application::usecases::{ImportTable, KeyOutcome, RowIssue, TableReport};

use super::*;

fn report(dry_run: bool, key: KeyOutcome, bindings: TableReport) -> ImportReport {
    ImportReport {
        source: "sydent",
        dry_run,
        key,
        bindings,
        accounts: TableReport::default(),
        accepted_terms: TableReport::default(),
        invites: TableReport::default(),
        ephemeral_keys: TableReport::default(),
        rejected: Vec::new(),
        conflicts: Vec::new(),
    }
}

#[test]
fn the_summary_gives_the_counts_of_every_table_and_what_a_dry_run_would_do() {
    let counts = TableReport {
        read: 3,
        added: 2,
        unchanged: 1,
        conflicts: 0,
        rejected: 0,
    };
    assert_eq!(
        summary(&report(true, KeyOutcome::Added, counts)),
        "signing key: would be added and made the key that signs\n\
         bindings: 3 read, 2 to add, 1 unchanged, 0 conflicts, 0 rejected\n\
         accounts: 0 read, 0 to add, 0 unchanged, 0 conflicts, 0 rejected\n\
         accepted terms: 0 read, 0 to add, 0 unchanged, 0 conflicts, 0 rejected\n\
         ephemeral keys: 0 read, 0 to add, 0 unchanged, 0 conflicts, 0 rejected\n\
         invites: 0 read, 0 to add, 0 unchanged, 0 conflicts, 0 rejected\n\
         dry run: nothing was written\n"
    );
    assert!(summary(&report(false, KeyOutcome::Added, counts)).ends_with("2 added, 1 unchanged, 0 conflicts, 0 rejected\naccounts: 0 read, 0 added, 0 unchanged, 0 conflicts, 0 rejected\naccepted terms: 0 read, 0 added, 0 unchanged, 0 conflicts, 0 rejected\nephemeral keys: 0 read, 0 added, 0 unchanged, 0 conflicts, 0 rejected\ninvites: 0 read, 0 added, 0 unchanged, 0 conflicts, 0 rejected\ndone\n"));
}

#[test]
fn a_second_run_says_nothing_changed_and_lists_what_was_left_out() {
    let counts = TableReport {
        read: 2,
        unchanged: 1,
        conflicts: 1,
        ..TableReport::default()
    };
    let mut second = report(false, KeyOutcome::Unchanged, counts);
    assert!(
        summary(&second).ends_with("nothing to change: everything is already imported\n"),
        "{}",
        summary(&second)
    );
    second.conflicts.push(RowIssue {
        table: ImportTable::Bindings,
        position: 7,
        label: "email a***@example.org".to_owned(),
        reason: "bound here to @bob:example.org; kept".to_owned(),
    });
    let text = summary(&second);
    assert!(
        text.contains(
            "conflict: bindings row 7 (email a***@example.org): bound here to @bob:example.org; kept\n"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("everything else is already imported (not the rows listed above)\n"),
        "{text}"
    );
}
