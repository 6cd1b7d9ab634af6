//! The conversation as rows on screen: messages grouped by author, a separator at each new
//! day and at each new conversation (thread). Computed from the messages, never stored, so
//! a late or older message regroups its neighbours by itself.

use super::time::{local_day, unix_seconds};
use super::{Author, Content, Message};

/// Messages by one author closer together than this share a group (one name and avatar,
/// one time).
pub const GROUP_WINDOW_SECS: i64 = 5 * 60;

// A message row is most rows; boxing it would cost an allocation each for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// The first message of a day (visitor's time zone): days since 1970-01-01 and a time in
    /// that day (for formatting).
    Day { day: i64, unix_seconds: i64 },
    /// An earlier conversation ends here and a later one begins.
    NewConversation { thread_id: String },
    Message {
        message: Message,
        /// First of its group: shows the author.
        first: bool,
        /// Last of its group: shows the time and the delivery state.
        last: bool,
    },
}

impl Row {
    /// A key that stays the same for the row's life on screen.
    pub fn key(&self) -> String {
        match self {
            Row::Day { day, .. } => format!("day-{day}"),
            Row::NewConversation { thread_id } => format!("thread-{thread_id}"),
            Row::Message { message, .. } => message.key.clone(),
        }
    }
}

/// The rows for `messages` (in order) in a time zone `utc_offset_minutes` east of UTC.
pub fn rows(messages: &[Message], utc_offset_minutes: i32) -> Vec<Row> {
    let time = |m: &Message| m.created_at.as_deref().and_then(unix_seconds);
    let mut rows = Vec::with_capacity(messages.len() + 4);
    let mut last_day = None;
    let mut last_thread: Option<&str> = None;
    for (index, message) in messages.iter().enumerate() {
        let at = time(message);
        if let Some(at) = at {
            let day = local_day(at, utc_offset_minutes);
            if last_day != Some(day) {
                rows.push(Row::Day { day, unix_seconds: at });
                last_day = Some(day);
            }
        }
        if let Some(thread) = message.thread_id.as_deref() {
            if last_thread.is_some_and(|last| last != thread) {
                rows.push(Row::NewConversation { thread_id: thread.to_owned() });
            }
            last_thread = Some(thread);
        }
        let joins = |before: &Message, after: &Message| {
            let close = match (time(before), time(after)) {
                (Some(a), Some(b)) => {
                    (b - a).abs() < GROUP_WINDOW_SECS
                        && local_day(a, utc_offset_minutes) == local_day(b, utc_offset_minutes)
                }
                // Not stored yet (sending): it joins the group it follows.
                _ => true,
            };
            let same_thread = match (&before.thread_id, &after.thread_id) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            !matches!(before.content, Content::Notice(_))
                && !matches!(after.content, Content::Notice(_))
                && before.author != Author::System
                && before.author.same_as(&after.author)
                && close
                && same_thread
        };
        let first = index == 0 || !joins(&messages[index - 1], message);
        let last = messages.get(index + 1).is_none_or(|next| !joins(message, next));
        rows.push(Row::Message { message: message.clone(), first, last });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{AgentCard, Delivery};

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
            delivery: Delivery::Sent,
        }
    }

    /// The rows as short strings: `day`, `new`, or the key with `<` (first) and `>` (last).
    fn shape(rows: &[Row]) -> Vec<String> {
        rows.iter()
            .map(|r| match r {
                Row::Day { .. } => "day".into(),
                Row::NewConversation { .. } => "new".into(),
                Row::Message { message, first, last } => {
                    format!("{}{}{}", if *first { "<" } else { "" }, message.key, if *last { ">" } else { "" })
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
        assert_eq!(shape(&rows(&messages, 0)), ["day", "<a1", "a2>", "<s1>", "<v1>", "<v2>"]);
    }

    #[test]
    fn days_and_conversations_are_separated() {
        let messages = [
            message("a", Author::Visitor, "2026-11-21T22:59:00Z", "T1"),
            message("b", Author::Visitor, "2026-11-21T23:01:00Z", "T1"),
            message("c", Author::Visitor, "2026-11-21T23:02:00Z", "T2"),
        ];
        // In UTC all three are on the 21st; the thread changes before "c".
        assert_eq!(shape(&rows(&messages, 0)), ["day", "<a", "b>", "new", "<c>"]);
        // In UTC+1 midnight falls between "a" and "b".
        assert_eq!(shape(&rows(&messages, 60)), ["day", "<a>", "day", "<b>", "new", "<c>"]);
    }

    #[test]
    fn a_message_being_sent_joins_the_group_it_follows() {
        let mut sending = message("v2", Author::Visitor, "", "T1");
        sending.created_at = None;
        sending.thread_id = None;
        sending.delivery = Delivery::Sending;
        let messages = [message("v1", Author::Visitor, "2026-11-22T10:00:00Z", "T1"), sending];
        assert_eq!(shape(&rows(&messages, 0)), ["day", "<v1", "v2>"]);
    }
}
