//! The `verity` binary as an operator runs it, for the tests of its subcommands (`import`).
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

/// The `verity` binary, built as the operator runs it. The test crate cannot name another
/// package's binary, so cargo is asked for it: up to date, this only links or does nothing.
pub fn verity_binary() -> PathBuf {
    let output = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "-p",
            "verity",
            "--bin",
            "verity",
            "--message-format=json",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the verity executable")
}

/// What a run that must succeed printed on stdout; its stderr when it failed.
pub fn stdout_of_success(output: &Output) -> String {
    assert!(
        output.status.success(),
        "the command failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
