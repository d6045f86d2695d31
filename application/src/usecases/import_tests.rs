use std::sync::Mutex;

use mockall::predicate::eq;
use pretty_assertions::assert_eq;
use verity_domain::{Association, KeyId, Medium, ThreePid, Timestamp, UserId};

use super::*;
use crate::ports::driven::{
    AcceptedTerms, ImportedBinding, MockImportSink, MockImportSource, MockKeyStore, SourceCounts,
};

fn binding(n: u32) -> ImportedBinding {
    ImportedBinding {
        association: Association::vouched_at(
            ThreePid::parse(Medium::Email, &format!("user{n}@example.org")).unwrap(),
            UserId::parse(&format!("@user{n}:example.org")).unwrap(),
            Timestamp::from_millis(1_767_225_600_000),
        ),
        signed: None,
    }
}

fn row<T>(position: i64, record: Result<T, String>) -> SourceRow<T> {
    SourceRow {
        position,
        label: format!("row {position}"),
        record,
    }
}

/// A source holding `bindings` (rows 1..), one account-less, terms-less deployment.
fn source(bindings: Vec<SourceRow<ImportedBinding>>) -> MockImportSource {
    let mut source = MockImportSource::new();
    source.expect_name().return_const("sydent");
    let count = bindings.len() as u64;
    source.expect_counts().returning(move || {
        Ok(SourceCounts {
            bindings: count,
            ..SourceCounts::default()
        })
    });
    source.expect_bindings().returning(move |after, limit| {
        Ok(bindings
            .iter()
            .filter(|row| row.position > after)
            .take(limit as usize)
            .cloned()
            .collect())
    });
    source.expect_accounts().returning(|_, _| Ok(Vec::new()));
    source
        .expect_accepted_terms()
        .returning(|_, _| Ok(Vec::new()));
    source.expect_invites().returning(|_, _| Ok(Vec::new()));
    source
        .expect_ephemeral_keys()
        .returning(|_, _| Ok(Vec::new()));
    source
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_seed(KeyId::parse("ed25519:0").unwrap(), &[seed; 32])
}

fn key_store(held: Vec<StoredKey>, current: Option<&str>) -> MockKeyStore {
    let mut keys = MockKeyStore::new();
    keys.expect_keys()
        .with(eq(KeyKind::Regular))
        .returning(move |_| Ok(held.clone()));
    let current = current.map(|id| KeyId::parse(id).unwrap());
    keys.expect_current().returning(move || Ok(current.clone()));
    keys
}

fn service(source: MockImportSource, sink: MockImportSink, keys: MockKeyStore) -> ImportService {
    ImportService::new(Arc::new(source), Arc::new(sink), Arc::new(keys))
}

#[tokio::test]
async fn bindings_are_written_page_by_page_and_counted() {
    let rows: Vec<_> = (1..=5).map(|n| row(i64::from(n), Ok(binding(n)))).collect();
    let pages = Arc::new(Mutex::new(Vec::new()));
    let mut sink = MockImportSink::new();
    let seen = Arc::clone(&pages);
    sink.expect_bindings().returning(move |page, dry_run| {
        assert!(!dry_run);
        seen.lock().unwrap().push(page.len());
        Ok(PageOutcome {
            added: page.len() as u64,
            ..PageOutcome::default()
        })
    });
    let progress = Arc::new(Mutex::new(Vec::new()));
    let told = Arc::clone(&progress);
    let report = service(source(rows), sink, key_store(Vec::new(), None))
        .run(ImportOptions {
            page_size: 2,
            progress: Some(Box::new(move |p| told.lock().unwrap().push(p.done))),
            ..ImportOptions::default()
        })
        .await
        .unwrap();
    assert_eq!(*pages.lock().unwrap(), vec![2, 2, 1]);
    assert_eq!(*progress.lock().unwrap(), vec![2, 4, 5]);
    assert_eq!(
        report.bindings,
        TableReport {
            read: 5,
            added: 5,
            ..TableReport::default()
        }
    );
    assert_eq!(report.key, KeyOutcome::NotImported);
    assert!(report.changes_anything());
}

