//! Profiles over real `sh` programs: ma1sd's tokens and json answers, a program per part, and
//! programs that know nothing or fail.
use std::path::Path;

use pretty_assertions::assert_eq;
use verity_application::ports::driven::{BackendError, ProfileSource};
use verity_domain::{EmailAddress, Profile, ThreePid, UserId};

use crate::config::{Format, Process};
use crate::profile::{ExecProfile, ExecProfileConfig};
use crate::tests_run::script;

fn program(dir: &Path, name: &str, body: &str, args: &[&str]) -> Process {
    let path = script(dir, name, body);
    Process {
        command: Some(path.to_str().unwrap().to_owned()),
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        ..Process::default()
    }
}

fn store(display_name: Process, threepids: Process, roles: Process) -> ExecProfile {
    ExecProfile::new(ExecProfileConfig {
        display_name,
        threepids,
        roles,
        concurrency: 2,
    })
}

fn alice() -> UserId {
    UserId::parse("@alice:example.org").unwrap()
}

#[tokio::test]
async fn each_program_answers_its_part_of_the_profile_from_the_users_tokens() {
    let dir = tempfile::tempdir().unwrap();
    // Each program answers every part; only its own is read (as ma1sd).
    let everything = r#"[ "$1" = alice ] || exit 1
printf '{"profile": {"display_name": "Alice %s", "threepids": [{"medium": "email", "address": "alice@example.org"}, {"medium": "email", "address": "nope"}], "roles": ["staff", " hr ", "staff"]}}' "$2""#;
    let store = store(
        program(dir.path(), "name", everything, &["{localpart}", "{domain}"]),
        program(dir.path(), "threepids", everything, &["{localpart}", "x"]),
        program(dir.path(), "roles", everything, &["{localpart}", "y"]),
    );
    assert!(store.has_programs());
    assert_eq!(ProfileSource::name(&store), "exec");
    let profile = store.profile(&alice()).await.unwrap().expect("known");
    let mut expected = Profile::named("Alice example.org");
    expected.add_threepid(ThreePid::Email(
        EmailAddress::parse("alice@example.org").unwrap(),
    ));
    expected.add_role("staff");
    expected.add_role("hr");
    assert_eq!(profile, expected);
}

#[tokio::test]
async fn json_and_plain_stdin_carry_the_user_as_ma1sd_wrote_them() {
    let dir = tempfile::tempdir().unwrap();
    let keep_stdin = r#"cat > "$SEEN"; echo '{"profile": {"roles": ["seen"]}}'"#;
    let seen = dir.path().join("stdin");
    let read = |format: Format| {
        let mut process = program(dir.path(), "keep", keep_stdin, &[]);
        process.input.format = Some(format);
        process.env = [("SEEN".to_owned(), seen.to_str().unwrap().to_owned())].into();
        store(Process::default(), Process::default(), process)
    };

    let roles = read(Format::Json)
        .profile(&alice())
        .await
        .unwrap()
        .unwrap()
        .roles;
    assert_eq!(roles, ["seen"]);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&seen).unwrap()).unwrap();
    assert_eq!(
        written,
        serde_json::json!({"localpart": "alice", "domain": "example.org", "mxid": "@alice:example.org"})
    );

    read(Format::Plain).profile(&alice()).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "alice\nexample.org\n@alice:example.org\n"
    );
}

#[tokio::test]
async fn a_failure_exit_blank_output_or_no_profile_is_an_unknown_user() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(
        program(dir.path(), "fails", "exit 1", &[]),
        program(dir.path(), "blank", "exit 0", &[]),
        program(dir.path(), "none", r#"echo '{"other": 1}'"#, &[]),
    );
    assert_eq!(store.profile(&alice()).await.unwrap(), None);
    assert!(
        !ExecProfile::new(ExecProfileConfig {
            display_name: Process::default(),
            threepids: Process::default(),
            roles: Process::default(),
            concurrency: 1,
        })
        .has_programs()
    );
}

#[tokio::test]
async fn a_program_that_breaks_or_answers_nonsense_is_a_store_error() {
    let dir = tempfile::tempdir().unwrap();
    let crashes = store(
        Process::default(),
        Process::default(),
        program(dir.path(), "crash", "exit 3", &[]),
    );
    let err = crashes.profile(&alice()).await.unwrap_err();
    assert!(matches!(err, BackendError::Unavailable(_)), "{err:?}");

    let nonsense = store(
        program(dir.path(), "text", "echo 'Alice'", &[]),
        Process::default(),
        Process::default(),
    );
    let err = nonsense.profile(&alice()).await.unwrap_err();
    let BackendError::Corrupt(message) = err else {
        panic!("{err:?}")
    };
    assert!(message.contains("exec.profile.displayName"), "{message}");
}
