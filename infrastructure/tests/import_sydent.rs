//! `verity import sydent` as an operator runs it, when it cannot run: it says why and exits 1,
//! having written nothing. (The import itself is tested end to end on a deployment made by the
//! real Sydent: tests/tests/e2e/import_sydent.rs.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

/// A sydent.conf as Sydent leaves it after its first start (its key written back).
const SYDENT_CONF: &str = "[general]\nserver.name = id.sydent.test\n\n[crypto]\n\
    ed25519.signingkey = ed25519 0 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n";

fn verity(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_verity"))
        .args(args)
        .current_dir(dir)
        .env_remove("VERITY_CONFIG")
        .output()
        .expect("the binary runs")
}

/// `verity import sydent --db <db> --config sydent.conf` with `more`, in `dir`.
fn import_sydent(db: &str, more: &[&str], dir: &Path) -> Output {
    let mut args = vec!["import", "sydent", "--db", db, "--config", "sydent.conf"];
    args.extend_from_slice(more);
    verity(&args, dir)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn setup(dir: &Path) {
    std::fs::write(dir.join("sydent.conf"), SYDENT_CONF).unwrap();
    std::fs::write(
        dir.join("verity.yaml"),
        "matrix:\n  domain: example.org\nkey:\n  path: keys\nstorage:\n  provider:\n    sqlite:\n      database: verity.db\n",
    )
    .unwrap();
}

#[test]
fn a_sydent_database_that_does_not_exist_stops_the_import_with_status_1_and_its_name() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let out = import_sydent("missing.db", &["-c", "verity.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("missing.db"), "{}", stderr(&out));
    assert!(
        !dir.path().join("missing.db").exists(),
        "Sydent's file is never created"
    );
}

#[test]
fn a_sydent_conf_without_its_signing_key_stops_the_import_before_anything_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    std::fs::write(
        dir.path().join("sydent.conf"),
        "[general]\nserver.name = id.sydent.test\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("sydent.db"), "").unwrap();
    let out = import_sydent("sydent.db", &["-c", "verity.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ed25519.signingkey"),
        "{}",
        stderr(&out)
    );
    assert!(
        !dir.path().join("verity.db").exists(),
        "Verity's store is not created"
    );
    assert!(!dir.path().join("keys").exists(), "nor its key store");
}

#[test]
fn a_file_that_is_not_a_sydent_database_is_refused_and_verity_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    std::fs::write(dir.path().join("sydent.db"), "not sqlite").unwrap();
    let out = import_sydent("sydent.db", &["-c", "verity.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("sydent.db"), "{}", stderr(&out));
    assert!(
        !dir.path().join("keys").exists(),
        "the key store is not created"
    );
}

#[test]
fn write_config_never_overwrites_a_file_the_operator_changed() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    std::fs::write(dir.path().join("sydent.db"), "").unwrap();
    std::fs::write(dir.path().join("mine.yaml"), "# edited\n").unwrap();
    let out = import_sydent("sydent.db", &["--write-config", "mine.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("not overwritten"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mine.yaml")).unwrap(),
        "# edited\n"
    );
}
