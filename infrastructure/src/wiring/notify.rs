//! Notifications: a template generator and a connector per configured medium.
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_notify::{
    FileConnector, NoneConnector, SmtpConnector, TemplateGenerator, TwilioConnector,
};
use verity_application::ports::driven::NotificationConnector;
use verity_application::usecases::{MediumHandler, Notifier};
use verity_domain::Medium;

use crate::settings::{ConnectorSettings, MediumSettings, Settings};

/// A handler per medium; an unconfigured medium that cannot be set up is left out with a warning.
pub(super) fn notifier(settings: &Settings) -> anyhow::Result<Notifier> {
    let mut notifier = Notifier::new();
    for (medium, key, medium_settings) in [
        (
            Medium::Email,
            "threepid.medium.email",
            &settings.threepid.email,
        ),
        (
            Medium::Msisdn,
            "threepid.medium.msisdn",
            &settings.threepid.msisdn,
        ),
    ] {
        match handler(&medium, settings, medium_settings) {
            Ok(handler) => notifier = notifier.with(medium, handler),
            Err(error) if !medium_settings.configured => {
                // mxisd's behaviour: an unconfigured medium is simply not available.
                tracing::warn!(
                    "{medium} validation is unavailable until {key} is configured: {error:#}"
                );
            }
            Err(error) => return Err(error.context(format!("cannot set up {key}"))),
        }
    }
    Ok(notifier)
}

fn handler(
    medium: &Medium,
    settings: &Settings,
    m: &MediumSettings,
) -> anyhow::Result<MediumHandler> {
    let generator =
        TemplateGenerator::new(medium, &settings.matrix.domain, &m.identity, &m.generator)
            .context("generators.template")?;
    let connector: Arc<dyn NotificationConnector> = match &m.connector {
        ConnectorSettings::Smtp(config) => {
            Arc::new(SmtpConnector::new(config, &m.identity).context("connectors.smtp")?)
        }
        ConnectorSettings::Twilio(config) => {
            Arc::new(TwilioConnector::new(config).context("connectors.twilio")?)
        }
        ConnectorSettings::File(config) => {
            Arc::new(FileConnector::new(config, &m.identity).context("connectors.file")?)
        }
        ConnectorSettings::None => Arc::new(NoneConnector::new()),
    };
    Ok(MediumHandler {
        generator: Arc::new(generator),
        connector,
    })
}
