//! Chats, threads and events.
//!
//! A customer has at most one chat (protocol.md §11.1, `chat_limit_reached`); each
//! conversation in it is a thread. `start_chat` creates the chat with its first thread,
//! `resume_chat` opens a new thread in it, and events land in the active thread (or, with
//! `attach_to_last_thread`, in the latest one).

use super::paging::Page;
use super::{Requester, Store, identity::agent_from_row, random_id, timestamp};
use crate::error::{Error, Result};
use crate::limits::MAX_MESSAGE_TEXT_BYTES;
use confab_protocol::action::{InitialChat, LoginChat, SortOrder};
use confab_protocol::entity::{
    Access, Chat, ChatSummary, Customer, Event, EventBody, LastEvent, Properties, Thread,
    ThreadSummary, User,
};
use confab_protocol::ErrorType;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};
use std::collections::BTreeMap;

/// The one group every chat belongs to until groups exist.
const DEFAULT_GROUP: u32 = 0;

/// A chat just started or resumed: what `incoming_chat` carries, and the direct response.
#[derive(Debug, Clone)]
pub struct Started {
    pub chat: Chat,
    pub thread_id: String,
    pub event_ids: Vec<String>,
}

/// An event just stored, and the agent it brought into the chat, if any.
#[derive(Debug, Clone)]
pub struct Added {
    pub thread_id: String,
    pub event: Event,
    pub joined: Option<User>,
}

struct ThreadRow {
    id: String,
    seq: i64,
    active: bool,
    created_at: String,
    properties: String,
}

impl ThreadRow {
    fn from_row(row: &SqliteRow) -> Self {
        Self {
            id: row.get("id"),
            seq: row.get("seq"),
            active: row.get::<i64, _>("active") != 0,
            created_at: row.get("created_at"),
            properties: row.get("properties"),
        }
    }
}

fn parse_properties(json: &str) -> Option<Properties> {
    serde_json::from_str(json).ok()
}

/// Checks an event a user wants to send: what customers may send, sizes, URL schemes.
fn validate_event(requester: Requester<'_>, event: &Event) -> Result<()> {
    match &event.body {
        EventBody::Message(m) => {
            if m.text.trim().is_empty() {
                return Err(Error::validation("Message text must not be empty"));
            }
            if m.text.len() > MAX_MESSAGE_TEXT_BYTES {
                return Err(Error::validation(format!(
                    "Message text is longer than {MAX_MESSAGE_TEXT_BYTES} bytes"
                )));
            }
        }
        EventBody::File(f) => {
            let lower = f.url.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://")) {
                return Err(Error::validation("File URL must be http or https"));
            }
        }
        EventBody::SystemMessage(_) => {
            if matches!(requester, Requester::Customer(_)) {
                return Err(Error::validation("Customers cannot send system messages"));
            }
        }
        EventBody::Unknown(_) => {
            return Err(Error::validation(format!("Event type `{}` is not supported", event.body.kind())));
        }
    }
    match event.visibility.as_deref() {
        None | Some("all") => Ok(()),
        Some("agents") if matches!(requester, Requester::Agent(_)) => Ok(()),
        Some(other) => Err(Error::validation(format!("Visibility `{other}` is not allowed"))),
    }
}

/// Whether a customer may see this event.
fn visible_to_customers(event: &Event) -> bool {
    event.visibility.as_deref() != Some("agents")
}

impl Store {
    /// `not_found` unless the requester may see the chat.
    async fn check_access(&self, requester: Requester<'_>, chat_id: &str) -> Result<()> {
        let owner: Option<String> = sqlx::query("SELECT customer_id FROM chats WHERE id = ?")
            .bind(chat_id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.get(0));
        match (owner, requester) {
            (Some(_), Requester::Agent(_)) => Ok(()),
            (Some(owner), Requester::Customer(id)) if owner == id => Ok(()),
            _ => Err(Error::not_found(format!("Chat {chat_id} not found"))),
        }
    }

