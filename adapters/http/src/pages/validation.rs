use maud::html;
use verity_domain::{Medium, SessionMode, ThreePid};

use super::layout::page;

fn what(threepid: &ThreePid) -> &'static str {
    match threepid.medium() {
        Medium::Email => "email address",
        Medium::Msisdn => "phone number",
        Medium::Other(_) => "address",
    }
}

/// After a successful validation.
pub(crate) fn success_page(threepid: &ThreePid, mode: &SessionMode) -> String {
    let kind = what(threepid);
    let body = match mode {
        SessionMode::Local | SessionMode::LocalOfferRemote(_) => html! {
            p { "Your " (kind) " " strong { (threepid.address()) } " is verified." }
            p { "Return to your Matrix client to finish." }
        },
        SessionMode::RemotePending(label) => html! {
            p { "Your " (kind) " " strong { (threepid.address()) } " is confirmed on this server." }
            p {
                "This server's policy requires addresses like yours to be validated and published on "
                "another identity server (" code { (label.as_str()) } "), where they become publicly "
                "discoverable. That step is not available on this server yet: ask your administrator."
            }
        },
    };
    page("Verification successful", body)
}

/// After a failed validation, saying why and what to do.
pub(crate) fn failure_page(reason: &str, advice: &str) -> String {
    page(
        "Verification failed",
        html! {
            p { (reason) }
            p class="note" { (advice) }
        },
    )
}
