use verity_application::usecases::{KeyOutcome, TableReport};

use super::*;

fn settings(key_path: &Path) -> Settings {
    crate::config::parse(&format!(
        "matrix:\n  domain: example.org\nkey:\n  path: '{}'\n",
        key_path.display()
    ))
    .expect("a valid configuration")
    .settings
}

#[test]
fn the_summary_opens_with_what_the_key_check_found_instead_of_the_key_import() {
    let report = ImportReport {
        source: "ma1sd",
        dry_run: false,
        key: KeyOutcome::NotImported,
        bindings: TableReport::default(),
        accounts: TableReport {
            read: 2,
            added: 2,
            ..TableReport::default()
        },
        accepted_terms: TableReport::default(),
        invites: TableReport::default(),
        ephemeral_keys: TableReport::default(),
        rejected: Vec::new(),
        conflicts: Vec::new(),
    };
    let text = summary(&KeyCheck("signing key: read as is".to_owned()), &report);
    assert!(
        text.starts_with("signing key: read as is\nbindings: 0 read"),
        "{text}"
    );
    assert!(!text.contains("not imported"), "{text}");
    assert!(text.contains("accounts: 2 read, 2 added"), "{text}");
}

#[tokio::test]
async fn a_missing_ma1sd_key_directory_stops_the_import_and_a_present_one_is_named_with_the_key_that_signs()
 {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let missing = dir.path().join("missing");
    let err = check_keys(&settings(&missing), &settings(&missing))
        .await
        .expect_err("no key directory");
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!missing.exists(), "the check creates nothing");

    let keys = dir.path().join("keys");
    let regular = keys.join("regular/ed25519");
    std::fs::create_dir_all(&regular).expect("mkdir");
    std::fs::write(
        keys.join("current"),
        r#"{"type":"Regular","algo":"ed25519","serial":"0"}"#,
    )
    .expect("write");
    std::fs::write(
        regular.join("0"),
        r#"{"version":"0","isValid":true,"key":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="}"#,
    )
    .expect("write");
    let same = check_keys(&settings(&keys), &settings(&keys))
        .await
        .expect("ma1sd's key");
    assert!(same.0.contains("as is (ed25519:0 signs)"), "{}", same.0);
    let other = check_keys(&settings(&keys), &settings(&dir.path().join("other")))
        .await
        .expect("ma1sd's key");
    assert!(other.0.contains("is NOT Verity's key.path"), "{}", other.0);
}
