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

    /// The page after this one, if `taken` items were on it and `total` exist.
    pub fn next(&self, taken: u32, total: u64) -> Option<String> {
        let offset = self.offset + taken;
        (u64::from(offset) < total && taken > 0).then(|| Page { offset, ..*self }.encode())
    }

    /// The page before this one.
    pub fn previous(&self, previous_offset: u32) -> Option<String> {
        (self.offset > 0).then(|| Page { offset: previous_offset, ..*self }.encode())
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
    fn next_exists_only_while_items_remain() {
        let page = Page { offset: 0, order: SortOrder::Desc, size: 2, by_events: false };
        assert!(page.next(2, 3).is_some());
        assert!(page.next(2, 2).is_none());
        assert!(page.previous(0).is_none());
    }
}
