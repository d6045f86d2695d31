//! `view.*` page files as the `verity` binary meets them at start-up.
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

const MISSING: &str = "matrix:
  domain: example.org
view:
  session:
    onTokenSubmit:
      failure: /nonexistent/verity/tokenSubmitFailure.html
";

#[test]
fn a_missing_page_file_stops_start_up_with_status_2_naming_the_key_and_the_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("verity.yaml"), MISSING).unwrap();
    // Checked and started alike: the server refuses before it opens its store or its port.
    for args in [&["--check-config"][..], &[][..]] {
        let out = verity(args, dir.path());
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("view.session.onTokenSubmit.failure")
                && stderr.contains("/nonexistent/verity/tokenSubmitFailure.html"),
            "{args:?}: {stderr}"
        );
    }
    assert!(!dir.path().join("verity.db").exists());
}

#[test]
fn a_relative_page_path_is_read_from_the_working_directory_and_dumped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pages")).unwrap();
    std::fs::write(dir.path().join("pages/ok.html"), "<p>%MESSAGE%</p>").unwrap();
    std::fs::write(
        dir.path().join("ma1sd.yaml"),
        "matrix: {domain: example.org}\nview: {session: {onTokenSubmit: {success: pages/ok.html}}}\n",
    )
    .unwrap();
    let out = verity(&["--dump-config"], dir.path());
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // The section is read now: no "not used yet" warning about it.
    assert!(!stderr.contains("`view`"), "{stderr}");
    let dump = text(&out.stdout);
    assert!(dump.contains("success: pages/ok.html"), "{dump}");
}
