//! The history pager behind `get_chat_history` (protocol.md §8.1, v4's page shapes), sans IO:
//! it says which `list_threads` to send next and turns each answer into a page.
//!
//! The first request asks for the newest threads holding at least `HISTORY_PAGE_EVENTS`
//! events (`{chat_id, min_events_count: 25}`); each later one carries only the page id
//! (`{chat_id, page_id}`). A page's threads come oldest first; the history is done when an
//! answer has no `next_page_id`.
//!
//! ```
//! use confab_sdk::history::HistoryPager;
//! let pager = HistoryPager::new("C1");
//! let first = pager.request().expect("a first page to ask for");
//! assert_eq!(first.min_events_count, Some(25));
//! assert_eq!(first.page_id, None);
//! ```

use confab_protocol::action::{ListThreadsRequest, ListThreadsResponse};
use confab_protocol::entity::Thread;

/// Events asked for on the first history page.
pub const HISTORY_PAGE_EVENTS: u32 = 25;

/// Where a chat's history stands: the next page to ask for, or done.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPager {
    chat_id: String,
    next_page: Option<String>,
    started: bool,
    done: bool,
}

impl HistoryPager {
    /// The history of `chat_id`, from its newest threads.
    pub fn new(chat_id: impl Into<String>) -> Self {
        Self { chat_id: chat_id.into(), next_page: None, started: false, done: false }
    }

    /// The chat whose history this is.
    pub fn chat_id(&self) -> &str {
        &self.chat_id
    }

    /// True once the oldest page was handed out.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The `list_threads` request for the next page; `None` when done. Asking again before
    /// [`HistoryPager::take`] (after an error, say) asks for the same page.
    pub fn request(&self) -> Option<ListThreadsRequest> {
        if self.done {
            return None;
        }
        let mut request = ListThreadsRequest {
            chat_id: self.chat_id.clone(),
            sort_order: None,
            limit: None,
            page_id: None,
            min_events_count: None,
        };
        if self.started {
            request.page_id = Some(self.next_page.clone()?);
        } else {
            request.min_events_count = Some(HISTORY_PAGE_EVENTS);
        }
        Some(request)
    }

    /// Takes the answer to [`HistoryPager::request`]: this page's threads, oldest first.
    pub fn take(&mut self, page: ListThreadsResponse) -> Vec<Thread> {
        self.started = true;
        self.done = page.next_page_id.is_none();
        self.next_page = page.next_page_id;
        let mut threads = page.threads;
        threads.reverse();
        threads
    }
}
