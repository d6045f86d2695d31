//! What both imports print: progress on stderr while a large table is read, and the summary of
//! the report. A leaf of its own so that `cli` (Sydent, and the `import` command) and `ma1sd_cli`
//! share it without importing each other.
use verity_application::usecases::{
    DEFAULT_PAGE_SIZE, ImportReport, ImportTable, KeyOutcome, Progress,
};

/// Prints a line per page of a large table.
pub(super) fn print_progress(progress: Progress) {
    // Only large tables: a line per page of a small one says nothing the summary does not.
    if progress.total > u64::from(DEFAULT_PAGE_SIZE) {
        eprintln!(
            "{}: {}/{} rows read",
            progress.table, progress.done, progress.total
        );
    }
}

/// The final summary, one line per table, then each row that was not imported.
pub fn summary(report: &ImportReport) -> String {
    let mut out = String::new();
    let would = if report.dry_run { "would be " } else { "" };
    let key = match report.key {
        KeyOutcome::NotImported => "not imported".to_owned(),
        KeyOutcome::Added => format!("{would}added and made the key that signs"),
        KeyOutcome::MadeCurrent => format!("already there; {would}made the key that signs"),
        KeyOutcome::Unchanged => "unchanged (already there, signing)".to_owned(),
    };
    out.push_str(&format!("signing key: {key}\n"));
    for table in [
        ImportTable::Bindings,
        ImportTable::Accounts,
        ImportTable::AcceptedTerms,
        ImportTable::EphemeralKeys,
        ImportTable::Invites,
    ] {
        let counts = report.table(table);
        out.push_str(&format!(
            "{table}: {} read, {} {}, {} unchanged, {} conflicts, {} rejected\n",
            counts.read,
            counts.added,
            if report.dry_run { "to add" } else { "added" },
            counts.unchanged,
            counts.conflicts,
            counts.rejected,
        ));
    }
    for issue in &report.rejected {
        out.push_str(&format!(
            "rejected: {} row {} ({}): {}\n",
            issue.table, issue.position, issue.label, issue.reason
        ));
    }
    for issue in &report.conflicts {
        out.push_str(&format!(
            "conflict: {} row {} ({}): {}\n",
            issue.table, issue.position, issue.label, issue.reason
        ));
    }
    let left_out = !report.rejected.is_empty() || !report.conflicts.is_empty();
    out.push_str(
        match (report.changes_anything(), report.dry_run, left_out) {
            (true, true, _) => "dry run: nothing was written\n",
            (true, false, _) => "done\n",
            (false, _, false) => "nothing to change: everything is already imported\n",
            (false, _, true) => {
                "nothing to change: everything else is already imported (not the rows listed above)\n"
            }
        },
    );
    out
}
