//! Statements about a chat's state beside its events: properties of chats, threads and events,
//! seen markers, rich message postbacks.

use super::Conn;
use crate::clock::Micros;
use crate::error::Result;

/// One stored event, as properties and postbacks find it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEvent {
    pub id: String,
    /// The whole event as JSON, as clients get it.
    pub event: String,
    /// `all` or `agents`.
    pub visibility: String,
}

#[derive(sqlx::FromRow)]
struct SeenMarker {
    events_seen_up_to: Option<i64>,
}

impl Conn {
    pub async fn set_chat_properties(&mut self, chat_id: &str, properties: &str) -> Result<()> {
        exec!(self, "UPDATE chats SET properties = $2 WHERE id = $1", chat_id, properties);
        Ok(())
    }

    pub async fn set_thread_properties(&mut self, thread_id: &str, properties: &str) -> Result<()> {
        exec!(self, "UPDATE threads SET properties = $2 WHERE id = $1", thread_id, properties);
        Ok(())
    }

    /// Event `event_id` of thread `thread_id` of chat `chat_id`, if it is there.
    pub async fn event_in_thread(
        &mut self,
        chat_id: &str,
        thread_id: &str,
        event_id: &str,
    ) -> Result<Option<StoredEvent>> {
        Ok(fetch!(
            self,
            fetch_optional StoredEvent,
            "SELECT id, event, visibility FROM events WHERE id = $1 AND thread_id = $2 AND chat_id = $3",
            event_id,
            thread_id,
            chat_id
        ))
    }

    /// Replaces an event's stored JSON (its properties changed).
    pub async fn set_event_json(&mut self, event_id: &str, event: &str) -> Result<()> {
        exec!(self, "UPDATE events SET event = $2 WHERE id = $1", event_id, event);
        Ok(())
    }

    /// The user's seen marker in the chat: `None` if they are not in it, `Some(None)` if they
    /// have seen nothing yet.
    pub async fn events_seen_up_to(&mut self, chat_id: &str, user_id: &str) -> Result<Option<Option<i64>>> {
        let row: Option<SeenMarker> = fetch!(
            self,
            fetch_optional SeenMarker,
            "SELECT events_seen_up_to FROM chat_users WHERE chat_id = $1 AND user_id = $2",
            chat_id,
            user_id
        );
        Ok(row.map(|row| row.events_seen_up_to))
    }

    /// Moves the user's seen marker forward to `at`; false if it stood there or later.
    pub async fn advance_events_seen(&mut self, chat_id: &str, user_id: &str, at: Micros) -> Result<bool> {
        let moved = exec!(
            self,
            "UPDATE chat_users SET events_seen_up_to = $3
             WHERE chat_id = $1 AND user_id = $2 AND (events_seen_up_to IS NULL OR events_seen_up_to < $3)",
            chat_id,
            user_id,
            at.0
        );
        Ok(moved > 0)
    }

    /// Records the user's latest click of a rich message button.
    #[allow(clippy::too_many_arguments)]
    pub async fn upsert_postback(
        &mut self,
        chat_id: &str,
        thread_id: &str,
        event_id: &str,
        user_id: &str,
        postback_id: &str,
        toggled: bool,
        now: Micros,
    ) -> Result<()> {
        exec!(
            self,
            "INSERT INTO rich_message_postbacks (event_id, user_id, postback_id, chat_id, thread_id, toggled, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (event_id, user_id, postback_id) DO UPDATE SET toggled = excluded.toggled, updated_at = excluded.updated_at",
            event_id,
            user_id,
            postback_id,
            chat_id,
            thread_id,
            toggled,
            now.0
        );
        Ok(())
    }

    /// The user's postbacks on an event, as `(postback_id, toggled)`.
    pub async fn postbacks(&mut self, event_id: &str, user_id: &str) -> Result<Vec<(String, bool)>> {
        Ok(fetch!(
            self,
            fetch_all(String, bool),
            "SELECT postback_id, toggled FROM rich_message_postbacks WHERE event_id = $1 AND user_id = $2 ORDER BY postback_id",
            event_id,
            user_id
        ))
    }

    /// The choices standing in `thread_ids`' rich messages (postbacks toggled on), as
    /// `(event_id, postback_id, user_id)`.
    pub async fn chosen_in_threads(&mut self, thread_ids: &[String]) -> Result<Vec<(String, String, String)>> {
        if thread_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT event_id, postback_id, user_id FROM rich_message_postbacks
             WHERE thread_id IN {} AND toggled = TRUE ORDER BY event_id, postback_id, updated_at",
            super::placeholders(1, thread_ids.len())
        );
        Ok(fetch_in!(self, (String, String, String), &sql, thread_ids))
    }
}
