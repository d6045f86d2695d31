//! The arguments of `verity admin`.
use verity_domain::{Medium, ThreePid, UserId};

/// `verity admin`: change a deployment's data on its store and key directory (the same
/// configuration file as the server), whether or not the server runs.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    /// Who makes the change, for the log (default: the operating-system user, `$USER`).
    #[arg(long, global = true, value_name = "NAME")]
    pub actor: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// `verity admin <area>`.
#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// The bindings of a 3PID or a Matrix ID in Verity's binding store.
    #[command(subcommand)]
    Bindings(BindingsCommand),
    /// Pending 3PID room invites and their delivery (ma1sd's `inv_manager`).
    #[command(subcommand)]
    Invites(InvitesCommand),
    /// The pepper of hashed lookups.
    #[command(subcommand)]
    Pepper(PepperCommand),
    /// The long-term signing keys (`key.path`).
    #[command(subcommand)]
    Keys(KeysCommand),
}

/// `verity admin bindings`.
#[derive(Debug, clap::Subcommand)]
pub enum BindingsCommand {
    /// One line per binding of TARGET.
    List(Target),
    /// Each binding of TARGET in detail.
    Show(Target),
    /// Removes the bindings of TARGET, as an unbind does (lookups on every instance stop
    /// finding them within a second or two; the owner is told when unbind notifications are on).
    Remove(Target),
}

/// A 3PID or a Matrix ID.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// `@user:server` (every binding of the user), `email:<address>`, `msisdn:<number>`, or
    /// a bare email address or phone number.
    #[arg(value_name = "TARGET", value_parser = parse_target)]
    pub target: Subject,
}

/// Whose bindings.
#[derive(Debug, Clone)]
pub enum Subject {
    /// Every binding of a user.
    User(UserId),
    /// The binding of one 3PID.
    ThreePid(ThreePid),
}

/// `@user:server`, `medium:address`, or a bare address (with `@`: email; digits: msisdn).
pub fn parse_target(raw: &str) -> Result<Subject, String> {
    let raw = raw.trim();
    if raw.starts_with('@') {
        return UserId::parse(raw)
            .map(Subject::User)
            .map_err(|_| format!("{raw:?} is not a Matrix user ID"));
    }
    let (medium, address) = match raw.split_once(':') {
        Some((medium, address)) if !medium.contains('@') => (medium, address),
        _ if raw.contains('@') => ("email", raw),
        _ => ("msisdn", raw.trim_start_matches('+')),
    };
    let medium = Medium::parse(medium).map_err(|_| format!("{medium:?} is not a medium"))?;
    ThreePid::parse(medium, address)
        .map(Subject::ThreePid)
        .map_err(|error| format!("{raw:?}: {error}"))
}

/// `verity admin invites`.
#[derive(Debug, clap::Subcommand)]
pub enum InvitesCommand {
    /// Every stored invite, one line each: token, status, address, room, sender.
    List {
        /// Only those of this status: pending, due, delivered, abandoned or expired.
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
    },
    /// One invite in detail.
    Show {
        /// Its token.
        token: String,
    },
    /// Makes the invite expire now (ma1sd's `revoke`): it is neither signed on bind nor
    /// delivered any more, and is purged with the other expired invites.
    Expire {
        /// Its token.
        token: String,
    },
    /// Makes the delivery of a bound invite due now with no failed attempt, also when it was
    /// abandoned; a running server delivers it within a second.
    Retry {
        /// Its token.
        token: String,
    },
}

/// `verity admin pepper`.
#[derive(Debug, clap::Subcommand)]
pub enum PepperCommand {
    /// The published pepper and its generation.
    Show,
    /// Publishes a new pepper. Running servers follow it within a second plus the time to build
    /// its table, answering with the old one until then; a stopped server uses it at its next
    /// start.
    Rotate,
}

/// `verity admin keys`.
#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Every long-term key: id, public key, valid or not, and which one signs.
    List,
    /// Makes a new key and records it as the one that signs; every other key is kept as it was,
    /// so what they signed keeps verifying. Running servers sign with it from their next start.
    New,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn threepid(raw: &str) -> String {
        match parse_target(raw).unwrap() {
            Subject::ThreePid(t) => format!("{}:{}", t.medium(), t.address()),
            Subject::User(u) => panic!("a user: {u}"),
        }
    }

    #[test]
    fn a_target_is_a_user_id_an_explicit_3pid_or_a_bare_address() {
        assert!(matches!(
            parse_target("@alice:example.org"),
            Ok(Subject::User(_))
        ));
        assert_eq!(
            threepid("email:Alice@Example.org"),
            "email:alice@example.org"
        );
        assert_eq!(threepid("Alice@Example.org"), "email:alice@example.org");
        assert_eq!(threepid("+447911123456"), "msisdn:447911123456");
        assert_eq!(threepid("msisdn:447911123456"), "msisdn:447911123456");
        assert!(parse_target("@not a user").is_err());
        assert!(parse_target("email:not an address").is_err());
        assert!(parse_target("EMAIL!:a@b.c").is_err());
    }
}
