//! Accounts, accepted terms, paging, and which files are (not) Sydent databases.
use std::collections::BTreeSet;

use pretty_assertions::assert_eq;
use verity_application::ports::driven::{ImportSource, SourceError};
use verity_domain::{AccessToken, Timestamp};

use super::harness::{SERVER, SydentDb};
use super::{all, all_bindings};
use crate::sydent::SydentSource;

const T1: i64 = 1_767_225_600_000;
const T2: i64 = 1_767_312_000_000;
const ALICE_TOKEN_1: &str = "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7sU9wY1aC3eG5iK7mO9qS1uW3y";
const ALICE_TOKEN_2: &str = "Zy8Xw6Vu4Ts2Rq0Po8Nm6Lk4Ji2Hg0Fe8Dc6Ba4Zy2Xw0Vu8Ts6Rq4Po2Nm0Lk8Ji";
const BOB_TOKEN: &str = "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8L9z0X1c2V3b4N5m6Q7w8E9r0T1y2";

#[tokio::test]
async fn a_database_made_by_sydent_2_6_1_opens_read_only_as_schema_version_5() {
    let db = SydentDb::new().await;
    let source = db.source().await;

    assert_eq!(source.name(), "sydent");
    assert_eq!(source.schema_version(), 5);
    assert!(source.has_accounts());
    assert_eq!(source.counts().await.expect("counts"), Default::default());
    db.finish().await;
}

#[tokio::test]
async fn accounts_carry_the_tokens_fingerprint_and_the_accounts_creation_time_never_the_token() {
    let db = SydentDb::new().await;
    db.issue_token("@alice:example.org", ALICE_TOKEN_1, T1)
        .await;
    db.issue_token("@bob:example.org", BOB_TOKEN, T1 + 5).await;
    // A second login: the account keeps the time of the first.
    db.issue_token("@alice:example.org", ALICE_TOKEN_2, T2)
        .await;
    let source = db.source().await;

    let rows = all(100, |after, limit| source.accounts(after, limit)).await;

    let got: Vec<_> = rows
        .iter()
        .map(|row| {
            let account = row.record.as_ref().expect("an account");
            (
                row.label.clone(),
                account.token.clone(),
                account.user_id.as_str().to_owned(),
                account.created_at,
                account.expires_at,
            )
        })
        .collect();
    let fingerprint = |token: &str| AccessToken::parse(token).expect("token").fingerprint();
    let alice = "@alice:example.org".to_owned();
    let bob = "@bob:example.org".to_owned();
    assert_eq!(
        got,
        [
            (
                format!("token of {alice}"),
                fingerprint(ALICE_TOKEN_1),
                alice.clone(),
                at(T1),
                None
            ),
            (
                format!("token of {bob}"),
                fingerprint(BOB_TOKEN),
                bob,
                at(T1 + 5),
                None
            ),
            (
                format!("token of {alice}"),
                fingerprint(ALICE_TOKEN_2),
                alice,
                at(T1),
                None
            ),
        ]
    );
    let printed = format!("{rows:?}");
    for token in [ALICE_TOKEN_1, ALICE_TOKEN_2, BOB_TOKEN] {
        assert!(!printed.contains(token), "a token was printed");
    }
    assert_eq!(source.counts().await.expect("counts").accounts, 3);
    db.finish().await;
}

#[tokio::test]
async fn a_token_that_is_malformed_or_has_no_account_is_reported_without_the_token() {
    let db = SydentDb::new().await;
    let orphan = "NoAccountRow0000000000000000000000000000000000000000000000000000";
    db.execute(&format!(
        "insert into tokens (user_id, token) values ('@ghost:example.org', '{orphan}')"
    ))
    .await;
    db.issue_token("@alice:example.org", "has a space", T1)
        .await;
    db.issue_token("not-a-user", BOB_TOKEN, T1).await;
    let source = db.source().await;

    let rows = all(100, |after, limit| source.accounts(after, limit)).await;

    let reasons: Vec<_> = rows
        .iter()
        .map(|row| row.record.as_ref().expect_err("refused").clone())
        .collect();
    assert_eq!(
        reasons,
        [
            "its user has no row in `accounts`",
            "the token is not 1 to 255 printable ASCII characters",
            "`user_id` is not a Matrix user ID",
        ]
    );
    let printed = format!("{rows:?}");
    for token in [orphan, "has a space", BOB_TOKEN] {
        assert!(!printed.contains(token), "a token was printed");
    }
    db.finish().await;
}

