//! Matrix identifiers: server names and user IDs, parsed strictly because they end up in outbound
//! requests (a server name becomes a host to connect to).
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a Matrix identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMatrixId {
    /// Not `host[:port]` as the server-server API defines it.
    #[error("not a valid server name (host[:port])")]
    ServerName,
    /// The host is a number, or dot-separated numbers, that is not a dotted quad: `127.1`,
    /// `0x7f.1`, `2130706433`, `0177.0.0.1`. Resolvers and URL parsers read such a host as an
    /// IPv4 address (often loopback), so it is refused rather than looked up as a DNS name.
    #[error(
        "the host ends in a number but is not an IPv4 address written as four decimal numbers \
         (a.b.c.d); forms such as 127.1, 0x7f.1 or 2130706433 are refused because resolvers read \
         them as IP addresses"
    )]
    NumericHost,
    /// Not `@localpart:server_name`.
    #[error("not a valid Matrix user ID (@localpart:server.name)")]
    UserId,
}

/// The host part of a server name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A DNS name, lower-cased.
    Dns(String),
    /// An IPv4 literal.
    Ipv4(Ipv4Addr),
    /// An IPv6 literal (written in brackets).
    Ipv6(Ipv6Addr),
}

/// A Matrix server name: `host[:port]` (server-server API, "Server names"), e.g. `example.org`,
/// `matrix.example.org:8448`, `[::1]:8448`. Nothing else: no scheme, path, user info or spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerName {
    host: Host,
    port: Option<u16>,
}

impl ServerName {
    /// Parses a server name.
    ///
    /// # Errors
    /// [`InvalidMatrixId::ServerName`] for anything but `host[:port]` with a port of 1 to 65535
    /// written without leading zeros.
    pub fn parse(raw: &str) -> Result<Self, InvalidMatrixId> {
        let (host, port) = split_server_name(raw)?;
        let host = match host {
            HostText::Dns(name) => Host::Dns(name.to_ascii_lowercase()),
            HostText::Ipv4(ip) => Host::Ipv4(ip),
            HostText::Ipv6(ip) => Host::Ipv6(ip),
        };
        Ok(Self { host, port })
    }

    /// The host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The explicit port, if one was given.
    pub fn port(&self) -> Option<u16> {
        self.port
    }
}

/// A server name's host as written, before a DNS name is lower-cased.
enum HostText<'a> {
    Dns(&'a str),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
}

/// Checks `raw` as a server name and splits it, without allocating: [`UserId::parse`] only
/// checks (it runs for every user a lookup answers), [`ServerName::parse`] keeps the parts.
fn split_server_name(raw: &str) -> Result<(HostText<'_>, Option<u16>), InvalidMatrixId> {
    if raw.is_empty() || raw.len() > 255 {
        return Err(InvalidMatrixId::ServerName);
    }
    if let Some(rest) = raw.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or(InvalidMatrixId::ServerName)?;
        let ip: Ipv6Addr = inside.parse().map_err(|_| InvalidMatrixId::ServerName)?;
        let port = match after {
            "" => None,
            p => Some(parse_port(
                p.strip_prefix(':').ok_or(InvalidMatrixId::ServerName)?,
            )?),
        };
        return Ok((HostText::Ipv6(ip), port));
    }
    let (host, port) = match raw.rsplit_once(':') {
        Some((host, port)) => (host, Some(parse_port(port)?)),
        None => (raw, None),
    };
    let host = if let Ok(ip) = host.parse::<Ipv4Addr>() {
        HostText::Ipv4(ip)
    } else if ends_in_a_number(host) {
        return Err(InvalidMatrixId::NumericHost);
    } else if is_dns_name(host) {
        HostText::Dns(host)
    } else {
        return Err(InvalidMatrixId::ServerName);
    };
    Ok((host, port))
}

fn parse_port(raw: &str) -> Result<u16, InvalidMatrixId> {
    let valid = (1..=5).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_digit())
        && !raw.starts_with('0');
    if !valid {
        return Err(InvalidMatrixId::ServerName);
    }
    raw.parse().map_err(|_| InvalidMatrixId::ServerName)
}

/// Whether the last label is a number (decimal, octal with a leading 0, or hex with `0x`): the URL
/// standard's "ends in a number" test. Every host that `inet_aton` would take for an IPv4 address
/// (`127.1`, `0x7f.0.0.1`, `2130706433`, `0177.0.0.1`) passes it, and so do hosts such as
/// `1.2.3.256` that a URL parser refuses outright; no top-level domain is a number, so no real
/// DNS name does. A canonical dotted quad is parsed as an address before this is asked.
fn ends_in_a_number(host: &str) -> bool {
    let last = host.rsplit('.').next().unwrap_or(host);
    let hex = last
        .strip_prefix("0x")
        .or_else(|| last.strip_prefix("0X"))
        .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()));
    hex || (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
}

/// Dot-separated labels of ASCII letters, digits and inner hyphens (the spec's `dns-name`).
fn is_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dns(name) => f.write_str(name),
            Self::Ipv4(ip) => write!(f, "{ip}"),
            Self::Ipv6(ip) => write!(f, "[{ip}]"),
        }
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

