//! The programs of the exec store's end-to-end tests: `sh` scripts over a file of bindings,
//! written to a temporary directory, and the `exec` section that runs them.
use std::path::{Path, PathBuf};

/// One 3PID: its medium and address as arguments, `$DB` (lines `medium<TAB>address<TAB>user`)
/// searched without a shell reading either; ma1sd's plain answer `mxid` then the user, or exit 1.
const SINGLE: &str = r#"printf '%s\n' "$2" >> "$LOG"
M="$1" A="$2" exec awk -F '\t' '
  $1 == ENVIRON["M"] && $2 == ENVIRON["A"] { print "mxid"; print $3; found = 1; exit }
  END { if (!found) exit 1 }' "$DB""#;

/// A bulk lookup over `$DB` (shared with the other exec tests).
const BULK: &str = verity_testkit::exec_programs::BULK_OVER_DB;

/// The programs and their file in a temporary directory.
pub(super) struct Programs {
    dir: tempfile::TempDir,
}

impl Programs {
    pub(super) fn new(bindings: &[(&str, &str, &str)]) -> Self {
        let programs = Self {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        programs.set(bindings);
        programs.script("single", SINGLE);
        programs.script("bulk", BULK);
        std::fs::write(programs.path("log"), "").expect("log");
        programs
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The file the programs read, replaced whole.
    pub(super) fn set(&self, bindings: &[(&str, &str, &str)]) {
        let lines: String = bindings
            .iter()
            .map(|(medium, address, user)| format!("{medium}\t{address}\t{user}\n"))
            .collect();
        let temp = self.path("db.new");
        std::fs::write(&temp, lines).expect("db");
        std::fs::rename(temp, self.path("db.tsv")).expect("db");
    }

    pub(super) fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let path = self.path(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    /// The addresses the single program was given, one a line.
    pub(super) fn asked(&self) -> String {
        std::fs::read_to_string(self.path("log")).expect("log")
    }

    /// The `exec` section: `single` as `command`, the bulk program (which also feeds the hash
    /// table, as ma1sd's `hashLookup` did) unless `bulk` is false.
    pub(super) fn yaml(&self, command: &Path, bulk: bool, timeout: &str) -> String {
        let dir = self.dir.path().display();
        let lookups = if bulk {
            format!(
                "      bulk:
        command: '{dir}/bulk'
        env: {{DB: '{dir}/db.tsv'}}
        input: {{type: plain}}
        output: {{type: json}}
"
            )
        } else {
            String::new()
        };
        format!(
            "
exec:
  enabled: true
  identity:
    hashLookup: {bulk}
    refresh: 1s
    lookup:
      single:
        command: '{command}'
        args: ['{{medium}}', '{{address}}']
        env: {{DB: '{dir}/db.tsv', LOG: '{dir}/log'}}
        output: {{type: plain}}
        timeout: {timeout}
{lookups}",
            command = command.display()
        )
    }
}
