//! `invite.*` (mxisd/ma1sd): 3PID room invites. See docs/invites.md.
use std::time::Duration;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::error::ConfigError;
use super::lenient::{Flag, Int};
use crate::settings::InviteSettings;

/// mxisd's default: 7 days, in minutes.
const DEFAULT_EXPIRY_MINUTES: u64 = 10_080;

/// `invite`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawInvite {
    pub expiration: Option<RawExpiration>,
    pub full_display_name: Option<Flag>,
    /// mxisd's background resolution (timer, period, recursive): ignored with a warning
    /// (`keys::IGNORED_KEYS`).
    pub resolution: Option<IgnoredAny>,
    /// mxisd's `invite.policy.ifSender.hasRole` (needs its AS and profile features).
    pub policy: Option<IgnoredAny>,
}

/// `invite.expiration`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawExpiration {
    pub enabled: Option<Flag>,
    /// Minutes.
    pub after: Option<Int<u64>>,
    /// mxisd resolved expired invites to an application-service user; ignored.
    pub resolve_to: Option<IgnoredAny>,
}

/// `invite.*` as Verity uses it.
pub fn resolve(raw: &RawInvite) -> Result<InviteSettings, ConfigError> {
    let expiration = raw.expiration.as_ref();
    let enabled = expiration.and_then(|e| e.enabled).is_none_or(|Flag(on)| on);
    let minutes = expiration
        .and_then(|e| e.after)
        .map_or(DEFAULT_EXPIRY_MINUTES, |Int(n)| n);
    if enabled && minutes == 0 {
        return Err(ConfigError::invalid(
            "invite.expiration.after",
            "must be at least 1 (minutes)",
        ));
    }
    Ok(InviteSettings {
        expiry: enabled.then(|| Duration::from_secs(minutes.saturating_mul(60))),
        full_display_name: raw.full_display_name.is_some_and(|Flag(on)| on),
    })
}