/// A Matrix user ID, `@localpart:server_name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    /// Parses a user ID. The localpart may use the historical character set (printable ASCII
    /// except `:`), which existing accounts still have; the whole ID is at most 255 bytes.
    ///
    /// # Errors
    /// [`InvalidMatrixId::UserId`].
    pub fn parse(raw: &str) -> Result<Self, InvalidMatrixId> {
        let rest = raw.strip_prefix('@').ok_or(InvalidMatrixId::UserId)?;
        let (localpart, server) = rest.split_once(':').ok_or(InvalidMatrixId::UserId)?;
        let localpart_ok = !localpart.is_empty()
            && localpart
                .bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b':');
        if raw.len() > 255 || !localpart_ok {
            return Err(InvalidMatrixId::UserId);
        }
        split_server_name(server).map_err(|_| InvalidMatrixId::UserId)?;
        Ok(Self(raw.to_owned()))
    }

    /// The user a store names by `id`, as ma1sd read stores' answers: a whole user ID (`@…`) as it
    /// is, anything else a localpart, lower-cased, on `domain`.
    ///
    /// # Errors
    /// [`InvalidMatrixId::UserId`] when the result is not a user ID.
    pub fn from_store_id(id: &str, domain: &str) -> Result<Self, InvalidMatrixId> {
        if id.starts_with('@') {
            Self::parse(id)
        } else {
            Self::parse(&format!("@{}:{domain}", id.to_lowercase()))
        }
    }

    /// The whole ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ID in ASCII lower case (a user ID is ASCII): one user however it was typed, where
    /// case does not tell users apart (logins, which the homeserver and the stores match in any
    /// case).
    pub fn case_folded(&self) -> Self {
        Self(self.0.to_ascii_lowercase())
    }

    /// The localpart (between the `@` and the first `:`).
    pub fn localpart(&self) -> &str {
        self.0
            .strip_prefix('@')
            .and_then(|rest| rest.split_once(':'))
            .map_or("", |(localpart, _)| localpart)
    }

    /// The server part (after the first `:`).
    pub fn server_name(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, server)| server)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stores_id_is_a_whole_user_id_or_a_lower_cased_localpart_on_the_domain() {
        let id = |raw| UserId::from_store_id(raw, "example.org").map(|u| u.as_str().to_owned());
        assert_eq!(id("Alice").unwrap(), "@alice:example.org");
        assert_eq!(id("@Bob:other.org").unwrap(), "@Bob:other.org");
        assert!(id("a:b").is_err());
        assert!(id("").is_err());
    }

    #[test]
    fn server_names_with_and_without_ports_parse() {
        for (raw, shown) in [
            ("example.org", "example.org"),
            ("Matrix.Example.org:8448", "matrix.example.org:8448"),
            ("1.2.3.4:80", "1.2.3.4:80"),
            ("[::1]:8448", "[::1]:8448"),
            ("[2001:db8::1]", "[2001:db8::1]"),
            ("localhost", "localhost"),
        ] {
            assert_eq!(ServerName::parse(raw).unwrap().to_string(), shown, "{raw}");
        }
    }

    #[test]
    fn server_names_that_smuggle_more_than_a_host_are_refused() {
        // Sydent's SSRF list (CVE-2021-29431): anything beyond host[:port] is refused outright.
        for bad in [
            "",
            "host/path",
            "host?x",
            "user@host",
            "host:08090",
            "host: 80",
            "host:0",
            "host:70000",
            "host:",
            "https://host",
            "[::1",
            "::1",
            "a..b",
            "-a.b",
            "ho st",
            "host#frag",
            "h\u{e9}.example",
        ] {
            assert_eq!(
                ServerName::parse(bad),
                Err(InvalidMatrixId::ServerName),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn hosts_that_resolvers_read_as_ipv4_addresses_but_are_not_dotted_quads_are_refused() {
        for bad in [
            "127.1",
            "127.0.1",
            "0x7f.1",
            "0X7F.0.0.1",
            "0x7f000001",
            "2130706433",
            "0177.0.0.1",
            "127.0.0.01",
            "1.2.3",
            "1.2.3.256",
            "1.2.3.4.5",
            "0",
            "example.123",
            "example.0x1f",
            "127.1:8448",
        ] {
            assert_eq!(
                ServerName::parse(bad),
                Err(InvalidMatrixId::NumericHost),
                "{bad:?}"
            );
        }
        assert_eq!(UserId::parse("@alice:127.1"), Err(InvalidMatrixId::UserId));
    }

    #[test]
    fn dotted_quads_and_names_with_numeric_labels_elsewhere_still_parse() {
        for (raw, host) in [
            ("127.0.0.1", Host::Ipv4(Ipv4Addr::LOCALHOST)),
            ("8.8.8.8:8448", Host::Ipv4(Ipv4Addr::new(8, 8, 8, 8))),
            ("1.example.org", Host::Dns("1.example.org".to_owned())),
            ("0x7f.example.org", Host::Dns("0x7f.example.org".to_owned())),
            ("example.0xg", Host::Dns("example.0xg".to_owned())),
            ("123abc", Host::Dns("123abc".to_owned())),
        ] {
            assert_eq!(ServerName::parse(raw).unwrap().host(), &host, "{raw}");
        }
    }

    #[test]
    fn user_ids_split_at_the_first_colon() {
        let user = UserId::parse("@alice:example.org:8448").unwrap();
        assert_eq!(user.server_name(), "example.org:8448");
        assert_eq!(user.localpart(), "alice");
        let historic = UserId::parse("@Historic.User/+=:example.org").unwrap();
        assert_eq!(historic.localpart(), "Historic.User/+=");
    }

    #[test]
    fn malformed_user_ids_are_refused() {
        for bad in [
            "alice:example.org",
            "@:example.org",
            "@alice",
            "@al ice:example.org",
            "@alice:bad/host",
        ] {
            assert_eq!(UserId::parse(bad), Err(InvalidMatrixId::UserId), "{bad:?}");
        }
        let long = format!("@{}:example.org", "a".repeat(250));
        assert_eq!(UserId::parse(&long), Err(InvalidMatrixId::UserId));
    }
}
