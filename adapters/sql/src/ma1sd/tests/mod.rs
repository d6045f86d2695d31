//! The ma1sd source against ma1sd's tables as its ORMLite makes them ([`super::schema`]), on
//! SQLite and PostgreSQL, with rows as ma1sd writes them.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{ImportSource, SourceError, SourceRow};
use verity_domain::{AccessToken, Medium, PublicKey, ThreePid, Timestamp};

use super::Ma1sdSource;
use super::schema::{
    POSTGRES, SQLITE, insert_accepted, insert_account, insert_invite, invite_properties,
};
use crate::testing::{ScratchDatabase, execute, postgres_url};

const SERVER_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const EPHEMERAL_KEY: &str = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM";
const IMPORTED_AT: Timestamp = Timestamp::from_millis(1_800_000_000_000);

/// Five accounts (UUID tokens as `AccountManager.register` makes), three accepted terms, three
/// pending invites (one from before ma1sd kept `created_at`).
fn rows() -> Vec<String> {
    let mut out = Vec::new();
    for (i, user) in ["@alice", "@bob", "@carol", "@dave", "@erin"]
        .iter()
        .enumerate()
    {
        out.push(insert_account(
            &format!("0b9c3f1e-52a4-4c1e-9d3a-7f00000000{i:02}"),
            &format!("{user}:example.org"),
            1_600_000_000 + i64::try_from(i).unwrap(),
        ));
    }
    for (user, url) in [
        ("@alice:example.org", "https://example.org/terms-1.0.html"),
        ("@alice:example.org", "https://example.org/privacy-1.0.html"),
        ("@bob:example.org", "https://example.org/terms-1.0.html"),
    ] {
        out.push(insert_accepted(user, url, 1_600_000_100_000));
    }
    let properties = invite_properties(1_650_000_000_000, SERVER_KEY, EPHEMERAL_KEY);
    out.push(insert_invite(
        "b1",
        &"T".repeat(64),
        "@alice:example.org",
        ("email", "Frank@Example.org"),
        "!room:example.org",
        &properties,
    ));
    out.push(insert_invite(
        "a2",
        &"a".repeat(64),
        "@bob:example.org",
        ("msisdn", "447700900123"),
        "!other:example.org",
        &properties,
    ));
    out.push(insert_invite(
        "c3",
        &"c".repeat(64),
        "@bob:example.org",
        ("email", "old@example.org"),
        "!old:example.org",
        "",
    ));
    out
}

async fn sqlite_with(statements: &[String]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ma1sd.db");
    let url = format!("sqlite:{}?mode=rwc", path.display());
    let mut all: Vec<&str> = SQLITE.to_vec();
    all.extend(statements.iter().map(String::as_str));
    execute(&url, &all).await;
    (dir, format!("sqlite:{}", path.display()))
}

async fn all<T, F, Fut>(limit: u32, mut page: F) -> Vec<SourceRow<T>>
where
    F: FnMut(i64, u32) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<SourceRow<T>>, SourceError>>,
{
    let mut rows = Vec::new();
    // As the import starts: before any position.
    let mut after = i64::MIN;
    loop {
        let next = page(after, limit).await.expect("a page");
        assert!(next.len() <= limit as usize, "more rows than the limit");
        let Some(last) = next.last() else {
            return rows;
        };
        assert!(last.position > after, "positions go forward");
        after = last.position;
        rows.extend(next);
    }
}

