//! How the pages name a 3PID and the message that validates it. A leaf: the validation pages and
//! the remote-step pages both word things this way, and neither should import the other for it.
use verity_domain::{Medium, ThreePid};

/// The kind of address, as a person says it ("email address", "phone number").
pub(super) fn what(threepid: &ThreePid) -> &'static str {
    match threepid.medium() {
        Medium::Email => "email address",
        Medium::Msisdn => "phone number",
        Medium::Other(_) => "address",
    }
}

/// The message the remote server sends, with its article.
pub(super) fn message_kind(medium: &Medium) -> &'static str {
    match medium {
        Medium::Msisdn => "a text message",
        _ => "an email",
    }
}
