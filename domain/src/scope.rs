use crate::{MatrixDomain, ThreePid};

/// Where a 3PID can be found through federation.
///
/// *Local*: an email whose domain is the configured Matrix domain; a federated lookup of it ends on
/// this identity server. *Remote*: every other email and every phone number (no DNS leads from a
/// phone number back to the server that validated it), and every custom medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Discoverable through this server.
    Local,
    /// Not discoverable through this server.
    Remote,
}

impl Scope {
    /// The scope of `threepid` for a server whose Matrix domain is `domain`.
    pub fn of(threepid: &ThreePid, domain: &MatrixDomain) -> Self {
        match threepid {
            ThreePid::Email(email) if email.domain() == domain.as_str() => Self::Local,
            _ => Self::Remote,
        }
    }

    /// `local` or `remote`, as the configuration and messages say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Remote => "remote",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Medium, Msisdn};

    fn domain() -> MatrixDomain {
        MatrixDomain::parse("Example.org").unwrap()
    }

    fn email(address: &str) -> ThreePid {
        ThreePid::parse(Medium::Email, address).unwrap()
    }

    #[test]
    fn an_email_in_the_matrix_domain_is_local_whatever_its_case() {
        assert_eq!(
            Scope::of(&email("alice@example.org"), &domain()),
            Scope::Local
        );
        assert_eq!(
            Scope::of(&email("Alice@EXAMPLE.ORG"), &domain()),
            Scope::Local
        );
    }

    #[test]
    fn an_email_in_another_domain_or_a_subdomain_is_remote() {
        assert_eq!(
            Scope::of(&email("alice@gmail.com"), &domain()),
            Scope::Remote
        );
        assert_eq!(
            Scope::of(&email("alice@mail.example.org"), &domain()),
            Scope::Remote
        );
        assert_eq!(
            Scope::of(&email("alice@example.org.evil.net"), &domain()),
            Scope::Remote
        );
    }

    #[test]
    fn a_phone_number_is_always_remote() {
        let phone = ThreePid::Msisdn(Msisdn::parse("447911123456").unwrap());
        assert_eq!(Scope::of(&phone, &domain()), Scope::Remote);
    }

    #[test]
    fn a_custom_medium_is_remote() {
        let pid = ThreePid::parse(Medium::parse("matrix.id").unwrap(), "example.org").unwrap();
        assert_eq!(Scope::of(&pid, &domain()), Scope::Remote);
    }
}
