//! Which IP addresses Verity may connect to on a homeserver's behalf (SSRF protection,
//! CVE-2021-29431): sydent's block list, plus whatever the operator explicitly allowed.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// IPv4 ranges that are never a public homeserver: sydent's default block list, plus "this
/// network" (0/8) and the reserved 240/4 (which holds the broadcast address).
const BLOCKED_V4: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8),
    (Ipv4Addr::new(10, 0, 0, 0), 8),
    (Ipv4Addr::new(100, 64, 0, 0), 10),
    (Ipv4Addr::new(127, 0, 0, 0), 8),
    (Ipv4Addr::new(169, 254, 0, 0), 16),
    (Ipv4Addr::new(172, 16, 0, 0), 12),
    (Ipv4Addr::new(192, 0, 0, 0), 24),
    (Ipv4Addr::new(192, 0, 2, 0), 24),
    (Ipv4Addr::new(192, 88, 99, 0), 24),
    (Ipv4Addr::new(192, 168, 0, 0), 16),
    (Ipv4Addr::new(198, 18, 0, 0), 15),
    (Ipv4Addr::new(198, 51, 100, 0), 24),
    (Ipv4Addr::new(203, 0, 113, 0), 24),
    (Ipv4Addr::new(224, 0, 0, 0), 4),
    (Ipv4Addr::new(240, 0, 0, 0), 4),
];

/// IPv6 ranges that are never a public homeserver: loopback, unspecified, link-local, unique
/// local, multicast, plus (as Synapse also blocks) documentation and the old site-local range.
/// IPv6 forms that embed an IPv4 address are judged by that address (see [`embedded_v4`]),
/// except the tunnelling and translation prefixes below, which are refused whole: a 6to4 or
/// Teredo address is relayed by whatever gateway happens to be nearest (possibly inside the
/// operator's network), and the local-use NAT64 prefix is translated by a gateway the operator
/// runs, into addresses of its choosing.
const BLOCKED_V6: &[(Ipv6Addr, u8)] = &[
    (Ipv6Addr::LOCALHOST, 128),
    (Ipv6Addr::UNSPECIFIED, 128),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10),
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),
    (Ipv6Addr::new(0x2001, 0x0db8, 0, 0, 0, 0, 0, 0), 32),
    // 6to4 (RFC 3056).
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16),
    // Teredo (RFC 4380): 2001:0000::/32 only, the rest of 2001::/16 is ordinary unicast.
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32),
    // Local-use IPv4/IPv6 translation (RFC 8215).
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48),
];

/// The keys that let Verity reach a homeserver the policy refuses, appended to every refusal so
/// the log line and the error say what to change (they carry names and addresses, no secrets).
pub(crate) const HOMESERVER_FIX: &str = "to reach a homeserver on a private network, map its \
     server name to the URL it answers at with dns.overwrite.homeserver.federation, or add the \
     address's network to federation.allowedNetworks";

/// The key that lets Verity reach an identity server the policy refuses.
pub(crate) const IDENTITY_SERVER_FIX: &str = "to reach an identity server on a private network, \
     add the address's network to federation.allowedNetworks";

/// `<what> resolves to <ip>, which is not a public address; <fix>`.
pub(crate) fn not_public(what: impl std::fmt::Display, ip: IpAddr, fix: &str) -> String {
    format!("{what} resolves to {ip}, which is not a public address; {fix}")
}

/// Decides whether an address may be connected to.
#[derive(Debug, Clone, Default)]
pub(crate) struct AddressPolicy {
    allowed: Vec<IpNet>,
}

impl AddressPolicy {
    /// A policy that refuses the block list except for the `allowed` networks.
    pub(crate) fn new(allowed: Vec<IpNet>) -> Self {
        Self { allowed }
    }

    /// Whether Verity may connect to `ip`: public addresses always, blocked ones only when an
    /// allowed network contains them (or the IPv4 address they embed).
    pub(crate) fn permits(&self, ip: IpAddr) -> bool {
        let v4 = match ip {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(v6) => embedded_v4(v6),
        };
        if self
            .allowed
            .iter()
            .any(|net| net.contains(&ip) || v4.is_some_and(|v4| net.contains(&IpAddr::V4(v4))))
        {
            return true;
        }
        !is_blocked(ip)
    }
}

