use maud::html;
use verity_domain::{Medium, SessionMode, ThreePid};

use super::layout::page;
use super::remote::RemoteLinks;

pub(super) fn what(threepid: &ThreePid) -> &'static str {
    match threepid.medium() {
        Medium::Email => "email address",
        Medium::Msisdn => "phone number",
        Medium::Other(_) => "address",
    }
}

/// After a successful validation. `remote` links the remote step when this server can take it.
pub(crate) fn success_page(
    threepid: &ThreePid,
    mode: &SessionMode,
    remote: Option<&RemoteLinks>,
) -> String {
    let kind = what(threepid);
    let body = match (mode, remote) {
        (SessionMode::LocalOfferRemote(label), Some(links)) => html! {
            p { "Your " (kind) " " strong { (threepid.address()) } " is verified." }
            // The remote bind rides on the homeserver's bind, which the client triggers when the
            // user returns to it: the remote step must come first to be published there.
            p class="note" {
                "Optional: users of other Matrix servers find you only if your " (kind)
                " is also published on the identity server " code { (label.as_str()) } ". "
                "If you want that, do it now, before returning to your Matrix client: "
                a href=(links.request_token()) { "publish it on " (label.as_str()) "…" }
            }
            p { "Otherwise, return to your Matrix client to finish." }
        },
        (SessionMode::Local | SessionMode::LocalOfferRemote(_), _) => html! {
            p { "Your " (kind) " " strong { (threepid.address()) } " is verified." }
            p { "Return to your Matrix client to finish." }
        },
        (SessionMode::RemotePending(label), _) => html! {
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
