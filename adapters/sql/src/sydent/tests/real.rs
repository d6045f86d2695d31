//! The source against a deployment the real Sydent 2.6.1 made with its own code
//! (`verity_testkit::sydent`): what it reads is what Sydent's summary says it wrote. Needs
//! `VERITY_TEST_SYDENT` (scripts/test sets it); without it the test passes with a note, except
//! under CI where it fails.
use std::collections::BTreeSet;

use pretty_assertions::assert_eq;
use verity_application::ports::driven::{ImportSource, SourceCounts, SourceError};
use verity_domain::{AccessToken, Medium, ThreePid, Timestamp};
use verity_testkit::sydent::{Options, Summary, SydentDeployment, python};

use super::all;
use crate::sydent::SydentSource;

#[tokio::test]
async fn a_database_made_by_real_sydent_2_6_1_is_read_exactly_as_sydent_wrote_it_and_left_unchanged()
 {
    let Some(python) = python() else { return };
    let deployment = SydentDeployment::make(&python, &Options::default());
    let summary = deployment.summary();
    let before = std::fs::read(deployment.db_path()).expect("read sydent.db");
    let source = SydentSource::open(&deployment.db_path(), &summary.server_name)
        .await
        .expect("open the database Sydent made");

    assert_eq!(source.schema_version(), summary.schema_version);
    assert!(source.has_accounts());
    check_bindings(&source, summary).await;
    check_accounts(&source, summary).await;
    check_accepted_terms(&source, summary).await;
    check_invites(&source, summary).await;
    let bound = summary.bindings.iter().filter(|b| b.mxid.is_some()).count();
    let pending = summary
        .invites
        .iter()
        .filter(|i| i.sent_ts.is_none())
        .count();
    assert_eq!(
        source.counts().await.expect("counts"),
        SourceCounts {
            bindings: bound as u64,
            removed_bindings: (summary.bindings.len() - bound) as u64,
            replicated_bindings: 0,
            accounts: summary.accounts.iter().map(|a| a.tokens.len() as u64).sum(),
            accepted_terms: summary
                .accepted_terms
                .iter()
                .map(|t| t.urls.len() as u64)
                .sum(),
            invites: pending as u64,
            delivered_invites: (summary.invites.len() - pending) as u64,
            ephemeral_keys: summary.ephemeral_public_keys.len() as u64,
        }
    );
    source.close().await;
    assert!(
        std::fs::read(deployment.db_path()).expect("read sydent.db") == before,
        "the import changed Sydent's database"
    );

    // Opened for another server name, it is refused, naming Sydent's.
    match SydentSource::open(&deployment.db_path(), "other.example").await {
        Err(SourceError::NotThatServer { why, .. }) => {
            assert!(why.contains(&format!("{:?}", summary.server_name)), "{why}");
        }
        other => panic!("{other:?}"),
    }
}

/// Every bound local row, once, with its times and the `sgAssoc` Sydent's v1 lookup serves.
async fn check_bindings(source: &SydentSource, summary: &Summary) {
    let rows = all(2, |after, limit| source.bindings(after, limit)).await;
    let expected: Vec<_> = summary
        .bindings
        .iter()
        .filter(|binding| binding.mxid.is_some())
        .collect();
    assert_eq!(
        rows.iter().map(|row| row.position).collect::<Vec<_>>(),
        expected.iter().map(|b| b.local_id).collect::<Vec<_>>()
    );
    for (row, made) in rows.iter().zip(expected) {
        let binding = row
            .record
            .as_ref()
            .unwrap_or_else(|reason| panic!("{}: {reason}", row.label));
        let association = &binding.association;
        let medium = Medium::parse(&made.medium).expect("medium");
        assert_eq!(
            association.threepid,
            ThreePid::parse(medium, &made.address).expect("3PID")
        );
        assert_eq!(association.threepid.address(), made.address, "casefolded");
        assert_eq!(Some(association.user_id.as_str()), made.mxid.as_deref());
        let millis = |value: Option<i64>| value.map(|v| Timestamp::from_millis(v as u64));
        assert_eq!(Some(association.ts), millis(made.ts));
        assert_eq!(Some(association.not_before), millis(made.not_before));
        assert_eq!(Some(association.not_after), millis(made.not_after));
        let signed = binding
            .signed
            .as_ref()
            .expect("Sydent's signed association");
        assert_eq!(Some(signed.as_str()), made.sg_assoc.as_deref(), "verbatim");
        assert!(signed.is_signed_by(&summary.server_name));
        assert!(!row.label.contains(&made.address), "{}", row.label);
    }
}

