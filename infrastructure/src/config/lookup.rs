//! Bindings and lookups: `bindings.*` (Verity only), `hashing.*` (ma1sd), `memory.*` (mxisd's
//! memory identity store), `lookup.maxAddresses` (Verity only) and
//! `session.policy.unbind.notifications` (ma1sd; `enabled` is the session's) ->
//! [`LookupsSettings`], their warnings, and their rendering for `--dump-config`.
//! See docs/lookups.md.
use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use verity_application::usecases::{
    DEFAULT_MAX_ADDRESSES, HashingSettings, LookupSettings, RotationPolicy,
};
use verity_domain::{
    LookupAlgorithm, MAX_PEPPER_LENGTH, MatrixDomain, Medium, Password, ThreePid, UserId,
};

use super::error::{ConfigError, ConfigWarning};
use super::lenient::{Flag, Int, Lifetime, Text, text};
use super::recursive::RawRecursive;
use super::synapse::RawSynapseIdentity;
use crate::settings::{BackendPriorities, LookupsSettings, MemoryIdentity, MemorySettings};

#[path = "lookup_dump.rs"]
mod dump;
pub use dump::{LookupsDump, dump};

/// ma1sd's default pepper length.
const DEFAULT_PEPPER_LENGTH: usize = 20;
/// ma1sd's default for `per_requests`.
const DEFAULT_ROTATION_REQUESTS: u64 = 10;
/// ma1sd's default for `per_seconds`.
const DEFAULT_ROTATION_DELAY: Duration = Duration::from_secs(10);
/// Bindings a rebuild of the hash table reads from a backend at once: a page is one query and
/// one aggregated row, and 10,000 rows (about 700 KB) make the queries' own cost vanish.
const FEED_PAGE: u32 = 10_000;
const PER_REQUESTS: &str = "per_requests";
/// Below this many lookups per pepper, clients keep meeting `M_INVALID_PEPPER` (ma1sd#81): a
/// warning says so, with the fix.
const FEW_LOOKUPS_PER_PEPPER: u64 = 1_000;
const PER_SECONDS: &str = "per_seconds";

/// `bindings` (Verity only)
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawBindings {
    pub enabled: Option<Flag>,
    pub priority: Option<Int<u32>>,
}

/// `hashing` (ma1sd)
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawHashing {
    pub enabled: Option<Flag>,
    pub pepper_length: Option<Int<usize>>,
    pub rotation_policy: Option<Text>,
    pub requests: Option<Int<u64>>,
    pub delay: Option<Lifetime>,
    pub hash_storage_type: Option<Text>,
    pub algorithms: Option<Vec<Text>>,
}

/// `memory` (mxisd)
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawMemory {
    pub enabled: Option<Flag>,
    pub hash_enabled: Option<Flag>,
    /// Verity only.
    pub priority: Option<Int<u32>>,
    pub identities: Option<Vec<RawMemoryIdentity>>,
}

/// `memory.identities[i]`. `password` lets the user log in to the homeserver
/// (`check_credentials`); `displayName`, `threepids` and `roles` are their profile, and the user
/// directory search shows `displayName`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawMemoryIdentity {
    pub username: Option<Text>,
    pub password: Option<Text>,
    pub display_name: Option<Text>,
    pub threepids: Option<Vec<RawMemoryThreePid>>,
    pub roles: Option<Vec<Text>>,
}

/// `memory.identities[i].threepids[j]`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawMemoryThreePid {
    pub medium: Option<Text>,
    pub address: Option<Text>,
}

/// `lookup` (mxisd): Verity's `maxAddresses`, and mxisd's `recursive` (resolved by
/// `recursive`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawLookup {
    /// Verity only.
    pub max_addresses: Option<Int<usize>>,
    pub recursive: Option<RawRecursive>,
}

/// `session.policy.unbind` (ma1sd): `enabled` switches unbinding on or off; `notifications`
/// the message telling the owner of an unbound 3PID.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawUnbind {
    pub enabled: Option<Flag>,
    pub notifications: Option<Flag>,
}

