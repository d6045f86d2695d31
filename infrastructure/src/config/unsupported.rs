//! mxisd/ma1sd sections that switch on something Verity does not have yet.
//!
//! A section Verity does not read is only a warning (`read` reports it as not used yet) while it
//! is switched off: the file is an ma1sd file kept as it was. Switched on, the operator expects
//! users to be found, or an API to be served, that Verity cannot provide, so start-up stops with
//! an error naming the `enabled` key, instead of starting and then finding nobody.
use serde::Deserialize as _;
use serde_norway::Value;

use super::error::ConfigError;
use super::lenient::Flag;

/// A section with an `enabled` switch, and what it provides in mxisd/ma1sd.
struct Section {
    name: &'static str,
    what: &'static str,
    /// Switches inside the section that mxisd/ma1sd read on their own (`exec.identity.enabled`
    /// turns on exec lookups even with `exec.enabled` unset).
    parts: &'static [&'static str],
}

const SECTIONS: &[Section] = &[
    Section {
        name: "firebase",
        what: "the Firebase identity backend",
        parts: &[],
    },
    Section {
        name: "wordpress",
        what: "the WordPress identity backend",
        parts: &[],
    },
    Section {
        name: "appsvc",
        what: "the application-service integration",
        parts: &[],
    },
    Section {
        name: "internal",
        what: "ma1sd's internal API (/_ma1sd/internal)",
        parts: &[],
    },
];

/// The first switched-on section Verity cannot serve, as an error naming its `enabled` key.
pub fn check(document: &Value) -> Result<(), ConfigError> {
    for section in SECTIONS {
        let Some(body) = document.get(section.name) else {
            continue;
        };
        let mut switches = vec![(section.name.to_owned(), body)];
        for part in section.parts {
            if let Some(inner) = body.get(part) {
                switches.push((format!("{}.{part}", section.name), inner));
            }
        }
        for (path, block) in switches {
            if is_on(block.get("enabled")) {
                return Err(ConfigError::invalid(
                    format!("{path}.enabled"),
                    format!(
                        "{} is not supported by this version of Verity yet, and starting without \
                         it would leave its users unfound; set {path}.enabled: false (or remove \
                         the `{}` section) to start without it. docs/backends.md lists what \
                         Verity supports",
                        section.what, section.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `true`, `'true'`, `yes`: whatever the lenient flags of the rest of the file accept as on.
fn is_on(value: Option<&Value>) -> bool {
    value.is_some_and(|value| Flag::deserialize(value.clone()).is_ok_and(|Flag(on)| on))
}
