//! `ratelimit.*` (Verity only) and `server.trustedProxies` -> [`RateLimitSettings`]: the abuse
//! limits, and their rendering for `--dump-config`. See docs/configuration.md#ratelimit.
use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use verity_adapter_limits::{Limit, LimitSettings};
use verity_domain::IpNetwork;

use super::error::ConfigError;
use super::lenient::{Flag, Int, Text};
use crate::settings::RateLimitSettings;

/// Keys per kind of limit (about 50 bytes each: 5 MB per kind at the cap).
const DEFAULT_MAX_KEYS: usize = 100_000;
/// SMS sessions per hour for the whole instance (Sydent has no such budget).
const DEFAULT_SMS_HOURLY_BUDGET: u32 = 1000;

/// `ratelimit`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawRatelimit {
    pub enabled: Option<Flag>,
    pub max_keys: Option<Int<usize>>,
    pub email: Option<RawPair>,
    pub msisdn: Option<RawMsisdn>,
    pub invite: Option<RawLimit>,
    pub register: Option<RawLimit>,
    pub submit_token: Option<RawLimit>,
    pub bind: Option<RawLimit>,
    pub lookup: Option<RawLimit>,
    pub login: Option<RawLogin>,
    pub directory: Option<RawLimit>,
}

/// `ratelimit.login`: failed password checks per user and per source.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawLogin {
    pub user: Option<RawLimit>,
    pub source: Option<RawLimit>,
}

/// `ratelimit.email`: per requester and per address.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawPair {
    pub requester: Option<RawLimit>,
    pub destination: Option<RawLimit>,
}

/// `ratelimit.msisdn`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawMsisdn {
    pub requester: Option<RawLimit>,
    pub destination: Option<RawLimit>,
    pub country: Option<RawLimit>,
    pub hourly_budget: Option<Int<u32>>,
}

/// One limit: `burst` at once, then one more every `perSeconds` seconds (fractions allowed).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawLimit {
    pub burst: Option<Int<u32>>,
    pub per_seconds: Option<f64>,
}

fn limit(burst: u32, per_seconds: f64) -> Limit {
    Limit::new(
        NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
        Duration::from_secs_f64(per_seconds),
    )
}

/// The defaults: Sydent's where it has a limit, generous but bounded where it has none.
pub fn defaults() -> LimitSettings {
    LimitSettings {
        // Sydent's email.ratelimit_sender (burst 5, rate_hz 1/300).
        email_requester: limit(5, 300.0),
        email_destination: limit(5, 300.0),
        msisdn_requester: limit(10, 60.0),
        // Sydent's msisdn.ratelimit (burst 5, rate_hz 1/3600).
        msisdn_destination: limit(5, 3600.0),
        // Sydent's country.ratelimit (burst 50, rate_hz 1/60).
        msisdn_country: limit(50, 60.0),
        sms_hourly_budget: NonZeroU32::new(DEFAULT_SMS_HOURLY_BUDGET).unwrap_or(NonZeroU32::MIN),
        // Sydent limits store-invite per sender with its email limiter.
        invite: limit(5, 300.0),
        register: limit(20, 30.0),
        submit_token: limit(30, 2.0),
        bind: limit(20, 10.0),
        // 10000 addresses at once (lookup.maxAddresses), then 100 a second.
        lookup: limit(10_000, 0.01),
        // Failed password checks: 5 of one account's at once, then one a minute (a guesser
        // gets 60 an hour). The source is the homeserver, for all its users (the password
        // providers do not say who the client is), so its count is only a ceiling over every
        // account: 1000 at once, then 10 a second. Synapse's rc_login stands in front (per
        // client address 5 at once, then one every 333 s), so reaching it takes thousands of
        // addresses, where 100 and one a second let one client lock every login out.
        login_user: limit(5, 60.0),
        login_source: limit(1000, 0.1),
        // Directory searches per user: Element searches as the user types; 60 at once, then
        // 4 a second.
        directory: limit(60, 0.25),
        max_keys: DEFAULT_MAX_KEYS,
    }
}