/// The raw sections this module resolves.
pub struct Sections<'a> {
    pub bindings: &'a RawBindings,
    pub hashing: &'a RawHashing,
    pub memory: &'a RawMemory,
    pub lookup: &'a RawLookup,
    pub unbind: &'a RawUnbind,
    /// `synapseSql.identity`, for its `priority`.
    pub synapse_identity: Option<&'a RawSynapseIdentity>,
}

/// Resolves the sections of this module.
pub fn resolve(raw: Sections<'_>, domain: &MatrixDomain) -> Result<LookupsSettings, ConfigError> {
    let hashing = hashing(raw.hashing)?;
    let algorithms = algorithms(raw.hashing, hashing.enabled)?;
    let max_addresses = raw
        .lookup
        .max_addresses
        .map_or(DEFAULT_MAX_ADDRESSES, |Int(n)| n);
    if max_addresses == 0 {
        return Err(ConfigError::invalid(
            "lookup.maxAddresses",
            "must be at least 1",
        ));
    }
    Ok(LookupsSettings {
        bindings: raw.bindings.enabled.is_none_or(|Flag(on)| on),
        hashing,
        lookup: LookupSettings {
            max_addresses,
            algorithms,
        },
        memory: memory(raw.memory, domain)?,
        priorities: priorities(&raw),
        unbind_notifications: raw.unbind.notifications.is_none_or(|Flag(on)| on),
        // Resolved with `forward.servers` against the labels, by `resolve`.
        recursive: crate::settings::RecursiveSettings::default(),
    })
}

/// `*.priority`, each defaulted on its own; read whether or not its backend is on, so that
/// switching a backend on later keeps the order the file asks for.
fn priorities(raw: &Sections<'_>) -> BackendPriorities {
    let defaults = BackendPriorities::default();
    let or = |value: Option<Int<u32>>, default: u32| value.map_or(default, |Int(n)| n);
    BackendPriorities {
        memory: or(raw.memory.priority, defaults.memory),
        bindings: or(raw.bindings.priority, defaults.bindings),
        synapse_sql: or(
            raw.synapse_identity.and_then(|identity| identity.priority),
            defaults.synapse_sql,
        ),
    }
}

fn hashing(raw: &RawHashing) -> Result<HashingSettings, ConfigError> {
    let pepper_length = raw.pepper_length.map_or(DEFAULT_PEPPER_LENGTH, |Int(n)| n);
    if !(1..=MAX_PEPPER_LENGTH).contains(&pepper_length) {
        return Err(ConfigError::invalid(
            "hashing.pepperLength",
            format!("must be 1 to {MAX_PEPPER_LENGTH} characters"),
        ));
    }
    let rotation = match text(raw.rotation_policy.clone()).map(|p| p.to_ascii_lowercase()) {
        None => RotationPolicy::Never,
        Some(policy) if policy == PER_REQUESTS => {
            let requests = raw.requests.map_or(DEFAULT_ROTATION_REQUESTS, |Int(n)| n);
            if requests == 0 {
                return Err(ConfigError::invalid(
                    "hashing.requests",
                    "must be at least 1",
                ));
            }
            RotationPolicy::PerRequests(requests)
        }
        Some(policy) if policy == PER_SECONDS => {
            RotationPolicy::Every(raw.delay.map_or(DEFAULT_ROTATION_DELAY, |Lifetime(d)| d))
        }
        Some(other) => {
            return Err(ConfigError::invalid(
                "hashing.rotationPolicy",
                format!(
                    "unknown policy `{other}`; expected `{PER_REQUESTS}` or `{PER_SECONDS}`, or \
                     leave it out to keep the pepper until you change it"
                ),
            ));
        }
    };
    if let Some(kind) = text(raw.hash_storage_type.clone())
        && !matches!(kind.to_ascii_lowercase().as_str(), "in_memory" | "sql")
    {
        return Err(ConfigError::invalid(
            "hashing.hashStorageType",
            format!("unknown storage `{kind}`; expected `in_memory` or `sql`"),
        ));
    }
    Ok(HashingSettings {
        // Verity's default; ma1sd's is false (then v2 clients could only use `none`).
        enabled: raw.enabled.is_none_or(|Flag(on)| on),
        pepper_length,
        rotation,
        page_size: FEED_PAGE,
    })
}

