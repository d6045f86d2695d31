//! Bindings: Sydent's local rows with the signed association it published for each.
use pretty_assertions::assert_eq;
use verity_application::ports::driven::ImportSource;
use verity_domain::{Medium, ThreePid, Timestamp};

use super::all_bindings;
use super::harness::{LIFETIME_MS, SERVER, SydentDb, quote, sg_assoc};

const T1: i64 = 1_767_225_600_000;
const T2: i64 = 1_767_312_000_000;

#[tokio::test]
async fn bound_addresses_become_bindings_with_sydents_times_and_its_signed_association_verbatim() {
    let db = SydentDb::new().await;
    let alice = db
        .bind("email", "alice@example.org", "@alice:example.org", T1)
        .await;
    let bob = db
        .bind("msisdn", "447700900123", "@bob:example.org", T2)
        .await;
    let source = db.source().await;

    let rows = all_bindings(&source).await;

    assert_eq!(
        rows.iter().map(|row| row.position).collect::<Vec<_>>(),
        [alice, bob]
    );
    assert_eq!(rows[0].label, "email a***@example.org");
    assert_eq!(rows[1].label, "msisdn 44***23");
    let binding = rows[0].record.as_ref().expect("alice's binding");
    let association = &binding.association;
    assert_eq!(
        association.threepid,
        ThreePid::parse(Medium::Email, "alice@example.org").expect("email")
    );
    assert_eq!(association.user_id.as_str(), "@alice:example.org");
    assert_eq!(association.ts, Timestamp::from_millis(T1 as u64));
    assert_eq!(association.not_before, Timestamp::from_millis(T1 as u64));
    assert_eq!(
        association.not_after,
        Timestamp::from_millis((T1 + LIFETIME_MS) as u64)
    );
    let signed = binding.signed.as_ref().expect("the signed association");
    assert_eq!(
        signed.as_str(),
        sg_assoc(
            "email",
            "alice@example.org",
            "@alice:example.org",
            T1,
            SERVER
        )
    );
    let bob_binding = rows[1].record.as_ref().expect("bob's binding");
    assert_eq!(bob_binding.association.threepid.address(), "447700900123");
    db.finish().await;
}

#[tokio::test]
async fn a_removed_binding_is_skipped_and_counted_as_removed() {
    let db = SydentDb::new().await;
    db.bind("email", "alice@example.org", "@alice:example.org", T1)
        .await;
    let bob = db
        .bind("email", "bob@example.org", "@bob:example.org", T1)
        .await;
    db.unbind("email", "alice@example.org", T2).await;
    let source = db.source().await;

    let rows = all_bindings(&source).await;
    let counts = source.counts().await.expect("counts");

    assert_eq!(
        rows.iter().map(|row| row.position).collect::<Vec<_>>(),
        [bob]
    );
    assert_eq!((counts.bindings, counts.removed_bindings), (1, 1));
    db.finish().await;
}

#[tokio::test]
async fn a_rebound_address_is_imported_once_as_its_latest_binding() {
    let db = SydentDb::new().await;
    db.bind("email", "shared@example.org", "@alice:example.org", T1)
        .await;
    let latest = db
        .bind("email", "shared@example.org", "@bob:example.org", T2)
        .await;
    let source = db.source().await;

    let rows = all_bindings(&source).await;
    let counts = source.counts().await.expect("counts");

    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].position, latest);
    let binding = rows[0].record.as_ref().expect("the binding");
    assert_eq!(binding.association.user_id.as_str(), "@bob:example.org");
    assert_eq!(
        binding
            .signed
            .as_ref()
            .map(|signed| signed.as_str().to_owned()),
        Some(sg_assoc(
            "email",
            "shared@example.org",
            "@bob:example.org",
            T2,
            SERVER
        ))
    );
    // Alice's global row is still there, as Sydent leaves it; it is this server's, not a peer's.
    assert_eq!((counts.bindings, counts.replicated_bindings), (1, 0));
    db.finish().await;
}

#[tokio::test]
async fn associations_replicated_from_peers_are_not_imported_but_counted() {
    let db = SydentDb::new().await;
    let own = db
        .bind("email", "alice@example.org", "@alice:example.org", T1)
        .await;
    let peer = "matrix.org";
    let signed = sg_assoc("email", "carol@example.com", "@carol:matrix.org", T1, peer);
    db.push(
        peer,
        7,
        "email",
        "carol@example.com",
        "@carol:matrix.org",
        T1,
        &signed,
    )
    .await;
    // The peer's origin id equals a local id here: still not this server's binding.
    db.push(
        peer,
        own,
        "email",
        "dan@example.com",
        "@dan:matrix.org",
        T1,
        &signed,
    )
    .await;
    let source = db.source().await;

    let rows = all_bindings(&source).await;
    let counts = source.counts().await.expect("counts");

    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]
            .record
            .as_ref()
            .expect("alice")
            .association
            .user_id
            .as_str(),
        "@alice:example.org"
    );
    assert_eq!((counts.bindings, counts.replicated_bindings), (1, 2));
    db.finish().await;
}