/// One account per token, as its fingerprint, dated by the account; no token printed.
async fn check_accounts(source: &SydentSource, summary: &Summary) {
    let rows = all(2, |after, limit| source.accounts(after, limit)).await;
    let got: BTreeSet<_> = rows
        .iter()
        .map(|row| {
            let account = row.record.as_ref().expect("an account");
            assert_eq!(account.expires_at, None);
            assert_eq!(row.label, format!("token of {}", account.user_id.as_str()));
            (
                account.token.as_str().to_owned(),
                account.user_id.as_str().to_owned(),
                account.created_at.as_millis(),
            )
        })
        .collect();
    let mut expected = BTreeSet::new();
    for account in &summary.accounts {
        for token in &account.tokens {
            let fingerprint = AccessToken::parse(token.expose())
                .expect("Sydent's token")
                .fingerprint();
            expected.insert((
                fingerprint.as_str().to_owned(),
                account.user_id.clone(),
                account.created_ts as u64,
            ));
            assert!(!format!("{rows:?}").contains(token.expose()));
        }
    }
    assert_eq!(rows.len(), expected.len());
    assert_eq!(got, expected);
}

/// Every accepted URL, per user.
async fn check_accepted_terms(source: &SydentSource, summary: &Summary) {
    let rows = all(2, |after, limit| source.accepted_terms(after, limit)).await;
    let got: BTreeSet<_> = rows
        .iter()
        .map(|row| {
            let terms = row.record.as_ref().expect("accepted terms");
            (terms.user_id.as_str().to_owned(), terms.url.clone())
        })
        .collect();
    let expected: BTreeSet<_> = summary
        .accepted_terms
        .iter()
        .flat_map(|terms| {
            terms
                .urls
                .iter()
                .map(|url| (terms.user_id.clone(), url.clone()))
        })
        .collect();
    assert_eq!(rows.len(), expected.len());
    assert_eq!(got, expected);
}

/// The pending invites (the delivered one skipped), each with its address, room, sender and
/// time in seconds made milliseconds, no key linked; and every ephemeral key.
async fn check_invites(source: &SydentSource, summary: &Summary) {
    let rows = all(1, |after, limit| source.invites(after, limit)).await;
    let pending: Vec<_> = summary
        .invites
        .iter()
        .filter(|invite| invite.sent_ts.is_none())
        .collect();
    assert!(!pending.is_empty(), "the deployment has a pending invite");
    assert_eq!(rows.len(), pending.len());
    for (row, made) in rows.iter().zip(pending) {
        let invite = row
            .record
            .as_ref()
            .unwrap_or_else(|reason| panic!("{}: {reason}", row.label));
        assert!(invite.token.as_str() == made.token.expose(), "the token");
        assert_eq!(invite.threepid.medium().as_str(), made.medium);
        assert_eq!(invite.threepid.address(), made.address);
        assert_eq!(invite.room_id, made.room_id);
        assert_eq!(invite.sender.as_str(), made.sender);
        assert_eq!(
            invite.created_at,
            Timestamp::from_millis(made.received_ts as u64 * 1000)
        );
        assert_eq!(invite.ephemeral_key, None);
        assert!(!row.label.contains(made.token.expose()));
    }
    let keys = all(1, |after, limit| source.ephemeral_keys(after, limit)).await;
    let read: Vec<String> = keys
        .iter()
        .map(|row| {
            row.record
                .as_ref()
                .unwrap_or_else(|reason| panic!("{}: {reason}", row.label))
                .to_base64_url()
        })
        .collect();
    assert_eq!(read, summary.ephemeral_public_keys);
}
