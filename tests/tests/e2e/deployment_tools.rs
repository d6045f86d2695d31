//! The deployment's files checked by the programs that read them: systemd's `systemd-analyze
//! verify` on the unit, and Synapse's own configuration loader on the guide's excerpt.
use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Once;

use crate::deployment::{PUBLIC_URL, read, root};

/// A program the tests need, at `path`: `None` with a note when it is missing (the test then
/// passes without running), except under CI (`CI` set), where it panics: scripts/test installs
/// Debian's `package`.
pub(crate) fn tool(path: &str, package: &str) -> Option<PathBuf> {
    let path = PathBuf::from(path);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {} is missing: scripts/test installs Debian's {package}",
        path.display()
    );
    static NOTE: Once = Once::new();
    NOTE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "note: {} is missing; the deployment test that needs it passes without running \
             (scripts/test installs Debian's {package})",
            path.display()
        );
    });
    None
}

#[test]
fn systemd_accepts_the_unit() {
    let Some(analyze) = tool("/usr/bin/systemd-analyze", "systemd") else {
        return;
    };
    let unit = read("deploy/systemd/verity.service");
    // systemd checks that both programs exist: the built binary stands in for the installed
    // one, and an executable stub for /bin/kill where this machine has none.
    let dir = tempfile::tempdir().unwrap();
    let kill = if std::path::Path::new("/bin/kill").exists() {
        PathBuf::from("/bin/kill")
    } else {
        let stub = dir.path().join("kill");
        std::fs::write(&stub, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&stub, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        stub
    };
    let binary = verity_tests::verity_binary();
    let local = unit
        .replace("/usr/local/bin/verity", &binary.display().to_string())
        .replace("/bin/kill", &kill.display().to_string());
    // Nothing else differs.
    assert_eq!(
        local
            .replace(&binary.display().to_string(), "/usr/local/bin/verity")
            .replace(&kill.display().to_string(), "/bin/kill"),
        unit
    );
    let path = dir.path().join("verity.service");
    std::fs::write(&path, &local).unwrap();
    let output = Command::new(analyze)
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{said}");
    assert!(
        !said.lines().any(|line| line.starts_with("verity.service")),
        "{said}"
    );
    // The reload is SIGHUP, and the hardening the guide promises is there.
    for line in [
        "ExecReload=/bin/kill -HUP $MAINPID",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
        "ReadWritePaths=/var/lib/verity/data /var/lib/verity/keys",
    ] {
        assert!(unit.lines().any(|l| l == line), "{line}");
    }
}

#[test]
fn synapse_reads_the_guides_excerpt_and_names_verity_as_its_identity_server() {
    let Some(python) = verity_testkit::synapse::python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.yaml");
    let d = dir.path().display();
    std::fs::write(
        &base,
        format!(
            "report_stats: false\nsigning_key_path: {d}/signing.key\nmedia_store_path: {d}/media\n\
             listeners: []\ndatabase: {{name: sqlite3, args: {{database: {d}/homeserver.db}}}}\n\
             macaroon_secret_key: test\nform_secret: test\n"
        ),
    )
    .unwrap();
    let excerpt = root().join("docs/deployment/homeserver.yaml");
    let synapse = |args: &[&str]| {
        let output = Command::new(&python)
            .args(args)
            .arg("-c")
            .arg(&base)
            .arg("-c")
            .arg(&excerpt)
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "{said}");
        said
    };
    synapse(&["-m", "synapse.app.homeserver", "--generate-keys"]);
    for key in [
        "registration.default_identity_server",
        "registration.account_threepid_delegate_msisdn",
    ] {
        let said = synapse(&["-m", "synapse.config", "read", key]);
        assert!(said.contains(&format!("{key}: {PUBLIC_URL}")), "{said}");
    }
}
