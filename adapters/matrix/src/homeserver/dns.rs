//! The real [`Dns`]: hickory with the system's resolver configuration (`/etc/resolv.conf`,
//! `/etc/hosts`).
use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};

use super::config::FederationSetupError;
use super::discovery::{Dns, DnsError, SrvRecord};

/// hickory behind [`Dns`], each lookup bounded by a timeout.
pub(crate) struct HickoryDns {
    resolver: TokioResolver,
    timeout: Duration,
}

impl HickoryDns {
    /// Reads the system configuration.
    pub(crate) fn from_system_conf(timeout: Duration) -> Result<Self, FederationSetupError> {
        let resolver = Resolver::builder_tokio()
            .and_then(|builder| builder.build())
            .map_err(|error| FederationSetupError::Dns(error.to_string()))?;
        Ok(Self { resolver, timeout })
    }
}

/// Names are looked up as absolute names, so the system's search domains never apply.
fn absolute(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

fn is_absent(error: &NetError) -> bool {
    error.is_no_records_found() || error.is_nx_domain()
}

#[async_trait]
impl Dns for HickoryDns {
    async fn srv(&self, name: &str) -> Result<Vec<SrvRecord>, DnsError> {
        let lookup = tokio::time::timeout(
            self.timeout,
            self.resolver.lookup(absolute(name), RecordType::SRV),
        )
        .await
        .map_err(|_| DnsError(format!("the SRV lookup of {name} timed out")))?;
        match lookup {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::SRV(srv) => Some(SrvRecord {
                        priority: srv.priority,
                        weight: srv.weight,
                        port: srv.port,
                        target: srv.target.to_ascii(),
                    }),
                    _ => None,
                })
                .collect()),
            Err(error) if is_absent(&error) => Ok(Vec::new()),
            Err(error) => Err(DnsError(error.to_string())),
        }
    }

    async fn ips(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let lookup = tokio::time::timeout(self.timeout, self.resolver.lookup_ip(absolute(host)))
            .await
            .map_err(|_| DnsError(format!("the address lookup of {host} timed out")))?;
        match lookup {
            Ok(lookup) => Ok(lookup.iter().collect()),
            Err(error) if is_absent(&error) => Ok(Vec::new()),
            Err(error) => Err(DnsError(error.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_system_resolver_reads_the_hosts_file_and_passes_ip_literals_through() {
        let dns = HickoryDns::from_system_conf(Duration::from_secs(5)).unwrap();
        let localhost = dns.ips("localhost").await.unwrap();
        assert!(localhost.iter().all(IpAddr::is_loopback), "{localhost:?}");
        assert!(!localhost.is_empty());
        assert_eq!(
            dns.ips("192.0.2.7").await.unwrap(),
            ["192.0.2.7".parse::<IpAddr>().unwrap()]
        );
    }
}
