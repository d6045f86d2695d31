use maud::html;
use verity_domain::{SessionMode, ThreePid};

use super::layout::page;
use super::remote::RemoteLinks;
use super::wording::what;

/// After a successful validation. `remote` links the remote step when this server can take it.
pub(crate) fn success_page(
    threepid: &ThreePid,
    mode: &SessionMode,
    remote: Option<&RemoteLinks>,
) -> String {
    let kind = what(threepid);
    let body = match (mode, remote) {
        (SessionMode::LocalOfferRemote(_), Some(links)) => html! {
            p { "Your " (kind) " " strong { (threepid.address()) } " is verified." }
            // Before or after the homeserver's bind: either way the remote server gets the same
            // binding (forwarded with the homeserver's bind, or by the remote check afterwards).
            // The label is the operator's name: the remote pages name the server itself.
            p { "Return to your Matrix client to finish." }
            p class="note" {
                "Optional: users of other Matrix servers find you only if your " (kind)
                " is also published on another identity server. "
                a href=(links.request_token()) { "Publish it there…" }
            }
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
