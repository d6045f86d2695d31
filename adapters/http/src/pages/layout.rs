use maud::{DOCTYPE, Markup, html};

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
                style {
                    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#222}"
                    "h1{font-size:1.4rem}.note{color:#555;font-size:.95rem}"
                }
            }
            body { main { h1 { (title) } (body) } }
        }
    }
    .into_string()
}
