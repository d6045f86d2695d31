//! The peers of the Synapse steps: one Synapse, one Verity behind a TLS front (Synapse reaches
//! identity servers only as `https://<id_server>`), the SMTP capture and the fake Twilio.
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use verity_testkit::smtp::{CapturedMail, SmtpServer};
use verity_testkit::synapse::{Options, Synapse};
use verity_testkit::tls_front::TlsFront;
use verity_testkit::twilio::FakeTwilio;
use verity_tests::client::types;
use verity_tests::{Backend, TWILIO_SID, TWILIO_TOKEN, TestApp, first_link, spawn_app_with};

use super::matrix::{MatrixUser, send, text};

/// The terms users accept before using Verity.
pub const TERMS_URL: &str = "https://example.org/verity-terms-1.0.html";

pub struct World {
    pub synapse: Synapse,
    /// `https://localhost:<port>` in front of Verity: `front.authority()` is the `id_server`.
    pub front: TlsFront,
    pub app: TestApp,
    pub smtp: SmtpServer,
    pub twilio: FakeTwilio,
    /// A client that accepts the self-signed certificates (the user's browser).
    pub http: reqwest::Client,
}

impl World {
    /// Starts Synapse (delegating phone validation to the front), then Verity, configured with
    /// its public name `localhost:<front port>`, Synapse's server name as `matrix.domain`, and
    /// Synapse's federation listener as where that homeserver is reached.
    pub async fn start(python: &Path) -> Self {
        let front = TlsFront::bind().await;
        let options = Options {
            msisdn_delegate: Some(front.url()),
            ..Options::default()
        };
        let synapse = Synapse::start(python, &options).await;
        let smtp = SmtpServer::start().await;
        let twilio = FakeTwilio::start(TWILIO_SID, TWILIO_TOKEN).await;
        let yaml = verity_yaml(&front, &synapse, &smtp, &twilio);
        let app = spawn_app_with(Backend::Sqlite, &yaml).await;
        front.forward_to(app.address);
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        Self {
            synapse,
            front,
            app,
            smtp,
            twilio,
            http,
        }
    }

    /// Registers `localpart` on Synapse.
    pub async fn user(&self, localpart: &str) -> MatrixUser {
        MatrixUser::register(&self.http, &self.synapse.client_url(), localpart).await
    }

    /// What Element does before using the identity server: an OpenID token from Synapse,
    /// `POST /_matrix/identity/v2/account/register` with it (Verity asks Synapse's federation
    /// API who it belongs to), then the terms accepted. Returns Verity's access token.
    pub async fn identity_token(&self, user: &MatrixUser) -> String {
        let openid = user.openid_token().await;
        let token = self
            .app
            .client
            .register_account(&types::OpenIdCredentials {
                access_token: text(&openid, "access_token"),
                token_type: Some(text(&openid, "token_type")),
                matrix_server_name: text(&openid, "matrix_server_name"),
                expires_in: openid["expires_in"].as_i64(),
            })
            .await
            .unwrap_or_else(|error| panic!("Verity registers {}: {error}", user.user_id))
            .into_inner()
            .token;
        let (status, terms) = send(self.http.get(self.url("/_matrix/identity/v2/terms"))).await;
        assert_eq!(status, 200, "terms: {terms}");
        assert!(terms.to_string().contains(TERMS_URL), "terms: {terms}");
        self.app
            .client_as(&token)
            .agree_to_terms(&types::AcceptTerms {
                user_accepts: vec![TERMS_URL.into()],
            })
            .await
            .expect("the terms are accepted");
        token
    }

    /// Validates `address` with Verity as Element does when binding through the identity
    /// server: v2 requestToken, then the emailed link opened in the browser (through the
    /// front). Returns the session ID.
    pub async fn validate_email(&self, token: &str, address: &str, secret: &str) -> String {
        let sid = self
            .app
            .client_as(token)
            .email_request_token_v2(&types::EmailTokenRequest {
                client_secret: secret.into(),
                email: address.into(),
                send_attempt: "1".into(),
                next_link: None,
            })
            .await
            .unwrap_or_else(|error| panic!("requestToken for {address}: {error}"))
            .into_inner()
            .sid;
        let link = self.link_mailed_to(address).await;
        let opened = self.http.get(&link).send().await.expect("the link opens");
        assert_eq!(opened.status().as_u16(), 200, "{link}");
        sid
    }

