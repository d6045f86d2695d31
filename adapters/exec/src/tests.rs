//! The backend over small `sh` programs: the identity backend contract, ma1sd's formats, the
//! tokens, hostile 3PIDs and the health `/status` shows.
use std::path::{Path, PathBuf};

use pretty_assertions::assert_eq;
use verity_application::contract::identity::Identity;
use verity_application::ports::driven::{BackendError, Binding, HealthCheck as _, IdentityBackend};
use verity_domain::{Medium, ThreePid, UserId};

use crate::ExecBackend;
use crate::config::{ExecIdentityConfig, Format, Io, Process};
use crate::formats::MediumStr as _;
use crate::tests_run::script;

/// A single lookup over `db` (lines `medium<TAB>address<TAB>user ID`): medium and address as
/// arguments, the answer in ma1sd's JSON; exit 1 when not found.
const SINGLE: &str = r#"M="$1" A="$2" exec awk -F '\t' '
  $1 == ENVIRON["M"] && $2 == ENVIRON["A"] {
    printf "{\"lookup\":{\"id\":{\"type\":\"mxid\",\"value\":\"%s\"}}}\n", $3; found = 1; exit
  }
  END { if (!found) exit 1 }' "$DB""#;

/// A bulk lookup over `$DB` (shared with the other exec tests).
const BULK: &str = verity_testkit::exec_programs::BULK_OVER_DB;

fn command(process: &mut Process, path: &Path) {
    process.command = Some(path.to_str().unwrap().to_owned());
}

/// A backend over a file of `bindings`, with single, bulk and hash lookups, in `dir`.
fn over(dir: &Path, bindings: &[(ThreePid, UserId)]) -> ExecBackend {
    let db = dir.join("db.tsv");
    let lines: String = bindings
        .iter()
        .map(|(t, u)| format!("{}\t{}\t{}\n", t.medium_str(), t.address(), u))
        .collect();
    std::fs::write(&db, lines).unwrap();
    let mut config = ExecIdentityConfig::new("example.org");
    command(&mut config.single, &script(dir, "single", SINGLE));
    config.single.args = vec!["{medium}".into(), "{address}".into()];
    config.single.output.format = Some(Format::Json);
    command(&mut config.bulk, &script(dir, "bulk", BULK));
    config.bulk.input.format = Some(Format::Plain);
    config.bulk.output.format = Some(Format::Json);
    for process in [&mut config.single, &mut config.bulk] {
        process
            .env
            .insert("DB".into(), db.to_str().unwrap().to_owned());
    }
    config.hash_lookup = true;
    ExecBackend::new(config)
}

fn email(address: &str) -> ThreePid {
    ThreePid::parse(Medium::Email, address).unwrap()
}

fn custom(address: &str) -> ThreePid {
    ThreePid::parse(Medium::parse("x-custom").unwrap(), address).unwrap()
}

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

/// The identity backend contract (`verity_application::contract::identity`), every case, over
/// programs reading a file that holds each 3PID in canonical form.
mod contract {
    use super::*;

    macro_rules! exec_contract {
        ($($case:ident),* $(,)?) => {$(
            #[tokio::test]
            async fn $case() {
                let dir = tempfile::tempdir().unwrap();
                let seeded = async |identities: Vec<Identity>| {
                    let bindings: Vec<_> = identities
                        .into_iter()
                        .map(|i| (i.threepid, i.user_id))
                        .collect();
                    over(dir.path(), &bindings)
                };
                if let Err(failure) = verity_application::contract::identity::$case(seeded).await {
                    panic!("{failure}");
                }
            }
        )*};
    }

    verity_application::identity_backend_contract!(exec_contract);
}

#[tokio::test]
async fn without_a_bulk_command_a_bulk_lookup_runs_the_single_one_for_each_3pid() {
    let dir = tempfile::tempdir().unwrap();
    let alice = (email("alice@example.org"), user("@alice:example.org"));
    let backend = over(dir.path(), std::slice::from_ref(&alice));
    let mut config = backend.config().clone();
    config.bulk = Process::default();
    let backend = ExecBackend::new(config);
    let found = backend
        .lookup_many(&[
            alice.0.clone(),
            email("nobody@example.org"),
            alice.0.clone(),
        ])
        .await
        .unwrap();
    assert_eq!(
        found,
        vec![Binding {
            threepid: alice.0,
            user_id: alice.1
        }]
    );
}

