//! Abuse limits, as rules: who and what a request is counted against (the requester, each
//! destination address, the country of a phone number, the server's SMS budget) and how long a
//! refused client waits. Counting itself is a driven port's job (`RateLimiter`).
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use crate::{ThreePid, UserId};

/// IPv6 requesters are counted by their /64: one subscriber (or one attacker) holds a whole /64,
/// so counting single addresses would let them rotate through 2^64 of them.
pub const IPV6_REQUESTER_PREFIX: u32 = 64;

/// Who a request is counted against: the account on v2, the client address on v1 and on
/// unauthenticated endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequesterKey {
    /// The owner of the v2 access token.
    Account(UserId),
    /// The client address (as resolved through the trusted proxies), grouped: IPv4 as itself
    /// (IPv4-mapped IPv6 too), IPv6 by its /64.
    Address(IpAddr),
    /// The client address could not be told (no peer address, or an unparsable hop that had to
    /// be believed): all such requests share one count.
    Unknown,
}

impl RequesterKey {
    /// The key of a client address: `::ffff:1.2.3.4` is `1.2.3.4`, and an IPv6 address is its
    /// /64 network.
    pub fn address(ip: IpAddr) -> Self {
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let mask = u128::MAX << (128 - IPV6_REQUESTER_PREFIX);
                    IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
                }
            },
            IpAddr::V4(_) => ip,
        };
        Self::Address(ip)
    }

    /// The key of a client address that may be unknown.
    pub fn of(ip: Option<IpAddr>) -> Self {
        ip.map_or(Self::Unknown, Self::address)
    }
}

/// The families of requests that have their own per-requester limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitClass {
    /// Email `requestToken` (v1 and v2).
    EmailToken,
    /// SMS `requestToken` (v1 and v2).
    MsisdnToken,
    /// `store-invite` (per requester, and per `sender`).
    Invite,
    /// `account/register`.
    Register,
    /// `submitToken` (the POST and the emailed link's page, v1 and v2) and the remote step.
    SubmitToken,
    /// `3pid/bind` (v1 and v2).
    Bind,
    /// The lookups; each looked-up address costs one.
    Lookup,
    /// Failed password checks (`check_credentials`) from one source. The source is whoever
    /// calls Verity's internal listener: the homeserver, for the logins of all its users (the
    /// password providers do not tell who the client is), so this is a ceiling over every
    /// account, high enough that it bounds a guessing campaign spread over many accounts
    /// without one client's failures locking everybody out.
    FailedLogin,
    /// User-directory searches (`user_directory/search`), per user: each may search the
    /// homeserver and every directory store.
    DirectorySearch,
}

/// One count a request is checked against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LimitKey {
    /// Requests of one class by one requester.
    Requester(LimitClass, RequesterKey),
    /// Messages to one address (an email address or a phone number), whoever asks: what
    /// protects a victim that many accounts or addresses target.
    Destination(ThreePid),
    /// SMS to one country calling code (toll fraud targets premium ranges of a country).
    Country(u16),
    /// Every SMS this server sends: the operator's budget.
    SmsBudget,
    /// Failed password checks of one user, whoever asks: what bounds the guessing of one
    /// account's password. The user ID is case-folded ([`UserId::case_folded`]): the
    /// homeserver asks with the case the user typed, and the stores match it in any case.
    FailedLoginOf(UserId),
}

/// A request that is limited, with what it counts against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitedRequest {
    /// `requestToken` for this 3PID.
    RequestToken(ThreePid),
    /// `store-invite` from `sender` to `threepid`.
    StoreInvite {
        /// The inviting user (Sydent limits invites per sender).
        sender: UserId,
        /// The invited address.
        threepid: ThreePid,
    },
    /// `account/register`.
    Register,
    /// `submitToken`, or a step of a session on a remote identity server.
    SubmitToken,
    /// `3pid/bind`.
    Bind,
    /// A lookup of this many addresses.
    Lookup(u32),
    /// A message Verity sends on its own to this 3PID (the unbind notification): whoever made
    /// the request that caused it, the destination (and an SMS's country and the SMS budget)
    /// pay for it, so that a stream of accepted unbinds naming a victim cannot mail-bomb them.
    Notification(ThreePid),
    /// A password check of this user. Counted before the stores are asked, in one step with
    /// the decision (so concurrent attempts cannot all pass a nearly spent allowance, and a
    /// spent one refuses the attempt without asking any store); given back once a store
    /// accepted the password, so only failures (refusals, and attempts no store could decide)
    /// stay counted.
    FailedLogin(UserId),
    /// A user-directory search (by the requester, the searching user).
    DirectorySearch,
}

