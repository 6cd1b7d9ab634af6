//! What the widget reads from its own URL. The loader passes the script tag's `data-*`
//! attributes as they are, named without `data-` (`organization-id`, `lang`, `group`,
//! `sneak-peek=on`, `sound=on`, `title`, `subtitle`, `welcome`, `consent`: the site's own words,
//! shown as text), and adds `host-origin` (the embedding page's origin), `page-lang` (its
//! `<html lang>`) and `color` (the bubble's as shown, `rgb(…)`).
//! The server is always the origin the widget document came from; nothing in the URL or in a
//! message can point it elsewhere. Every value is checked; an odd one is ignored.

/// The organization used when the URL names none (development with `trunk serve`).
pub const DEFAULT_ORGANIZATION_ID: &str = "7c1f2a9e-3b4d-4e5f-8a6b-9c0d1e2f3a4b";

#[derive(Debug, Clone, PartialEq)]
pub struct WidgetConfig {
    /// The Confab server: this document's own origin.
    pub server_url: String,
    pub organization_id: String,
    /// The page embedding us, for postMessage; `None` when opened standalone.
    pub host_origin: Option<String>,
    /// The language the site asked for (a BCP 47 tag), if any.
    pub lang: Option<String>,
    /// The site's brand colour: `#rgb`, `#rrggbb` or `rgb(r, g, b)`.
    pub color: Option<String>,
    /// The site lets agents see what the visitor types before it is sent.
    pub sneak_peek: bool,
    /// A short tone when an agent's reply arrives unseen (`data-sound="on"`).
    pub sound: bool,
    /// The group chats start in (and whose forms apply); group 0 when none.
    pub group: Option<u32>,
    /// The site's own words for the window, instead of the language's.
    pub texts: SiteTexts,
    /// `consent`: the window asks before it connects or stores anything; `Some("")` asks in
    /// the widget's own words.
    pub consent: Option<String>,
}

/// Words a site puts in the window (`data-title`, `data-subtitle`, `data-welcome` on the
/// script tag). Plain text, at most `MAX_SITE_TEXT` characters each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteTexts {
    /// The header's title while no agent is in the chat.
    pub title: Option<String>,
    /// The line under it.
    pub subtitle: Option<String>,
    /// What an empty conversation says.
    pub welcome: Option<String>,
}

/// A site text longer than this is ignored (it would not fit the header or the list's top).
pub const MAX_SITE_TEXT: usize = 200;
/// A consent text longer than this gives way to the widget's own words.
pub const MAX_CONSENT_TEXT: usize = 600;

impl WidgetConfig {
    pub fn from_location() -> Self {
        let location = web_sys::window().expect("a window").location();
        let server_url = location.origin().unwrap_or_default();
        let search = location.search().unwrap_or_default();
        Self::from_parts(server_url, &search)
    }

    /// Builds the config from an origin and a query string (`?a=b&c=d`).
    pub fn from_parts(server_url: String, search: &str) -> Self {
        let params = web_sys::UrlSearchParams::new_with_str(search).ok();
        let get = |name: &str| params.as_ref().and_then(|p| p.get(name)).filter(|v| !v.is_empty());
        Self {
            server_url,
            organization_id: get("organization-id").unwrap_or_else(|| DEFAULT_ORGANIZATION_ID.to_owned()),
            host_origin: get("host-origin").filter(|o| o.starts_with("https://") || o.starts_with("http://")),
            // The script tag's language, else the page's (`<html lang>`).
            lang: ["lang", "page-lang"]
                .into_iter()
                .filter_map(get)
                .find(|l| l.len() <= 35 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')),
            color: get("color").filter(|c| is_color(c)),
            sneak_peek: get("sneak-peek").as_deref() == Some("on"),
            sound: get("sound").as_deref() == Some("on"),
            group: get("group").and_then(|g| g.parse().ok()),
            texts: {
                let text = |name: &str| {
                    get(name)
                        .map(|t| t.trim().to_owned())
                        .filter(|t| !t.is_empty() && t.chars().count() <= MAX_SITE_TEXT)
                };
                SiteTexts { title: text("title"), subtitle: text("subtitle"), welcome: text("welcome") }
            },
            consent: params.as_ref().and_then(|p| p.get("consent")).map(|t| {
                let t = t.trim();
                if t.chars().count() <= MAX_CONSENT_TEXT { t.to_owned() } else { String::new() }
            }),
        }
    }
}

/// `#rgb`, `#rrggbb`, or `rgb(…)`/`rgba(…)` of numbers (what a browser computes): nothing else
/// reaches a style.
pub fn is_color(value: &str) -> bool {
    if let Some(hex) = value.strip_prefix('#') {
        return matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    let numbers = value.strip_prefix("rgba(").or_else(|| value.strip_prefix("rgb(")).and_then(|v| v.strip_suffix(')'));
    numbers.is_some_and(|n| {
        n.len() <= 40 && n.chars().all(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | ' ' | '%' | '/'))
    })
}