#[tokio::test]
async fn a_bulk_answer_keeps_only_the_3pids_that_were_asked() {
    let dir = tempfile::tempdir().unwrap();
    let everyone = script(
        dir.path(),
        "everyone",
        r#"cat >/dev/null; echo '{"lookup":[{"medium":"email","address":"a@example.org","id":{"type":"localpart","value":"a"}},{"medium":"email","address":"b@example.org","id":{"type":"localpart","value":"b"}}]}'"#,
    );
    let mut config = ExecIdentityConfig::new("example.org");
    command(&mut config.single, &everyone);
    command(&mut config.bulk, &everyone);
    let backend = ExecBackend::new(config);
    let found = backend
        .lookup_many(&[email("b@example.org")])
        .await
        .unwrap();
    assert_eq!(
        found,
        vec![Binding {
            threepid: email("b@example.org"),
            user_id: user("@b:example.org")
        }]
    );
}

/// A program that notes its arguments, `$WHO` and stdin in `dir/seen`, then answers `answer`.
fn noting(dir: &Path, answer: &str) -> PathBuf {
    let seen = dir.join("seen");
    script(
        dir,
        "noting",
        &format!(
            "{{ printf '%s|' \"$@\"; printf 'env=%s|' \"$WHO\"; cat; }} > '{}'\nprintf '%s' '{answer}'",
            seen.display()
        ),
    )
}

#[tokio::test]
async fn the_tokens_are_replaced_in_args_env_and_the_stdin_template_as_configured() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ExecIdentityConfig::new("example.org");
    command(
        &mut config.single,
        &noting(dir.path(), "localpart\nalice\n"),
    );
    let single = &mut config.single;
    single.token.medium = "%M".into();
    single.args = vec!["-m".into(), "%M".into(), "--addr={address}".into()];
    single.env.insert("WHO".into(), "{address} by %M".into());
    single.input = Io {
        format: Some(Format::Plain),
        template: Some("ask %M {address}".into()),
    };
    single.output.format = Some(Format::Plain);
    let backend = ExecBackend::new(config);
    let found = backend.lookup(&email("alice@example.org")).await.unwrap();
    assert_eq!(found, Some(user("@alice:example.org")));
    let seen = std::fs::read_to_string(dir.path().join("seen")).unwrap();
    assert_eq!(
        seen,
        "-m|email|--addr=alice@example.org|env=alice@example.org by email|ask email alice@example.org"
    );
}

#[tokio::test]
async fn without_an_output_type_the_answer_is_read_as_json_where_ma1sd_failed() {
    let dir = tempfile::tempdir().unwrap();
    let answer = r#"{"lookup":{"id":{"type":"localpart","value":"alice"}}}"#;
    let mut config = ExecIdentityConfig::new("example.org");
    command(&mut config.single, &noting(dir.path(), answer));
    config.single.input.format = Some(Format::Json);
    let backend = ExecBackend::new(config);
    let found = backend.lookup(&email("alice@example.org")).await.unwrap();
    assert_eq!(found, Some(user("@alice:example.org")));
    let seen = std::fs::read_to_string(dir.path().join("seen")).unwrap();
    assert_eq!(
        seen,
        r#"|env=|{"address":"alice@example.org","medium":"email"}"#
    );
}

#[tokio::test]
async fn hostile_3pids_reach_the_program_as_data_find_nobody_and_run_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let backend = over(
        dir.path(),
        &[(email("alice@example.org"), user("@alice:example.org"))],
    );
    let pwned = dir.path().join("pwned");
    let pwned = pwned.display();
    let hostile = [
        custom(&format!("$(touch {pwned})")),
        custom(&format!("`touch {pwned}`")),
        custom(&format!("alice@example.org; touch {pwned}")),
        custom(&format!("' ; touch '{pwned}")),
        custom(&format!("\" && touch \"{pwned}")),
        custom("alice@example.org\" || \"1\"=\"1"),
        custom("*"),
        custom("-e"),
    ];
    for threepid in &hostile {
        assert_eq!(
            backend.lookup(threepid).await.unwrap(),
            None,
            "{threepid:?}"
        );
    }
    assert_eq!(backend.lookup_many(&hostile).await.unwrap(), Vec::new());
    assert!(
        !dir.path().join("pwned").exists(),
        "a 3PID was run by a shell"
    );
    assert!(backend.health().is_ok());
}

