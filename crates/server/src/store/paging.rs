//! Opaque page ids. A page id remembers everything the first request asked for (order, size,
//! offset), so the next request sends only `page_id` (Agent Chat Web API v3.6 "Pagination";
//! v2 clients resend the other parameters too, which is accepted and ignored).

use crate::error::{Error, Result};
use crate::limits::{LIST_THREADS_DEFAULT, LIST_THREADS_MAX, MIN_EVENTS_COUNT_MAX};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use confab_protocol::action::{ListThreadsRequest, SortOrder};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What a page id holds; `validation` for anything else.
fn decode_id<T: DeserializeOwned>(page_id: &str) -> Result<T> {
    URL_SAFE_NO_PAD
        .decode(page_id)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| Error::validation("Invalid page_id"))
}

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
        decode_id(page_id)
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
        let (next, previous) = self.neighbours(taken, total);
        (next.map(|p| p.encode()), previous.map(|p| p.encode()))
    }

    /// The pages after and before this one, where there are such pages.
    fn neighbours(&self, taken: u32, total: u64) -> (Option<Page>, Option<Page>) {
        let next_offset = self.offset + taken;
        let next = (taken > 0 && u64::from(next_offset) < total).then_some(Page { offset: next_offset, ..*self });
        // Pages counted in events hold a varying number of threads: step back by this one's.
        let step = if self.by_events { taken.max(1) } else { self.size };
        let previous = (self.offset > 0).then(|| Page { offset: self.offset.saturating_sub(step), ..*self });
        (next, previous)
    }
}

/// A page and the filters of the first request, which its page ids carry on: a listing with
/// filters (Agent Chat API: "filters provided in the first request are remembered").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filtered<F> {
    #[serde(flatten)]
    pub page: Page,
    #[serde(rename = "f")]
    pub filters: F,
}

impl<F: Serialize + DeserializeOwned + Clone> Filtered<F> {
    pub fn decode(page_id: &str) -> Result<Self> {
        decode_id(page_id)
    }

    fn encode(page: Page, filters: &F) -> String {
        let json = serde_json::to_vec(&Filtered { page, filters: filters.clone() }).expect("page ids always encode");
        URL_SAFE_NO_PAD.encode(json)
    }

    /// `(next_page_id, previous_page_id)`, as [`Page::links`], carrying the filters.
    pub fn links(&self, taken: u32, total: u64) -> (Option<String>, Option<String>) {
        let (next, previous) = self.page.neighbours(taken, total);
        (next.map(|p| Self::encode(p, &self.filters)), previous.map(|p| Self::encode(p, &self.filters)))
    }
}

/// The page a `list_threads` request asks for (RTM reference `list_threads`). A `page_id`
/// wins over everything else, as v2 clients send it together with the first page's fields.
pub fn list_threads_page(req: &ListThreadsRequest) -> Result<Page> {
    if let Some(page_id) = &req.page_id {
        return Page::decode(page_id);
    }
    let order = req.sort_order.unwrap_or_default();
    match (req.limit, req.min_events_count) {
        (Some(_), Some(_)) => Err(Error::validation("limit and min_events_count cannot be used together")),
        (_, Some(min)) if !(1..=MIN_EVENTS_COUNT_MAX).contains(&min) => {
            Err(Error::validation(format!("min_events_count must be 1–{MIN_EVENTS_COUNT_MAX}")))
        }
        (_, Some(min)) => Ok(Page { offset: 0, order, size: min, by_events: true }),
        (limit, None) => Page::first(limit, LIST_THREADS_DEFAULT, LIST_THREADS_MAX, Some(order)),
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
    fn filtered_page_ids_carry_their_filters() {
        let first = Filtered { page: Page::first(Some(1), 10, 25, None).unwrap(), filters: vec![3u32, 4] };
        let (next, _) = first.links(1, 3);
        let second: Filtered<Vec<u32>> = Filtered::decode(&next.unwrap()).unwrap();
        assert_eq!((second.page.offset, second.filters), (1, vec![3, 4]));
        assert!(Filtered::<Vec<u32>>::decode(&first.page.encode()).is_err(), "a page id without filters");
    }

    #[test]
    fn first_pages_check_their_size() {
        assert_eq!(Page::first(None, 10, 25, None).unwrap().size, 10);
        assert!(Page::first(Some(0), 10, 25, None).is_err());
        assert!(Page::first(Some(26), 10, 25, None).is_err());
    }
}
