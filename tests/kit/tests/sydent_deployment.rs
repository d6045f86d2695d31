//! The Sydent deployment the import tests start from: made by the real Sydent 2.6.1, and what its
//! summary says is what is in its database and configuration.
//!
//! Needs `VERITY_TEST_SYDENT` (scripts/test sets it); without it the test passes with a note,
//! except under CI where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use sea_orm::{
    ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DbBackend, Statement,
};
use verity_domain::{KeyId, PublicKey, SignedAssociation, SigningKey, verify_json};
use verity_testkit::sydent::{Options, Summary, SydentDeployment, python};

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn text_rows(db: &DatabaseConnection, sql: &str) -> Vec<Option<String>> {
    db.query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<Option<String>>(0).unwrap())
        .collect()
}

#[tokio::test]
async fn a_deployment_made_by_sydent_holds_what_its_summary_says_signed_by_the_key_in_its_configuration()
 {
    let Some(python) = python() else { return };
    let options = Options {
        server_name: "id.sydent.test".to_owned(),
    };
    let deployment = SydentDeployment::make(&python, &options);
    eprintln!("making the Sydent deployment took {:?}", deployment.took());
    let public_key = check_configuration(&deployment);
    let db = open(&deployment).await;
    check_counts(&db, deployment.summary()).await;
    check_bindings(&db, deployment.summary(), &public_key).await;
    check_accounts(deployment.summary());
}

/// Sydent generated the key `ed25519:0` and wrote it back in its format; its public half.
fn check_configuration(deployment: &SydentDeployment) -> PublicKey {
    let summary = deployment.summary();
    // The configuration: Sydent generated the key `ed25519:0` and wrote it back in its format.
    assert_eq!(summary.sydent_version, "2.6.1");
    assert_eq!(summary.server_name, "id.sydent.test");
    assert_eq!(summary.signing_key.id, "ed25519:0");
    let conf = std::fs::read_to_string(deployment.conf_path()).unwrap();
    assert!(conf.contains("server.name = id.sydent.test"), "{conf}");
    let seed = conf
        .lines()
        .find_map(|line| line.strip_prefix("ed25519.signingkey = ed25519 0 "))
        .expect("the signing key Sydent generated, in sydent.conf");
    let key = SigningKey::from_base64_seed(KeyId::parse("ed25519:0").unwrap(), seed).unwrap();
    assert_eq!(key.public_key().to_base64(), summary.signing_key.public_key);
    assert!(deployment.db_path().starts_with(deployment.dir()));
    PublicKey::parse(&summary.signing_key.public_key).unwrap()
}

async fn open(deployment: &SydentDeployment) -> DatabaseConnection {
    let mut connect = ConnectOptions::new("sqlite:sydent.db?mode=ro");
    let file = deployment.db_path();
    connect.map_sqlx_sqlite_opts(move |sqlite| sqlite.filename(&file).read_only(true));
    Database::connect(connect).await.unwrap()
}

/// What the summary lists is what the tables hold.
async fn check_counts(db: &DatabaseConnection, summary: &Summary) {
    assert_eq!(count(db, "PRAGMA user_version").await, 5);
    assert_eq!(summary.schema_version, 5);
    let tables = [
        ("local_threepid_associations", summary.bindings.len()),
        (
            "global_threepid_associations",
            summary.global_associations.len(),
        ),
        ("accounts", summary.accounts.len()),
        (
            "tokens",
            summary.accounts.iter().map(|a| a.tokens.len()).sum(),
        ),
        (
            "accepted_terms_urls",
            summary.accepted_terms.iter().map(|t| t.urls.len()).sum(),
        ),
        ("invite_tokens", summary.invites.len()),
        ("ephemeral_public_keys", summary.ephemeral_public_keys.len()),
    ];
    for (table, listed) in tables {
        let rows = count(db, &format!("SELECT COUNT(*) FROM {table}")).await;
        assert_eq!(rows, i64::try_from(listed).unwrap(), "{table}");
        assert!(rows > 0, "{table} is empty");
    }
    let pepper = text_rows(db, "SELECT lookup_pepper FROM hashing_metadata").await;
    assert_eq!(pepper, vec![Some(summary.lookup_pepper.clone())]);
}

