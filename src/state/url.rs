//! URLs from message data pass a scheme allowlist before they reach `href` or `src`.

/// Schemes a link or image from message data may use.
const ALLOWED_SCHEMES: &[&str] = &["https:", "http:", "mailto:"];

/// The URL if its scheme is allowed (`javascript:`, `data:`, relative and protocol-relative
/// URLs are refused), else `None`.
pub fn safe_url(url: &str) -> Option<&str> {
    let trimmed = url.trim();
    // Browsers ignore tabs and newlines inside a scheme ("java\tscript:"): refuse any control.
    if trimmed.chars().any(|c| c.is_control()) {
        return None;
    }
    let lower = trimmed.to_ascii_lowercase();
    ALLOWED_SCHEMES.iter().any(|s| lower.starts_with(s)).then_some(trimmed)
}

#[cfg(test)]
mod tests {
    use super::safe_url;

    #[test]
    fn only_allowlisted_schemes_pass() {
        assert_eq!(safe_url("https://example.com/a.png"), Some("https://example.com/a.png"));
        assert_eq!(safe_url(" HTTP://example.com "), Some("HTTP://example.com"));
        assert_eq!(safe_url("mailto:help@example.com"), Some("mailto:help@example.com"));
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<b>",
            "//evil.example",
            "/relative",
            "vbscript:x",
            "",
        ] {
            assert_eq!(safe_url(bad), None, "{bad:?}");
        }
    }
}