    /// The ids of everyone in the chat: who receives its pushes.
    pub async fn chat_user_ids(&self, chat_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT user_id FROM chat_users WHERE chat_id = ?")
            .bind(chat_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Who receives a push about `event`: everyone in the chat, or only its agents when the
    /// event is an internal note (`visibility: agents`).
    pub async fn recipients(&self, chat_id: &str, event: &Event) -> Result<Vec<String>> {
        let agents_only = !visible_to_customers(event);
        let rows = sqlx::query("SELECT user_id FROM chat_users WHERE chat_id = ? AND (? = 0 OR user_type = 'agent')")
            .bind(chat_id)
            .bind(agents_only)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// The customer's chats as the `login` response lists them.
    pub async fn login_chats(&self, customer_id: &str) -> Result<Vec<LoginChat>> {
        let rows = sqlx::query(
            "SELECT c.id, EXISTS(SELECT 1 FROM threads t WHERE t.chat_id = c.id AND t.active = 1)
             FROM chats c WHERE c.customer_id = ?",
        )
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| LoginChat {
                chat_id: r.get(0),
                has_unread_events: false,
                has_active_thread: Some(r.get::<i64, _>(1) != 0),
            })
            .collect())
    }

    /// Starts the customer's chat with its first thread and initial events.
    pub async fn start_chat(&self, customer_id: &str, initial: &InitialChat) -> Result<Started> {
        let requester = Requester::Customer(customer_id);
        let events = initial.thread.as_ref().and_then(|t| t.events.clone()).unwrap_or_default();
        for event in &events {
            validate_event(requester, event)?;
        }
        let chat_id = {
            let _write = self.write.lock().await;
            let existing = sqlx::query("SELECT id FROM chats WHERE customer_id = ?")
                .bind(customer_id)
                .fetch_optional(&self.pool)
                .await?;
            if let Some(row) = existing {
                let id: String = row.get(0);
                return Err(Error::new(
                    ErrorType::ChatLimitReached,
                    format!("Customer already has chat {id}; use resume_chat to continue it"),
                ));
            }
            let chat_id = random_id(10);
            let properties = initial.properties.clone().unwrap_or_default();
            let mut tx = self.pool.begin().await?;
            sqlx::query("INSERT INTO chats (id, customer_id, created_at, properties) VALUES (?, ?, ?, ?)")
                .bind(&chat_id)
                .bind(customer_id)
                .bind(timestamp())
                .bind(serde_json::Value::Object(properties).to_string())
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO chat_users (chat_id, user_id, user_type) VALUES (?, ?, 'customer')")
                .bind(&chat_id)
                .bind(customer_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            chat_id
        };
        self.open_thread(requester, &chat_id, initial, events).await
    }

    /// Closes the chat's active thread; returns its id. `chat_inactive` if none is active.
    pub async fn deactivate_chat(&self, requester: Requester<'_>, chat_id: &str) -> Result<String> {
        self.check_access(requester, chat_id).await?;
        let _write = self.write.lock().await;
        let thread = sqlx::query("SELECT id FROM threads WHERE chat_id = ? AND active = 1")
            .bind(chat_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::new(ErrorType::ChatInactive, format!("Chat {chat_id} is inactive")))?;
        let thread_id: String = thread.get(0);
        sqlx::query("UPDATE threads SET active = 0 WHERE id = ?").bind(&thread_id).execute(&self.pool).await?;
        Ok(thread_id)
    }

    /// Opens a new thread in the customer's inactive chat (v3.5 `resume_chat`, v3.2
    /// `activate_chat`).
    pub async fn resume_chat(&self, customer_id: &str, initial: &InitialChat) -> Result<Started> {
        let requester = Requester::Customer(customer_id);
        let chat_id = initial.id.as_deref().ok_or_else(|| Error::validation("chat.id is required"))?;
        self.check_access(requester, chat_id).await?;
        let events = initial.thread.as_ref().and_then(|t| t.events.clone()).unwrap_or_default();
        for event in &events {
            validate_event(requester, event)?;
        }
        self.open_thread(requester, chat_id, initial, events).await
    }

    async fn open_thread(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        initial: &InitialChat,
        events: Vec<Event>,
    ) -> Result<Started> {
        let (thread_id, event_ids) = {
            let _write = self.write.lock().await;
            let last = sqlx::query("SELECT MAX(seq), MAX(active) FROM threads WHERE chat_id = ?")
                .bind(chat_id)
                .fetch_one(&self.pool)
                .await?;
            if last.get::<Option<i64>, _>(1) == Some(1) {
                return Err(Error::new(ErrorType::ChatAlreadyActive, format!("Chat {chat_id} is already active")));
            }
            let seq = last.get::<Option<i64>, _>(0).unwrap_or(0) + 1;
            let thread_id = random_id(10);
            let properties = initial.thread.as_ref().and_then(|t| t.properties.clone()).unwrap_or_default();
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "INSERT INTO threads (id, chat_id, seq, active, created_at, properties) VALUES (?, ?, ?, 1, ?, ?)",
            )
            .bind(&thread_id)
            .bind(chat_id)
            .bind(seq)
            .bind(timestamp())
            .bind(serde_json::Value::Object(properties).to_string())
            .execute(&mut *tx)
            .await?;
            let mut event_ids = Vec::with_capacity(events.len());
            for (i, event) in events.into_iter().enumerate() {
                let stored = insert_event(&mut tx, chat_id, &thread_id, i as i64 + 1, requester.id(), event).await?;
                event_ids.push(stored.id.unwrap_or_default());
            }
            tx.commit().await?;
            (thread_id, event_ids)
        };
        let chat = self.get_chat(requester, chat_id, Some(&thread_id)).await?;
        Ok(Started { chat, thread_id, event_ids })
    }

    /// Adds an event to the chat's active thread (or its latest, with
    /// `attach_to_last_thread`). An agent who writes joins the chat.
    pub async fn add_event(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        event: Event,
        attach_to_last_thread: bool,
    ) -> Result<Added> {
        validate_event(requester, &event)?;
        self.check_access(requester, chat_id).await?;
        let _write = self.write.lock().await;
        let thread = sqlx::query("SELECT id, active FROM threads WHERE chat_id = ? ORDER BY seq DESC LIMIT 1")
            .bind(chat_id)
            .fetch_optional(&self.pool)
            .await?;
        let thread_id: String = match thread {
            Some(row) if row.get::<i64, _>(1) != 0 || attach_to_last_thread => row.get(0),
            _ => return Err(Error::new(ErrorType::ChatInactive, format!("Chat {chat_id} is inactive"))),
        };
        let mut tx = self.pool.begin().await?;
        let seq: i64 = sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE thread_id = ?")
            .bind(&thread_id)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        let stored = insert_event(&mut tx, chat_id, &thread_id, seq, requester.id(), event).await?;
        let mut joined = None;
        if let Requester::Agent(agent_id) = requester {
            let added = sqlx::query("INSERT OR IGNORE INTO chat_users (chat_id, user_id, user_type) VALUES (?, ?, 'agent')")
                .bind(chat_id)
                .bind(agent_id)
                .execute(&mut *tx)
                .await?;
            if added.rows_affected() > 0 {
                let row = sqlx::query("SELECT id, name, job_title FROM agents WHERE id = ?")
                    .bind(agent_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let mut agent = agent_from_row(&row);
                agent.present = Some(true);
                joined = Some(User::Agent(agent));
            }
        }
        tx.commit().await?;
        Ok(Added { thread_id, event: stored, joined })
    }

    /// The chat with one thread: `thread_id`, or the latest.
    pub async fn get_chat(&self, requester: Requester<'_>, chat_id: &str, thread_id: Option<&str>) -> Result<Chat> {
        self.check_access(requester, chat_id).await?;
        let query = match thread_id {
            Some(_) => "SELECT * FROM threads WHERE chat_id = ? AND id = ?",
            None => "SELECT * FROM threads WHERE chat_id = ? ORDER BY seq DESC LIMIT 1",
        };
        let row = sqlx::query(query).bind(chat_id).bind(thread_id).fetch_optional(&self.pool).await?;
        let thread = match (row, thread_id) {
            (Some(row), _) => Some(self.load_thread(requester, chat_id, ThreadRow::from_row(&row)).await?),
            (None, Some(id)) => return Err(Error::not_found(format!("Thread {id} not found"))),
            (None, None) => None,
        };
        let chat = sqlx::query("SELECT properties FROM chats WHERE id = ?").bind(chat_id).fetch_one(&self.pool).await?;
        Ok(Chat {
            id: chat_id.to_owned(),
            users: self.chat_users(chat_id).await?,
            properties: parse_properties(chat.get(0)),
            access: Some(Access::groups([DEFAULT_GROUP])),
            thread,
        })
    }

    async fn chat_users(&self, chat_id: &str) -> Result<Vec<User>> {
        let mut users = Vec::new();
        let customers = sqlx::query(
            "SELECT c.id, c.name, c.email FROM chat_users u JOIN customers c ON c.id = u.user_id
             WHERE u.chat_id = ? AND u.user_type = 'customer'",
        )
        .bind(chat_id)
        .fetch_all(&self.pool)
        .await?;
        for row in customers {
            users.push(User::Customer(Customer {
                id: row.get(0),
                name: row.get(1),
                email: row.get(2),
                present: Some(true),
                ..Customer::default()
            }));
        }
        let agents = sqlx::query(
            "SELECT a.id, a.name, a.job_title FROM chat_users u JOIN agents a ON a.id = u.user_id
             WHERE u.chat_id = ? AND u.user_type = 'agent' ORDER BY a.id",
        )
        .bind(chat_id)
        .fetch_all(&self.pool)
        .await?;
        for row in agents {
            let mut agent = agent_from_row(&row);
            agent.present = Some(true);
            users.push(User::Agent(agent));
        }
        Ok(users)
    }

    async fn load_thread(&self, requester: Requester<'_>, chat_id: &str, row: ThreadRow) -> Result<Thread> {
        let events = sqlx::query("SELECT event FROM events WHERE thread_id = ? ORDER BY seq")
            .bind(&row.id)
            .fetch_all(&self.pool)
            .await?;
        let events = events
            .iter()
            .filter_map(|r| serde_json::from_str::<Event>(r.get::<&str, _>(0)).ok())
            .filter(|e| matches!(requester, Requester::Agent(_)) || visible_to_customers(e))
            .collect();
        let neighbours = sqlx::query(
            "SELECT (SELECT id FROM threads WHERE chat_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT 1),
                    (SELECT id FROM threads WHERE chat_id = ?1 AND seq > ?2 ORDER BY seq ASC LIMIT 1)",
        )
        .bind(chat_id)
        .bind(row.seq)
        .fetch_one(&self.pool)
        .await?;
        Ok(Thread {
            id: row.id,
            created_at: row.created_at,
            active: row.active,
            user_ids: self.chat_user_ids(chat_id).await?,
            events,
            properties: parse_properties(&row.properties),
            access: Some(Access::groups([DEFAULT_GROUP])),
            previous_thread_id: neighbours.get(0),
            next_thread_id: neighbours.get(1),
            queue: None,
        })
    }

    /// One page of the chats the requester sees: a customer their own, an agent all.
    pub async fn list_chats(&self, requester: Requester<'_>, page: Page) -> Result<(Vec<ChatSummary>, u64)> {
        let (filter, owner) = match requester {
            Requester::Customer(id) => ("WHERE customer_id = ?", Some(id)),
            Requester::Agent(_) => ("", None),
        };
        let count_sql = format!("SELECT COUNT(*) FROM chats {filter}");
        let mut count = sqlx::query_scalar(&count_sql);
        if let Some(owner) = owner {
            count = count.bind(owner);
        }
        let total: i64 = count.fetch_one(&self.pool).await?;
        let order = match page.order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        let sql = format!(
            "SELECT id, customer_id, properties FROM chats {filter} ORDER BY created_at {order}, id {order} LIMIT ? OFFSET ?"
        );
        let mut select = sqlx::query(&sql);
        if let Some(owner) = owner {
            select = select.bind(owner);
        }
        let rows = select.bind(page.size).bind(page.offset).fetch_all(&self.pool).await?;
        let mut summaries = Vec::with_capacity(rows.len());
        for row in rows {
            summaries.push(self.chat_summary(requester, row.get(0), row.get(2)).await?);
        }
        Ok((summaries, total as u64))
    }

    async fn chat_summary(&self, requester: Requester<'_>, chat_id: String, properties: String) -> Result<ChatSummary> {
        let last = sqlx::query("SELECT * FROM threads WHERE chat_id = ? ORDER BY seq DESC LIMIT 1")
            .bind(&chat_id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| ThreadRow::from_row(&r));
        // SQLite takes the bare columns of an aggregate from the row holding the MAX.
        let latest = sqlx::query(
            "SELECT e.event, t.id, t.created_at, MAX(e.thread_id || printf('%010d', e.seq))
             FROM events e JOIN threads t ON t.id = e.thread_id
             WHERE e.chat_id = ? GROUP BY json_extract(e.event, '$.type')",
        )
        .bind(&chat_id)
        .fetch_all(&self.pool)
        .await?;
        let mut last_event_per_type = BTreeMap::new();
        for row in latest {
            let Ok(event) = serde_json::from_str::<Event>(row.get::<&str, _>(0)) else { continue };
            if matches!(requester, Requester::Customer(_)) && !visible_to_customers(&event) {
                continue;
            }
            let kind = serde_json::to_value(&event.body).ok().and_then(|v| v["type"].as_str().map(str::to_owned));
            if let Some(kind) = kind {
                last_event_per_type.insert(kind, LastEvent { thread_id: row.get(1), thread_created_at: row.get(2), event });
            }
        }
        let user_ids = self.chat_user_ids(&chat_id).await?;
        Ok(ChatSummary {
            active: Some(last.as_ref().is_some_and(|t| t.active)),
            access: Some(Access::groups([DEFAULT_GROUP])),
            properties: parse_properties(&properties),
            users: self.chat_users(&chat_id).await?,
            last_thread_id: last.as_ref().map(|t| t.id.clone()),
            last_thread_created_at: last.as_ref().map(|t| t.created_at.clone()),
            last_event_per_type: (!last_event_per_type.is_empty()).then_some(last_event_per_type),
            last_thread_summary: last.map(|t| ThreadSummary {
                id: t.id,
                created_at: t.created_at,
                user_ids,
                properties: parse_properties(&t.properties),
                active: t.active,
                access: Some(Access::groups([DEFAULT_GROUP])),
            }),
            id: chat_id,
        })
    }

    /// One page of a chat's threads. With `page.by_events`, as many threads as it takes to
    /// reach `page.size` events. Returns the threads, the total, and how many were taken.
    pub async fn list_threads(&self, requester: Requester<'_>, chat_id: &str, page: Page) -> Result<(Vec<Thread>, u64)> {
        self.check_access(requester, chat_id).await?;
        let total: i64 = sqlx::query("SELECT COUNT(*) FROM threads WHERE chat_id = ?")
            .bind(chat_id)
            .fetch_one(&self.pool)
            .await?
            .get(0);
        let order = match page.order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        let rows = sqlx::query(&format!("SELECT * FROM threads WHERE chat_id = ? ORDER BY seq {order} LIMIT -1 OFFSET ?"))
            .bind(chat_id)
            .bind(page.offset)
            .fetch_all(&self.pool)
            .await?;
        let mut threads = Vec::new();
        let mut events = 0usize;
        for row in rows {
            let done = if page.by_events { events >= page.size as usize } else { threads.len() >= page.size as usize };
            if done {
                break;
            }
            let thread = self.load_thread(requester, chat_id, ThreadRow::from_row(&row)).await?;
            events += thread.events.len();
            threads.push(thread);
        }
        Ok((threads, total as u64))
    }
}

/// Inserts one event with its server-assigned fields and returns it as stored.
async fn insert_event(
    tx: &mut Transaction<'_, Sqlite>,
    chat_id: &str,
    thread_id: &str,
    seq: i64,
    author_id: &str,
    mut event: Event,
) -> Result<Event> {
    event.id = Some(format!("{thread_id}_{seq}"));
    event.created_at = Some(timestamp());
    event.author_id = Some(author_id.to_owned());
    event.visibility.get_or_insert_with(|| "all".to_owned());
    sqlx::query(
        "INSERT INTO events (id, chat_id, thread_id, seq, author_id, created_at, custom_id, event)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&event.id)
    .bind(chat_id)
    .bind(thread_id)
    .bind(seq)
    .bind(author_id)
    .bind(&event.created_at)
    .bind(&event.custom_id)
    .bind(serde_json::to_string(&event).expect("events always encode"))
    .execute(&mut **tx)
    .await?;
    Ok(event)
}