/// `hashing.algorithms`: empty or absent means both (as ma1sd); `sha256` only while hashing is on.
fn algorithms(raw: &RawHashing, hashing: bool) -> Result<Vec<LookupAlgorithm>, ConfigError> {
    let mut algorithms = Vec::new();
    for (index, name) in raw.algorithms.iter().flatten().enumerate() {
        let key = format!("hashing.algorithms[{index}]");
        let name = text(Some(name.clone())).unwrap_or_default();
        let algorithm = LookupAlgorithm::parse(&name.to_ascii_lowercase()).ok_or_else(|| {
            ConfigError::invalid(
                &key,
                format!("unknown algorithm `{name}`; expected `none` or `sha256`"),
            )
        })?;
        if !algorithms.contains(&algorithm) {
            algorithms.push(algorithm);
        }
    }
    if algorithms.is_empty() {
        algorithms = vec![LookupAlgorithm::None, LookupAlgorithm::Sha256];
    }
    if !hashing {
        // ma1sd: without hashing, only `none` (with an empty pepper).
        algorithms.retain(|a| *a == LookupAlgorithm::None);
        if algorithms.is_empty() {
            return Err(ConfigError::invalid(
                "hashing.algorithms",
                "lists only `sha256` while hashing.enabled is false: no lookup would work",
            ));
        }
    }
    algorithms.sort();
    Ok(algorithms)
}

fn memory(raw: &RawMemory, domain: &MatrixDomain) -> Result<Option<MemorySettings>, ConfigError> {
    if !raw.enabled.is_some_and(|Flag(on)| on) {
        return Ok(None);
    }
    let mut identities = Vec::new();
    let mut seen: BTreeMap<ThreePid, String> = BTreeMap::new();
    for (i, identity) in raw.identities.iter().flatten().enumerate() {
        let key = format!("memory.identities[{i}]");
        let username = text(identity.username.clone()).ok_or_else(|| {
            ConfigError::missing(
                format!("{key}.username"),
                "set the user's localpart (`alice`) or Matrix ID (`@alice:example.org`)",
            )
        })?;
        let user_id = user_id(&username, domain)
            .map_err(|why| ConfigError::invalid(format!("{key}.username"), why))?;
        let mut threepids = Vec::new();
        for (j, threepid) in identity.threepids.iter().flatten().enumerate() {
            let key = format!("{key}.threepids[{j}]");
            let parsed = memory_threepid(threepid, &key)?;
            if let Some(first) = seen.insert(parsed.clone(), key.clone()) {
                return Err(ConfigError::invalid(
                    &key,
                    format!("{parsed} is already listed at {first}: a 3PID belongs to one user"),
                ));
            }
            threepids.push(parsed);
        }
        // Empty: this user cannot log in (an empty password is never one). Not trimmed: spaces
        // may be part of it.
        let written = identity.password.clone().map(|Text(p)| p);
        let password =
            match written.filter(|p| !p.is_empty()) {
                None => None,
                Some(password) => Some(Password::parse(password).map_err(|why| {
                    ConfigError::invalid(format!("{key}.password"), why.to_string())
                })?),
            };
        identities.push(MemoryIdentity {
            password,
            display_name: text(identity.display_name.clone()),
            roles: identity
                .roles
                .iter()
                .flatten()
                .filter_map(|role| text(Some(role.clone())))
                .collect(),
            ..MemoryIdentity::new(user_id, threepids)
        });
    }
    Ok(Some(MemorySettings {
        // Verity's default; mxisd's is false (then sha256 lookups never find these 3PIDs).
        hash_enabled: raw.hash_enabled.is_none_or(|Flag(on)| on),
        identities,
    }))
}