/// Whether `ip` is on the block list.
pub(crate) fn is_blocked(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_blocked_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_blocked_v4(v4);
            }
            BLOCKED_V6
                .iter()
                .any(|&(net, prefix)| Ipv6Net::new(net, prefix).is_ok_and(|net| net.contains(&v6)))
        }
    }
}

fn is_blocked_v4(ip: Ipv4Addr) -> bool {
    BLOCKED_V4
        .iter()
        .any(|&(net, prefix)| Ipv4Net::new(net, prefix).is_ok_and(|net| net.contains(&ip)))
}

/// The IPv4 address an IPv6 address stands for, when it has one: IPv4-mapped (`::ffff:a.b.c.d`),
/// the deprecated IPv4-compatible form (`::a.b.c.d`, which also covers `::` and `::1` as
/// `0.0.0.0` and `0.0.0.1`), and the NAT64 well-known prefix (`64:ff9b::/96`), which a NAT64
/// gateway forwards to that IPv4 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let [a, b, c, d] = [12, 13, 14, 15].map(|i| ip.octets()[i]);
    match ip.segments() {
        [0, 0, 0, 0, 0, 0xffff | 0, _, _] | [0x64, 0xff9b, 0, 0, 0, 0, _, _] => {
            Some(Ipv4Addr::new(a, b, c, d))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    #[test]
    fn every_listed_range_is_refused_at_its_edges() {
        let policy = AddressPolicy::default();
        for raw in [
            "0.0.0.0",
            "0.255.255.255",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.255",
            "240.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "febf::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(!policy.permits(ip(raw)), "{raw} should be refused");
        }
    }

    #[test]
    fn tunnelling_and_local_translation_prefixes_are_refused_whatever_they_embed() {
        let policy = AddressPolicy::default();
        for raw in [
            // 6to4 of a private and of a public IPv4 address, and the prefix's far end.
            "2002:7f00:1::1",
            "2002:0808:0808::1",
            "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            // Teredo.
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:0:ffff:ffff:ffff:ffff:ffff:ffff",
            // Local-use NAT64, with a public IPv4 address embedded.
            "64:ff9b:1::808:808",
            "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
        ] {
            assert!(!policy.permits(ip(raw)), "{raw} should be refused");
        }
    }

    #[test]
    fn addresses_just_outside_the_tunnelling_prefixes_are_allowed() {
        let policy = AddressPolicy::default();
        // 2001::/16 is mostly ordinary unicast: only 2001:0000::/32 is Teredo.
        for raw in [
            "2001:1::1",
            "2001:4860:4860::8888",
            "2003::1",
            "2001:ffff::1",
            "64:ff9b:2::1",
        ] {
            assert!(policy.permits(ip(raw)), "{raw} should be allowed");
        }
    }

    #[test]
    fn public_addresses_next_to_the_listed_ranges_are_allowed() {
        let policy = AddressPolicy::default();
        for raw in [
            "1.1.1.1",
            "9.255.255.255",
            "11.0.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "192.167.255.255",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700::1111",
            "2a01:4f8::1",
            "64:ff9b::1.1.1.1",
            "::ffff:8.8.8.8",
        ] {
            assert!(policy.permits(ip(raw)), "{raw} should be allowed");
        }
    }

    #[test]
    fn ipv6_forms_of_blocked_ipv4_addresses_are_refused() {
        let policy = AddressPolicy::default();
        for raw in [
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "64:ff9b::127.0.0.1",
            "64:ff9b::192.168.0.1",
            "::127.0.0.1",
        ] {
            assert!(!policy.permits(ip(raw)), "{raw} should be refused");
        }
    }

    #[test]
    fn allowed_networks_let_their_addresses_through_and_nothing_else() {
        let policy = AddressPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(policy.permits(ip("127.0.0.1")));
        assert!(policy.permits(ip("::ffff:127.0.0.1")));
        assert!(!policy.permits(ip("10.0.0.1")));
        assert!(!policy.permits(ip("::1")));

        let v6 = AddressPolicy::new(vec!["fd00::/8".parse().unwrap()]);
        assert!(v6.permits(ip("fd00::5")));
        assert!(!v6.permits(ip("fc00::5")));
    }
}
