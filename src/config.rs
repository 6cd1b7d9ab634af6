//! What the widget reads from its own URL: the loader opens
//! `/widget/?organization_id=<uuid>&host_origin=<origin>`. The server is always the origin the
//! widget document came from; nothing in the URL or in a message can point it elsewhere.

/// The organization used when the URL names none (development with `trunk serve`).
pub const DEFAULT_ORGANIZATION_ID: &str = "7c1f2a9e-3b4d-4e5f-8a6b-9c0d1e2f3a4b";

#[derive(Debug, Clone, PartialEq)]
pub struct WidgetConfig {
    /// The Confab server: this document's own origin.
    pub server_url: String,
    pub organization_id: String,
    /// The page embedding us, for postMessage; `None` when opened standalone.
    pub host_origin: Option<String>,
}

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
            organization_id: get("organization_id").unwrap_or_else(|| DEFAULT_ORGANIZATION_ID.to_owned()),
            host_origin: get("host_origin").filter(|o| o.starts_with("https://") || o.starts_with("http://")),
        }
    }
}
