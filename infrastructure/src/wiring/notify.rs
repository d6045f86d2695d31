//! Notifications: a template generator and a connector per configured medium.
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_notify::{
    FileConnector, NoneConnector, SmtpConnector, TemplateGenerator, TwilioConnector,
};
use verity_application::ports::driven::NotificationConnector;
use verity_application::usecases::{MediumHandler, Notifier};
use verity_domain::Medium;

use super::metrics::Metered;
use crate::reload::swap::SwapGenerator;
use crate::settings::{ConnectorSettings, MediumSettings, Settings};

/// The templates of each medium set up, which a configuration reload replaces.
pub(super) type Templates = Vec<(Medium, Arc<SwapGenerator>)>;

/// A handler per medium, and its templates; an unconfigured medium that cannot be set up is
/// left out with a warning.
pub(super) fn notifier(
    settings: &Settings,
    metered: &Metered,
) -> anyhow::Result<(Notifier, Templates)> {
    let mut notifier = Notifier::new();
    let mut templates = Vec::new();
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
        match handler(&medium, settings, medium_settings, metered) {
            Ok((handler, generator)) => {
                templates.push((medium.clone(), generator));
                notifier = notifier.with(medium, handler);
            }
            Err(error) if !medium_settings.configured => {
                // mxisd's behaviour: an unconfigured medium is simply not available.
                tracing::warn!(
                    "{medium} validation is unavailable until {key} is configured: {error:#}"
                );
            }
            Err(error) => return Err(error.context(format!("cannot set up {key}"))),
        }
    }
    Ok((notifier, templates))
}

fn handler(
    medium: &Medium,
    settings: &Settings,
    m: &MediumSettings,
    metered: &Metered,
) -> anyhow::Result<(MediumHandler, Arc<SwapGenerator>)> {
    let generator =
        TemplateGenerator::new(medium, &settings.matrix.domain, &m.identity, &m.generator)
            .context("generators.template")?;
    let generator = Arc::new(SwapGenerator::new(generator));
    let (connector, name): (Arc<dyn NotificationConnector>, _) = match &m.connector {
        ConnectorSettings::Smtp(config) => (
            Arc::new(SmtpConnector::new(config, &m.identity).context("connectors.smtp")?),
            "smtp",
        ),
        ConnectorSettings::Twilio(config) => (
            Arc::new(TwilioConnector::new(config).context("connectors.twilio")?),
            "twilio",
        ),
        ConnectorSettings::File(config) => (
            Arc::new(FileConnector::new(config, &m.identity).context("connectors.file")?),
            "file",
        ),
        ConnectorSettings::None => (Arc::new(NoneConnector::new()), "none"),
    };
    let connector = metered.connector(connector, name);
    let handler = MediumHandler {
        generator: generator.clone(),
        connector,
    };
    Ok((handler, generator))
}
