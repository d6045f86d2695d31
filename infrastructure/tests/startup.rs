//! Starting the `verity` binary when its port is taken: it fails before it touches the disk.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the binary may take to give up.
const DEADLINE: Duration = Duration::from_secs(60);

#[test]
fn a_taken_port_stops_start_up_naming_server_port_before_any_key_or_database_is_made() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("verity.yaml"),
        format!(
            "matrix:\n  domain: example.org\nserver:\n  hostname: 127.0.0.1\n  port: {port}\n\
             key:\n  path: keys\nstorage:\n  provider:\n    sqlite:\n      database: data/verity.db\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_verity"))
        .current_dir(dir.path())
        .env_remove("VERITY_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > DEADLINE {
            child.kill().unwrap();
            panic!("verity kept running although port {port} is taken");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("server.port") && said.contains(&port.to_string()),
        "{said}"
    );
    for made in ["keys", "data", "data/verity.db"] {
        assert!(
            !dir.path().join(made).exists(),
            "{made} was created: {said}"
        );
    }
    drop(taken);
}
