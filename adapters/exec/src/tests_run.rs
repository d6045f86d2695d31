//! Running programs: arguments, environment and stdin arrive as data, exit codes map as
//! configured, and a program running too long or writing too much is killed.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;

use crate::config::{Exit, Process};
use crate::run::{Call, ExecError, Outcome, Runner};

/// An executable `sh` script `name` in `dir` with `body`.
pub(crate) fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn process(command: &Path) -> Process {
    Process {
        command: Some(command.to_str().unwrap().to_owned()),
        ..Process::default()
    }
}

async fn run(
    process: &Process,
    values: &[(&str, &str)],
    stdin: Option<&str>,
) -> Result<Outcome, ExecError> {
    Runner::new(4)
        .run(Call {
            key: "exec.identity.lookup.single",
            process,
            values,
            stdin: stdin.map(str::to_owned),
            secrets: &["hunter2"],
        })
        .await
}

/// The hostile values a 3PID could carry: none of them may be read by a shell.
const HOSTILE: &[&str] = &[
    "$(touch {dir}/pwned)",
    "`touch {dir}/pwned`",
    "a; touch {dir}/pwned",
    "a' ; touch '{dir}/pwned",
    "a\" && touch \"{dir}/pwned",
    "a | touch {dir}/pwned",
    "$HOME ${PATH} * ?",
    // Lookups never carry one (3PIDs refuse control characters), but a token's value may.
    "a\nb; touch {dir}/pwned\n",
    "-e",
    "",
];

#[tokio::test]
async fn each_argument_arrives_as_one_argument_with_its_tokens_replaced_however_hostile() {
    let dir = tempfile::tempdir().unwrap();
    let echo = script(
        dir.path(),
        "args",
        r#"for a in "$@"; do printf '%s\0' "$a"; done"#,
    );
    for value in HOSTILE {
        let value = value.replace("{dir}", dir.path().to_str().unwrap());
        let mut process = process(&echo);
        process.args = vec!["--address".into(), "{address}".into(), "x{medium}y".into()];
        let values = [("{address}", value.as_str()), ("{medium}", "email")];
        let Outcome::Success(out) = run(&process, &values, None).await.unwrap() else {
            panic!("not a success");
        };
        let args: Vec<&str> = out.split_terminator('\0').collect();
        assert_eq!(args, ["--address", value.as_str(), "xemaily"]);
    }
    assert!(
        !dir.path().join("pwned").exists(),
        "a value was run by a shell"
    );
}