/// Reads everything at several page sizes and checks it is every row once, as ma1sd kept it.
async fn check_everything_is_read_once(source: &Ma1sdSource) {
    let counts = source.counts().await.unwrap();
    assert_eq!(
        (
            counts.accounts,
            counts.accepted_terms,
            counts.invites,
            counts.bindings
        ),
        (5, 3, 3, 0)
    );
    for limit in [1, 2, 100] {
        let accounts = all(limit, |a, l| source.accounts(a, l)).await;
        let mut users: Vec<String> = accounts
            .iter()
            .map(|row| row.record.clone().unwrap().user_id.to_string())
            .collect();
        users.sort();
        assert_eq!(users.len(), 5, "page size {limit}");
        users.dedup();
        assert_eq!(users.len(), 5, "each account once at page size {limit}");
        let alice = accounts
            .iter()
            .map(|row| row.record.clone().unwrap())
            .find(|a| a.user_id.to_string() == "@alice:example.org")
            .unwrap();
        let token = AccessToken::parse("0b9c3f1e-52a4-4c1e-9d3a-7f0000000000").unwrap();
        assert_eq!(alice.token, token.fingerprint());
        assert_eq!(alice.created_at, Timestamp::from_millis(1_600_000_000_000));
        assert_eq!(alice.expires_at, None);
        for row in &accounts {
            assert!(!row.label.contains("0b9c3f1e"), "no token in {}", row.label);
        }

        let terms = all(limit, |a, l| source.accepted_terms(a, l)).await;
        let terms: Vec<(String, String)> = terms
            .into_iter()
            .map(|row| {
                let t = row.record.unwrap();
                (t.user_id.to_string(), t.url)
            })
            .collect();
        assert_eq!(terms.len(), 3, "page size {limit}");
        assert_eq!(
            terms[1],
            (
                "@alice:example.org".to_owned(),
                "https://example.org/privacy-1.0.html".to_owned()
            )
        );

        let invites: Vec<_> = all(limit, |a, l| source.invites(a, l))
            .await
            .into_iter()
            .map(|row| row.record.unwrap())
            .collect();
        assert_eq!(invites.len(), 3, "page size {limit}");
        // In ma1sd's key order (`id`): a2, b1, c3.
        assert_eq!(invites[0].token.to_string(), "a".repeat(64));
        assert_eq!(
            invites[1].threepid,
            ThreePid::parse(Medium::Email, "frank@example.org").unwrap()
        );
        assert_eq!(invites[1].room_id, "!room:example.org");
        assert_eq!(invites[1].sender.to_string(), "@alice:example.org");
        assert_eq!(
            invites[1].created_at,
            Timestamp::from_millis(1_650_000_000_000)
        );
        assert_eq!(
            invites[1].ephemeral_key,
            Some(PublicKey::parse(EPHEMERAL_KEY).unwrap())
        );
        assert_eq!(invites[2].created_at, IMPORTED_AT);
        assert_eq!(invites[2].ephemeral_key, None);
    }
    assert!(source.bindings(0, 100).await.unwrap().is_empty());
    assert!(source.ephemeral_keys(0, 100).await.unwrap().is_empty());
}

#[tokio::test]
async fn every_account_accepted_terms_and_pending_invite_of_an_sqlite_ma1sd_is_read_once_as_ma1sd_kept_it()
 {
    let (_dir, url) = sqlite_with(&rows()).await;
    let source = Ma1sdSource::open(&url, IMPORTED_AT).await.unwrap();
    check_everything_is_read_once(&source).await;
    source.close().await;
}

