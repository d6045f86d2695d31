use maud::{DOCTYPE, Markup, html};

/// The built-in pages' only style, inline so a page needs no other request. Its hash is in
/// [`BUILT_IN_PAGE_CSP`]: change both together (a test checks them).
pub(crate) const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#222}h1{font-size:1.4rem}.note{color:#555;font-size:.95rem}";

/// The Content-Security-Policy of the built-in pages: no script at all, the one inline style
/// by its SHA-256, images from this server only, forms only to this server (the remote step's
/// buttons), no `<base>`, no framing. A `next_link` redirect is a navigation, which no
/// directive here restricts.
pub(crate) const BUILT_IN_PAGE_CSP: &str = "default-src 'none'; \
     style-src 'sha256-EInPZcCAMOtKFOBHDZ09DJm4NR5tdEMUlE78i59eyJY='; img-src 'self' data:; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The frame shared by every page: readable without CSS, no external resources.
pub(crate) fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                style { (STYLE) }
            }
            body { main { h1 { (title) } (body) } }
        }
    }
    .into_string()
}
