//! Who is asking, by IP address: networks in CIDR notation, and the requester's address behind
//! trusted reverse proxies (`X-Forwarded-For`). Recursive lookups are only made for requesters
//! inside the operator's allowed networks.
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// At most this many `X-Forwarded-For` entries are kept (the right-most ones): only the hops
/// nearest to Verity can be trusted anyway.
pub const MAX_FORWARDED_HOPS: usize = 32;

/// mxisd's default `lookup.recursive.allowedCidr`: loopback and the private IPv4 ranges, plus
/// IPv6 unique local addresses.
pub const DEFAULT_RECURSION_NETWORKS: [&str; 6] = [
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "::1/128",
    "fc00::/7",
];

/// An IP network (`10.0.0.0/8`, `fd00::/8`); a bare address is that address alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNetwork {
    /// The network address, host bits cleared.
    addr: IpAddr,
    prefix: u8,
}

/// Why a network was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a network in CIDR notation (`10.0.0.0/8`, `fd00::/8`) or an IP address")]
pub struct InvalidNetwork(pub String);

impl IpNetwork {
    /// Parses `address/prefix` or a bare address. Host bits are cleared (`10.1.2.3/8` is
    /// `10.0.0.0/8`), as the network is what is meant.
    ///
    /// # Errors
    /// [`InvalidNetwork`] for anything else, or a prefix longer than the address.
    pub fn parse(raw: &str) -> Result<Self, InvalidNetwork> {
        let invalid = || InvalidNetwork(raw.to_owned());
        let trimmed = raw.trim();
        let (addr, prefix) = match trimmed.split_once('/') {
            Some((addr, prefix)) => {
                let addr: IpAddr = addr.parse().map_err(|_| invalid())?;
                if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid());
                }
                (addr, prefix.parse::<u8>().map_err(|_| invalid())?)
            }
            None => {
                let addr: IpAddr = trimmed.parse().map_err(|_| invalid())?;
                (addr, max_prefix(addr))
            }
        };
        if prefix > max_prefix(addr) {
            return Err(invalid());
        }
        Ok(Self {
            addr: masked(addr, prefix),
            prefix,
        })
    }

    /// Whether `ip` is inside. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, what a
    /// dual-stack listener reports for IPv4 peers) is judged as the IPv4 address it is.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                masked(ip, self.prefix) == self.addr
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn masked(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

/// An IPv4-mapped IPv6 address as IPv4; any other address as is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Whether any of `networks` contains `ip`.
pub fn in_networks(networks: &[IpNetwork], ip: IpAddr) -> bool {
    networks.iter().any(|network| network.contains(ip))
}

/// Who sent a request, as the HTTP layer saw it: the connection's peer and the
/// `X-Forwarded-For` entries, unjudged (which of them to believe is the operator's choice).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requester {
    peer: Option<IpAddr>,
    /// Left (the original client, as claimed) to right (the proxy nearest to Verity).
    forwarded_for: Vec<String>,
}

impl Requester {
    /// A request from `peer`, with the values of its `X-Forwarded-For` headers in order.
    pub fn new<'a>(peer: Option<IpAddr>, forwarded_for: impl IntoIterator<Item = &'a str>) -> Self {
        let mut entries: Vec<String> = forwarded_for
            .into_iter()
            .flat_map(|header| header.split(','))
            .map(|entry| entry.trim().to_owned())
            .collect();
        if entries.len() > MAX_FORWARDED_HOPS {
            entries.drain(..entries.len() - MAX_FORWARDED_HOPS);
        }
        Self {
            peer,
            forwarded_for: entries,
        }
    }

    /// The addresses a proxy passing the request on writes in its own `X-Forwarded-For`: the
    /// entries received that are IP addresses (anything else is dropped, so nothing the client
    /// wrote but an address is passed on), then the peer. Empty when there is none.
    pub fn forwarded_chain(&self) -> Vec<IpAddr> {
        self.forwarded_for
            .iter()
            .filter_map(|entry| forwarded_ip(entry))
            .chain(self.peer.map(canonical))
            .collect()
    }

    /// A request whose origin is unknown (never allowed anything that needs one).
    pub fn unknown() -> Self {
        Self::default()
    }

    /// The client's address: the peer, unless it is a trusted proxy; then the right-most
    /// `X-Forwarded-For` entry that is not a trusted proxy (each trusted hop vouches for the
    /// one before it, nothing vouches further). `None` when the peer is unknown, or a hop that
    /// must be believed is not an IP address.
    pub fn client_ip(&self, trusted_proxies: &[IpNetwork]) -> Option<IpAddr> {
        let mut client = canonical(self.peer?);
        for entry in self.forwarded_for.iter().rev() {
            if !in_networks(trusted_proxies, client) {
                return Some(client);
            }
            client = canonical(forwarded_ip(entry)?);
        }
        Some(client)
    }
}

/// An `X-Forwarded-For` entry as an address: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:80`.
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse().ok())
        })
}

#[cfg(test)]
#[path = "network_tests.rs"]
mod tests;
