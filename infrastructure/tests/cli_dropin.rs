//! ma1sd's command line and environment on the `verity` binary (`-v`, `-vv`, `--dump`,
//! `--dump-and-exit`, `MA1SD_LOG_LEVEL`, `MXISD_LOG_LEVEL`), and what an unchanged ma1sd file
//! is told at start-up.
//!
//! Runs that start the server use a port that is already taken: Verity reads its configuration,
//! logs what the operator must know, then fails to listen and exits, so every line it says at
//! start-up is captured without a server left running.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

const MA1SD_FILE: &str = "matrix:\n  domain: example.org\nhashing:\n  enabled: true\n\
                          \x20 rotationPolicy: per_requests\n  requests: 10\n";

fn verity(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_verity"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("VERITY_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("MA1SD_LOG_LEVEL")
        .env_remove("MXISD_LOG_LEVEL");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A directory with `ma1sd.yaml`: `yaml` plus a listener on a port that is taken.
fn ma1sd_dir(yaml: &str) -> (tempfile::TempDir, TcpListener) {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ma1sd.yaml"),
        format!("{yaml}server:\n  hostname: 127.0.0.1\n  port: {port}\n"),
    )
    .unwrap();
    (dir, taken)
}

#[test]
fn dump_prints_the_effective_configuration_then_starts_and_v_logs_at_debug() {
    let (dir, _taken) = ma1sd_dir(MA1SD_FILE);
    let out = verity(&["--dump", "-v"], dir.path(), &[]);
    let stdout = text(&out.stdout);
    // Printed first, then the server started (and stopped at the taken port).
    assert!(
        stdout.starts_with("# Effective Verity configuration"),
        "{stdout}"
    );
    assert!(stdout.contains("verity=debug"), "{stdout}");
    assert!(
        stdout.contains("Verity's log level set by -v") && stdout.contains("server.port"),
        "{stdout}"
    );
    assert!(!out.status.success());
}

#[test]
fn an_unchanged_ma1sd_file_is_told_at_start_up_where_remote_addresses_go_and_about_its_rotation() {
    let (dir, _taken) = ma1sd_dir(MA1SD_FILE);
    let out = verity(&[], dir.path(), &[]);
    let logs = text(&out.stdout);
    let notice = logs
        .lines()
        .find(|line| line.contains("session.policy.validation is not set"))
        .unwrap_or_else(|| panic!("no notice in:\n{logs}"));
    assert!(
        notice.contains("WARN")
            && notice.contains("https://matrix.org")
            && notice.contains("session.policy.validation.forRemote.toLocal: true")
            && notice.contains("session.policy.validation.forRemote.toRemote.enabled: false"),
        "{notice}"
    );
    let rotation = logs
        .lines()
        .find(|line| line.contains("`hashing.requests`"))
        .unwrap_or_else(|| panic!("no rotation warning in:\n{logs}"));
    assert!(
        rotation.contains("WARN") && rotation.contains("M_INVALID_PEPPER"),
        "{rotation}"
    );
}

#[test]
fn check_config_prints_the_rotation_warning_and_the_policy_notice_and_succeeds() {
    let (dir, _taken) = ma1sd_dir(MA1SD_FILE);
    let out = verity(&["--check-config"], dir.path(), &[]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: `hashing.requests`")
            && stderr.contains("hashing.requests to 1000 or more")
            && stderr.contains("note: session.policy.validation is not set"),
        "{stderr}"
    );
}

#[test]
fn dump_and_exit_prints_the_configuration_and_exits_without_starting() {
    let (dir, _taken) = ma1sd_dir(MA1SD_FILE);
    let out = verity(&["--dump-and-exit"], dir.path(), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("# Effective Verity configuration") && stdout.contains("port: "),
        "{stdout}"
    );
    assert!(!stdout.contains("listen"), "{stdout}");
}

#[test]
fn ma1sd_log_level_and_mxisd_log_level_set_verity_s_level_and_vv_outranks_them() {
    let (dir, _taken) = ma1sd_dir(MA1SD_FILE);
    let dump = |args: &[&str], env: &[(&str, &str)]| {
        let out = verity(args, dir.path(), env);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let ma1sd = dump(
        &["--dump-config"],
        &[("MA1SD_LOG_LEVEL", "WARN"), ("MXISD_LOG_LEVEL", "error")],
    );
    assert!(ma1sd.contains("verity=warn"), "{ma1sd}");
    let mxisd = dump(&["--dump-config"], &[("MXISD_LOG_LEVEL", "error")]);
    assert!(mxisd.contains("verity=error"), "{mxisd}");
    let vv = dump(&["--dump-config", "-vv"], &[("MA1SD_LOG_LEVEL", "warn")]);
    assert!(vv.contains("verity=trace"), "{vv}");
}

#[test]
fn an_unknown_level_in_the_environment_stops_with_status_2_naming_the_variable() {
    let (dir, _taken) = ma1sd_dir(MA1SD_FILE);
    let out = verity(
        &["--check-config"],
        dir.path(),
        &[("MA1SD_LOG_LEVEL", "loud")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("MA1SD_LOG_LEVEL: unknown level `loud`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_enabled_firebase_section_stops_start_up_with_status_2_naming_firebase_enabled() {
    // Firebase is one of the backends Verity does not serve (`rest` was, until it was built).
    let (dir, _taken) = ma1sd_dir(&format!(
        "{MA1SD_FILE}firebase:\n  enabled: true\n  credentials: /etc/ma1sd/firebase.json\n"
    ));
    for args in [&["--check-config"][..], &[]] {
        let out = verity(args, dir.path(), &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("firebase.enabled: the Firebase identity backend is not supported")
                && stderr.contains("set firebase.enabled: false"),
            "{args:?}: {stderr}"
        );
    }
}
