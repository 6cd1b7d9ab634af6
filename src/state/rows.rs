//! The conversation as rows on screen: messages grouped by author, a separator at each new
//! day and at each new conversation (thread). Computed from the messages, never stored, so
//! a late or older message regroups its neighbours by itself.

use super::time::local_day;
use super::{Author, Content, Message};

/// Messages by one author closer together than this share a group (one name and avatar,
/// one time).
pub const GROUP_WINDOW_SECS: i64 = 5 * 60;

#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// The first message of a day (visitor's time zone): days since 1970-01-01 and a time in
    /// that day (for formatting).
    Day { day: i64, unix_seconds: i64 },
    /// An earlier conversation ends here and a later one begins.
    NewConversation { thread_id: String },
    /// `messages[index]`: rows point into the messages rather than copy them, so a history of
    /// thousands costs one small row each and recomputing the rows allocates little.
    Message {
        index: usize,
        /// First of its group: shows the author.
        first: bool,
        /// Last of its group: shows the time and the delivery state.
        last: bool,
    },
}

/// What names a row for its life on screen, whatever comes above or below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKey {
    Day(i64),
    Thread(String),
    Message(String),
}

impl Row {
    /// The row's key; `messages` are the ones the rows were computed from.
    pub fn key(&self, messages: &[Message]) -> RowKey {
        match self {
            Row::Day { day, .. } => RowKey::Day(*day),
            Row::NewConversation { thread_id } => RowKey::Thread(thread_id.clone()),
            Row::Message { index, .. } => RowKey::Message(messages[*index].key.clone()),
        }
    }

    /// Whether this row has `key` (without building its own).
    pub fn is(&self, key: &RowKey, messages: &[Message]) -> bool {
        match (self, key) {
            (Row::Day { day, .. }, RowKey::Day(other)) => day == other,
            (Row::NewConversation { thread_id }, RowKey::Thread(other)) => thread_id == other,
            (Row::Message { index, .. }, RowKey::Message(other)) => messages[*index].key == *other,
            _ => false,
        }
    }

    /// The message this row shows, if it is one.
    pub fn message<'a>(&self, messages: &'a [Message]) -> Option<&'a Message> {
        match self {
            Row::Message { index, .. } => messages.get(*index),
            _ => None,
        }
    }
}

/// The rows for `messages` (in order) in a time zone `utc_offset_minutes` east of UTC.
pub fn rows(messages: &[Message], utc_offset_minutes: i32) -> Vec<Row> {
    let day = |at: i64| local_day(at, utc_offset_minutes);
    let joins = |before: usize, after: usize| {
        let (a, b) = (&messages[before], &messages[after]);
        let close = match (a.at, b.at) {
            (Some(x), Some(y)) => (y - x).abs() < GROUP_WINDOW_SECS && day(x) == day(y),
            // Not stored yet (sending): it joins the group it follows.
            _ => true,
        };
        let same_thread = match (&a.thread_id, &b.thread_id) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        };
        !matches!(a.content, Content::Notice(_))
            && !matches!(b.content, Content::Notice(_))
            && a.author != Author::System
            && a.author.same_as(&b.author)
            && close
            && same_thread
    };
    let mut rows = Vec::with_capacity(messages.len() + 4);
    let mut last_day = None;
    let mut last_thread: Option<&str> = None;
    for (index, message) in messages.iter().enumerate() {
        if let Some(at) = message.at {
            let today = day(at);
            if last_day != Some(today) {
                rows.push(Row::Day { day: today, unix_seconds: at });
                last_day = Some(today);
            }
        }
        if let Some(thread) = message.thread_id.as_deref() {
            if last_thread.is_some_and(|last| last != thread) {
                rows.push(Row::NewConversation { thread_id: thread.to_owned() });
            }
            last_thread = Some(thread);
        }
        let first = index == 0 || !joins(index - 1, index);
        let last = index + 1 == messages.len() || !joins(index, index + 1);
        rows.push(Row::Message { index, first, last });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{AgentCard, Delivery, unix_seconds};

    fn agent(id: &str) -> Author {
        Author::Agent(AgentCard { id: id.into(), name: id.into(), avatar: None, job_title: None })
    }

    fn message(key: &str, author: Author, at: &str, thread: &str) -> Message {
        Message {
            key: key.into(),
            id: Some(key.into()),
            seq: None,
            thread_id: Some(thread.into()),
            author,
            content: Content::Text(key.into()),
            created_at: Some(at.into()),
            at: unix_seconds(at),
            delivery: Delivery::Sent,
        }
    }

    /// The rows as short strings: `day`, `new`, or the key with `<` (first) and `>` (last).
    fn shape(messages: &[Message], utc_offset_minutes: i32) -> Vec<String> {
        rows(messages, utc_offset_minutes)
            .iter()
            .map(|r| match r {
                Row::Day { .. } => "day".into(),
                Row::NewConversation { .. } => "new".into(),
                Row::Message { index, first, last } => {
                    let key = &messages[*index].key;
                    format!("{}{key}{}", if *first { "<" } else { "" }, if *last { ">" } else { "" })
                }
            })
            .collect()
    }

    #[test]
    fn messages_group_by_author_within_minutes() {
        let messages = [
            message("a1", agent("alex"), "2026-11-22T10:00:00Z", "T1"),
            message("a2", agent("alex"), "2026-11-22T10:01:00Z", "T1"),
            message("s1", agent("sam"), "2026-11-22T10:02:00Z", "T1"),
            message("v1", Author::Visitor, "2026-11-22T10:03:00Z", "T1"),
            message("v2", Author::Visitor, "2026-11-22T10:20:00Z", "T1"),
        ];
        assert_eq!(shape(&messages, 0), ["day", "<a1", "a2>", "<s1>", "<v1>", "<v2>"]);
    }

    #[test]
    fn days_and_conversations_are_separated() {
        let messages = [
            message("a", Author::Visitor, "2026-11-21T22:59:00Z", "T1"),
            message("b", Author::Visitor, "2026-11-21T23:01:00Z", "T1"),
            message("c", Author::Visitor, "2026-11-21T23:02:00Z", "T2"),
        ];
        // In UTC all three are on the 21st; the thread changes before "c".
        assert_eq!(shape(&messages, 0), ["day", "<a", "b>", "new", "<c>"]);
        // In UTC+1 midnight falls between "a" and "b".
        assert_eq!(shape(&messages, 60), ["day", "<a>", "day", "<b>", "new", "<c>"]);
    }

    #[test]
    fn a_message_being_sent_joins_the_group_it_follows() {
        let mut sending = message("v2", Author::Visitor, "", "T1");
        sending.created_at = None;
        sending.at = None;
        sending.thread_id = None;
        sending.delivery = Delivery::Sending;
        let messages = [message("v1", Author::Visitor, "2026-11-22T10:00:00Z", "T1"), sending];
        assert_eq!(shape(&messages, 0), ["day", "<v1", "v2>"]);
    }
}