#[tokio::test]
async fn accepted_terms_are_read_one_row_per_user_and_url() {
    let db = SydentDb::new().await;
    let privacy = "https://id.example.org/terms/privacy-en.html";
    let tos = "https://id.example.org/terms/tos-en.html";
    db.accept("@alice:example.org", privacy).await;
    db.accept("@alice:example.org", tos).await;
    db.accept("@alice:example.org", tos).await;
    db.accept("@bob:example.org", privacy).await;
    db.accept("bob", privacy).await;
    let source = db.source().await;

    let rows = all(100, |after, limit| source.accepted_terms(after, limit)).await;

    let got: Vec<_> = rows
        .iter()
        .map(|row| match &row.record {
            Ok(terms) => format!("{} {}", terms.user_id.as_str(), terms.url),
            Err(reason) => format!("{}: {reason}", row.label),
        })
        .collect();
    assert_eq!(
        got,
        [
            format!("@alice:example.org {privacy}"),
            format!("@alice:example.org {tos}"),
            format!("@bob:example.org {privacy}"),
            "terms accepted by bob: `user_id` is not a Matrix user ID".to_owned(),
        ]
    );
    assert_eq!(source.counts().await.expect("counts").accepted_terms, 4);
    db.finish().await;
}

#[tokio::test]
async fn paging_with_a_small_limit_returns_every_row_exactly_once_in_order() {
    let db = SydentDb::new().await;
    for n in 0..9 {
        db.bind(
            "email",
            &format!("user{n}@example.org"),
            &format!("@user{n}:example.org"),
            T1 + n,
        )
        .await;
        db.issue_token(
            &format!("@user{n}:example.org"),
            &format!("token{n:059}"),
            T1,
        )
        .await;
        db.accept(
            &format!("@user{n}:example.org"),
            "https://id.example.org/tos",
        )
        .await;
    }
    // Gaps in the ids, and a re-bind that moves a row to the end.
    db.unbind("email", "user2@example.org", T2).await;
    db.unbind("email", "user5@example.org", T2).await;
    db.bind("email", "user3@example.org", "@other:example.org", T2)
        .await;
    let source = db.source().await;
    let counts = source.counts().await.expect("counts");

    for limit in [1, 2, 4] {
        let bindings = all(limit, |after, limit| source.bindings(after, limit)).await;
        let accounts = all(limit, |after, limit| source.accounts(after, limit)).await;
        let terms = all(limit, |after, limit| source.accepted_terms(after, limit)).await;
        for positions in [
            bindings.iter().map(|row| row.position).collect::<Vec<_>>(),
            accounts.iter().map(|row| row.position).collect(),
            terms.iter().map(|row| row.position).collect(),
        ] {
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        }
        let users: BTreeSet<_> = bindings
            .iter()
            .map(|row| {
                row.record
                    .as_ref()
                    .expect("binding")
                    .association
                    .user_id
                    .as_str()
                    .to_owned()
            })
            .collect();
        assert_eq!(users.len(), 7, "limit {limit}: {users:?}");
        assert!(users.contains("@other:example.org"));
        assert_eq!(bindings.len() as u64, counts.bindings);
        assert_eq!(accounts.len() as u64, counts.accounts);
        assert_eq!(terms.len() as u64, counts.accepted_terms);
    }
    assert_eq!((counts.bindings, counts.removed_bindings), (7, 2));
    assert_eq!((counts.accounts, counts.accepted_terms), (9, 9));
    assert!(source.bindings(0, 0).await.expect("a page").is_empty());
    db.finish().await;
}

#[tokio::test]
async fn a_database_older_than_sydents_accounts_has_bindings_and_no_accounts_or_terms() {
    let db = SydentDb::at_version(3).await;
    db.bind("email", "alice@example.org", "@alice:example.org", T1)
        .await;
    let source = db.source().await;

    assert_eq!(source.schema_version(), 3);
    assert!(!source.has_accounts());
    assert_eq!(all_bindings(&source).await.len(), 1);
    assert!(source.accounts(0, 10).await.expect("a page").is_empty());
    assert!(
        source
            .accepted_terms(0, 10)
            .await
            .expect("a page")
            .is_empty()
    );
    let counts = source.counts().await.expect("counts");
    assert_eq!(
        (counts.bindings, counts.accounts, counts.accepted_terms),
        (1, 0, 0)
    );
    db.finish().await;
}