#[tokio::test]
async fn every_account_accepted_terms_and_pending_invite_of_a_postgresql_ma1sd_is_read_once_as_ma1sd_kept_it()
 {
    if postgres_url().is_none() {
        return;
    }
    let db = ScratchDatabase::create().await;
    let mut all: Vec<String> = POSTGRES.iter().map(|s| (*s).to_owned()).collect();
    all.extend(rows());
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    execute(db.url(), &refs).await;
    let source = Ma1sdSource::open(db.url(), IMPORTED_AT).await.unwrap();
    check_everything_is_read_once(&source).await;
    source.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn rows_ma1sd_could_not_have_meant_are_reported_with_their_reason_and_no_secret() {
    let (_dir, url) = sqlite_with(&[
        insert_account("secret-token-1", "not a user id", 1_600_000_000),
        insert_account("secret-token-2", "@ok:example.org", -5),
        insert_accepted("alice", "https://example.org/terms.html", 1),
        insert_invite(
            "x",
            "secret invite token!",
            "@a:example.org",
            ("email", "a@example.org"),
            "!r:example.org",
            "",
        ),
        insert_invite(
            "y",
            "tok",
            "@a:example.org",
            ("email", "not an address"),
            "!r:example.org",
            "",
        ),
        insert_invite(
            "z",
            "tok2",
            "@a:example.org",
            ("email", "a@example.org"),
            "!r:example.org",
            "{\"e_key_public\":\"not a key\"}",
        ),
    ])
    .await;
    let source = Ma1sdSource::open(&url, IMPORTED_AT).await.unwrap();
    let accounts = source.accounts(0, 10).await.unwrap();
    let reasons: Vec<String> = accounts
        .iter()
        .map(|row| row.record.clone().unwrap_err())
        .collect();
    assert_eq!(
        reasons,
        [
            "`userId` is not a Matrix user ID",
            "`createdAt` is negative or too large"
        ]
    );
    for row in &accounts {
        assert!(!row.label.contains("secret"), "{}", row.label);
    }
    let terms = source.accepted_terms(0, 10).await.unwrap();
    assert_eq!(
        terms[0].record.clone().unwrap_err(),
        "`userId` is not a Matrix user ID"
    );
    let invites = source.invites(0, 10).await.unwrap();
    let reasons: Vec<String> = invites
        .iter()
        .map(|row| row.record.clone().unwrap_err())
        .collect();
    assert_eq!(
        reasons,
        [
            "the token is not 1 to 255 characters of [0-9a-zA-Z.=_-]",
            "`address` is not a valid address for its medium",
            "`e_key_public` in `properties` is not an ed25519 public key",
        ]
    );
    assert!(invites.iter().all(|row| !row.label.contains("secret")));
    source.close().await;
}

#[tokio::test]
async fn a_database_without_ma1sds_tables_is_not_taken_for_ma1sds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    execute(
        &format!("sqlite:{}?mode=rwc", path.display()),
        &[
            SQLITE[1],
            "CREATE TABLE account (token TEXT PRIMARY KEY, user_id TEXT)",
        ],
    )
    .await;
    let err = Ma1sdSource::open(&format!("sqlite:{}", path.display()), IMPORTED_AT)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SourceError::NotThatServer { expected: "ma1sd", why } if why.contains("`account`")),
        "{err}"
    );
    let sydent = dir.path().join("sydent.db");
    execute(
        &format!("sqlite:{}?mode=rwc", sydent.display()),
        &["CREATE TABLE invite_tokens (id INTEGER PRIMARY KEY, token TEXT)"],
    )
    .await;
    let err = Ma1sdSource::open(&format!("sqlite:{}", sydent.display()), IMPORTED_AT)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SourceError::NotThatServer { expected: "ma1sd", why } if why.contains("`invite_3pid`")),
        "{err}"
    );
    let missing = Ma1sdSource::open(
        &format!("sqlite:{}", dir.path().join("missing.db").display()),
        IMPORTED_AT,
    )
    .await
    .unwrap_err();
    assert!(matches!(missing, SourceError::Unavailable(_)), "{missing}");
    assert!(
        !dir.path().join("missing.db").exists(),
        "nothing is created"
    );
}

#[tokio::test]
async fn an_mxisd_1_database_has_its_pending_invites_read_and_no_accounts() {
    // mxisd 1.x (kamax-matrix/mxisd c4fdcc7f, storage/ormlite/dao/): the same invite tables, no
    // `account` or `accepted`.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mxisd.db");
    let invite = insert_invite(
        "i1",
        &"m".repeat(64),
        "@a:example.org",
        ("email", "b@example.org"),
        "!r:example.org",
        &invite_properties(1_650_000_000_000, SERVER_KEY, EPHEMERAL_KEY),
    );
    execute(
        &format!("sqlite:{}?mode=rwc", path.display()),
        &[SQLITE[0], SQLITE[1], SQLITE[2], &invite],
    )
    .await;
    let source = Ma1sdSource::open(&format!("sqlite:{}", path.display()), IMPORTED_AT)
        .await
        .unwrap();
    assert!(!source.has_accounts());
    let counts = source.counts().await.unwrap();
    assert_eq!(
        (counts.accounts, counts.accepted_terms, counts.invites),
        (0, 0, 1)
    );
    assert!(source.accounts(i64::MIN, 10).await.unwrap().is_empty());
    let invites = all(10, |a, l| source.invites(a, l)).await;
    assert_eq!(invites.len(), 1);
    assert!(invites[0].record.is_ok());
    source.close().await;
}
