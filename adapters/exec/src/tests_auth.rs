//! Logins by real `sh` programs: ma1sd's plain and json formats, the tokens, exit codes, and a
//! password that never shows in an error.
use std::path::Path;

use pretty_assertions::assert_eq;
use serde_json::json;
use verity_application::ports::driven::{
    AccountName, BackendError, PasswordVerdict, PasswordVerifier,
};
use verity_domain::{EmailAddress, Password, Profile, ThreePid, UserId};

use crate::ExecAuth;
use crate::config::{ExecAuthConfig, Format, Process};
use crate::tests_run::script;

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn password(text: &str) -> Password {
    Password::parse(text).unwrap()
}

fn login(dir: &Path, body: &str) -> Process {
    Process {
        command: Some(script(dir, "login", body).to_str().unwrap().to_owned()),
        ..Process::default()
    }
}

async fn verdict(auth: &ExecAuth, id: &str, pw: &str) -> Result<PasswordVerdict, BackendError> {
    auth.verify_password(&user(id), &password(pw)).await
}

fn shown(error: &BackendError) -> String {
    match error {
        BackendError::Unavailable(source) => format!("{error}: {source} {error:?}"),
        BackendError::Corrupt(message) => format!("{message} {error:?}"),
    }
}

#[tokio::test]
async fn ma1sds_plain_login_reads_four_lines_and_answers_success_and_the_display_name() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.tsv");
    std::fs::write(&users, "alice\tcorrect horse\tAlice Liddell\nbob\tb\t\n").unwrap();
    let mut process = login(dir.path(), verity_testkit::exec_programs::LOGIN_OVER_USERS);
    process.input.format = Some(Format::Plain);
    process.output.format = Some(Format::Plain);
    process
        .env
        .insert("USERS".into(), users.to_str().unwrap().to_owned());
    let auth = ExecAuth::new(ExecAuthConfig::new("example.org", process));

    assert_eq!(
        verdict(&auth, "@alice:example.org", "correct horse")
            .await
            .unwrap(),
        PasswordVerdict::Accepted {
            account: AccountName::Localpart("alice".into()),
            profile: Profile::named("Alice Liddell"),
        }
    );
    for (who, wrong) in [
        ("@alice:example.org", "correct hors"),
        ("@alice:example.org", "correct horse\nextra"),
        ("@carol:example.org", "correct horse"),
    ] {
        assert_eq!(
            verdict(&auth, who, wrong).await.unwrap(),
            PasswordVerdict::Refused,
            "{who} {wrong:?}"
        );
    }
}

#[tokio::test]
async fn without_an_output_type_the_exit_code_alone_decides_and_tokens_are_one_argument_each() {
    let dir = tempfile::tempdir().unwrap();
    let mut process = login(
        dir.path(),
        r#"[ "$#" = 3 ] && [ "$1" = alice ] && [ "$2" = "@alice:example.org" ] && [ "$3" = "$WANTED" ]"#,
    );
    process.args = vec!["{localpart}".into(), "{mxid}".into(), "{password}".into()];
    let hostile = "a b\"'$(touch pwned);`id`";
    process.env.insert("WANTED".into(), hostile.into());
    let auth = ExecAuth::new(ExecAuthConfig::new("example.org", process));

    assert!(matches!(
        verdict(&auth, "@alice:example.org", hostile).await.unwrap(),
        PasswordVerdict::Accepted { .. }
    ));
    assert_eq!(
        verdict(&auth, "@alice:example.org", "a b").await.unwrap(),
        PasswordVerdict::Refused
    );
    assert!(!dir.path().join("pwned").exists());
}

#[tokio::test]
async fn the_json_login_is_ma1sds_object_and_its_answer_may_carry_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("stdin.json");
    let mut process = login(
        dir.path(),
        r#"cat > "$SEEN"
printf '{"auth":{"success":true,"profile":{"display_name":"Alice","three_pids":[{"medium":"email","address":"Alice@Example.org"}]}}}'"#,
    );
    process.input.format = Some(Format::Json);
    process.output.format = Some(Format::Json);
    process
        .env
        .insert("SEEN".into(), seen.to_str().unwrap().to_owned());
    let auth = ExecAuth::new(ExecAuthConfig::new("example.org", process));

    let PasswordVerdict::Accepted { account, profile } =
        verdict(&auth, "@alice:example.org", "pa\"ss")
            .await
            .unwrap()
    else {
        panic!("refused");
    };

    assert_eq!(account, AccountName::Localpart("alice".into()));
    let mut expected = Profile::named("Alice");
    expected.add_threepid(ThreePid::Email(
        EmailAddress::parse("alice@example.org").unwrap(),
    ));
    assert_eq!(profile, expected);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&seen).unwrap()).unwrap();
    assert_eq!(
        written,
        json!({"mxid": "@alice:example.org", "localpart": "alice", "domain": "example.org", "password": "pa\"ss"})
    );
}

#[tokio::test]
async fn answers_outside_the_formats_and_unlisted_exit_codes_are_errors_that_mask_the_password() {
    let dir = tempfile::tempdir().unwrap();
    for (output, body) in [
        (Some(Format::Plain), "printf 'true\\nAlice\\nmore\\n'"),
        (Some(Format::Json), "printf '{\"success\":true}'"),
        (Some(Format::Json), "printf 'not json'"),
        (None, "echo \"wrong password $1 for you\" >&2; exit 3"),
    ] {
        let mut process = login(dir.path(), body);
        process.args = vec!["{password}".into()];
        process.output.format = output;
        let auth = ExecAuth::new(ExecAuthConfig::new("example.org", process));
        let error = verdict(&auth, "@alice:example.org", "hunter2-secret")
            .await
            .unwrap_err();
        let shown = shown(&error);
        assert!(shown.contains("exec.auth"), "{body}: {shown}");
        assert!(!shown.contains("hunter2-secret"), "{body}: {shown}");
    }
}

#[tokio::test]
async fn a_plain_or_json_answer_may_refuse_with_a_success_exit() {
    let dir = tempfile::tempdir().unwrap();
    for (output, body) in [
        (Format::Plain, "printf 'false\\n'"),
        (Format::Plain, "printf '0\\nAlice\\n'"),
        (Format::Json, "printf '{\"auth\":{\"success\":false}}'"),
    ] {
        let mut process = login(dir.path(), body);
        process.output.format = Some(output);
        let auth = ExecAuth::new(ExecAuthConfig::new("example.org", process));
        assert_eq!(
            verdict(&auth, "@alice:example.org", "x").await.unwrap(),
            PasswordVerdict::Refused,
            "{body}"
        );
    }
}
