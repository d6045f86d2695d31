//! The `verity` binary's configuration commands, as an operator runs them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn verity(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_verity"))
        .args(args)
        .current_dir(dir)
        .env_remove("VERITY_CONFIG")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_config_accepts_the_sample_configuration() {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/verity.sample.yaml");
    let dir = tempfile::tempdir().unwrap();
    let out = verity(&["--check-config", "-c", sample], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("configuration is valid"));
}

#[test]
fn an_invalid_value_exits_with_status_2_and_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("verity.yaml"),
        "matrix:\n  domain: example.org\nserver:\n  port: 70000\n",
    )
    .unwrap();
    let out = verity(&["--check-config"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("server.port"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_existing_ma1sd_yaml_in_the_working_directory_is_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ma1sd.yaml"),
        "matrix:\n  domain: example.org\nserver:\n  prot: 1\n",
    )
    .unwrap();
    let out = verity(&["--check-config"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("ma1sd.yaml") && stderr.contains("server.prot"),
        "{stderr}"
    );
}

#[test]
fn dump_config_prints_defaults_and_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "matrix:\n  domain: example.org\nstorage:\n  backend: postgresql\n  provider:\n    postgresql:\n      database: //db.example.org/verity\n      username: verity\n      password: hunter2\n";
    std::fs::write(dir.path().join("verity.yaml"), yaml).unwrap();
    let out = verity(&["--dump-config"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dump = text(&out.stdout);
    assert!(
        dump.contains("port: 8090") && dump.contains("<redacted>"),
        "{dump}"
    );
    assert!(!dump.contains("hunter2"), "{dump}");
}

#[test]
fn a_missing_configuration_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = verity(&["-c", "nowhere.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("nowhere.yaml"),
        "{}",
        text(&out.stderr)
    );
}
