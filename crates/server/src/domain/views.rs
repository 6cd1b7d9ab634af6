//! Rows to wire entities: threads, chats, chat summaries. What a requester may see was decided
//! by the queries that fetched the rows (`agents_view`); this only assembles.

use crate::clock::Micros;
use crate::store::{EventRow, ThreadRow};
use confab_protocol::entity::{Access, ChatSummary, LastEvent, Properties, Thread, ThreadSummary, User};
use std::collections::{BTreeMap, HashMap};

/// Who may see a chat of `group` (and its threads): that group.
pub fn access(group: i64) -> Option<Access> {
    Some(Access::groups([group as u32]))
}

pub fn parse_properties(json: &str) -> Option<Properties> {
    serde_json::from_str(json).ok()
}

pub fn user_ids(users: &[User]) -> Vec<String> {
    users.iter().map(|u| u.id().to_owned()).collect()
}

/// A thread entity from its row, its (visible) events and its neighbours.
pub fn thread(
    group: i64,
    row: ThreadRow,
    events: Vec<EventRow>,
    users: &[User],
    neighbours: (Option<String>, Option<String>),
) -> Thread {
    Thread {
        id: row.id,
        created_at: Micros(row.created_at).rfc3339(),
        active: row.active,
        user_ids: user_ids(users),
        events: events.into_iter().filter_map(EventRow::into_event).collect(),
        properties: parse_properties(&row.properties),
        access: access(group),
        previous_thread_id: neighbours.0,
        next_thread_id: neighbours.1,
        queue: None,
        tags: None,
        highlight: None,
    }
}

/// What a page of chat summaries is built from: rows fetched once for the whole page.
pub struct SummaryRows {
    pub users: Vec<(String, User)>,
    pub last_threads: Vec<ThreadRow>,
    pub last_events: Vec<EventRow>,
    pub thread_times: Vec<(String, i64)>,
}

pub fn summaries(chats: Vec<crate::store::ChatRow>, rows: SummaryRows) -> Vec<ChatSummary> {
    let mut users: HashMap<String, Vec<User>> = HashMap::new();
    for (chat_id, user) in rows.users {
        users.entry(chat_id).or_default().push(user);
    }
    let mut last_threads: HashMap<String, ThreadRow> =
        rows.last_threads.into_iter().map(|t| (t.chat_id.clone(), t)).collect();
    let times: HashMap<String, i64> = rows.thread_times.into_iter().collect();
    let mut last_events: HashMap<String, BTreeMap<String, LastEvent>> = HashMap::new();
    for row in rows.last_events {
        let (chat_id, thread_id) = (row.chat_id.clone(), row.thread_id.clone());
        let Some(event) = row.into_event() else {
            continue;
        };
        let thread_created_at = Micros(times.get(&thread_id).copied().unwrap_or_default()).rfc3339();
        last_events
            .entry(chat_id)
            .or_default()
            .insert(event.body.kind().to_owned(), LastEvent { thread_id, thread_created_at, event });
    }
    chats
        .into_iter()
        .map(|chat| {
            let users = users.remove(&chat.id).unwrap_or_default();
            let last = last_threads.remove(&chat.id);
            ChatSummary {
                active: Some(last.as_ref().is_some_and(|t| t.active)),
                access: access(chat.group_id),
                properties: parse_properties(&chat.properties),
                last_thread_id: last.as_ref().map(|t| t.id.clone()),
                last_thread_created_at: last.as_ref().map(|t| Micros(t.created_at).rfc3339()),
                last_event_per_type: last_events.remove(&chat.id).filter(|m| !m.is_empty()),
                last_thread_summary: last.map(|t| ThreadSummary {
                    id: t.id,
                    created_at: Micros(t.created_at).rfc3339(),
                    user_ids: user_ids(&users),
                    properties: parse_properties(&t.properties),
                    active: t.active,
                    access: access(chat.group_id),
                }),
                users,
                id: chat.id,
            }
        })
        .collect()
}