#[tokio::test]
async fn env_values_and_stdin_arrive_as_data_however_hostile() {
    let dir = tempfile::tempdir().unwrap();
    let echo = script(dir.path(), "env", r#"printf '%s|' "$WHO"; cat"#);
    for value in HOSTILE {
        let value = value.replace("{dir}", dir.path().to_str().unwrap());
        let mut process = process(&echo);
        process.env.insert("WHO".into(), "<{address}>".into());
        let values = [("{address}", value.as_str())];
        let stdin = format!("{value}\nsecond line\n");
        let Outcome::Success(out) = run(&process, &values, Some(&stdin)).await.unwrap() else {
            panic!("not a success");
        };
        assert_eq!(out, format!("<{value}>|{stdin}"));
    }
    assert!(
        !dir.path().join("pwned").exists(),
        "a value was run by a shell"
    );
}

#[tokio::test]
async fn the_exit_codes_mean_what_exit_success_and_exit_failure_say() {
    let dir = tempfile::tempdir().unwrap();
    let exit = script(
        dir.path(),
        "exit",
        "echo out; echo 'first line' >&2; echo more >&2; exit \"$1\"",
    );
    let mut configured = process(&exit);
    configured.args = vec!["{code}".into()];
    configured.exit = Exit {
        success: vec![0, 10],
        failure: vec![1, 11],
    };
    for (code, expected) in [
        ("0", Some(true)),
        ("10", Some(true)),
        ("1", Some(false)),
        ("11", Some(false)),
        ("2", None),
    ] {
        let outcome = run(&configured, &[("{code}", code)], None).await;
        match (expected, outcome) {
            (Some(true), Ok(Outcome::Success(out))) => assert_eq!(out, "out\n"),
            (Some(false), Ok(Outcome::Failure)) => {}
            (
                None,
                Err(ExecError::Exit {
                    code, stderr, key, ..
                }),
            ) => {
                assert_eq!(code, Some(2));
                assert_eq!(stderr, "first line");
                assert_eq!(key, "exec.identity.lookup.single");
            }
            (expected, outcome) => panic!("exit {code}: expected {expected:?}, got {outcome:?}"),
        }
    }
}

#[tokio::test]
async fn a_secret_in_the_first_line_of_stderr_is_masked() {
    let dir = tempfile::tempdir().unwrap();
    let leak = script(dir.path(), "leak", "echo \"bad password $1\" >&2; exit 3");
    let mut process = process(&leak);
    process.args = vec!["hunter2".into()];
    let error = run(&process, &[], None).await.unwrap_err();
    let shown = error.to_string();
    assert!(
        shown.contains("bad password <redacted>") && !shown.contains("hunter2"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_program_running_too_long_is_killed_with_what_it_started_and_reaped() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let slow = script(
        dir.path(),
        "slow",
        &format!("sleep 30 & echo $$ $! > {}; wait", pids.display()),
    );
    let mut process = process(&slow);
    process.timeout = Duration::from_millis(300);
    let began = Instant::now();
    let error = run(&process, &[], None).await.unwrap_err();
    assert!(matches!(error, ExecError::Timeout { .. }), "{error}");
    assert!(began.elapsed() < Duration::from_secs(5));
    assert!(
        error
            .to_string()
            .contains("exec.identity.lookup.single.timeout")
    );
    let written = std::fs::read_to_string(&pids).unwrap();
    let pids: Vec<&str> = written.split_whitespace().collect();
    // The program itself is reaped: gone. What it started is killed: gone, or a zombie when the
    // machine's init (a container's) does not reap the orphans it inherits.
    let state = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| stat.rsplit(") ").next().map(|rest| rest.chars().next()))
            .flatten()
    };
    let mut states = Vec::new();
    for _ in 0..50 {
        states = pids.iter().map(|pid| state(pid)).collect();
        if states[0].is_none() && states[1].is_none_or(|s| s == 'Z') {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(states[0], None, "the program is still there");
    assert!(
        states[1].is_none_or(|s| s == 'Z'),
        "what it started still runs: {states:?}"
    );
}

#[tokio::test]
async fn a_program_writing_more_than_max_output_is_killed_and_its_output_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let flood = script(
        dir.path(),
        "flood",
        "exec yes 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'",
    );
    let mut process = process(&flood);
    process.max_output = 64 * 1024;
    let began = Instant::now();
    let error = run(&process, &[], None).await.unwrap_err();
    assert!(
        matches!(error, ExecError::TooLarge { limit: 65536, .. }),
        "{error}"
    );
    assert!(began.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn output_of_exactly_max_output_bytes_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let full = script(dir.path(), "full", "head -c 1000 /dev/zero | tr '\\0' a");
    let mut process = process(&full);
    process.max_output = 1000;
    let Outcome::Success(out) = run(&process, &[], None).await.unwrap() else {
        panic!("not a success");
    };
    assert_eq!(out.len(), 1000);
}

#[tokio::test]
async fn a_program_that_ignores_its_stdin_or_floods_stderr_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    let rude = script(
        dir.path(),
        "rude",
        "head -c 300000 /dev/zero >&2; echo done",
    );
    let process = process(&rude);
    let stdin = "x".repeat(1024 * 1024);
    let outcome = run(&process, &[], Some(&stdin)).await.unwrap();
    assert_eq!(outcome, Outcome::Success("done\n".into()));
}

#[tokio::test]
async fn a_missing_or_not_executable_command_is_an_error_naming_the_key_and_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let error = run(&process(&missing), &[], None).await.unwrap_err();
    let shown = error.to_string();
    assert!(matches!(error, ExecError::Spawn { .. }), "{shown}");
    assert!(
        shown.contains("exec.identity.lookup.single.command") && shown.contains("missing"),
        "{shown}"
    );
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "#!/bin/sh\necho hi\n").unwrap();
    assert!(matches!(
        run(&process(&plain), &[], None).await,
        Err(ExecError::Spawn { .. })
    ));
    let unset = Process::default();
    assert!(matches!(
        run(&unset, &[], None).await,
        Err(ExecError::NotConfigured { .. })
    ));
}

#[tokio::test]
async fn output_that_is_not_utf8_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let binary = script(dir.path(), "binary", "printf '\\377\\376'");
    let error = run(&process(&binary), &[], None).await.unwrap_err();
    assert!(matches!(error, ExecError::Output { .. }), "{error}");
}

#[tokio::test]
async fn a_lookup_given_up_by_its_caller_kills_the_program_and_what_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let slow = script(
        dir.path(),
        "slow",
        &format!("sleep 30 & echo $! > {}; wait", pids.display()),
    );
    let mut process = process(&slow);
    process.timeout = Duration::from_secs(60);
    let given_up = tokio::time::timeout(Duration::from_millis(300), run(&process, &[], None)).await;
    assert!(given_up.is_err(), "the program answered");
    let sleep = std::fs::read_to_string(&pids).unwrap();
    let stat = format!("/proc/{}/stat", sleep.trim());
    let mut state = None;
    for _ in 0..50 {
        state = std::fs::read_to_string(&stat)
            .ok()
            .and_then(|s| s.rsplit(") ").next().and_then(|rest| rest.chars().next()));
        if state.is_none_or(|s| s == 'Z') {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        state.is_none_or(|s| s == 'Z'),
        "what it started still runs: {state:?}"
    );
}
