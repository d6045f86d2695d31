//! The human-facing pages (maud): what a person sees after clicking the link in a validation
//! email. Every value shown is escaped by maud; no page embeds a script. An operator's own pages
//! (`view.*`) replace them outcome by outcome (`outcomes`), with escaped values too (`views`).

mod layout;
mod outcomes;
mod redirect;
mod remote;
mod shared;
mod validation;
mod views;
mod wording;

pub(crate) use layout::BUILT_IN_PAGE_CSP;
#[cfg(test)]
pub(crate) use layout::STYLE;
pub use outcomes::Views;
pub use shared::SharedViews;
pub use views::{CustomPage, PageSyntax};

pub(crate) use redirect::redirect_allowed;
pub(crate) use remote::{RemoteLinks, explain_page};
