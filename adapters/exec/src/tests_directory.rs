//! The directory search over real `sh` programs: ma1sd's tokens and formats, the program a
//! 3PID search runs, hostile terms, and programs that fail.
use std::path::Path;

use pretty_assertions::assert_eq;
use verity_application::ports::driven::{BackendError, DirectorySearch};
use verity_domain::{DirectoryResults, SearchLimit, SearchTerm};
use verity_testkit::exec_programs::DIRECTORY_OVER_PEOPLE;

use crate::config::{Format, Process};
use crate::directory::{ExecDirectory, ExecDirectoryConfig};
use crate::tests_run::script;

const PEOPLE: &str = "alice\tAlice Liddell\talice@wonderland.example\n\
                      @bob:example.org\tBob\tbob@builders.example\n\
                      not a user\tBroken\t\n";

/// The testkit's program over `PEOPLE`, `{type}` and `{query}` as its arguments.
fn program(dir: &Path) -> Process {
    let people = dir.join("people.tsv");
    std::fs::write(&people, PEOPLE).unwrap();
    let path = script(dir, "directory", DIRECTORY_OVER_PEOPLE);
    Process {
        command: Some(path.to_str().unwrap().to_owned()),
        args: vec!["{type}".into(), "{query}".into()],
        env: [("PEOPLE".to_owned(), people.to_str().unwrap().to_owned())].into(),
        ..Process::default()
    }
}

fn directory(by_name: Process, by_threepid: Process) -> ExecDirectory {
    ExecDirectory::new(ExecDirectoryConfig {
        matrix_domain: "example.org".into(),
        by_name,
        by_threepid,
        concurrency: 2,
    })
}

fn term(raw: &str) -> SearchTerm {
    SearchTerm::parse(raw).unwrap()
}

fn ids(results: &DirectoryResults) -> Vec<&str> {
    results.entries.iter().map(|e| e.user_id.as_str()).collect()
}

#[tokio::test]
async fn the_program_finds_people_by_name_and_localparts_are_completed() {
    let dir = tempfile::tempdir().unwrap();
    let directory = directory(program(dir.path()), Process::default());
    assert!(directory.has_programs());
    assert_eq!(DirectorySearch::name(&directory), "exec");
    let found = directory
        .search_by_name(&term("LIDDELL"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(ids(&found), ["@alice:example.org"]);
    assert_eq!(
        found.entries[0].display_name.as_deref(),
        Some("Alice Liddell")
    );
    // An invalid user ID ("not a user") is left out; the limit is kept.
    let found = directory
        .search_by_name(&term("o"), SearchLimit::from_request(Some(1)))
        .await
        .unwrap();
    assert_eq!(ids(&found), ["@bob:example.org"]);
    assert!(!found.limited);
    let found = directory
        .search_by_name(&term("i"), SearchLimit::from_request(Some(0)))
        .await
        .unwrap();
    assert!(found.limited);
}

#[tokio::test]
async fn without_a_by_threepid_program_by_name_searches_3pids_as_ma1sd_ran_it() {
    let dir = tempfile::tempdir().unwrap();
    let directory = directory(program(dir.path()), Process::default());
    let found = directory
        .search_by_threepid(&term("builders"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(ids(&found), ["@bob:example.org"]);
}

#[tokio::test]
async fn a_by_threepid_program_is_run_for_3pid_searches() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let nobody = script(
        &other,
        "nobody",
        r#"echo '{"results":[{"user_id":"carol","display_name":"Carol"}]}'"#,
    );
    let by_threepid = Process {
        command: Some(nobody.to_str().unwrap().to_owned()),
        ..Process::default()
    };
    let directory = directory(program(dir.path()), by_threepid);
    let found = directory
        .search_by_threepid(&term("builders"), SearchLimit::default())
        .await
        .unwrap();
    assert_eq!(ids(&found), ["@carol:example.org"]);
}

#[tokio::test]
async fn shell_metacharacters_in_the_term_are_data() {
    let dir = tempfile::tempdir().unwrap();
    let directory = directory(program(dir.path()), Process::default());
    let marker = dir.path().join("pwned");
    for raw in [
        format!("$(touch {})", marker.display()),
        format!("`touch {}`", marker.display()),
        format!("'; touch {}; '", marker.display()),
        "\" -v x=1 \"".to_owned(),
    ] {
        let found = directory
            .search_by_name(&term(&raw), SearchLimit::default())
            .await
            .unwrap();
        assert_eq!(found, DirectoryResults::default(), "{raw}");
    }
    assert!(!marker.exists());
}

#[tokio::test]
async fn stdin_is_ma1sds_json_or_plain_request() {
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("stdin");
    let echo = script(
        dir.path(),
        "echo",
        &format!("cat > '{}'; echo '{{}}'", seen.display()),
    );
    for (format, expected) in [
        (Format::Json, r#"{"by":"threepid","search_term":"ali ce"}"#),
        (Format::Plain, "threepid\nali ce"),
    ] {
        let mut process = Process {
            command: Some(echo.to_str().unwrap().to_owned()),
            ..Process::default()
        };
        process.input.format = Some(format);
        let directory = directory(process, Process::default());
        let found = directory
            .search_by_threepid(&term("ali ce"), SearchLimit::default())
            .await
            .unwrap();
        assert_eq!(found, DirectoryResults::default());
        assert_eq!(std::fs::read_to_string(&seen).unwrap(), expected);
    }
}

#[tokio::test]
async fn failures_are_nobody_errors_or_corrupt_answers_as_the_exit_code_says() {
    let dir = tempfile::tempdir().unwrap();
    let run = |body: &str, name: &str| {
        let path = script(dir.path(), name, body);
        directory(
            Process {
                command: Some(path.to_str().unwrap().to_owned()),
                ..Process::default()
            },
            Process::default(),
        )
    };
    let nobody = run("exit 1", "nobody");
    assert_eq!(
        nobody
            .search_by_name(&term("a"), SearchLimit::default())
            .await
            .unwrap(),
        DirectoryResults::default()
    );
    let broken = run("exit 3", "broken");
    assert!(matches!(
        broken
            .search_by_name(&term("a"), SearchLimit::default())
            .await,
        Err(BackendError::Unavailable(_))
    ));
    let garbage = run("echo 'not json'", "garbage");
    assert!(matches!(
        garbage
            .search_by_name(&term("a"), SearchLimit::default())
            .await,
        Err(BackendError::Corrupt(_))
    ));
    let unconfigured = directory(Process::default(), Process::default());
    assert!(!unconfigured.has_programs());
    assert_eq!(
        unconfigured
            .search_by_name(&term("a"), SearchLimit::default())
            .await
            .unwrap(),
        DirectoryResults::default()
    );
}