/// Resolves the section; `trusted_proxies` are already resolved from `server.trustedProxies`
/// or `lookup.recursive.trustedProxies`.
pub fn resolve(
    raw: RawRatelimit,
    trusted_proxies: Vec<IpNetwork>,
) -> Result<RateLimitSettings, ConfigError> {
    let d = defaults();
    let email = raw.email.unwrap_or_default();
    let login = raw.login.unwrap_or_default();
    let msisdn = raw.msisdn.unwrap_or_default();
    let budget = match msisdn.hourly_budget {
        None => d.sms_hourly_budget,
        Some(Int(n)) => NonZeroU32::new(n).ok_or_else(|| {
            ConfigError::invalid(
                "ratelimit.msisdn.hourlyBudget",
                "must be a number of SMS greater than zero (to send none, remove the SMS connector)",
            )
        })?,
    };
    let max_keys = match raw.max_keys {
        None => d.max_keys,
        Some(Int(0)) => {
            return Err(ConfigError::invalid(
                "ratelimit.maxKeys",
                "must be a number greater than zero",
            ));
        }
        Some(Int(n)) => n,
    };
    let limits = LimitSettings {
        email_requester: one(
            "ratelimit.email.requester",
            email.requester,
            d.email_requester,
        )?,
        email_destination: one(
            "ratelimit.email.destination",
            email.destination,
            d.email_destination,
        )?,
        msisdn_requester: one(
            "ratelimit.msisdn.requester",
            msisdn.requester,
            d.msisdn_requester,
        )?,
        msisdn_destination: one(
            "ratelimit.msisdn.destination",
            msisdn.destination,
            d.msisdn_destination,
        )?,
        msisdn_country: one("ratelimit.msisdn.country", msisdn.country, d.msisdn_country)?,
        sms_hourly_budget: budget,
        invite: one("ratelimit.invite", raw.invite, d.invite)?,
        register: one("ratelimit.register", raw.register, d.register)?,
        submit_token: one("ratelimit.submitToken", raw.submit_token, d.submit_token)?,
        bind: one("ratelimit.bind", raw.bind, d.bind)?,
        lookup: one("ratelimit.lookup", raw.lookup, d.lookup)?,
        login_user: one("ratelimit.login.user", login.user, d.login_user)?,
        login_source: one("ratelimit.login.source", login.source, d.login_source)?,
        directory: one("ratelimit.directory", raw.directory, d.directory)?,
        max_keys,
    };
    Ok(RateLimitSettings {
        enabled: raw.enabled.is_none_or(|Flag(on)| on),
        limits,
        trusted_proxies,
    })
}

fn one(key: &str, raw: Option<RawLimit>, default: Limit) -> Result<Limit, ConfigError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    let burst = match raw.burst {
        None => default.burst,
        Some(Int(n)) => NonZeroU32::new(n).ok_or_else(|| {
            ConfigError::invalid(
                format!("{key}.burst"),
                "must be a number of requests greater than zero (to turn every limit off, set \
                 ratelimit.enabled: false)",
            )
        })?,
    };
    let period = match raw.per_seconds {
        None => default.period,
        Some(seconds) if (0.000_001..=1e9).contains(&seconds) => Duration::from_secs_f64(seconds),
        Some(_) => {
            return Err(ConfigError::invalid(
                format!("{key}.perSeconds"),
                "must be a number of seconds between 0.000001 and 1000000000",
            ));
        }
    };
    Ok(Limit::new(burst, period))
}

/// `server.trustedProxies`, else the older `lookup.recursive.trustedProxies` (already parsed).
pub fn trusted_proxies(
    server: Option<&[Text]>,
    recursive: &[IpNetwork],
) -> Result<Vec<IpNetwork>, ConfigError> {
    match server {
        Some(list) => super::recursive::networks("server.trustedProxies", list),
        None => Ok(recursive.to_vec()),
    }
}

/// `ratelimit` for `--dump-config`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RatelimitDump {
    enabled: bool,
    max_keys: usize,
    email: PairDump,
    msisdn: MsisdnDump,
    invite: LimitDump,
    register: LimitDump,
    submit_token: LimitDump,
    bind: LimitDump,
    lookup: LimitDump,
    login: LoginDump,
    directory: LimitDump,
}

#[derive(Serialize)]
struct LoginDump {
    user: LimitDump,
    source: LimitDump,
}

#[derive(Serialize)]
struct PairDump {
    requester: LimitDump,
    destination: LimitDump,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MsisdnDump {
    requester: LimitDump,
    destination: LimitDump,
    country: LimitDump,
    hourly_budget: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LimitDump {
    burst: u32,
    per_seconds: f64,
}

impl From<Limit> for LimitDump {
    fn from(limit: Limit) -> Self {
        Self {
            burst: limit.burst.get(),
            per_seconds: limit.period.as_secs_f64(),
        }
    }
}

pub fn dump(settings: &RateLimitSettings) -> RatelimitDump {
    let l = &settings.limits;
    RatelimitDump {
        enabled: settings.enabled,
        max_keys: l.max_keys,
        email: PairDump {
            requester: l.email_requester.into(),
            destination: l.email_destination.into(),
        },
        msisdn: MsisdnDump {
            requester: l.msisdn_requester.into(),
            destination: l.msisdn_destination.into(),
            country: l.msisdn_country.into(),
            hourly_budget: l.sms_hourly_budget.get(),
        },
        invite: l.invite.into(),
        register: l.register.into(),
        submit_token: l.submit_token.into(),
        bind: l.bind.into(),
        lookup: l.lookup.into(),
        login: LoginDump {
            user: l.login_user.into(),
            source: l.login_source.into(),
        },
        directory: l.directory.into(),
    }
}