#[tokio::test]
async fn an_answer_that_is_not_one_is_a_corrupt_error_and_shows_in_the_health() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ExecIdentityConfig::new("example.org");
    command(
        &mut config.single,
        &noting(dir.path(), "{\"lookup\": {\"id\": 42}}"),
    );
    let backend = ExecBackend::new(config);
    let error = backend
        .lookup(&email("alice@example.org"))
        .await
        .unwrap_err();
    let BackendError::Corrupt(message) = error else {
        panic!("not corrupt: {error:?}");
    };
    assert!(
        message.contains("exec.identity.lookup.single") && message.contains("noting"),
        "{message}"
    );
    let health = backend.health().unwrap_err();
    assert!(health.contains("exec.identity.lookup.single"), "{health}");
    assert!(backend.check().await.is_err());
    assert!(!backend.required());
}

#[tokio::test]
async fn a_missing_command_fails_lookups_and_the_health_check_naming_the_key_not_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ExecIdentityConfig::new("example.org");
    command(&mut config.single, &dir.path().join("not-there"));
    let backend = ExecBackend::new(config);
    let health = backend.health().unwrap_err();
    assert!(
        health.starts_with("exec.identity.lookup.single.command") && health.contains("not-there"),
        "{health}"
    );
    let error = backend
        .lookup(&email("alice@example.org"))
        .await
        .unwrap_err();
    assert!(matches!(error, BackendError::Unavailable(_)), "{error:?}");
    assert!(error.to_string().contains("not-there") || format!("{error:?}").contains("not-there"));
}

#[tokio::test]
async fn a_healthy_backend_after_a_failure_is_healthy_again_once_a_run_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let flaky = script(
        dir.path(),
        "flaky",
        "if [ -e \"$0.ok\" ]; then echo alice; else exit 7; fi",
    );
    let mut config = ExecIdentityConfig::new("example.org");
    command(&mut config.single, &flaky);
    config.single.output.format = Some(Format::Plain);
    let backend = ExecBackend::new(config);
    assert!(backend.lookup(&email("a@example.org")).await.is_err());
    assert!(backend.health().is_err());
    std::fs::write(format!("{}.ok", flaky.display()), "").unwrap();
    assert_eq!(
        backend.lookup(&email("a@example.org")).await.unwrap(),
        Some(user("@alice:example.org"))
    );
    assert_eq!(backend.health(), Ok(()));
}

#[tokio::test]
async fn the_feed_reads_lookup_all_when_it_has_a_command_and_nothing_without_hash_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let all = script(
        dir.path(),
        "all",
        r#"echo '{"lookup":[{"medium":"email","address":"b@example.org","id":{"type":"localpart","value":"b"}},{"medium":"email","address":"a@example.org","id":{"type":"localpart","value":"a"}}]}'"#,
    );
    let mut config = ExecIdentityConfig::new("example.org");
    command(&mut config.single, &dir.path().join("unused"));
    command(&mut config.all, &all);
    config.hash_lookup = true;
    let backend = ExecBackend::new(config.clone());
    assert_eq!(backend.feed_len().await.unwrap(), Some(2));
    let page = backend.feed(None, 10).await.unwrap();
    let addresses: Vec<&str> = page.iter().map(|b| b.threepid.address()).collect();
    assert_eq!(addresses, ["a@example.org", "b@example.org"]);
    config.hash_lookup = false;
    let off = ExecBackend::new(config);
    assert_eq!(off.feed(None, 10).await.unwrap(), Vec::new());
}

#[tokio::test]
async fn with_only_a_bulk_program_single_lookups_ask_it_a_list_of_one() {
    let dir = tempfile::tempdir().unwrap();
    let alice = (email("alice@example.org"), user("@alice:example.org"));
    let mut config = over(dir.path(), std::slice::from_ref(&alice))
        .config()
        .clone();
    config.single = Process::default();
    let backend = ExecBackend::new(config);
    assert_eq!(backend.lookup(&alice.0).await.unwrap(), Some(alice.1));
    assert_eq!(
        backend.lookup(&email("bob@example.org")).await.unwrap(),
        None
    );
    assert_eq!(backend.health(), Ok(()));
}

#[tokio::test]
async fn with_no_command_at_all_lookups_fail_and_the_health_says_which_key_to_set() {
    let backend = ExecBackend::new(ExecIdentityConfig::new("example.org"));
    assert!(backend.lookup(&email("a@example.org")).await.is_err());
    let health = backend.health().unwrap_err();
    assert!(
        health.starts_with("exec.identity.lookup.single.command is not set"),
        "{health}"
    );
}