    /// The next email to `address` (20 s at most), skipping those to other addresses (an
    /// earlier step's unbind notification, say).
    pub async fn mail_to(&self, address: &str) -> CapturedMail {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let mail = self
                .smtp
                .wait_for_mail(left)
                .await
                .unwrap_or_else(|| panic!("no email for {address}"));
            if mail.to.iter().any(|to| to == address) {
                return mail;
            }
        }
    }

    /// The first link of the next email to `address`.
    pub async fn link_mailed_to(&self, address: &str) -> String {
        let mail = self.mail_to(address).await;
        let text = mail.parse().text.expect("a text part");
        let link = first_link(&text).expect("a link in the email");
        assert!(
            link.starts_with(&self.front.url()),
            "links are built from publicUrl: {link}"
        );
        link
    }

    /// `POST /_matrix/client/v3/account/3pid/bind` (Synapse calls Verity's v2 bind).
    pub async fn bind_through_synapse(
        &self,
        user: &MatrixUser,
        token: &str,
        secret: &str,
        sid: &str,
    ) {
        let (status, answer) = user
            .post(
                "/_matrix/client/v3/account/3pid/bind",
                &json!({
                    "client_secret": secret,
                    "id_server": self.front.authority(),
                    "id_access_token": token,
                    "sid": sid,
                }),
            )
            .await;
        assert_eq!(
            status,
            200,
            "bind through Synapse: {answer}\n{}",
            self.synapse_lines("identity server")
        );
    }

    /// The Matrix ID Verity's v1 lookup gives for the email `address`, if any.
    pub async fn lookup(&self, address: &str) -> Option<String> {
        let found = self
            .app
            .client
            .lookup_v1(address, "email")
            .await
            .expect("lookup")
            .into_inner();
        let found = serde_json::to_value(found).expect("JSON");
        found["mxid"].as_str().map(str::to_owned)
    }

    /// `path` on Verity's plain listener.
    pub fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    /// Synapse's log lines containing `needle`, and its warnings and errors, for a failure
    /// message.
    pub fn synapse_lines(&self, needle: &str) -> String {
        let lines = self
            .synapse
            .log_lines("")
            .into_iter()
            .filter(|line| {
                let problem = (line.contains(" WARNING ") || line.contains(" ERROR "))
                    && !line.contains("synapse.config.logger");
                line.contains(needle) || problem
            })
            .collect::<Vec<_>>();
        format!("Synapse says:\n{}", lines.join("\n"))
    }
}

/// Verity's configuration: mxisd key names for the peers, local validation of every address,
/// terms to accept, and Synapse's federation listener trusted though it is on loopback with a
/// self-signed certificate.
fn verity_yaml(
    front: &TlsFront,
    synapse: &Synapse,
    smtp: &SmtpServer,
    twilio: &FakeTwilio,
) -> String {
    let config = json!({
        "matrix": {"domain": synapse.server_name()},
        "server": {"name": front.authority(), "publicUrl": front.url()},
        "threepid": {"medium": {
            "email": {
                "identity": {"from": "verity@example.org", "name": "Verity"},
                "connector": "smtp",
                "connectors": {"smtp": {"host": "127.0.0.1", "port": smtp.port(), "tls": 0}},
            },
            "msisdn": {
                "connector": "twilio",
                "connectors": {"twilio": {
                    "account_sid": TWILIO_SID,
                    "auth_token": TWILIO_TOKEN,
                    "number": "+15005550006",
                    "api_url": twilio.url(),
                }},
            },
        }},
        "session": {"policy": {"validation": {"forRemote": {
            "toLocal": true,
            "toRemote": {"enabled": false},
        }}}},
        "policy": {"policies": {"terms": {
            "version": "1.0",
            "terms": {"en": {"name": "Terms", "url": TERMS_URL}},
        }}},
        "dns": {"overwrite": {"homeserver": {
            "federation": [
                {"name": synapse.server_name(), "value": synapse.federation_url()},
            ],
            // The client API, for registration control (the tests call Verity directly).
            "client": [{"name": "127.0.0.1", "value": synapse.client_url()}],
        }}},
        // British mobile numbers may register (registration.rs); nothing else is routed to
        // Verity's registration control in these steps.
        "register": {"policy": {"threepid": {"msisdn": {"pattern": {
            "whitelist": ["447\\d{9}"],
        }}}}},
        // Staff may invite by 3PID (invite_policy.rs), whether the invite comes through
        // Verity's route or straight to Synapse, which asks Verity's store-invite (alice's in
        // invites.rs).
        "invite": {"policy": {"ifSender": {"hasRole": ["staff"]}}},
        "memory": {"enabled": true, "identities": [
            {"username": super::invite_policy::STAFF, "roles": ["staff"]},
            {"username": "alice", "roles": ["staff"]},
        ]},
        "federation": {"verifyTls": false},
    });
    let value: Value = config;
    serde_json::to_string(&value).expect("JSON is YAML")
}
