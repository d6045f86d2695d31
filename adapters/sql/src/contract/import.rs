//! What the import sink must do on every backend: insert-if-absent page by page, in one
//! transaction, Verity's own rows kept, a dry run leaving nothing behind.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::{
    AcceptedTerms, AccountStore, BindingStore, HashStore, IdentityBackend, ImportSink,
    ImportedBinding, PageOutcome, SavedTable, TermsStore,
};
use verity_domain::{Association, Medium, Pepper, SignedAssociation, ThreePid, Timestamp, UserId};

use super::accounts::{account, user};
use super::harness::TestDb;

const TS: u64 = 1_767_225_600_000;

fn sg_assoc(address: &str, mxid: &str) -> String {
    format!(
        r#"{{"address":"{address}","medium":"email","mxid":"{mxid}","not_after":4920825600000,"not_before":{TS},"signatures":{{"id.example.org":{{"ed25519:0":"c2ln"}}}},"ts":{TS}}}"#
    )
}

fn imported(address: &str, mxid: &str) -> ImportedBinding {
    let signed = SignedAssociation::parse(&sg_assoc(address, mxid)).unwrap();
    ImportedBinding {
        association: signed.association().clone(),
        signed: Some(signed),
    }
}

fn email(address: &str) -> ThreePid {
    ThreePid::parse(Medium::Email, address).unwrap()
}

fn added(n: u64) -> PageOutcome {
    PageOutcome {
        added: n,
        ..PageOutcome::default()
    }
}

