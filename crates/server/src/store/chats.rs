//! Statements about chats, their users, threads and events. Rows come back as the row types
//! below; `domain` turns them into wire entities and decides what each requester may see.
//!
//! Every read that can grow with a chat's age is bounded: thread pages by `LIMIT`, a thread's
//! events by `limits::MAX_EVENTS_PER_THREAD_READ` (its newest), summaries by one query per
//! page, not per chat.

use super::sql::Sql;
use super::{Conn, placeholders};
use crate::clock::Micros;
use crate::error::Result;
use confab_protocol::action::SortOrder;
use confab_protocol::archive::PropertyFilters;
use confab_protocol::entity::{Customer, Event, User};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChatRow {
    pub id: String,
    pub customer_id: String,
    pub properties: String,
    /// The group the chat belongs to.
    pub group_id: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ThreadRow {
    pub id: String,
    pub chat_id: String,
    pub seq: i64,
    pub active: bool,
    pub created_at: i64,
    pub properties: String,
}

/// A thread with the number of events its reader may see.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ThreadWithCount {
    #[sqlx(flatten)]
    pub thread: ThreadRow,
    pub events_count: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub chat_id: String,
    pub thread_id: String,
    pub seq: i64,
    pub event: String,
}

impl EventRow {
    /// The stored event, with its sequence number from the row (the authority). `None` for a
    /// row that no longer parses (written by a future version, say): skipped, never fatal.
    pub fn into_event(self) -> Option<Event> {
        let mut event: Event = serde_json::from_str(&self.event).ok()?;
        event.seq = Some(self.seq as u64);
        Some(event)
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    chat_id: String,
    user_id: String,
    user_type: String,
    name: Option<String>,
    email: Option<String>,
    avatar: Option<String>,
    job_title: Option<String>,
    events_seen_up_to: Option<i64>,
}

impl UserRow {
    fn into_user(self) -> User {
        let events_seen_up_to = self.events_seen_up_to.map(|at| Micros(at).rfc3339());
        match self.user_type.as_str() {
            "customer" => User::Customer(Customer {
                id: self.user_id,
                name: self.name,
                email: self.email,
                avatar: self.avatar,
                present: Some(true),
                events_seen_up_to,
                ..Customer::default()
            }),
            _ => User::Agent(confab_protocol::Agent {
                id: self.user_id,
                name: self.name,
                job_title: self.job_title,
                present: Some(true),
                events_seen_up_to,
                ..Default::default()
            }),
        }
    }
}

/// Who reads a listing of chats: which chats it may show.
#[derive(Debug, Clone, Copy)]
pub enum Reader<'a> {
    /// A customer: their own chats.
    Customer(&'a str),
    /// An agent: the chats of [`agent_access`].
    Agent(&'a str),
}

impl Reader<'_> {
    fn id(&self) -> &str {
        match self {
            Reader::Customer(id) | Reader::Agent(id) => id,
        }
    }

    /// The condition on `chats`, with the reader's id bound at `me`.
    fn sql(&self, me: &str) -> String {
        match self {
            Reader::Customer(_) => format!("customer_id = {me}"),
            Reader::Agent(_) => agent_access("chats", me),
        }
    }
}

/// Which chats a listing shows (Agent Chat API `list_chats` `filters`); the default shows all.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChatFilters {
    /// Only chats with (`true`) or without (`false`) an active thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<u32>>,
    /// Leave out chats that have no thread yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub without_threadless: bool,
    /// Chat properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<PropertyFilters>,
}

impl ChatFilters {
    /// Adds the filters as conditions on `chats`; `validation` for a bad property filter.
    fn conditions(&self, sql: &mut Sql) -> Result<()> {
        let active = "EXISTS (SELECT 1 FROM threads t WHERE t.chat_id = chats.id AND t.seq = chats.threads_count
                      AND t.active = TRUE)";
        match self.active {
            Some(true) => sql.and(active),
            Some(false) => sql.and(&format!("NOT {active}")),
            None => {}
        }
        if let Some(groups) = &self.group_ids {
            sql.and(&group_condition("group_id", groups));
        }
        if self.without_threadless {
            sql.and("threads_count > 0");
        }
        if let Some(properties) = &self.properties {
            sql.property_filters(properties, &["chats.properties"])?;
        }
        Ok(())
    }
}

