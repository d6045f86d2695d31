//! A scratch Sydent database per test: Sydent 2.6.1's own schema (`schema.sql`, copied from its
//! package), written with the statements Sydent's stores run (`sydent/db/*.py`), through a
//! connection of the test's own: the source only reads.
use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

use crate::sydent::SydentSource;

/// Sydent's schema, version 0 files then its migrations, with `-- version N` markers.
const SCHEMA: &str = include_str!("schema.sql");

/// `server.name` of the Sydent that made the database.
pub(crate) const SERVER: &str = "id.example.org";

/// Sydent's association lifetime: a hundred years of 365 days.
pub(crate) const LIFETIME_MS: i64 = 100 * 365 * 24 * 60 * 60 * 1000;

/// One test's Sydent database.
pub(crate) struct SydentDb {
    writer: DatabaseConnection,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SydentDb {
    /// Sydent 2.6.1's database (schema version 5), empty.
    pub(crate) async fn new() -> Self {
        Self::at_version(5).await
    }

    /// The database as the Sydent whose last migration is `version` left it.
    pub(crate) async fn at_version(version: u32) -> Self {
        let db = Self::empty().await;
        let cut = (version < 5)
            .then(|| SCHEMA.find(&format!("-- version {}", version + 1)))
            .flatten()
            .unwrap_or(SCHEMA.len());
        db.execute(&SCHEMA[..cut]).await;
        db
    }

    /// A new SQLite file with no table at all.
    pub(crate) async fn empty() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sydent.db");
        let writer = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .expect("create the SQLite file");
        Self {
            writer,
            path,
            _dir: dir,
        }
    }

    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Runs SQL (as Sydent would, or as a damaged database has it).
    pub(crate) async fn execute(&self, sql: &str) {
        self.writer
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
    }

    /// The source over this database, as `server.name` [`SERVER`] opens it.
    pub(crate) async fn source(&self) -> SydentSource {
        SydentSource::open(&self.path, SERVER)
            .await
            .expect("open the Sydent database")
    }

    /// A bind as Sydent makes it (`ThreepidBinder.addBinding`): the local row (`insert or
    /// replace`, so a re-bind gets a new id), then the local push (`LocalPeer.pushUpdates`)
    /// storing what the signer made, `json.dumps`-ed, as a global row of this server. Returns
    /// the local id.
    pub(crate) async fn bind(&self, medium: &str, address: &str, mxid: &str, ts: i64) -> i64 {
        self.execute(&format!(
            "insert or replace into local_threepid_associations \
             ('medium', 'address', 'lookup_hash', 'mxid', 'ts', 'notBefore', 'notAfter') \
             values ({}, {}, 'hash', {}, {ts}, {ts}, {})",
            quote(medium),
            quote(address),
            quote(mxid),
            ts + LIFETIME_MS
        ))
        .await;
        let id = self.local_id(medium, address).await;
        let signed = sg_assoc(medium, address, mxid, ts, SERVER);
        self.push(SERVER, id, medium, address, mxid, ts, &signed)
            .await;
        id
    }

    /// A global row, as a push (local or from a replication peer) stores it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn push(
        &self,
        origin: &str,
        origin_id: i64,
        medium: &str,
        address: &str,
        mxid: &str,
        ts: i64,
        sg_assoc: &str,
    ) {
        self.execute(&format!(
            "insert or ignore into global_threepid_associations \
             (medium, address, lookup_hash, mxid, ts, notBefore, notAfter, originServer, \
             originId, sgAssoc) values ({}, {}, 'hash', {}, {ts}, {ts}, {}, {}, {origin_id}, {})",
            quote(medium),
            quote(address),
            quote(mxid),
            ts + LIFETIME_MS,
            quote(origin),
            quote(sg_assoc)
        ))
        .await;
    }

    /// An unbind as Sydent makes it (`LocalAssociationStore.removeAssociation`, then the local
    /// push of the deletion: `GlobalAssociationStore.removeAssociation`).
    pub(crate) async fn unbind(&self, medium: &str, address: &str, ts: i64) {
        self.execute(&format!(
            "REPLACE INTO local_threepid_associations \
             ('medium', 'address', 'mxid', 'ts', 'notBefore', 'notAfter') \
             values ({}, {}, NULL, {ts}, null, null)",
            quote(medium),
            quote(address)
        ))
        .await;
        self.execute(&format!(
            "DELETE FROM global_threepid_associations WHERE medium = {} AND address = {}",
            quote(medium),
            quote(address)
        ))
        .await;
    }

    /// `issueToken`: the account (`insert or ignore`: a user's first token dates it), then the
    /// token.
    pub(crate) async fn issue_token(&self, user_id: &str, token: &str, ts: i64) {
        self.execute(&format!(
            "insert or ignore into accounts (user_id, created_ts, consent_version) \
             values ({}, {ts}, NULL)",
            quote(user_id)
        ))
        .await;
        self.execute(&format!(
            "insert into tokens (user_id, token) values ({}, {})",
            quote(user_id),
            quote(token)
        ))
        .await;
    }

    /// `TermsStore.addAgreedUrls`.
    pub(crate) async fn accept(&self, user_id: &str, url: &str) {
        self.execute(&format!(
            "insert or ignore into accepted_terms_urls (user_id, url) values ({}, {})",
            quote(user_id),
            quote(url)
        ))
        .await;
    }

    /// The id of the local row of a 3PID.
    pub(crate) async fn local_id(&self, medium: &str, address: &str) -> i64 {
        let row = self
            .writer
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                format!(
                    "SELECT id FROM local_threepid_associations WHERE medium = {} AND address = {}",
                    quote(medium),
                    quote(address)
                ),
            ))
            .await
            .expect("query")
            .expect("the local row");
        row.try_get_by_index(0).expect("id")
    }

    /// The file's bytes.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).expect("read the database file")
    }

    pub(crate) async fn finish(self) {
        let _ = self.writer.close().await;
    }
}

/// An SQL string literal.
pub(crate) fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// What Sydent's signer makes, as Python's `json.dumps` writes it (`", "` and `": "`
/// separators, insertion order, non-ASCII as `\uXXXX`).
pub(crate) fn sg_assoc(medium: &str, address: &str, mxid: &str, ts: i64, server: &str) -> String {
    format!(
        "{{\"medium\": {}, \"address\": {}, \"mxid\": {}, \"ts\": {ts}, \"not_before\": {ts}, \
         \"not_after\": {}, \"signatures\": {{{}: {{\"ed25519:0\": \
         \"DgYnRJ8wpA1XG1m1k+dF0zV1yJ5p1Lqf4X2Q0i7qKfTz3n8bA0c9o0r4m6ZtJ2aQ8lYy1kR9tE3w5uH7nJxBg\"}}}}}}",
        py_str(medium),
        py_str(address),
        py_str(mxid),
        ts + LIFETIME_MS,
        py_str(server)
    )
}

/// A JSON string as Python's `json.dumps` writes it (`ensure_ascii`).
fn py_str(value: &str) -> String {
    let json = serde_json::to_string(value).expect("a string");
    let mut out = String::new();
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}