/// mxisd's `username` is a localpart of `matrix.domain`; a whole Matrix ID is accepted too.
fn user_id(username: &str, domain: &MatrixDomain) -> Result<UserId, String> {
    let full = if username.starts_with('@') {
        username.to_owned()
    } else {
        format!("@{username}:{}", domain.as_str())
    };
    UserId::parse(&full).map_err(|_| format!("{full:?} is not a valid Matrix user ID"))
}

fn memory_threepid(raw: &RawMemoryThreePid, key: &str) -> Result<ThreePid, ConfigError> {
    let medium = text(raw.medium.clone()).ok_or_else(|| {
        ConfigError::missing(format!("{key}.medium"), "set it to `email` or `msisdn`")
    })?;
    let medium = Medium::parse(&medium.to_ascii_lowercase())
        .map_err(|e| ConfigError::invalid(format!("{key}.medium"), e.to_string()))?;
    let address = text(raw.address.clone()).ok_or_else(|| {
        ConfigError::missing(
            format!("{key}.address"),
            "set the email address, or the phone number as E.164 digits (`447911123456`)",
        )
    })?;
    ThreePid::parse(medium, &address)
        .map_err(|e| ConfigError::invalid(format!("{key}.address"), e.to_string()))
}

/// Keys of these sections that are valid but have no effect.
pub fn warnings(hashing: &RawHashing, memory: &RawMemory) -> Vec<ConfigWarning> {
    let mut warnings = Vec::new();
    if hashing.hash_storage_type.is_some() {
        warnings.push(ConfigWarning::Ignored {
            path: "hashing.hashStorageType".into(),
            reason: "Verity always keeps the hash table in its own database (storage.*), where \
                     it survives restarts",
        });
    }
    let rotation = text(hashing.rotation_policy.clone()).map(|p| p.to_ascii_lowercase());
    let requests = hashing
        .requests
        .map_or(DEFAULT_ROTATION_REQUESTS, |Int(n)| n);
    let hashing_on = hashing.enabled.is_none_or(|Flag(on)| on);
    if hashing_on
        && rotation.as_deref() == Some(PER_REQUESTS)
        && (1..FEW_LOOKUPS_PER_PEPPER).contains(&requests)
    {
        warnings.push(ConfigWarning::Risky {
            path: "hashing.requests".into(),
            message: format!(
                "hashing.rotationPolicy `{PER_REQUESTS}` makes a new pepper every {requests} \
                 lookups, so clients that fetched the pepper a moment earlier are refused with \
                 M_INVALID_PEPPER and their lookups find nobody (ma1sd#81); Verity follows it \
                 as written. Fix: set hashing.requests to {FEW_LOOKUPS_PER_PEPPER} or more \
                 (100000 is a sensible value), or rotate by age with \
                 `hashing.rotationPolicy: {PER_SECONDS}` and `hashing.delay: 7d`, or remove \
                 hashing.rotationPolicy to keep one pepper"
            ),
        });
    }
    if hashing.requests.is_some() && rotation.as_deref() != Some(PER_REQUESTS) {
        warnings.push(ConfigWarning::Unused {
            path: "hashing.requests".into(),
            reason: format!("hashing.rotationPolicy is not `{PER_REQUESTS}`"),
        });
    }
    if hashing.delay.is_some() && rotation.as_deref() != Some(PER_SECONDS) {
        warnings.push(ConfigWarning::Unused {
            path: "hashing.delay".into(),
            reason: format!("hashing.rotationPolicy is not `{PER_SECONDS}`"),
        });
    }
    if !memory.enabled.is_some_and(|Flag(on)| on) {
        for (written, name) in [
            (memory.identities.is_some(), "identities"),
            (memory.hash_enabled.is_some(), "hashEnabled"),
        ] {
            if written {
                warnings.push(ConfigWarning::Unused {
                    path: format!("memory.{name}"),
                    reason: "memory.enabled is not true".into(),
                });
            }
        }
    }
    warnings
}

#[cfg(test)]
#[path = "tests_lookup.rs"]
mod tests;
