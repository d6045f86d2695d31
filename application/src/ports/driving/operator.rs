use std::fmt;

/// Who made an operator's change, as the audit log names it: the operating-system user that ran
/// `verity admin` (or its `--actor`), or the caller of Sydent's internal API (its address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    /// The actor named `name` (trimmed; an empty name is `unknown`).
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        let trimmed = name.trim();
        if trimmed.is_empty() {
            Self("unknown".to_owned())
        } else {
            Self(trimmed.to_owned())
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
