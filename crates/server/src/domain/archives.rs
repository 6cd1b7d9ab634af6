//! `list_archives` (Agent Chat Web API v3.6): the threads an agent may see, one entry per
//! thread with its whole chat (users, the thread's events and tags, whether the agent follows
//! it), filtered, sorted by the thread's creation and paged. `store::archives` finds the
//! threads; what each filter means is told there. With `highlights`, each message matching
//! `filters.query` is quoted in the thread's `highlight`, the match between the tags.

use super::Domain;
use super::chats::with_tags;
use super::views::{self, access, parse_properties};
use crate::error::{Error, Result};
use crate::limits::{
    MAX_ARCHIVE_QUERY_BYTES, MAX_ARCHIVE_THREAD_IDS, MAX_EVENTS_PER_THREAD_READ, MAX_FILTER_GROUP_IDS,
    MAX_HIGHLIGHT_TAG_BYTES, MAX_SURVEY_FILTERS,
};
use crate::store::{Page, check_archive_filters};
use confab_protocol::archive::{ArchiveFilters, ArchivedChat, Highlights};
use confab_protocol::entity::{EventBody, Highlight, Thread, User};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What a `list_archives` listing was asked for: its page ids carry it on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArchiveQuery {
    #[serde(rename = "q")]
    pub filters: ArchiveFilters,
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub highlights: Option<Highlights>,
}

impl ArchiveQuery {
    /// `validation` for what no page could answer: checked once, on the first request.
    pub fn check(&self) -> Result<()> {
        let f = &self.filters;
        if let Some(ids) = &f.thread_ids {
            let alone = ArchiveFilters { thread_ids: f.thread_ids.clone(), ..ArchiveFilters::default() };
            if *f != alone {
                return Err(Error::validation("`filters.thread_ids` can't be used with other filters"));
            }
            if ids.is_empty() || ids.len() > MAX_ARCHIVE_THREAD_IDS {
                return Err(Error::validation(format!("`filters.thread_ids` holds 1–{MAX_ARCHIVE_THREAD_IDS} ids")));
            }
        }
        if f.group_ids.as_ref().is_some_and(|ids| ids.len() > MAX_FILTER_GROUP_IDS) {
            return Err(Error::validation(format!("`filters.group_ids` holds at most {MAX_FILTER_GROUP_IDS} ids")));
        }
        if f.query.as_ref().is_some_and(|q| q.trim().is_empty() || q.len() > MAX_ARCHIVE_QUERY_BYTES) {
            return Err(Error::validation(format!("`filters.query` must be 1–{MAX_ARCHIVE_QUERY_BYTES} bytes")));
        }
        if f.surveys.as_ref().is_some_and(|s| s.len() > MAX_SURVEY_FILTERS) {
            return Err(Error::validation(format!("`filters.surveys` holds at most {MAX_SURVEY_FILTERS} surveys")));
        }
        if let Some(h) = &self.highlights {
            if h.pre_tag.is_some() != h.post_tag.is_some() {
                return Err(Error::validation("`highlights.pre_tag` and `highlights.post_tag` go together"));
            }
            if [&h.pre_tag, &h.post_tag].iter().any(|t| t.as_ref().is_some_and(|t| t.len() > MAX_HIGHLIGHT_TAG_BYTES)) {
                return Err(Error::validation(format!("highlight tags are at most {MAX_HIGHLIGHT_TAG_BYTES} bytes")));
            }
        }
        // Everything else is checked while the statement is built.
        check_archive_filters(f)
    }
}

