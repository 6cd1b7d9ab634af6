//! `get_url_info`'s fetcher: a link preview (title, description, image) of a page the customer
//! names, fetched by this server — so guarded against being turned on the server's own network
//! (SSRF):
//!
//! - only `http` and `https` URLs;
//! - the host is resolved here and every address checked: loopback, private, link-local,
//!   CGNAT, multicast, broadcast, unspecified, documentation and reserved ranges (IPv4, IPv6,
//!   and IPv4 written as IPv6: mapped, compatible, NAT64, 6to4) are refused, unless named by
//!   `--url-info-allow-private` (tests);
//! - the connection goes to the address that was checked (pinned; no second lookup that DNS
//!   rebinding could answer differently), never through a proxy;
//! - redirects are followed by hand, at most `MAX_URL_INFO_REDIRECTS`, each hop checked again;
//! - at most `MAX_URL_INFO_BYTES` are read, all within `URL_INFO_TIMEOUT` (on the server's
//!   clock), and only a `text/html` answer is parsed.
//!
//! Errors (the RTM error shape): `validation` for a malformed or forbidden URL (scheme or
//! address, also after a redirect); `request_timeout` when the time runs out; `not_found` when
//! the page cannot be had: unresolvable host, refused connection, non-2xx status, too many
//! redirects, not HTML, or larger than the cap.

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::limits::{MAX_URL_INFO_BYTES, MAX_URL_INFO_REDIRECTS, MAX_URL_INFO_TEXT_CHARS, URL_INFO_TIMEOUT};
use confab_protocol::ErrorType;
use confab_protocol::action::UrlInfo;
use reqwest::Url;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION, USER_AGENT};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

const AGENT: &str = concat!("Confab/", env!("CARGO_PKG_VERSION"), " (link preview)");

pub struct UrlInfoFetcher {
    clock: Clock,
    /// Addresses exempt from the non-public refusal (tests).
    allow: Vec<IpAddr>,
    pub limiter: crate::rate::UserLimiter,
}

fn not_found(message: impl Into<String>) -> Error {
    Error::not_found(message)
}

impl UrlInfoFetcher {
    pub fn new(clock: Clock, allow: Vec<IpAddr>) -> Self {
        let limiter = crate::rate::UserLimiter::new(crate::limits::URL_INFO_PER_SECOND, crate::limits::URL_INFO_BURST);
        Self { clock, allow, limiter }
    }

    /// The preview of `url`, within `URL_INFO_TIMEOUT`.
    pub async fn fetch(&self, url: &str) -> Result<UrlInfo> {
        let deadline = self.clock.now().plus(URL_INFO_TIMEOUT);
        tokio::select! {
            result = self.fetch_unbounded(url) => result,
            _ = self.clock.sleep_until(deadline) => Err(Error::new(
                ErrorType::RequestTimeout,
                format!("The page did not answer within {} s", URL_INFO_TIMEOUT.as_secs()),
            )),
        }
    }

    async fn fetch_unbounded(&self, url: &str) -> Result<UrlInfo> {
        let mut current = Url::parse(url.trim()).map_err(|e| Error::validation(format!("Invalid URL: {e}")))?;
        for _ in 0..=MAX_URL_INFO_REDIRECTS {
            let (client, target) = self.pinned_client(&current).await?;
            let response = client
                .get(target)
                .header(ACCEPT, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1")
                .header(USER_AGENT, AGENT)
                .send()
                .await
                .map_err(|e| not_found(format!("Could not fetch the page: {}", root_cause(&e))))?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or_else(|| not_found(format!("Redirect ({status}) without a location")))?;
                current = current.join(location).map_err(|e| Error::validation(format!("Invalid redirect: {e}")))?;
                continue;
            }
            if !status.is_success() {
                return Err(not_found(format!("The page answered {status}")));
            }
            let is_html = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|t| t.to_str().ok())
                .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("text/html"));
            if !is_html {
                return Err(not_found("The URL is not an HTML page"));
            }
            let html = read_capped(response).await?;
            return Ok(preview(url, &current, &html));
        }
        Err(not_found(format!("More than {MAX_URL_INFO_REDIRECTS} redirects")))
    }

    /// A client that connects only to `url`'s checked address; the URL to request with it.
    async fn pinned_client(&self, url: &Url) -> Result<(reqwest::Client, Url)> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::validation(format!("URL scheme `{}` is not allowed; use http or https", url.scheme())));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::validation("URLs with credentials are not allowed"));
        }
        let port = url.port_or_known_default().ok_or_else(|| Error::validation("URL without a port"))?;
        let builder =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().user_agent(AGENT);
        let builder = match url.host() {
            Some(url::Host::Ipv4(ip)) => {
                self.check(IpAddr::V4(ip))?;
                builder
            }
            Some(url::Host::Ipv6(ip)) => {
                self.check(IpAddr::V6(ip))?;
                builder
            }
            Some(url::Host::Domain(domain)) => {
                let addresses: Vec<SocketAddr> = tokio::net::lookup_host((domain, port))
                    .await
                    .map_err(|e| not_found(format!("Cannot resolve {domain}: {e}")))?
                    .collect();
                let first = *addresses.first().ok_or_else(|| not_found(format!("{domain} has no address")))?;
                // All of them: the name must not lead anywhere forbidden, whichever is used.
                for address in &addresses {
                    self.check(address.ip())?;
                }
                builder.resolve(domain, first)
            }
            None => return Err(Error::validation("URL without a host")),
        };
        let client = builder.build().map_err(|e| not_found(format!("Cannot fetch: {e}")))?;
        Ok((client, url.clone()))
    }

    fn check(&self, ip: IpAddr) -> Result<()> {
        if is_public(ip) || self.allow.contains(&ip) {
            Ok(())
        } else {
            Err(Error::validation(format!("The address {ip} is not public; it cannot be fetched")))
        }
    }
}