/// `<column> IN (…)` for group ids (numbers: nothing to bind); false for none.
pub fn group_condition(column: &str, groups: &[u32]) -> String {
    if groups.is_empty() {
        return "FALSE".to_owned();
    }
    let list: Vec<String> = groups.iter().map(u32::to_string).collect();
    format!("{column} IN ({})", list.join(", "))
}

/// SQL: whether the agent bound at `agent` may see the chat aliased `chat` (Agent Chat API
/// scopes): an administrator every chat (`chats--all`), an agent the chats of their groups
/// (`chats--access`) and the chats they are a user of (transferred or added to them).
pub fn agent_access(chat: &str, agent: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM agents a WHERE a.id = {agent} AND a.role = 'administrator')
          OR {chat}.group_id IN (SELECT ga.group_id FROM group_agents ga WHERE ga.agent_id = {agent})
          OR EXISTS (SELECT 1 FROM chat_users cu WHERE cu.chat_id = {chat}.id AND cu.user_id = {agent}))"
    )
}

pub fn order(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    }
}

impl Conn {
    /// Creates the customer's chat unless they have one; false when they do (the unique
    /// index on `chats.customer_id` decides, even between nodes).
    pub async fn insert_chat(&mut self, id: &str, customer_id: &str, properties: &str, now: Micros) -> Result<bool> {
        let inserted = exec!(
            self,
            "INSERT INTO chats (id, customer_id, created_at, properties) VALUES ($1, $2, $3, $4)
             ON CONFLICT (customer_id) DO NOTHING",
            id,
            customer_id,
            now.0,
            properties
        );
        Ok(inserted > 0)
    }

    pub async fn chat_of_customer(&mut self, customer_id: &str) -> Result<Option<String>> {
        let row: Option<(String,)> =
            fetch!(self, fetch_optional(String,), "SELECT id FROM chats WHERE customer_id = $1", customer_id);
        Ok(row.map(|(id,)| id))
    }

    pub async fn chat(&mut self, id: &str) -> Result<Option<ChatRow>> {
        Ok(
            fetch!(self, fetch_optional ChatRow, "SELECT id, customer_id, properties, group_id FROM chats WHERE id = $1", id),
        )
    }

    /// Adds a user to the chat; false if already in it.
    pub async fn add_chat_user(&mut self, chat_id: &str, user_id: &str, user_type: &str) -> Result<bool> {
        let added = exec!(
            self,
            "INSERT INTO chat_users (chat_id, user_id, user_type) VALUES ($1, $2, $3)
             ON CONFLICT (chat_id, user_id) DO NOTHING",
            chat_id,
            user_id,
            user_type
        );
        Ok(added > 0)
    }

    /// Removes a user from the chat; false if not in it.
    pub async fn remove_chat_user(&mut self, chat_id: &str, user_id: &str) -> Result<bool> {
        let removed = exec!(self, "DELETE FROM chat_users WHERE chat_id = $1 AND user_id = $2", chat_id, user_id);
        Ok(removed > 0)
    }

    /// `(user_id, user_type)` of everyone in the chat, and its followers as `follower`.
    pub async fn chat_members(&mut self, chat_id: &str) -> Result<Vec<(String, String)>> {
        Ok(fetch!(
            self,
            fetch_all(String, String),
            "SELECT user_id, user_type FROM chat_users WHERE chat_id = $1
             UNION ALL SELECT agent_id, 'follower' FROM chat_followers WHERE chat_id = $1
             ORDER BY 2 DESC, 1",
            chat_id
        ))
    }

