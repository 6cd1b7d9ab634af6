//! The outbox kept across pages: the visitor's messages that the server has not confirmed,
//! in the widget's `localStorage` (which the browser partitions per site), so that a reload or
//! a closed tab loses none of them. The next page shows them as sending and sends them again
//! under the same `custom_id`; the server answers a retry with the event its first try stored,
//! so each arrives exactly once.
//!
//! Storage may be missing or refuse (`stored.rs`): then the outbox lasts as long as the page.

use crate::hooks::stored::Stored;

/// At most this many unsent messages are kept across pages (the oldest go first).
pub const MAX_SAVED_MESSAGES: usize = 50;

#[derive(Clone)]
pub struct SavedOutbox {
    stored: Stored<Vec<(String, String)>>,
}

impl SavedOutbox {
    pub fn new(organization_id: &str) -> Self {
        Self { stored: Stored::new(format!("confab:outbox:{organization_id}")) }
    }

    /// The messages kept by earlier pages, oldest first: `(custom_id, text)`.
    pub fn load(&self) -> Vec<(String, String)> {
        self.stored.load().unwrap_or_default()
    }

    pub fn put(&self, key: &str, text: &str) {
        let mut entries = self.load();
        entries.push((key.to_owned(), text.to_owned()));
        let excess = entries.len().saturating_sub(MAX_SAVED_MESSAGES);
        entries.drain(..excess);
        self.write(&entries);
    }

    pub fn remove(&self, key: &str) {
        let mut entries = self.load();
        let before = entries.len();
        entries.retain(|(k, _)| k != key);
        if entries.len() != before {
            self.write(&entries);
        }
    }

    fn write(&self, entries: &Vec<(String, String)>) {
        if entries.is_empty() { self.stored.clear() } else { self.stored.save(entries) }
    }
}