/// The innermost cause of a fetch error, the most telling part.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Reads the body, refusing one larger than `MAX_URL_INFO_BYTES` (by its length, or as it
/// streams).
async fn read_capped(mut response: reqwest::Response) -> Result<String> {
    let too_large = || not_found(format!("The page is larger than {MAX_URL_INFO_BYTES} bytes"));
    if response.content_length().is_some_and(|len| len > MAX_URL_INFO_BYTES as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) =
        response.chunk().await.map_err(|e| not_found(format!("Could not read the page: {}", root_cause(&e))))?
    {
        if body.len() + chunk.len() > MAX_URL_INFO_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Whether an address is on the public Internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // CGNAT, 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments, 192.0.0.0/24
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, 198.18.0.0/15
        || a >= 240) // reserved, 240.0.0.0/4
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // IPv4 in IPv6 clothing: judged as the IPv4 address it carries.
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4); // ::ffff:a.b.c.d
    }
    if s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        return is_public_v4(embedded(s[6], s[7])); // ::a.b.c.d (deprecated "compatible")
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded(s[6], s[7])); // NAT64, 64:ff9b::/96
    }
    if s[0] == 0x2002 {
        return is_public_v4(embedded(s[1], s[2])); // 6to4, 2002::/16
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation, 2001:db8::/32
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0])) // discard-only, 100::/64
}

/// The preview of a page: `<title>` / `og:title`, `og:description` / `description`,
/// `og:image` (made absolute against `page`, shown without its scheme) with its size when both
/// dimensions are given.
pub fn preview(requested: &str, page: &Url, html: &str) -> UrlInfo {
    let mut info = UrlInfo { url: requested.to_owned(), ..UrlInfo::default() };
    let Ok(dom) = tl::parse(html, tl::ParserOptions::default()) else { return info };
    let parser = dom.parser();
    let mut meta = std::collections::HashMap::<String, String>::new();
    if let Some(nodes) = dom.query_selector("meta") {
        for node in nodes.filter_map(|n| n.get(parser)).filter_map(|n| n.as_tag()) {
            let attributes = node.attributes();
            let attribute = |name: &str| attributes.get(name).flatten().map(|v| v.as_utf8_str().into_owned());
            let (Some(key), Some(content)) =
                (attribute("property").or_else(|| attribute("name")), attribute("content"))
            else {
                continue;
            };
            meta.entry(key.trim().to_ascii_lowercase()).or_insert(content);
        }
    }
    let title = dom
        .query_selector("title")
        .and_then(|mut nodes| nodes.next())
        .and_then(|n| n.get(parser))
        .map(|n| n.inner_text(parser).into_owned());
    info.title = meta.get("og:title").cloned().or(title).and_then(|t| clean(&t));
    info.description = meta.get("og:description").or_else(|| meta.get("description")).and_then(|d| clean(d));
    let image = meta.get("og:image").or_else(|| meta.get("og:image:url")).or_else(|| meta.get("og:image:secure_url"));
    if let Some(image) = image.and_then(|i| page.join(decode_entities(i).trim()).ok())
        && matches!(image.scheme(), "http" | "https")
    {
        let full = image.to_string();
        info.image_url = Some(full.split_once("://").map(|(_, rest)| rest.to_owned()).unwrap_or(full));
        let dimension = |key: &str| meta.get(key).and_then(|v| v.trim().parse::<u32>().ok());
        if let (Some(width), Some(height)) = (dimension("og:image:width"), dimension("og:image:height")) {
            info.image_width = Some(width);
            info.image_height = Some(height);
        }
    }
    info
}

/// Text as shown: entities decoded, whitespace collapsed, at most `MAX_URL_INFO_TEXT_CHARS`.
fn clean(text: &str) -> Option<String> {
    let text = decode_entities(text);
    let text: String =
        text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(MAX_URL_INFO_TEXT_CHARS).collect();
    (!text.is_empty()).then_some(text)
}

/// The HTML character references pages use in titles: the five XML ones, `&nbsp;`, and
/// numeric ones.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for refused in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::1",
        ] {
            assert!(!is_public(refused.parse().unwrap()), "{refused}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34", "100.128.0.1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn a_preview_reads_open_graph_first() {
        let page = Url::parse("https://example.com/a/b.html").unwrap();
        let html = r#"<html><head><title> Plain &amp; simple </title>
            <meta property="og:title" content="OG &quot;title&quot;">
            <meta name="description" content="Described">
            <meta property="og:image" content="/img/p.png">
            <meta property="og:image:width" content="640"><meta property="og:image:height" content="480">
            </head><body>x</body></html>"#;
        let info = preview("https://example.com/a/b.html", &page, html);
        assert_eq!(info.title.as_deref(), Some("OG \"title\""));
        assert_eq!(info.description.as_deref(), Some("Described"));
        assert_eq!(info.image_url.as_deref(), Some("example.com/img/p.png"));
        assert_eq!((info.image_width, info.image_height), (Some(640), Some(480)));

        let info = preview(
            "u",
            &page,
            "<title>Plain &amp; simple &#x263A;</title><meta property=og:image content='javascript:alert(1)'>",
        );
        assert_eq!(info.title.as_deref(), Some("Plain & simple ☺"));
        assert_eq!(info.image_url, None, "only http(s) images");
        assert_eq!(preview("u", &page, "").title, None);
    }
}