#[tokio::test]
async fn emails_are_imported_case_folded_while_the_signed_json_stays_as_sydent_wrote_it() {
    let db = SydentDb::new().await;
    // A row from before Sydent case-folded addresses, and one with a non-ASCII local part
    // (which Python's json.dumps writes as \u escapes).
    db.bind("email", "Alice@Example.ORG", "@alice:example.org", T1)
        .await;
    db.bind("email", "josé@example.org", "@jose:example.org", T1)
        .await;
    let source = db.source().await;

    let rows = all_bindings(&source).await;

    let addresses: Vec<_> = rows
        .iter()
        .map(|row| {
            row.record
                .as_ref()
                .expect("a binding")
                .association
                .threepid
                .address()
                .to_owned()
        })
        .collect();
    assert_eq!(addresses, ["alice@example.org", "josé@example.org"]);
    let signed = rows[1].record.as_ref().expect("josé").signed.as_ref();
    assert!(
        signed
            .expect("signed")
            .as_str()
            .contains(r"jos\u00e9@example.org"),
        "kept verbatim"
    );
    let first = rows[0].record.as_ref().expect("alice").signed.as_ref();
    assert!(
        first
            .expect("signed")
            .as_str()
            .contains("Alice@Example.ORG")
    );
    db.finish().await;
}

#[tokio::test]
async fn rows_that_cannot_be_imported_are_reported_with_their_reason_and_the_others_still_come() {
    let db = SydentDb::new().await;
    let expected = bad_rows(&db).await;
    let good = db
        .bind("email", "good@example.org", "@good:example.org", T2)
        .await;
    let source = db.source().await;

    let rows = all_bindings(&source).await;

    assert_eq!(rows.len(), expected.len() + 1);
    for (row, reason) in rows.iter().zip(&expected) {
        let error = row.record.as_ref().expect_err(reason);
        assert!(
            error.contains(reason),
            "{}: {error:?} lacks {reason:?}",
            row.label
        );
        assert!(row.label.contains("***"), "{}", row.label);
    }
    let last = rows.last().expect("the good row");
    assert_eq!(last.position, good);
    assert!(last.record.is_ok());
    db.finish().await;
}

/// Rows Sydent would not write, or no longer publishes, in id order, with what each one's
/// reason says.
async fn bad_rows(db: &SydentDb) -> Vec<&'static str> {
    db.bind("email", "bad-mxid@example.org", "alice", T1).await;
    db.bind("email", "no-at-sign.example.org", "@a:example.org", T1)
        .await;
    db.bind("carrier pigeon", "loft 3", "@a:example.org", T1)
        .await;
    // Global rows whose sgAssoc is not JSON, vouches for another user, is signed by another
    // server only.
    let dave = "@dave:example.org";
    let eve = sg_assoc("email", "dave@example.org", "@eve:example.org", T1, SERVER);
    let frank = "@frank:example.org";
    let other = sg_assoc("email", "frank@example.org", frank, T1, "other.example");
    let later = sg_assoc("email", "late@example.org", "@late:example.org", T2, SERVER);
    for (address, mxid, signed) in [
        ("broken@example.org", "@a:example.org", "{"),
        ("dave@example.org", dave, eve.as_str()),
        ("frank@example.org", frank, other.as_str()),
        ("late@example.org", "@late:example.org", later.as_str()),
    ] {
        local_only(db, address, mxid, &T1.to_string()).await;
        let id = db.local_id("email", address).await;
        db.push(SERVER, id, "email", address, mxid, T1, signed)
            .await;
    }
    // Bound locally, but no longer published (a peer's removal deleted the global row).
    local_only(db, "gone@example.org", "@gone:example.org", &T1.to_string()).await;
    // Times Sydent never writes for a bound row.
    local_only(db, "null-ts@example.org", "@a:example.org", "NULL").await;
    local_only(db, "text-ts@example.org", "@a:example.org", "'yesterday'").await;
    vec![
        "`mxid` is not a Matrix user ID",
        "invalid address",
        "unknown medium",
        "sgAssoc) is refused: not a signed association: not JSON",
        "names another Matrix ID than the binding",
        "is not signed by \"id.example.org\"",
        "names other times than the binding",
        "Sydent does not publish it",
        "`ts` is NULL",
        "`ts` holds a value of the wrong type",
    ]
}

/// A local email row with no global row; `ts` is the SQL of its `ts` column.
async fn local_only(db: &SydentDb, address: &str, mxid: &str, ts: &str) {
    db.execute(&format!(
        "insert into local_threepid_associations (medium, address, mxid, ts, notBefore, notAfter) \
         values ('email', {}, {}, {ts}, {T1}, {})",
        quote(address),
        quote(mxid),
        T1 + LIFETIME_MS
    ))
    .await;
}
