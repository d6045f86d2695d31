//! The real peers a full flow needs, started on loopback ports and plugged into the settings:
//! an SMTP server, a fake Twilio, a fake homeserver.
use verity_testkit::homeserver::FakeHomeserver;
use verity_testkit::smtp::SmtpServer;
use verity_testkit::twilio::FakeTwilio;

/// The homeserver name the fake homeserver answers for (reached through an operator override).
pub const HOMESERVER: &str = "example.org";
/// Twilio credentials the fake checks.
pub const TWILIO_SID: &str = "ACtest";
/// Twilio credentials the fake checks.
pub const TWILIO_TOKEN: &str = "twilio-secret";

/// Every peer of a full flow.
pub struct Peers {
    /// Captures the emails.
    pub smtp: SmtpServer,
    /// Captures the text messages.
    pub twilio: FakeTwilio,
    /// Vouches for OpenID tokens.
    pub homeserver: FakeHomeserver,
}

impl Peers {
    /// Starts every peer.
    pub async fn start() -> Self {
        Self {
            smtp: SmtpServer::start().await,
            twilio: FakeTwilio::start(TWILIO_SID, TWILIO_TOKEN).await,
            homeserver: FakeHomeserver::start().await,
        }
    }

    /// The configuration that points Verity at the peers, with mxisd's key names: email through
    /// SMTP (plain, on loopback), SMS through the fake Twilio, and `example.org` resolved to the
    /// fake homeserver. Top-level sections `threepid` and `dns`; append the test's own YAML.
    pub fn yaml(&self) -> String {
        format!(
            "
threepid:
  medium:
    email:
      identity:
        from: verity@example.org
        name: Verity
      connector: smtp
      connectors:
        smtp:
          host: 127.0.0.1
          port: {smtp}
          tls: 0
    msisdn:
      connector: twilio
      connectors:
        twilio:
          account_sid: {TWILIO_SID}
          auth_token: {TWILIO_TOKEN}
          number: '+15005550006'
          api_url: '{twilio}'
dns:
  overwrite:
    homeserver:
      federation:
        - name: {HOMESERVER}
          value: '{homeserver}'
",
            smtp = self.smtp.port(),
            twilio = self.twilio.url(),
            homeserver = self.homeserver.base_url(),
        )
    }
}

impl Peers {
    /// [`Peers::yaml`] with the homeserver's client API at `client_api` for the host the tests
    /// call (`127.0.0.1`, `dns.overwrite.homeserver.client`): the routes Verity serves in front
    /// of the homeserver (directory search, registration, room invites) pass requests on there.
    pub fn yaml_with_client_api(&self, client_api: &str) -> String {
        self.yaml().replace(
            "    homeserver:\n      federation:",
            &format!(
                "    homeserver:\n      client:\n        - name: 127.0.0.1\n          value: '{client_api}'\n      federation:"
            ),
        )
    }

    /// Waits (up to 10 s) for the next email and opens its first link on `app`, as the user's
    /// browser does; returns the page's status.
    pub async fn open_emailed_link(&self, app: &crate::TestApp) -> u16 {
        let mail = self
            .smtp
            .wait_for_mail(std::time::Duration::from_secs(10))
            .await
            .expect("the email arrives");
        let text = mail.parse().text.expect("a text part");
        let link = crate::first_link(&text).expect("a link in the email");
        app.http
            .get(app.url(link.trim_start_matches("http://localhost")))
            .send()
            .await
            .expect("the link opens")
            .status()
            .as_u16()
    }

    /// Registers `@<localpart>:example.org` with Verity through the fake homeserver's OpenID
    /// token (as Element does) and returns a client sending the access token Verity issued.
    /// Terms, when configured, are left for the caller to accept.
    pub async fn register(&self, app: &crate::TestApp, localpart: &str) -> crate::client::Client {
        let openid = format!("openid-{localpart}");
        self.homeserver
            .add_user(&openid, &format!("@{localpart}:{HOMESERVER}"));
        let token = app
            .client
            .register_account(&crate::client::types::OpenIdCredentials {
                access_token: openid,
                token_type: Some("Bearer".into()),
                matrix_server_name: HOMESERVER.into(),
                expires_in: Some(3600),
            })
            .await
            .expect("register")
            .into_inner()
            .token;
        app.client_as(&token)
    }
}