pub(crate) async fn imported_bindings_are_served_with_their_times_and_signed_association(
    db: &TestDb,
) {
    let sink = db.store.import_sink(Timestamp::from_millis(TS));
    let page = [
        imported("alice@example.org", "@alice:example.org"),
        imported("bob@example.org", "@bob:example.org"),
    ];
    assert_eq!(sink.bindings(&page, false).await.unwrap(), added(2));
    let published = db
        .bindings()
        .lookup_published(&email("alice@example.org"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(published.user_id.as_str(), "@alice:example.org");
    assert_eq!(published.since, Some(Timestamp::from_millis(TS)));
    assert_eq!(
        published.window,
        Some((
            Timestamp::from_millis(TS),
            Timestamp::from_millis(4_920_825_600_000)
        ))
    );
    assert_eq!(
        published.signed.unwrap().as_str(),
        sg_assoc("alice@example.org", "@alice:example.org")
    );
    // The hashed-lookup feed sees them like any binding.
    assert_eq!(
        BindingStore::feed(&db.bindings(), None, 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

pub(crate) async fn imported_bindings_drop_the_saved_lookup_table_which_would_not_know_them(
    db: &TestDb,
) {
    let pepper = Pepper::parse("p1").unwrap();
    let save = || SavedTable {
        pepper: pepper.clone(),
        changes_until: 0,
        saved_at: Timestamp::from_millis(TS),
        data: vec![1, 2, 3],
    };
    let hashes = db.hashes();
    let sink = db.store.import_sink(Timestamp::from_millis(TS));
    let page = [imported("alice@example.org", "@alice:example.org")];
    hashes.save_table(save()).await.unwrap();
    sink.bindings(&page, true).await.unwrap();
    assert!(
        hashes.saved_table(&pepper).await.unwrap().is_some(),
        "a dry run"
    );
    sink.bindings(&page, false).await.unwrap();
    assert_eq!(hashes.saved_table(&pepper).await.unwrap(), None);
    // Importing again adds nothing, and leaves a table saved since alone.
    hashes.save_table(save()).await.unwrap();
    sink.bindings(&page, false).await.unwrap();
    assert!(hashes.saved_table(&pepper).await.unwrap().is_some());
}

pub(crate) async fn importing_again_changes_nothing_and_says_so(db: &TestDb) {
    let sink = db.store.import_sink(Timestamp::from_millis(TS));
    let page = [imported("alice@example.org", "@alice:example.org")];
    sink.bindings(&page, false).await.unwrap();
    let again = sink.bindings(&page, false).await.unwrap();
    assert_eq!(
        again,
        PageOutcome {
            unchanged: 1,
            ..PageOutcome::default()
        }
    );
}

pub(crate) async fn a_3pid_bound_here_differently_is_a_conflict_and_verity_keeps_its_row(
    db: &TestDb,
) {
    let store = db.bindings();
    let bob = verity_application::ports::driven::Binding {
        threepid: email("alice@example.org"),
        user_id: UserId::parse("@bob:example.org").unwrap(),
    };
    store.bind(&bob, Timestamp::from_millis(5)).await.unwrap();
    let sink = db.store.import_sink(Timestamp::from_millis(TS));
    let page = [
        imported("carol@example.org", "@carol:example.org"),
        imported("alice@example.org", "@alice:example.org"),
    ];
    let outcome = sink.bindings(&page, false).await.unwrap();
    assert_eq!(outcome.added, 1);
    assert_eq!(outcome.conflicts.len(), 1);
    assert_eq!(outcome.conflicts[0].0, 1);
    assert!(outcome.conflicts[0].1.contains("@bob:example.org"));
    let kept = store
        .lookup_published(&email("alice@example.org"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.user_id.as_str(), "@bob:example.org");
    assert_eq!(kept.signed, None);
}

pub(crate) async fn a_bind_here_replaces_what_the_import_stored(db: &TestDb) {
    let sink = db.store.import_sink(Timestamp::from_millis(TS));
    sink.bindings(
        &[imported("alice@example.org", "@alice:example.org")],
        false,
    )
    .await
    .unwrap();
    let store = db.bindings();
    let rebound = verity_application::ports::driven::Binding {
        threepid: email("alice@example.org"),
        user_id: UserId::parse("@alice:example.org").unwrap(),
    };
    store
        .bind(&rebound, Timestamp::from_millis(TS + 1))
        .await
        .unwrap();
    let published = store
        .lookup_published(&email("alice@example.org"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(published.since, Some(Timestamp::from_millis(TS + 1)));
    assert_eq!((published.window, published.signed), (None, None));
}

pub(crate) async fn a_dry_run_reports_the_same_outcome_and_writes_nothing(db: &TestDb) {
    let sink = db.store.import_sink(Timestamp::from_millis(TS));
    let bindings = [imported("alice@example.org", "@alice:example.org")];
    let accounts = [account("token-a", None)];
    let terms = [AcceptedTerms {
        user_id: user("@alice:example.org"),
        url: "https://example.org/tos".to_owned(),
    }];
    assert_eq!(sink.bindings(&bindings, true).await.unwrap(), added(1));
    assert_eq!(sink.accounts(&accounts, true).await.unwrap(), added(1));
    assert_eq!(sink.accepted_terms(&terms, true).await.unwrap(), added(1));
    assert_eq!(
        db.bindings()
            .find(&email("alice@example.org"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(db.accounts().find(&accounts[0].token).await.unwrap(), None);
    assert!(
        db.terms()
            .accepted(&user("@alice:example.org"))
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn accounts_are_keyed_by_fingerprint_and_another_users_token_is_kept(db: &TestDb) {
    let sink = db.store.import_sink(Timestamp::from_millis(TS));
    let mine = account("token-a", Some(TS + 1));
    assert_eq!(
        sink.accounts(std::slice::from_ref(&mine), false)
            .await
            .unwrap(),
        added(1)
    );
    assert_eq!(
        db.accounts().find(&mine.token).await.unwrap(),
        Some(mine.clone())
    );
    let mut stolen = mine.clone();
    stolen.user_id = user("@mallory:example.org");
    let outcome = sink.accounts(&[mine.clone(), stolen], false).await.unwrap();
    assert_eq!((outcome.added, outcome.unchanged), (0, 1));
    assert_eq!(outcome.conflicts.len(), 1);
    assert_eq!(db.accounts().find(&mine.token).await.unwrap(), Some(mine));
}

pub(crate) async fn accepted_terms_are_added_once(db: &TestDb) {
    let sink = db.store.import_sink(Timestamp::from_millis(TS));
    let terms = |url: &str| AcceptedTerms {
        user_id: user("@alice:example.org"),
        url: url.to_owned(),
    };
    db.terms()
        .accept(
            &user("@alice:example.org"),
            &["https://example.org/a".to_owned()],
            Timestamp::from_millis(1),
        )
        .await
        .unwrap();
    let page = [
        terms("https://example.org/a"),
        terms("https://example.org/b"),
    ];
    let outcome = sink.accepted_terms(&page, false).await.unwrap();
    assert_eq!((outcome.added, outcome.unchanged), (1, 1));
    assert_eq!(
        db.terms()
            .accepted(&user("@alice:example.org"))
            .await
            .unwrap()
            .len(),
        2
    );
}

pub(crate) async fn a_page_larger_than_one_statement_is_written_whole(db: &TestDb) {
    let sink = db.store.import_sink(Timestamp::from_millis(TS));
    let page: Vec<ImportedBinding> = (0..1_200)
        .map(|n| ImportedBinding {
            association: Association::vouched_at(
                email(&format!("user{n}@example.org")),
                UserId::parse(&format!("@user{n}:example.org")).unwrap(),
                Timestamp::from_millis(TS),
            ),
            signed: None,
        })
        .collect();
    assert_eq!(sink.bindings(&page, false).await.unwrap(), added(1_200));
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM verity_binding").await,
        vec![1_200]
    );
}
