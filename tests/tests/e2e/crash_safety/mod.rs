//! Crash safety: the real `verity` binary is killed with SIGKILL while it serves `requestToken`,
//! `bind` and the delivery of pending invites (`3pid/onbind`), started again on the same data,
//! and what it had answered must still be there, once, whole; what it had not answered must be
//! there whole or not at all. The peers hold the call Verity is in the middle of (the SMTP
//! server before its `250`, the homeserver before its answer, PostgreSQL behind a table lock),
//! so the kill lands where the test wants it, not where a timer guesses.
//!
//! The store is read directly (SQL) to check that no row is doubled or half written.
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use verity_tests::client::{Client, types};
use verity_tests::{Backend, Deployment, HOMESERVER, Peers, Verity, first_link};

mod bind;
mod delivery;
mod request_token;

pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// Limits off: these tests send bursts from one address, which is not what they are about.
const NO_LIMITS: &str = "ratelimit:\n  enabled: false\n";

/// The peers, and a deployment of the binary pointing at them.
async fn deployment(backend: Backend) -> (Deployment, Peers) {
    deployment_with(backend, "").await
}

/// [`deployment`] with `extra_yaml` merged in.
pub(crate) async fn deployment_with(backend: Backend, extra_yaml: &str) -> (Deployment, Peers) {
    let peers = Peers::start().await;
    let yaml = format!("{}{NO_LIMITS}{extra_yaml}", peers.yaml());
    (Deployment::new(backend, &yaml).await, peers)
}

/// `requestToken` over v1 (no account needed); the sid, or the error as text.
pub(crate) async fn request_token(
    client: &Client,
    email: &str,
    secret: &str,
    send_attempt: u32,
) -> Result<String, String> {
    client
        .email_request_token_v1(&types::EmailTokenRequest {
            client_secret: secret.into(),
            email: email.into(),
            send_attempt: send_attempt.to_string(),
            next_link: None,
        })
        .await
        .map(|answer| answer.into_inner().sid)
        .map_err(|error| error.to_string())
}

/// The validation link of the next email, and its query parameters `sid` and `token`.
pub(crate) struct MailedLink {
    pub(crate) link: String,
    pub(crate) sid: String,
    pub(crate) token: String,
}

pub(crate) async fn next_mailed_link(peers: &Peers) -> MailedLink {
    let mail = peers.smtp.wait_for_mail(WAIT).await.expect("an email");
    let text = mail.parse().text.expect("a text part");
    let link = first_link(&text).expect("a link in the email");
    let param = |name: &str| {
        let query = link.split_once('?').map_or("", |(_, query)| query);
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {link}"))
            .to_owned()
    };
    let (sid, token) = (param("sid"), param("token"));
    MailedLink { link, sid, token }
}

/// Opens the link as the user's browser does; the page's status.
pub(crate) async fn open(verity: &Verity, link: &str) -> u16 {
    verity
        .http()
        .get(verity.url(link))
        .send()
        .await
        .expect("the link opens")
        .status()
        .as_u16()
}

/// Requests a token for `email` and opens the emailed link: a validated session's sid.
pub(crate) async fn validate(verity: &Verity, peers: &Peers, email: &str, secret: &str) -> String {
    let sid = request_token(verity.client(), email, secret, 1)
        .await
        .expect("requestToken");
    let mailed = next_mailed_link(peers).await;
    assert_eq!(mailed.sid, sid);
    assert_eq!(open(verity, &mailed.link).await, 200);
    sid
}

/// Registers `@<localpart>:example.org` through the fake homeserver's OpenID token; a client
/// sending the access token Verity issued.
pub(crate) async fn register(verity: &Verity, peers: &Peers, localpart: &str) -> Client {
    let token = registered_token(verity, peers, localpart).await;
    verity.client_as(&token)
}

/// Registers `@<localpart>:<HOMESERVER>` with `verity` through an OpenID token the fake
/// homeserver vouches for; the access token Verity issued.
pub(crate) async fn registered_token(verity: &Verity, peers: &Peers, localpart: &str) -> String {
    let openid = format!("openid-{localpart}");
    peers
        .homeserver
        .add_user(&openid, &format!("@{localpart}:{HOMESERVER}"));
    verity
        .client()
        .register_account(&types::OpenIdCredentials {
            access_token: openid,
            token_type: Some("Bearer".into()),
            matrix_server_name: HOMESERVER.into(),
            expires_in: Some(3600),
        })
        .await
        .expect("register")
        .into_inner()
        .token
}

/// Verity's store, read with plain SQL.
pub(crate) struct Store {
    db: DatabaseConnection,
}

impl Store {
    pub(crate) async fn open(deployment: &Deployment) -> Self {
        let db = Database::connect(deployment.database_url())
            .await
            .expect("the store opens");
        Self { db }
    }

    /// The rows of `sql`, each column read as text (NULL as `None`).
    pub(crate) async fn rows(&self, sql: &str, columns: &[&str]) -> Vec<Vec<Option<String>>> {
        let backend = self.db.get_database_backend();
        let rows = self
            .db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.iter()
            .map(|row| {
                columns
                    .iter()
                    .map(|column| {
                        row.try_get::<Option<String>>("", column)
                            .or_else(|_| {
                                row.try_get::<Option<i64>>("", column)
                                    .map(|n| n.map(|n| n.to_string()))
                            })
                            .or_else(|_| {
                                row.try_get::<Option<i32>>("", column)
                                    .map(|n| n.map(|n| n.to_string()))
                            })
                            .unwrap_or_else(|e| panic!("{sql}: {column}: {e}"))
                    })
                    .collect()
            })
            .collect()
    }

    /// Waits until `sql` selects `expected` (polling: the server writes in the background);
    /// fails with what it last selected after [`WAIT`].
    pub(crate) async fn wait_for_rows(
        &self,
        sql: &str,
        columns: &[&str],
        expected: &[Vec<Option<String>>],
    ) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let rows = self.rows(sql, columns).await;
            if rows == expected {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                pretty_assertions::assert_eq!(rows, expected, "{sql}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A number `sql` selects as `n`.
    pub(crate) async fn count(&self, sql: &str) -> i64 {
        let rows = self.rows(sql, &["n"]).await;
        rows[0][0]
            .as_deref()
            .unwrap_or("0")
            .parse()
            .expect("a count")
    }

    /// SQLite's own check of the file (pages, indexes, free lists); PostgreSQL has none to ask.
    async fn assert_intact(&self) {
        if self.db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
            return;
        }
        let check = self
            .rows("PRAGMA integrity_check", &["integrity_check"])
            .await;
        assert_eq!(check, [[Some("ok".to_owned())]], "SQLite integrity_check");
    }
}
