//! The pages of the remote step (mxisd's remote sessions): explain, start, check. Every value
//! is escaped by maud; the only form posts back to this server.
use std::sync::Arc;

use maud::{Markup, html};
use verity_application::ports::driving::RemoteOverview;
use verity_domain::{ClientSecret, SessionId, percent_encode};

use super::layout::page;
use super::wording::{message_kind, what};

/// Where the remote pages live (mxisd's paths).
pub(crate) const REMOTE_BASE: &str = "/_matrix/identity/remote/api/v1/validate";

/// The links of one session's remote pages, under `server.publicUrl` (which may have a path:
/// behind a reverse proxy, `https://example.org/identity`).
pub(crate) struct RemoteLinks {
    public_url: Arc<str>,
    sid: String,
    client_secret: String,
}

impl RemoteLinks {
    /// `public_url` is `server.publicUrl` without a trailing slash.
    pub(crate) fn new(
        public_url: &Arc<str>,
        sid: &SessionId,
        client_secret: &ClientSecret,
    ) -> Self {
        Self {
            public_url: public_url.clone(),
            sid: sid.as_str().to_owned(),
            client_secret: client_secret.expose().to_owned(),
        }
    }

    /// Sids and secrets are already in a URL-safe charset; encoding keeps the links right
    /// whatever they hold.
    fn query(&self) -> String {
        format!(
            "sid={}&client_secret={}",
            percent_encode(&self.sid),
            percent_encode(&self.client_secret)
        )
    }

    /// The explanation page (GET) and the start form's target (POST).
    pub(crate) fn request_token(&self) -> String {
        format!(
            "{}{REMOTE_BASE}/requestToken?{}",
            self.public_url,
            self.query()
        )
    }

    /// The check page.
    pub(crate) fn check(&self) -> String {
        format!("{}{REMOTE_BASE}/check?{}", self.public_url, self.query())
    }

    /// The check page without its query: the target of a form that sends the query itself.
    fn check_action(&self) -> String {
        format!("{}{REMOTE_BASE}/check", self.public_url)
    }
}

fn publicly(overview: &RemoteOverview) -> Markup {
    let server = overview.host.as_str();
    html! {
        p {
            "Published there, anyone who knows your " (what(&overview.threepid)) " can find your "
            "Matrix account, on any server that asks " code { (server) } "."
        }
        p class="note" {
            "It cannot easily be removed from " code { (server) } " afterwards: only the "
            "administrators of that server can, on request."
        }
    }
}

fn check_button(links: &RemoteLinks, label: &str) -> Markup {
    html! {
        form method="get" action=(links.check_action()) {
            input type="hidden" name="sid" value=(links.sid);
            input type="hidden" name="client_secret" value=(links.client_secret);
            button type="submit" { (label) }
        }
    }
}

/// GET requestToken: what will happen, and the button that starts it (a POST, so a mail
/// scanner that prefetches links starts nothing).
pub(crate) fn explain_page(overview: &RemoteOverview, links: &RemoteLinks) -> String {
    let server = overview.host.as_str();
    let kind = what(&overview.threepid);
    let intro = if overview.forced {
        html! {
            p {
                "Your " (kind) " " strong { (overview.threepid.address()) } " is confirmed on "
                "this server. This server's policy publishes " (plural(kind)) " like yours on another "
                "identity server, " code { (server) } ", instead: that is where other Matrix users "
                "will find you."
            }
        }
    } else {
        html! {
            p {
                "Your " (kind) " " strong { (overview.threepid.address()) } " is verified on this "
                "server. You can also publish it on another identity server, " code { (server) }
                ", so that users of other Matrix servers can find you by it. This is optional."
            }
        }
    };
    let body = html! {
        (intro)
        (publicly(overview))
        p {
            code { (server) } " will send you " (message_kind(&overview.threepid.medium())) " of its own"
            ". After pressing the button, follow it, then come back to this page."
        }
        form method="post" action=(links.request_token()) {
            button type="submit" { "Publish on " (server) }
        }
        @if overview.started {
            p class="note" {
                "A message was already requested. Pressing the button again asks for another one. "
                a href=(links.check()) { "I have followed it: check now." }
            }
        }
    };
    page(&format!("Publish your {kind} on {server}?"), body)
}

fn plural(kind: &str) -> String {
    match kind.strip_suffix("ss") {
        Some(stem) => format!("{stem}sses"),
        None => format!("{kind}s"),
    }
}

/// POST requestToken: the remote session is started.
pub(crate) fn started_page(overview: &RemoteOverview, links: &RemoteLinks) -> String {
    let server = overview.host.as_str();
    let body = html! {
        p {
            "Check your inbox for " (message_kind(&overview.threepid.medium())) " from "
            code { (server) } " to " strong { (overview.threepid.address()) } "."
        }
        p { "Follow it, then come back here and press the button below." }
        (check_button(links, "I have followed it: check"))
        p class="note" { "The message may take a few minutes, and may land in your spam folder." }
    };
    page(&format!("Check your messages from {server}"), body)
}

/// The remote server confirmed the 3PID.
pub(crate) fn remote_success_page(overview: &RemoteOverview) -> String {
    let server = overview.host.as_str();
    let body = html! {
        p {
            code { (server) } " confirmed your " (what(&overview.threepid)) " "
            strong { (overview.threepid.address()) } "."
        }
        @if overview.published {
            // Bound here before the step was taken: Verity forwarded that bind already.
            p {
                "It is now published on " code { (server) } ", for the same Matrix account "
                "as on this server. Nothing more to do."
            }
        } @else {
            p { "Return to your Matrix client to finish: it is published when your client completes the process." }
        }
    };
    page("Verification successful", body)
}

/// The remote server has not confirmed the 3PID yet.
pub(crate) fn not_yet_page(overview: &RemoteOverview, links: &RemoteLinks) -> String {
    let server = overview.host.as_str();
    let body = html! {
        p {
            code { (server) } " has not confirmed " strong { (overview.threepid.address()) }
            " yet. Follow the link in " (message_kind(&overview.threepid.medium()))
            " it sent you, then check again."
        }
        (check_button(links, "Check again"))
        form method="post" action=(links.request_token()) {
            button type="submit" { "Send the message again" }
        }
    };
    page("Not confirmed yet", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(public_url: &str) -> RemoteLinks {
        RemoteLinks::new(
            &Arc::from(public_url),
            &SessionId::parse("abc").unwrap(),
            &ClientSecret::parse("s=e.c_r-t").unwrap(),
        )
    }

    #[test]
    fn links_carry_the_session_percent_encoded() {
        assert_eq!(plural("email address"), "email addresses");
        assert_eq!(plural("phone number"), "phone numbers");
        assert_eq!(
            links("https://id.example.org").check(),
            "https://id.example.org/_matrix/identity/remote/api/v1/validate/check?sid=abc&client_secret=s%3De.c_r-t"
        );
    }

    #[test]
    fn every_link_and_form_keeps_the_path_of_the_public_url() {
        let links = links("https://example.org/identity");
        let base = "https://example.org/identity/_matrix/identity/remote/api/v1/validate";
        assert_eq!(
            links.request_token(),
            format!("{base}/requestToken?sid=abc&client_secret=s%3De.c_r-t")
        );
        assert_eq!(
            links.check(),
            format!("{base}/check?sid=abc&client_secret=s%3De.c_r-t")
        );
        let form = check_button(&links, "Check").into_string();
        assert!(form.contains(&format!("action=\"{base}/check\"")), "{form}");
    }
}