/// Where `query` occurs in `text` (ignoring case), each match between `pre` and `post`;
/// `None` if it does not.
pub fn highlight(text: &str, query: &str, pre: &str, post: &str) -> Option<String> {
    let wanted: Vec<char> = query.chars().flat_map(char::to_lowercase).collect();
    if wanted.is_empty() {
        return None;
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |k: usize| chars.get(k).map_or(text.len(), |(at, _)| *at);
    let (mut out, mut found, mut k) = (String::with_capacity(text.len() + 16), false, 0);
    while k < chars.len() {
        let (mut lowered, mut end) = (Vec::with_capacity(wanted.len()), k);
        while lowered.len() < wanted.len() && end < chars.len() {
            lowered.extend(chars[end].1.to_lowercase());
            end += 1;
        }
        if lowered == wanted {
            out.push_str(pre);
            out.push_str(&text[byte_at(k)..byte_at(end)]);
            out.push_str(post);
            (found, k) = (true, end);
        } else {
            out.push(chars[k].1);
            k += 1;
        }
    }
    found.then_some(out)
}

/// The thread's highlights: each message that matches `query`.
fn highlights(thread: &Thread, query: &str, tags: &Highlights) -> Vec<Highlight> {
    let pre = tags.pre_tag.as_deref().unwrap_or("<em>");
    let post = tags.post_tag.as_deref().unwrap_or("</em>");
    thread
        .events
        .iter()
        .filter_map(|event| match &event.body {
            EventBody::Message(message) => Some(Highlight {
                kind: "event.message".into(),
                event_id: event.id.clone().unwrap_or_default(),
                field: "text".into(),
                highlight: highlight(&message.text, query, pre, post)?,
            }),
            _ => None,
        })
        .collect()
}

impl Domain {
    /// One page of the threads the agent may see that pass the query's filters, each with its
    /// chat, newest first unless `page.order` says otherwise. Returns the page and the total.
    pub async fn list_archives(
        &self,
        agent_id: &str,
        query: &ArchiveQuery,
        page: Page,
    ) -> Result<(Vec<ArchivedChat>, u64)> {
        let mut db = self.store.read().await?;
        let total = db.count_archives(agent_id, &query.filters).await?;
        let rows = db.archive_page(agent_id, &query.filters, page.order, page.size, page.offset).await?;

        let thread_ids: Vec<String> = rows.iter().map(|r| r.thread.id.clone()).collect();
        let mut chat_ids: Vec<String> = rows.iter().map(|r| r.thread.chat_id.clone()).collect();
        chat_ids.sort();
        chat_ids.dedup();
        let mut users: HashMap<String, Vec<User>> = HashMap::new();
        for (chat_id, user) in db.users_of_chats(&chat_ids).await? {
            users.entry(chat_id).or_default().push(user);
        }
        let mut events = db.thread_events(&thread_ids, true, MAX_EVENTS_PER_THREAD_READ).await?;
        let followed = db.followed_among(agent_id, &chat_ids).await?;
        let mut chats = Vec::with_capacity(rows.len());
        for row in rows {
            let chat_id = row.thread.chat_id.clone();
            let (mine, rest) = events.into_iter().partition(|e| e.thread_id == row.thread.id);
            events = rest;
            let neighbours = (row.previous_thread_id, row.next_thread_id);
            let chat_users = users.get(&chat_id).cloned().unwrap_or_default();
            let thread = views::thread(row.group_id, row.thread, mine, &chat_users, neighbours);
            let is_followed = followed.contains(&chat_id);
            chats.push(ArchivedChat {
                id: chat_id,
                users: chat_users,
                properties: parse_properties(&row.chat_properties),
                access: access(row.group_id),
                thread,
                is_followed,
            });
        }
        with_tags(&mut db, chats.iter_mut().map(|c| &mut c.thread)).await?;
        if let (Some(tags), Some(words)) = (&query.highlights, &query.filters.query) {
            for chat in &mut chats {
                chat.thread.highlight = Some(highlights(&chat.thread, words, tags));
            }
        }
        Ok((chats, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_wrap_every_match_ignoring_case() {
        assert_eq!(
            highlight("Hello there, HELLO", "hello", "<b>", "</b>").unwrap(),
            "<b>Hello</b> there, <b>HELLO</b>"
        );
        assert_eq!(highlight("Zażółć gęślą", "GĘŚ", "[", "]").unwrap(), "Zażółć [gęś]lą");
        assert_eq!(highlight("nothing here", "else", "[", "]"), None);
    }

    #[test]
    fn thread_ids_go_alone_and_filters_are_checked_up_front() {
        let query = |filters: serde_json::Value| ArchiveQuery {
            filters: serde_json::from_value(filters).unwrap(),
            highlights: None,
        };
        assert!(query(serde_json::json!({"thread_ids": ["A"]})).check().is_ok());
        for bad in [
            serde_json::json!({"thread_ids": ["A"], "query": "x"}),
            serde_json::json!({"thread_ids": []}),
            serde_json::json!({"from": "yesterday"}),
            serde_json::json!({"tags": {"exists": true, "values": ["a"]}}),
            serde_json::json!({"tags": {"values": []}}),
            serde_json::json!({"event_types": {"exists": true}}),
            serde_json::json!({"properties": {"ns": {"p": {"values": [1.5]}}}}),
            serde_json::json!({"surveys": [{"type": "mid_chat"}]}),
            serde_json::json!({"query": " "}),
        ] {
            assert!(query(bad.clone()).check().is_err(), "{bad}");
        }
    }
}
