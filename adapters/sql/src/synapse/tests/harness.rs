//! A scratch Synapse database per test: Synapse's own schema for its 3PID tables, on SQLite and,
//! when `VERITY_TEST_POSTGRES_URL` is set, on PostgreSQL ([`crate::testing`] says when it is
//! skipped and when it fails).
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use verity_application::contract::identity::Identity;

use crate::synapse::{SynapseDatabase, SynapseSqlBackend, SynapseSqlConfig};
use crate::testing::{ScratchDatabase, postgres_url};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sqlite,
    Postgres,
}

use crate::testing::{
    SYNAPSE_POSTGRES_SCHEMA as POSTGRES_SCHEMA, SYNAPSE_SQLITE_SCHEMA as SQLITE_SCHEMA,
};

/// The identity server most bindings in the tests went through.
pub(crate) const ID_SERVER: &str = "vector.im";

/// One test's Synapse database, written through a connection of its own (the backend only
/// reads). [`SynapseDb::finish`] releases it; on a panic the guards do.
pub(crate) struct SynapseDb {
    pub(crate) kind: Kind,
    writer: DatabaseConnection,
    database: SynapseDatabase,
    _dir: Option<tempfile::TempDir>,
    scratch: Option<ScratchDatabase>,
}

impl SynapseDb {
    /// A database with Synapse's 3PID tables, empty, or `None` when PostgreSQL is not configured
    /// outside CI.
    pub(crate) async fn open(kind: Kind) -> Option<Self> {
        let db = match kind {
            Kind::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("homeserver.db");
                let writer = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
                    .await
                    .expect("create the SQLite file");
                Self {
                    kind,
                    writer,
                    database: SynapseDatabase::Sqlite { path },
                    _dir: Some(dir),
                    scratch: None,
                }
            }
            Kind::Postgres => {
                let scratch = ScratchDatabase::create_on(&postgres_url()?).await;
                let writer = Database::connect(scratch.url())
                    .await
                    .expect("connect to the scratch database");
                Self {
                    kind,
                    writer,
                    database: SynapseDatabase::Postgres {
                        url: scratch.url().to_owned(),
                    },
                    _dir: None,
                    scratch: Some(scratch),
                }
            }
        };
        let schema = match kind {
            Kind::Sqlite => SQLITE_SCHEMA,
            Kind::Postgres => POSTGRES_SCHEMA,
        };
        for statement in schema {
            db.execute(statement).await;
        }
        Some(db)
    }

    /// Runs SQL as Synapse would (or as a damaged database has it).
    pub(crate) async fn execute(&self, sql: &str) {
        self.writer
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|err| panic!("{sql}: {err}"));
    }

    /// `user` added `address` to their account (`user_threepids`) without sharing it.
    pub(crate) async fn add(&self, user: &str, medium: &str, address: &str) {
        self.execute(&format!(
            "INSERT INTO user_threepids (user_id, medium, address, validated_at, added_at) \
             VALUES ({}, {}, {}, 1000, 1000)",
            quote(user),
            quote(medium),
            quote(address)
        ))
        .await;
    }

    /// `user` bound `address` at `id_server` through the homeserver (`user_threepid_id_server`).
    pub(crate) async fn bind_at(&self, user: &str, medium: &str, address: &str, id_server: &str) {
        self.execute(&format!(
            "INSERT INTO user_threepid_id_server (user_id, medium, address, id_server) \
             VALUES ({}, {}, {}, {})",
            quote(user),
            quote(medium),
            quote(address),
            quote(id_server)
        ))
        .await;
    }

    /// What Synapse writes when a user adds a 3PID and shares it: both tables.
    pub(crate) async fn share(&self, user: &str, medium: &str, address: &str) {
        self.add(user, medium, address).await;
        self.bind_at(user, medium, address, ID_SERVER).await;
    }

    /// What Synapse holds when each of `identities` was added to its user's account and shared,
    /// written as typed (`Identity::written`): two statements, whatever their number.
    pub(crate) async fn seed(&self, identities: &[Identity]) {
        if identities.is_empty() {
            return;
        }
        let rows = |extra: &str| {
            identities
                .iter()
                .map(|identity| {
                    format!(
                        "({}, {}, {}, {extra})",
                        quote(identity.user_id.as_str()),
                        quote(identity.threepid.medium().as_str()),
                        quote(&identity.written)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        self.execute(&format!(
            "INSERT INTO user_threepids (user_id, medium, address, validated_at, added_at) \
             VALUES {}",
            rows("1000, 1000")
        ))
        .await;
        self.execute(&format!(
            "INSERT INTO user_threepid_id_server (user_id, medium, address, id_server) VALUES {}",
            rows(&quote(ID_SERVER))
        ))
        .await;
    }

    /// The default configuration for this database.
    pub(crate) fn config(&self) -> SynapseSqlConfig {
        SynapseSqlConfig::new(self.database.clone())
    }

    /// The backend with the default configuration.
    pub(crate) async fn backend(&self) -> SynapseSqlBackend {
        self.backend_with(self.config()).await
    }

    pub(crate) async fn backend_with(&self, config: SynapseSqlConfig) -> SynapseSqlBackend {
        SynapseSqlBackend::connect(&config)
            .await
            .unwrap_or_else(|err| panic!("open the Synapse backend on {:?}: {err:?}", self.kind))
    }

    pub(crate) async fn finish(self) {
        let Self {
            writer, scratch, ..
        } = self;
        writer.close().await.expect("close the writer");
        if let Some(scratch) = scratch {
            scratch.drop_database().await;
        }
    }
}

/// An SQL string literal.
pub(crate) fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}
