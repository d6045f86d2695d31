//! The real peers a full flow needs, started on loopback ports and plugged into the settings:
//! an SMTP server, a fake Twilio, a fake homeserver.
use verity::settings::{ConnectorSettings, MediumSettings, Settings};
use verity_adapter_notify::{SenderIdentity, SmtpConfig, TemplateConfig, TwilioConfig};
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

    /// Points `settings` at the peers: email through SMTP (plain, on loopback), SMS through the
    /// fake Twilio, and `example.org` resolved to the fake homeserver.
    pub fn apply(&self, settings: &mut Settings) {
        settings.threepid.email = MediumSettings {
            configured: true,
            identity: SenderIdentity {
                from: "verity@example.org".into(),
                name: "Verity".into(),
            },
            generator: TemplateConfig::default(),
            connector: ConnectorSettings::Smtp(SmtpConfig {
                host: "127.0.0.1".into(),
                port: self.smtp.port(),
                tls: 0,
                ..SmtpConfig::default()
            }),
        };
        settings.threepid.msisdn = MediumSettings {
            configured: true,
            identity: SenderIdentity::default(),
            generator: TemplateConfig::default(),
            connector: ConnectorSettings::Twilio(TwilioConfig {
                account_sid: TWILIO_SID.into(),
                auth_token: TWILIO_TOKEN.into(),
                number: "+15005550006".into(),
                api_url: self.twilio.url(),
            }),
        };
        settings.federation.overrides = vec![(HOMESERVER.into(), self.homeserver.base_url())];
    }
}
