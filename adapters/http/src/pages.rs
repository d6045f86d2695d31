//! The human-facing pages (maud): what a person sees after clicking the link in a validation
//! email. Every value shown is escaped by maud; no page embeds a script.

mod layout;
mod redirect;
mod remote;
mod validation;

pub(crate) use redirect::redirect_allowed;
pub(crate) use remote::{
    RemoteLinks, explain_page, not_yet_page, remote_success_page, started_page,
};
pub(crate) use validation::{failure_page, success_page};
