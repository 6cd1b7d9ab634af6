//! Opaque page ids. A page id remembers everything the first request asked for (order, size,
//! offset), so the next request sends only `page_id` (Agent Chat Web API v3.6 "Pagination";
//! v2 clients resend the other parameters too, which is accepted and ignored).

use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use confab_protocol::action::SortOrder;
use serde::{Deserialize, Serialize};

/// One page of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Page {
    #[serde(rename = "o")]
    pub offset: u32,
    #[serde(rename = "s")]
    pub order: SortOrder,
    /// Items per page; for `list_threads` with `min_events_count`, the events wanted.
    #[serde(rename = "l")]
    pub size: u32,
    /// `list_threads`: `size` counts events, not threads.
    #[serde(rename = "m", default)]
    pub by_events: bool,
}

impl Page {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("page ids always encode"))
    }

    pub fn decode(page_id: &str) -> Result<Self> {
        URL_SAFE_NO_PAD
            .decode(page_id)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| Error::validation("Invalid page_id"))
    }

    /// The first page: `size` items (default `default`), refused unless 1–`max`.
    pub fn first(size: Option<u32>, default: u32, max: u32, order: Option<SortOrder>) -> Result<Self> {
        let size = size.unwrap_or(default);
        if !(1..=max).contains(&size) {
            return Err(Error::validation(format!("limit must be 1–{max}")));
        }
        Ok(Page { offset: 0, order: order.unwrap_or_default(), size, by_events: false })
    }

    /// `(next_page_id, previous_page_id)` of this page, which holds `taken` of `total` items.
    /// Each exists only when there is such a page.
    pub fn links(&self, taken: u32, total: u64) -> (Option<String>, Option<String>) {
        let next_offset = self.offset + taken;
        let next =
            (taken > 0 && u64::from(next_offset) < total).then(|| Page { offset: next_offset, ..*self }.encode());
        // Pages counted in events hold a varying number of threads: step back by this one's.
        let step = if self.by_events { taken.max(1) } else { self.size };
        let previous = (self.offset > 0).then(|| Page { offset: self.offset.saturating_sub(step), ..*self }.encode());
        (next, previous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_ids_round_trip_and_garbage_is_a_validation_error() {
        let page = Page { offset: 3, order: SortOrder::Desc, size: 25, by_events: true };
        assert_eq!(Page::decode(&page.encode()).unwrap(), page);
        assert!(Page::decode("not a page").is_err());
        assert!(Page::decode("").is_err());
    }

    #[test]
    fn links_exist_only_where_there_is_a_page() {
        let first = Page::first(Some(2), 10, 25, None).unwrap();
        let (next, previous) = first.links(2, 3);
        assert!(previous.is_none());
        let second = Page::decode(&next.unwrap()).unwrap();
        assert_eq!(second.offset, 2);
        assert_eq!(second.links(1, 3), (None, Some(first.encode())));
        assert_eq!(first.links(2, 2).0, None, "all taken");
    }

    #[test]
    fn first_pages_check_their_size() {
        assert_eq!(Page::first(None, 10, 25, None).unwrap().size, 10);
        assert!(Page::first(Some(0), 10, 25, None).is_err());
        assert!(Page::first(Some(26), 10, 25, None).is_err());
    }
}