#[tokio::test]
async fn files_that_are_not_sydent_databases_are_refused_saying_what_is_missing() {
    let empty = SydentDb::empty().await;
    let without_tokens = SydentDb::new().await;
    without_tokens.execute("DROP TABLE tokens").await;
    let without_column = SydentDb::empty().await;
    without_column
        .execute(
            "CREATE TABLE local_threepid_associations (id integer primary key, medium, address, \
             mxid, ts, notBefore); \
             CREATE TABLE global_threepid_associations (id integer primary key, originServer, \
             originId, sgAssoc)",
        )
        .await;
    let text = tempfile::tempdir().expect("temp dir");
    let text_file = text.path().join("sydent.conf");
    std::fs::write(
        &text_file,
        "[general]\nserver.name = id.example.org\n".repeat(50),
    )
    .expect("write");

    for (path, why) in [
        (
            empty.path(),
            "no table local_threepid_associations, no table global",
        ),
        (
            without_tokens.path(),
            "schema version is 5 but it has no table tokens",
        ),
        (text_file.as_path(), "not an SQLite database"),
        (
            without_column.path(),
            "its table local_threepid_associations or global_threepid_associations lacks a \
             column Sydent's has (",
        ),
    ] {
        match SydentSource::open(path, SERVER).await {
            Err(SourceError::NotThatServer { expected, why: got }) => {
                assert_eq!(expected, "sydent");
                assert!(got.contains(why), "{got:?} lacks {why:?}");
            }
            other => panic!("{}: {other:?}", path.display()),
        }
    }
    empty.finish().await;
    without_tokens.finish().await;
    without_column.finish().await;
}

#[tokio::test]
async fn a_missing_file_is_unavailable_and_is_not_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sydent.db");

    let result = SydentSource::open(&path, SERVER).await;

    assert!(
        matches!(result, Err(SourceError::Unavailable(_))),
        "{result:?}"
    );
    assert!(!path.exists());
}

#[tokio::test]
async fn a_server_name_that_published_none_of_the_bindings_is_refused_naming_those_that_did() {
    let db = SydentDb::new().await;
    db.bind("email", "alice@example.org", "@alice:example.org", T1)
        .await;

    let result = SydentSource::open(db.path(), "matrix.example.org").await;

    match result {
        Err(SourceError::NotThatServer { why, .. }) => {
            assert!(why.contains("\"matrix.example.org\""), "{why}");
            assert!(why.contains("made by \"id.example.org\""), "{why}");
        }
        other => panic!("{other:?}"),
    }
    // A database without bindings opens whatever the name.
    let fresh = SydentDb::new().await;
    assert!(
        SydentSource::open(fresh.path(), "matrix.example.org")
            .await
            .is_ok()
    );
    db.finish().await;
    fresh.finish().await;
}

#[tokio::test]
async fn reading_every_table_never_changes_the_file_or_leaves_one_beside_it() {
    let db = SydentDb::new().await;
    db.bind("email", "alice@example.org", "@alice:example.org", T1)
        .await;
    db.issue_token("@alice:example.org", ALICE_TOKEN_1, T1)
        .await;
    db.accept("@alice:example.org", "https://id.example.org/tos")
        .await;
    let before = db.bytes();
    let dir = db.path().parent().expect("its directory").to_path_buf();
    let listing = || {
        std::fs::read_dir(&dir)
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect::<BTreeSet<_>>()
    };
    let files = listing();
    let source = db.source().await;

    source.counts().await.expect("counts");
    assert_eq!(all_bindings(&source).await.len(), 1);
    assert_eq!(all(10, |a, l| source.accounts(a, l)).await.len(), 1);
    assert_eq!(all(10, |a, l| source.accepted_terms(a, l)).await.len(), 1);
    source.close().await;

    assert!(db.bytes() == before, "the file changed");
    assert_eq!(listing(), files);
    db.finish().await;
}

fn at(millis: i64) -> Timestamp {
    Timestamp::from_millis(millis as u64)
}
