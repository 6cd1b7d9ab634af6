//! A link preview's card, from a message's words and the server's `get_url_info`: which link
//! is previewed, and what of the answer may be shown (text as text; the picture's address
//! through `safe_url`, web addresses only).

use super::text::{Segment, segments};
use super::url::safe_url;
use confab_protocol::action::UrlInfo;

/// The longest title and description shown (the server's are longer at times).
pub const MAX_PREVIEW_TITLE: usize = 120;
pub const MAX_PREVIEW_DESCRIPTION: usize = 240;

#[derive(Debug, Clone, PartialEq)]
pub struct PreviewCard {
    /// Where the card leads: the link as written in the message.
    pub href: String,
    /// The site's host name, shown above the title.
    pub host: String,
    pub title: String,
    pub description: Option<String>,
    pub image: Option<String>,
}

/// The link a message's words preview: the first to a web page.
pub fn previewed_link(text: &str) -> Option<String> {
    segments(text).into_iter().find_map(|segment| match segment {
        Segment::Link { href, .. } if is_web(&href) => Some(href),
        _ => None,
    })
}

/// The card for `href` from what the server found there; `None` without a title.
pub fn preview_card(href: &str, info: &UrlInfo) -> Option<PreviewCard> {
    let title = shortened(info.title.as_deref()?, MAX_PREVIEW_TITLE)?;
    let description = info.description.as_deref().and_then(|d| shortened(d, MAX_PREVIEW_DESCRIPTION));
    // The API gives the picture without its scheme: it is the page's.
    let scheme = if href.to_ascii_lowercase().starts_with("http://") { "http://" } else { "https://" };
    let image = info
        .image_url
        .as_deref()
        .map(|rest| format!("{scheme}{}", rest.trim_start_matches('/')))
        .filter(|url| is_web(url) && host_of(url).is_some_and(|host| is_host_name(&host)));
    Some(PreviewCard { href: href.to_owned(), host: host_of(href)?, title, description, image })
}

fn is_web(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")) && safe_url(url).is_some()
}

/// `https://user@Shop.Example:8443/a?b` → `shop.example:8443`.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// A host name or address with an optional port: `javascript:alert(1)` without its scheme
/// would otherwise read as a host.
fn is_host_name(authority: &str) -> bool {
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => (host, Some(port)),
        _ => (authority, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// Trimmed, on one line, cut at `most` characters with an ellipsis; `None` when empty.
fn shortened(text: &str, most: usize) -> Option<String> {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return None;
    }
    Some(match one_line.char_indices().nth(most) {
        Some((cut, _)) => format!("{}…", one_line[..cut].trim_end()),
        None => one_line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(title: Option<&str>, image: Option<&str>) -> UrlInfo {
        UrlInfo {
            url: "https://shop.example/beans".into(),
            title: title.map(Into::into),
            description: Some("  Fresh\n\n beans  ".into()),
            image_url: image.map(Into::into),
            ..UrlInfo::default()
        }
    }

    #[test]
    fn the_first_web_link_is_previewed() {
        assert_eq!(
            previewed_link("mail help@x.example or see www.shop.example/a and https://b.example").as_deref(),
            Some("https://www.shop.example/a")
        );
        assert_eq!(previewed_link("write to mailto:help@x.example"), None);
        assert_eq!(previewed_link("no links here"), None);
    }

    #[test]
    fn a_card_shows_text_and_only_a_web_picture() {
        let card = preview_card(
            "https://User@Shop.Example:8443/beans?x=1",
            &info(Some("<b>Beans</b>"), Some("shop.example/p.png")),
        )
        .unwrap();
        assert_eq!(card.host, "shop.example:8443");
        assert_eq!(card.title, "<b>Beans</b>", "kept as text, shown as text");
        assert_eq!(card.description.as_deref(), Some("Fresh beans"));
        assert_eq!(card.image.as_deref(), Some("https://shop.example/p.png"));
        let plain = preview_card("http://127.0.0.1:8080/", &info(Some("Local"), Some("127.0.0.1:8080/i.png"))).unwrap();
        assert_eq!(plain.image.as_deref(), Some("http://127.0.0.1:8080/i.png"), "the page's scheme");
        for odd in ["java\tscript:alert(1)", "javascript:alert(1)", "a b.example/x.png"] {
            assert_eq!(preview_card("https://a.example", &info(Some("T"), Some(odd))).unwrap().image, None, "{odd:?}");
        }
        let port = preview_card("https://a.example", &info(Some("T"), Some("[::1]:8443/p.png"))).unwrap();
        assert_eq!(port.image.as_deref(), Some("https://[::1]:8443/p.png"));
        assert_eq!(preview_card("https://a.example", &info(None, None)), None, "no title, no card");
        assert_eq!(preview_card("https://a.example", &info(Some("   "), None)), None);
        let long = preview_card("https://a.example", &info(Some(&"x".repeat(500)), None)).unwrap();
        assert_eq!(long.title.chars().count(), MAX_PREVIEW_TITLE + 1);
    }
}