/// Every current binding is served verbatim from the global table, signed by the key.
async fn check_bindings(db: &DatabaseConnection, summary: &Summary, public_key: &PublicKey) {
    let stored: BTreeSet<String> =
        text_rows(db, "SELECT sgAssoc FROM global_threepid_associations")
            .await
            .into_iter()
            .flatten()
            .collect();
    let (mut bound, mut unbound) = (0, 0);
    for binding in &summary.bindings {
        let Some(mxid) = &binding.mxid else {
            unbound += 1;
            assert_eq!(binding.sg_assoc, None, "{binding:?}");
            assert!(
                summary
                    .global_associations
                    .iter()
                    .all(|row| row.address != binding.address),
                "an unbound address keeps no global row: {binding:?}"
            );
            continue;
        };
        bound += 1;
        let text = binding
            .sg_assoc
            .as_deref()
            .expect("a bound address is served");
        assert!(stored.contains(text), "not stored verbatim: {text}");
        let signed = SignedAssociation::parse(text).unwrap();
        let association = signed.association();
        assert_eq!(association.threepid.address(), binding.address);
        assert_eq!(association.user_id.as_str(), mxid);
        assert_eq!(
            Some(i64::try_from(association.ts.as_millis()).unwrap()),
            binding.ts
        );
        verify_json(
            &signed.to_value(),
            &summary.server_name,
            &KeyId::parse(&summary.signing_key.id).unwrap(),
            public_key,
        )
        .unwrap_or_else(|error| panic!("{text}: {error}"));
    }
    assert!(
        bound >= 5 && unbound == 1,
        "{bound} bound, {unbound} unbound"
    );
    // Sydent's stale `invites` field (see verity_testkit::sydent), signed with the rest.
    let with_invites = summary
        .bindings
        .iter()
        .filter_map(|b| b.sg_assoc.as_deref())
        .filter(|text| {
            SignedAssociation::parse(text)
                .unwrap()
                .to_value()
                .get("invites")
                .is_some()
        })
        .count();
    assert!(
        with_invites >= 1,
        "no association carries Sydent's stale invites"
    );
    let pending = summary
        .invites
        .iter()
        .filter(|i| i.sent_ts.is_none())
        .count();
    assert_eq!(
        (pending, summary.invites.len()),
        (1, 2),
        "{:?}",
        summary.invites
    );
    let mediums: BTreeSet<&str> = summary.bindings.iter().map(|b| b.medium.as_str()).collect();
    assert_eq!(mediums, BTreeSet::from(["email", "msisdn"]));
    let rebound = summary
        .bindings
        .iter()
        .filter(|b| {
            summary
                .global_associations
                .iter()
                .filter(|row| row.address == b.address)
                .count()
                > 1
        })
        .count();
    assert_eq!(rebound, 1, "one address was bound to a second user");
}

/// Tokens are Sydent's 64 characters; whoever accepted every document consented.
fn check_accounts(summary: &Summary) {
    // Accounts: tokens are Sydent's 64 characters; whoever accepted every document consented.
    for account in &summary.accounts {
        for token in &account.tokens {
            assert_eq!(token.expose().len(), 64);
        }
        let accepted = summary
            .accepted_terms
            .iter()
            .find(|t| t.user_id == account.user_id);
        let all =
            accepted.is_some_and(|t| t.urls.len() == 2 && t.urls.iter().any(|u| u.contains("tos")));
        assert_eq!(
            account.consent_version.as_deref(),
            all.then_some(summary.terms_master_version.as_str()),
            "{}",
            account.user_id
        );
    }
    assert!(summary.accounts.iter().any(|a| a.tokens.len() == 2));
}