#[tokio::test]
async fn a_row_that_cannot_be_read_is_reported_with_its_reason_and_the_rest_imported() {
    let rows = vec![
        row(1, Ok(binding(1))),
        row(7, Err("invalid mxid".to_owned())),
        row(9, Ok(binding(9))),
    ];
    let mut sink = MockImportSink::new();
    sink.expect_bindings().times(1).returning(|page, _| {
        assert_eq!(page.len(), 2);
        Ok(PageOutcome {
            added: 1,
            unchanged: 0,
            conflicts: vec![(1, "bound here to @other:example.org".to_owned())],
        })
    });
    let report = service(source(rows), sink, key_store(Vec::new(), None))
        .run(ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(
        report.rejected,
        vec![RowIssue {
            table: ImportTable::Bindings,
            position: 7,
            label: "row 7".to_owned(),
            reason: "invalid mxid".to_owned(),
        }]
    );
    // The conflict names the source row it came from (the second record is row 9).
    assert_eq!(report.conflicts[0].position, 9);
    assert_eq!(
        report.bindings,
        TableReport {
            read: 3,
            added: 1,
            unchanged: 0,
            conflicts: 1,
            rejected: 1,
        }
    );
}

#[tokio::test]
async fn the_signing_key_is_added_and_made_current_when_absent() {
    let mut keys = key_store(Vec::new(), Some("ed25519:abc"));
    keys.expect_add()
        .withf(|kind, stored| {
            *kind == KeyKind::Regular && stored.valid && stored.key.id().as_str() == "ed25519:0"
        })
        .times(1)
        .returning(|_, _| Ok(()));
    keys.expect_set_current()
        .withf(|id| id.as_str() == "ed25519:0")
        .times(1)
        .returning(|_| Ok(()));
    let report = service(source(Vec::new()), MockImportSink::new(), keys)
        .run(ImportOptions {
            signing_key: Some(key(7)),
            ..ImportOptions::default()
        })
        .await
        .unwrap();
    assert_eq!(report.key, KeyOutcome::Added);
}

#[tokio::test]
async fn an_identical_signing_key_that_signs_already_is_unchanged() {
    let held = vec![StoredKey {
        key: key(7),
        valid: true,
    }];
    // No add, no set_current expected: the mock fails on either.
    let report = service(
        source(Vec::new()),
        MockImportSink::new(),
        key_store(held, Some("ed25519:0")),
    )
    .run(ImportOptions {
        signing_key: Some(key(7)),
        ..ImportOptions::default()
    })
    .await
    .unwrap();
    assert_eq!(report.key, KeyOutcome::Unchanged);
    assert!(!report.changes_anything());
}

#[tokio::test]
async fn a_different_key_under_the_same_id_refuses_the_import_before_writing_anything() {
    let held = vec![StoredKey {
        key: key(8),
        valid: true,
    }];
    // Neither the source nor the sink is called: their mocks expect nothing.
    let error = service(
        MockImportSource::new(),
        MockImportSink::new(),
        key_store(held, Some("ed25519:0")),
    )
    .run(ImportOptions {
        signing_key: Some(key(7)),
        ..ImportOptions::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(error, ImportError::KeyMismatch(ref id) if id == "ed25519:0"));
}

#[tokio::test]
async fn a_dry_run_adds_no_key_and_asks_the_sink_to_roll_back() {
    let rows = vec![row(1, Ok(binding(1)))];
    let mut sink = MockImportSink::new();
    sink.expect_bindings()
        .withf(|_, dry_run| *dry_run)
        .times(1)
        .returning(|_, _| {
            Ok(PageOutcome {
                added: 1,
                ..PageOutcome::default()
            })
        });
    let report = service(source(rows), sink, key_store(Vec::new(), None))
        .run(ImportOptions {
            dry_run: true,
            signing_key: Some(key(7)),
            ..ImportOptions::default()
        })
        .await
        .unwrap();
    assert!(report.dry_run);
    assert_eq!(report.key, KeyOutcome::Added);
    assert_eq!(report.bindings.added, 1);
}

#[tokio::test]
async fn accounts_and_accepted_terms_are_imported_after_bindings() {
    let mut source = MockImportSource::new();
    source.expect_name().return_const("sydent");
    source
        .expect_counts()
        .returning(|| Ok(SourceCounts::default()));
    source.expect_bindings().returning(|_, _| Ok(Vec::new()));
    let user = UserId::parse("@alice:example.org").unwrap();
    let terms = AcceptedTerms {
        user_id: user.clone(),
        url: "https://example.org/terms.html".to_owned(),
    };
    let page = vec![row(3, Ok(terms.clone()))];
    source
        .expect_accepted_terms()
        .returning(move |after, _| Ok(if after < 3 { page.clone() } else { Vec::new() }));
    source.expect_accounts().returning(|_, _| Ok(Vec::new()));
    source.expect_invites().returning(|_, _| Ok(Vec::new()));
    source
        .expect_ephemeral_keys()
        .returning(|_, _| Ok(Vec::new()));
    let mut sink = MockImportSink::new();
    sink.expect_accepted_terms()
        .withf(move |page, _| page == [terms.clone()])
        .times(1)
        .returning(|_, _| {
            Ok(PageOutcome {
                unchanged: 1,
                ..PageOutcome::default()
            })
        });
    let report = service(source, sink, key_store(Vec::new(), None))
        .run(ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(report.accepted_terms.unchanged, 1);
    assert!(!report.changes_anything());
}

#[tokio::test]
async fn a_zero_page_size_is_refused() {
    let error = service(
        MockImportSource::new(),
        MockImportSink::new(),
        MockKeyStore::new(),
    )
    .run(ImportOptions {
        page_size: 0,
        ..ImportOptions::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(error, ImportError::PageSize));
}

#[path = "import_invites_tests.rs"]
mod invites;