    /// The users of each chat in `chat_ids`, customers first, as `(chat_id, user)`.
    pub async fn users_of_chats(&mut self, chat_ids: &[String]) -> Result<Vec<(String, User)>> {
        if chat_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT u.chat_id, u.user_id, u.user_type, u.events_seen_up_to,
                    COALESCE(c.name, a.name) AS name, c.email AS email, c.avatar AS avatar, a.job_title AS job_title
             FROM chat_users u
             LEFT JOIN customers c ON u.user_type = 'customer' AND c.id = u.user_id
             LEFT JOIN agents a ON u.user_type = 'agent' AND a.id = u.user_id
             WHERE u.chat_id IN {} ORDER BY u.chat_id, u.user_type DESC, u.user_id",
            placeholders(1, chat_ids.len())
        );
        let rows = fetch_in!(self, UserRow, &sql, chat_ids);
        Ok(rows.into_iter().map(|row| (row.chat_id.clone(), row.into_user())).collect())
    }

    /// Counts a new thread in the chat and returns its number. On PostgreSQL this locks the
    /// chat's row until commit, which serializes thread changes per chat across nodes. `None`
    /// if there is no such chat.
    pub async fn bump_threads_count(&mut self, chat_id: &str) -> Result<Option<i64>> {
        let row: Option<(i64,)> = fetch!(
            self,
            fetch_optional(i64,),
            "UPDATE chats SET threads_count = threads_count + 1 WHERE id = $1 RETURNING threads_count",
            chat_id
        );
        Ok(row.map(|(n,)| n))
    }

    /// Gives out the chat's next event sequence number (1, 2, …), locking the chat's row
    /// until commit.
    pub async fn next_event_seq(&mut self, chat_id: &str) -> Result<i64> {
        let (seq,): (i64,) = fetch!(
            self,
            fetch_one(i64,),
            "UPDATE chats SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
            chat_id
        );
        Ok(seq)
    }

    pub async fn insert_thread(
        &mut self,
        id: &str,
        chat_id: &str,
        seq: i64,
        properties: &str,
        now: Micros,
    ) -> Result<()> {
        exec!(
            self,
            "INSERT INTO threads (id, chat_id, seq, active, created_at, properties) VALUES ($1, $2, $3, TRUE, $4, $5)",
            id,
            chat_id,
            seq,
            now.0,
            properties
        );
        Ok(())
    }

    /// The chat's latest thread.
    pub async fn last_thread(&mut self, chat_id: &str) -> Result<Option<ThreadRow>> {
        Ok(fetch!(
            self,
            fetch_optional ThreadRow,
            "SELECT id, chat_id, seq, active, created_at, properties FROM threads WHERE chat_id = $1 ORDER BY seq DESC LIMIT 1",
            chat_id
        ))
    }

    pub async fn thread(&mut self, chat_id: &str, thread_id: &str) -> Result<Option<ThreadRow>> {
        Ok(fetch!(
            self,
            fetch_optional ThreadRow,
            "SELECT id, chat_id, seq, active, created_at, properties FROM threads WHERE chat_id = $1 AND id = $2",
            chat_id,
            thread_id
        ))
    }

    /// Closes the thread; false if it was not active.
    pub async fn deactivate_thread(&mut self, thread_id: &str) -> Result<bool> {
        Ok(exec!(self, "UPDATE threads SET active = FALSE WHERE id = $1 AND active = TRUE", thread_id) > 0)
    }

    /// Ids of the threads before and after thread number `seq` of the chat.
    pub async fn thread_neighbours(&mut self, chat_id: &str, seq: i64) -> Result<(Option<String>, Option<String>)> {
        Ok(fetch!(
            self,
            fetch_one(Option<String>, Option<String>),
            "SELECT (SELECT id FROM threads WHERE chat_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT 1),
                    (SELECT id FROM threads WHERE chat_id = $1 AND seq > $2 ORDER BY seq ASC LIMIT 1)",
            chat_id,
            seq
        ))
    }

    /// `(seq, id)` of the chat's threads numbered `from..=to`.
    pub async fn thread_ids_between(&mut self, chat_id: &str, from: i64, to: i64) -> Result<Vec<(i64, String)>> {
        Ok(fetch!(
            self,
            fetch_all(i64, String),
            "SELECT seq, id FROM threads WHERE chat_id = $1 AND seq BETWEEN $2 AND $3",
            chat_id,
            from,
            to
        ))
    }

    pub async fn insert_event(
        &mut self,
        row: &EventRow,
        id: &str,
        event: &Event,
        author_id: &str,
        now: Micros,
    ) -> Result<()> {
        exec!(
            self,
            "INSERT INTO events (id, chat_id, thread_id, seq, kind, author_id, created_at, custom_id, visibility, event)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            id,
            &row.chat_id,
            &row.thread_id,
            row.seq,
            event.body.kind(),
            author_id,
            now.0,
            event.custom_id.as_deref(),
            event.visibility.as_deref().unwrap_or("all"),
            &row.event
        );
        Ok(())
    }

    /// The event `author_id` sent to the chat with `custom_id`, if any: a retried send finds
    /// its first try here (the newest, should an old client have reused the id).
    pub async fn event_by_custom_id(
        &mut self,
        chat_id: &str,
        author_id: &str,
        custom_id: &str,
    ) -> Result<Option<Event>> {
        let row: Option<EventRow> = fetch!(
            self,
            fetch_optional EventRow,
            "SELECT chat_id, thread_id, seq, event FROM events
             WHERE chat_id = $1 AND author_id = $2 AND custom_id = $3 ORDER BY seq DESC LIMIT 1",
            chat_id,
            author_id,
            custom_id
        );
        Ok(row.and_then(EventRow::into_event))
    }

    /// The events of `thread_ids` that the reader may see (`agents_view`: internal notes too),
    /// at most `per_thread` of each thread (its newest), in chat order.
    pub async fn thread_events(
        &mut self,
        thread_ids: &[String],
        agents_view: bool,
        per_thread: i64,
    ) -> Result<Vec<EventRow>> {
        if thread_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT chat_id, thread_id, seq, event FROM (
                 SELECT chat_id, thread_id, seq, event,
                        ROW_NUMBER() OVER (PARTITION BY thread_id ORDER BY seq DESC) AS newest
                 FROM events WHERE thread_id IN {} AND ($1 OR visibility = 'all')
             ) AS visible WHERE newest <= $2 ORDER BY seq",
            placeholders(3, thread_ids.len())
        );
        Ok(fetch_in!(self, EventRow, &sql, thread_ids, agents_view, per_thread))
    }

    /// `(chat_id, has_active_thread)` of the customer's chats, as `login` lists them.
    pub async fn login_chats(&mut self, customer_id: &str) -> Result<Vec<(String, bool)>> {
        Ok(fetch!(
            self,
            fetch_all(String, bool),
            "SELECT c.id, EXISTS(SELECT 1 FROM threads t WHERE t.chat_id = c.id AND t.active = TRUE)
             FROM chats c WHERE c.customer_id = $1",
            customer_id
        ))
    }

    /// Whether the agent may see the chat ([`agent_access`]).
    pub async fn agent_may_see(&mut self, agent_id: &str, chat_id: &str) -> Result<bool> {
        let sql = format!("SELECT {} FROM chats c WHERE c.id = $1", agent_access("c", "$2"));
        let row: Option<(bool,)> = fetch!(self, fetch_optional(bool,), &sql, chat_id, agent_id);
        Ok(row.is_some_and(|(may,)| may))
    }

    /// Whether the agent may start chats in the group: an administrator in any, an agent in
    /// their own.
    pub async fn agent_may_use_group(&mut self, agent_id: &str, group_id: u32) -> Result<bool> {
        let (may,): (bool,) = fetch!(
            self,
            fetch_one(bool,),
            "SELECT EXISTS (SELECT 1 FROM agents a WHERE a.id = $1 AND a.role = 'administrator')
                 OR EXISTS (SELECT 1 FROM group_agents ga WHERE ga.agent_id = $1 AND ga.group_id = $2)",
            agent_id,
            i64::from(group_id)
        );
        Ok(may)
    }

    /// How many chats the reader sees: a customer their own, an agent those of [`agent_access`].
    pub async fn count_chats(&mut self, reader: Reader<'_>, filters: &ChatFilters) -> Result<u64> {
        let mut sql = self.sql();
        let me = sql.bind(reader.id());
        sql.push(&format!("SELECT COUNT(*) FROM chats WHERE {}", reader.sql(&me)));
        filters.conditions(&mut sql)?;
        self.count_built(&sql).await
    }

    /// One page of chats, by creation time.
    pub async fn chat_page(
        &mut self,
        reader: Reader<'_>,
        filters: &ChatFilters,
        sort: SortOrder,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ChatRow>> {
        let mut sql = self.sql();
        let me = sql.bind(reader.id());
        sql.push(&format!("SELECT id, customer_id, properties, group_id FROM chats WHERE {}", reader.sql(&me)));
        filters.conditions(&mut sql)?;
        let (limit, offset) = (sql.bind(i64::from(limit)), sql.bind(i64::from(offset)));
        sql.push(&format!(" ORDER BY created_at {o}, id {o} LIMIT {limit} OFFSET {offset}", o = order(sort)));
        self.fetch_built(&sql).await
    }

    /// The latest thread of each chat in `chat_ids`.
    pub async fn last_threads(&mut self, chat_ids: &[String]) -> Result<Vec<ThreadRow>> {
        if chat_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT t.id, t.chat_id, t.seq, t.active, t.created_at, t.properties
             FROM threads t JOIN chats c ON c.id = t.chat_id AND t.seq = c.threads_count
             WHERE t.chat_id IN {}",
            placeholders(1, chat_ids.len())
        );
        Ok(fetch_in!(self, ThreadRow, &sql, chat_ids))
    }

    /// The newest event of each type in each chat of `chat_ids` that the reader may see.
    pub async fn last_event_per_type(&mut self, chat_ids: &[String], agents_view: bool) -> Result<Vec<EventRow>> {
        if chat_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT e.chat_id, e.thread_id, e.seq, e.event FROM events e
             WHERE e.chat_id IN {} AND ($1 OR e.visibility = 'all')
               AND e.seq = (SELECT MAX(x.seq) FROM events x
                            WHERE x.chat_id = e.chat_id AND x.kind = e.kind AND ($1 OR x.visibility = 'all'))",
            placeholders(2, chat_ids.len())
        );
        Ok(fetch_in!(self, EventRow, &sql, chat_ids, agents_view))
    }

    /// Creation times of threads, by id (for `last_event_per_type`).
    pub async fn thread_times(&mut self, thread_ids: &[String]) -> Result<Vec<(String, i64)>> {
        if thread_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT id, created_at FROM threads WHERE id IN {}", placeholders(1, thread_ids.len()));
        Ok(fetch_in!(self, (String, i64), &sql, thread_ids))
    }

    pub async fn count_threads(&mut self, chat_id: &str) -> Result<u64> {
        let (count,): (i64,) =
            fetch!(self, fetch_one(i64,), "SELECT COUNT(*) FROM threads WHERE chat_id = $1", chat_id);
        Ok(count as u64)
    }

    /// Up to `limit` threads of the chat from `offset`, each with the number of events the
    /// reader may see.
    pub async fn thread_page(
        &mut self,
        chat_id: &str,
        sort: SortOrder,
        limit: u32,
        offset: u32,
        agents_view: bool,
    ) -> Result<Vec<ThreadWithCount>> {
        let sql = format!(
            "SELECT t.id, t.chat_id, t.seq, t.active, t.created_at, t.properties,
                    (SELECT COUNT(*) FROM events e WHERE e.thread_id = t.id AND ($2 OR e.visibility = 'all')) AS events_count
             FROM threads t WHERE t.chat_id = $1 ORDER BY t.seq {} LIMIT $3 OFFSET $4",
            order(sort)
        );
        Ok(fetch!(self, fetch_all ThreadWithCount, &sql, chat_id, agents_view, i64::from(limit), i64::from(offset)))
    }
}
