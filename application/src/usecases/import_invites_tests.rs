//! Pending invites and ephemeral keys: read after the other tables, the keys before the
//! invites, each page written in one call, rejected rows and conflicts reported.
use std::sync::Arc;

use pretty_assertions::assert_eq;

use verity_domain::{InviteToken, PublicKey, SigningKey};

use super::*;
use crate::ports::driven::ImportedInvite;

fn invite(n: u8) -> ImportedInvite {
    ImportedInvite {
        token: InviteToken::parse(&format!("token{n}")).unwrap(),
        threepid: ThreePid::parse(Medium::Email, &format!("guest{n}@example.org")).unwrap(),
        room_id: "!room:example.org".to_owned(),
        sender: UserId::parse("@inviter:example.org").unwrap(),
        created_at: Timestamp::from_millis(1_767_225_600_000),
        ephemeral_key: None,
    }
}

fn ephemeral(n: u8) -> PublicKey {
    SigningKey::from_seed(KeyId::ephemeral(), &[n; 32]).public_key()
}

/// A deployment with nothing but `keys` and `invites` (rows 1..).
fn invites_source(
    keys: Vec<SourceRow<PublicKey>>,
    invites: Vec<SourceRow<ImportedInvite>>,
) -> MockImportSource {
    let mut source = MockImportSource::new();
    source.expect_name().return_const("sydent");
    let (key_count, invite_count) = (keys.len() as u64, invites.len() as u64);
    source.expect_counts().returning(move || {
        Ok(SourceCounts {
            invites: invite_count,
            delivered_invites: 1,
            ephemeral_keys: key_count,
            ..SourceCounts::default()
        })
    });
    source.expect_bindings().returning(|_, _| Ok(Vec::new()));
    source.expect_accounts().returning(|_, _| Ok(Vec::new()));
    source
        .expect_accepted_terms()
        .returning(|_, _| Ok(Vec::new()));
    source
        .expect_ephemeral_keys()
        .returning(move |after, limit| {
            Ok(keys
                .iter()
                .filter(|row| row.position > after)
                .take(limit as usize)
                .cloned()
                .collect())
        });
    source.expect_invites().returning(move |after, limit| {
        Ok(invites
            .iter()
            .filter(|row| row.position > after)
            .take(limit as usize)
            .cloned()
            .collect())
    });
    source
}

#[tokio::test]
async fn ephemeral_keys_then_pending_invites_are_imported_page_by_page_with_bad_rows_reported() {
    let source = invites_source(
        vec![row(1, Ok(ephemeral(1))), row(2, Ok(ephemeral(2)))],
        vec![
            row(4, Ok(invite(1))),
            row(5, Err("`sender` is not a Matrix user ID".to_owned())),
            row(7, Ok(invite(2))),
        ],
    );
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut sink = MockImportSink::new();
    let seen = order.clone();
    sink.expect_ephemeral_keys()
        .withf(|page, dry_run| page == [ephemeral(1), ephemeral(2)] && !dry_run)
        .times(1)
        .returning(move |page, _| {
            seen.lock().unwrap().push("keys");
            Ok(PageOutcome {
                added: page.len() as u64,
                ..PageOutcome::default()
            })
        });
    let seen = order.clone();
    sink.expect_invites()
        .withf(|page, _| page == [invite(1), invite(2)])
        .times(1)
        .returning(move |_, _| {
            seen.lock().unwrap().push("invites");
            Ok(PageOutcome {
                added: 1,
                unchanged: 0,
                conflicts: vec![(1, "another room".to_owned())],
            })
        });
    let report = service(source, sink, key_store(Vec::new(), None))
        .run(ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(*order.lock().unwrap(), ["keys", "invites"]);
    assert_eq!(
        report.ephemeral_keys,
        TableReport {
            read: 2,
            added: 2,
            ..TableReport::default()
        }
    );
    assert_eq!(
        report.invites,
        TableReport {
            read: 3,
            added: 1,
            unchanged: 0,
            conflicts: 1,
            rejected: 1,
        }
    );
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].table, ImportTable::Invites);
    assert_eq!(report.rejected[0].position, 5);
    assert_eq!(report.conflicts.len(), 1);
    assert_eq!(report.conflicts[0].position, 7);
    assert_eq!(report.conflicts[0].reason, "another room");
    assert!(report.changes_anything());
}

#[tokio::test]
async fn a_dry_run_passes_dry_run_to_the_invite_and_key_pages() {
    let source = invites_source(vec![row(1, Ok(ephemeral(1)))], vec![row(1, Ok(invite(1)))]);
    let mut sink = MockImportSink::new();
    sink.expect_ephemeral_keys()
        .withf(|_, dry_run| *dry_run)
        .times(1)
        .returning(|_, _| {
            Ok(PageOutcome {
                unchanged: 1,
                ..PageOutcome::default()
            })
        });
    sink.expect_invites()
        .withf(|_, dry_run| *dry_run)
        .times(1)
        .returning(|_, _| {
            Ok(PageOutcome {
                added: 1,
                ..PageOutcome::default()
            })
        });
    let report = service(source, sink, key_store(Vec::new(), None))
        .run(ImportOptions {
            dry_run: true,
            ..ImportOptions::default()
        })
        .await
        .unwrap();
    assert_eq!(report.invites.added, 1);
    assert_eq!(report.ephemeral_keys.unchanged, 1);
    assert!(report.changes_anything());
}