/// One check: a key and what the request costs against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitCheck {
    /// What is counted.
    pub key: LimitKey,
    /// How much (1, or the number of looked-up addresses).
    pub cost: u32,
}

impl LimitedRequest {
    /// The counts `requester`'s request is checked against, in order: the requester first (the
    /// cheapest refusal, and the one that stops a single source), then the destination, then
    /// the country and the SMS budget last, so a request refused for another reason does not
    /// spend the shared budget. A failed login is the exception: its user comes first, as the
    /// requester (the homeserver) is shared by every user.
    pub fn checks(&self, requester: &RequesterKey) -> Vec<LimitCheck> {
        let one = |key| LimitCheck { key, cost: 1 };
        let by = |class| one(LimitKey::Requester(class, requester.clone()));
        match self {
            Self::RequestToken(threepid) => {
                let mut checks = Vec::with_capacity(4);
                match threepid {
                    ThreePid::Msisdn(number) => {
                        checks.push(by(LimitClass::MsisdnToken));
                        checks.push(one(LimitKey::Destination(threepid.clone())));
                        // A number whose plan is unknown shares one country count.
                        checks.push(one(LimitKey::Country(number.calling_code().unwrap_or(0))));
                        checks.push(one(LimitKey::SmsBudget));
                    }
                    // Email (other media have no requestToken; counted as email if ever).
                    _ => {
                        checks.push(by(LimitClass::EmailToken));
                        checks.push(one(LimitKey::Destination(threepid.clone())));
                    }
                }
                checks
            }
            Self::StoreInvite { sender, threepid } => {
                let mut checks = vec![by(LimitClass::Invite)];
                let sender = RequesterKey::Account(sender.clone());
                // On v2 the requester is the sender: counted once.
                if &sender != requester {
                    checks.push(one(LimitKey::Requester(LimitClass::Invite, sender)));
                }
                checks.push(one(LimitKey::Destination(threepid.clone())));
                checks
            }
            Self::Register => vec![by(LimitClass::Register)],
            Self::SubmitToken => vec![by(LimitClass::SubmitToken)],
            Self::Bind => vec![by(LimitClass::Bind)],
            Self::DirectorySearch => vec![by(LimitClass::DirectorySearch)],
            Self::Notification(threepid) => {
                let mut checks = vec![one(LimitKey::Destination(threepid.clone()))];
                if let ThreePid::Msisdn(number) = threepid {
                    checks.push(one(LimitKey::Country(number.calling_code().unwrap_or(0))));
                    checks.push(one(LimitKey::SmsBudget));
                }
                checks
            }
            // The user first: an attempt at an account whose allowance is spent is refused
            // without touching the caller's ceiling, which all users share.
            Self::FailedLogin(user) => vec![
                one(LimitKey::FailedLoginOf(user.case_folded())),
                by(LimitClass::FailedLogin),
            ],
            Self::Lookup(addresses) => vec![LimitCheck {
                key: LimitKey::Requester(LimitClass::Lookup, requester.clone()),
                cost: (*addresses).max(1),
            }],
        }
    }
}

/// How long a refused client should wait before the same request can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RetryAfter(Duration);

impl RetryAfter {
    /// After `wait`.
    pub fn new(wait: Duration) -> Self {
        Self(wait)
    }

    /// The wait in milliseconds, rounded up (at least 1: a client told 0 would retry at once).
    pub fn as_millis(&self) -> u64 {
        let millis = self.0.as_nanos().div_ceil(1_000_000).max(1);
        u64::try_from(millis).unwrap_or(u64::MAX)
    }

    /// The wait in whole seconds, rounded up, as the `Retry-After` header carries it (at least
    /// 1).
    pub fn as_secs_ceil(&self) -> u64 {
        self.as_millis().div_ceil(1000)
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
