//! Links in message text. A message is plain text; the parts that look like web addresses
//! become links, and only after `safe_url` agrees. Everything else stays a text node.

use super::safe_url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    /// `text` as written; `href` the URL it opens (`www.` addresses get `https://`).
    Link {
        text: &'a str,
        href: String,
    },
}

/// Splits `text` into plain parts and links, in order. Joined, the parts' texts are `text`.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut at = 0;
    while let Some(start) = next_link_start(text, at) {
        let end = link_end(text, start);
        let candidate = &text[start..end];
        let href = if candidate.len() > 4 && candidate[..4].eq_ignore_ascii_case("www.") {
            format!("https://{candidate}")
        } else {
            candidate.to_owned()
        };
        // A scheme alone ("https://") is no link.
        let has_host = candidate.split_once("//").map_or(candidate.len() > 4, |(_, host)| !host.is_empty());
        match safe_url(&href) {
            Some(_) if has_host => {
                if plain_from < start {
                    out.push(Segment::Text(&text[plain_from..start]));
                }
                out.push(Segment::Link { text: candidate, href });
                plain_from = end;
            }
            _ => {}
        }
        at = end.max(start + 1);
    }
    if plain_from < text.len() {
        out.push(Segment::Text(&text[plain_from..]));
    }
    out
}

/// Where the next `http://`, `https://` or `www.` starts at a word boundary, from `from`.
fn next_link_start(text: &str, from: usize) -> Option<usize> {
    let lower = text.get(from..)?.to_ascii_lowercase();
    let mut search = 0;
    loop {
        let found = ["https://", "http://", "www."].iter().filter_map(|p| lower[search..].find(p)).min()? + search;
        let at = from + found;
        let boundary = text[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric() && c != '/' && c != '.');
        if boundary {
            return Some(at);
        }
        search = found + 1;
    }
}

/// The end of a link starting at `start`: up to whitespace, minus trailing punctuation that
/// belongs to the sentence (and a closing bracket the link did not open).
fn link_end(text: &str, start: usize) -> usize {
    let rest = &text[start..];
    let mut end = start + rest.find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"')).unwrap_or(rest.len());
    loop {
        let Some(last) = text[start..end].chars().next_back() else { return end };
        let unbalanced = |open: char, close: char| {
            last == close && text[start..end].matches(open).count() < text[start..end].matches(close).count()
        };
        if matches!(last, '.' | ',' | '!' | '?' | ';' | ':' | '\'') || unbalanced('(', ')') || unbalanced('[', ']') {
            end -= last.len_utf8();
        } else {
            return end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Segment::*, *};

    fn link<'a>(text: &'a str, href: &str) -> Segment<'a> {
        Link { text, href: href.into() }
    }

    #[test]
    fn web_addresses_become_links_and_the_rest_stays_text() {
        assert_eq!(
            segments("See https://example.com/a?b=1, or www.example.org."),
            [
                Text("See "),
                link("https://example.com/a?b=1", "https://example.com/a?b=1"),
                Text(", or "),
                link("www.example.org", "https://www.example.org"),
                Text("."),
            ]
        );
        assert_eq!(segments("no links here"), [Text("no links here")]);
        assert_eq!(segments(""), []);
    }

    #[test]
    fn brackets_and_sentence_punctuation_stay_outside_unless_the_link_opened_them() {
        assert_eq!(
            segments("(https://a.example/x)"),
            [Text("("), link("https://a.example/x", "https://a.example/x"), Text(")")]
        );
        assert_eq!(
            segments("https://en.wikipedia.org/wiki/Rust_(language)!"),
            [
                link("https://en.wikipedia.org/wiki/Rust_(language)", "https://en.wikipedia.org/wiki/Rust_(language)"),
                Text("!")
            ]
        );
    }

    #[test]
    fn nothing_but_http_and_https_becomes_a_link() {
        for inert in
            ["javascript:alert(1)", "javascript://www.example.com/%0Aalert(1)", "https://", "mywww.example.com"]
        {
            assert!(segments(inert).iter().all(|s| matches!(s, Text(_))), "{inert:?}: {:?}", segments(inert));
        }
        // The text is kept whole either way.
        let joined: String = segments("a <b>https://x.example</b> c")
            .iter()
            .map(|s| match s {
                Text(t) => *t,
                Link { text, .. } => text,
            })
            .collect();
        assert_eq!(joined, "a <b>https://x.example</b> c");
    }
}
