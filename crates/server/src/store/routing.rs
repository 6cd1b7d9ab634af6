//! Statements about routing: groups and their forms, which agents are in which group, agents'
//! routing statuses and loads, the agent a thread is assigned to, the queue, and tickets.
//!
//! The queue is the group's active threads with a `queued_at`, oldest first (ties broken by
//! thread id): a thread's position is its rank there, computed, never stored, so two threads
//! can never share a position.
//!
//! Routing decisions are serialized by row locks taken in one global order (PostgreSQL; SQLite
//! has one writer anyway): the groups involved (ascending), then their agents (ascending);
//! a queued chat is then taken with `SKIP LOCKED`, so a routing transaction never waits for a
//! chat another transaction holds (which may itself be waiting for the group).

use super::Conn;
use crate::clock::Micros;
use crate::error::Result;

/// A group as stored: its forms are protocol `Form`s as JSON, `None` when off.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub id: i64,
    pub name: String,
    pub prechat_form: Option<String>,
    pub postchat_form: Option<String>,
    pub ticket_form: Option<String>,
    pub offline_chats: bool,
}

/// An agent of a group who accepts chats, with the number of active threads assigned to them
/// and the most they take.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Candidate {
    pub agent_id: String,
    pub load: i64,
    pub max_chats: i64,
}

impl Candidate {
    /// Whether routing may give them another chat.
    pub fn has_room(&self) -> bool {
        self.load < self.max_chats
    }
}

/// Whether a group has an agent accepting chats, and one with room for another.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupAvailability {
    pub id: i64,
    pub accepting: bool,
    pub room: bool,
}

/// A thread waiting in its group's queue.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueuedThread {
    pub thread_id: String,
    pub chat_id: String,
    pub customer_id: String,
    pub queued_at: i64,
}

/// A ticket left through the ticket form.
#[derive(Debug, Clone)]
pub struct TicketRow {
    pub id: String,
    pub customer_id: Option<String>,
    pub group_id: u32,
    pub requester_name: Option<String>,
    pub requester_mail: String,
    pub subject: Option<String>,
    pub message: String,
    pub created_at: Micros,
}

/// The time the last thread of a queue was queued, if any.
type LastQueued = (Option<i64>,);

/// `1, 2, 3`: an `IN` list of group ids (integers, so written inline).
fn id_list(ids: &[u32]) -> String {
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

impl Conn {
    /// Creates the group unless it exists; true when created.
    pub async fn insert_group(&mut self, row: &GroupRow) -> Result<bool> {
        let inserted = exec!(
            self,
            "INSERT INTO groups (id, name, prechat_form, postchat_form, ticket_form, offline_chats)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            row.id,
            &row.name,
            row.prechat_form.as_deref(),
            row.postchat_form.as_deref(),
            row.ticket_form.as_deref(),
            row.offline_chats
        );
        Ok(inserted > 0)
    }

    /// Replaces a group's settings.
    pub async fn update_group(&mut self, row: &GroupRow) -> Result<()> {
        exec!(
            self,
            "UPDATE groups SET name = $2, prechat_form = $3, postchat_form = $4, ticket_form = $5, offline_chats = $6
             WHERE id = $1",
            row.id,
            &row.name,
            row.prechat_form.as_deref(),
            row.postchat_form.as_deref(),
            row.ticket_form.as_deref(),
            row.offline_chats
        );
        Ok(())
    }

    pub async fn group(&mut self, id: u32) -> Result<Option<GroupRow>> {
        Ok(fetch!(
            self,
            fetch_optional GroupRow,
            "SELECT id, name, prechat_form, postchat_form, ticket_form, offline_chats FROM groups WHERE id = $1",
            i64::from(id)
        ))
    }

    /// Which of `ids` are groups.
    pub async fn existing_groups(&mut self, ids: &[u32]) -> Result<Vec<u32>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT id FROM groups WHERE id IN ({})", id_list(ids));
        let rows: Vec<(i64,)> = fetch!(self, fetch_all(i64,), &sql);
        Ok(rows.into_iter().map(|(id,)| id as u32).collect())
    }

    /// Makes `agents` the group's agents.
    pub async fn set_group_agents(&mut self, group_id: u32, agents: &[String]) -> Result<()> {
        exec!(self, "DELETE FROM group_agents WHERE group_id = $1", i64::from(group_id));
        for agent in agents {
            self.add_group_agent(group_id, agent).await?;
        }
        Ok(())
    }

    pub async fn add_group_agent(&mut self, group_id: u32, agent_id: &str) -> Result<()> {
        exec!(
            self,
            "INSERT INTO group_agents (group_id, agent_id) VALUES ($1, $2) ON CONFLICT (group_id, agent_id) DO NOTHING",
            i64::from(group_id),
            agent_id
        );
        Ok(())
    }

    /// The groups the agent belongs to, ascending.
    pub async fn groups_of_agent(&mut self, agent_id: &str) -> Result<Vec<u32>> {
        let rows: Vec<(i64,)> = fetch!(
            self,
            fetch_all(i64,),
            "SELECT group_id FROM group_agents WHERE agent_id = $1 ORDER BY group_id",
            agent_id
        );
        Ok(rows.into_iter().map(|(id,)| id as u32).collect())
    }

    /// Locks the groups and then their agents, in ascending order, until commit (PostgreSQL;
    /// SQLite's write transaction holds the database already). Every routing decision about
    /// these groups and agents waits for this transaction.
    pub async fn lock_routing(&mut self, group_ids: &[u32]) -> Result<()> {
        if group_ids.is_empty() || !matches!(self, Conn::Postgres(_)) {
            return Ok(());
        }
        let ids = id_list(group_ids);
        let sql = format!("SELECT id FROM groups WHERE id IN ({ids}) ORDER BY id FOR UPDATE");
        let _: Vec<(i64,)> = fetch!(self, fetch_all(i64,), &sql);
        let sql = format!(
            "SELECT id FROM agents WHERE id IN (SELECT agent_id FROM group_agents WHERE group_id IN ({ids}))
             ORDER BY id FOR UPDATE"
        );
        let _: Vec<(String,)> = fetch!(self, fetch_all(String,), &sql);
        Ok(())
    }

    /// The group's agents who accept chats, least loaded first (ties by id).
    pub async fn candidates(&mut self, group_id: u32) -> Result<Vec<Candidate>> {
        Ok(fetch!(
            self,
            fetch_all Candidate,
            "SELECT a.id AS agent_id,
                    (SELECT COUNT(*) FROM threads t WHERE t.agent_id = a.id AND t.active = TRUE) AS load,
                    a.max_chats
             FROM agents a JOIN group_agents ga ON ga.agent_id = a.id
             WHERE ga.group_id = $1 AND a.routing_status = 'accepting_chats'
             ORDER BY load, a.id",
            i64::from(group_id)
        ))
    }

    /// Availability of the groups `ids` (all groups when `None`, at most `limit`), ascending.
    pub async fn group_availability(&mut self, ids: Option<&[u32]>, limit: i64) -> Result<Vec<GroupAvailability>> {
        let filter = match ids {
            Some([]) => return Ok(Vec::new()),
            Some(ids) => format!("WHERE g.id IN ({})", id_list(ids)),
            None => String::new(),
        };
        let sql = format!(
            "SELECT g.id,
                    EXISTS(SELECT 1 FROM group_agents ga JOIN agents a ON a.id = ga.agent_id
                           WHERE ga.group_id = g.id AND a.routing_status = 'accepting_chats') AS accepting,
                    EXISTS(SELECT 1 FROM group_agents ga JOIN agents a ON a.id = ga.agent_id
                           WHERE ga.group_id = g.id AND a.routing_status = 'accepting_chats'
                             AND (SELECT COUNT(*) FROM threads t WHERE t.agent_id = a.id AND t.active = TRUE) < a.max_chats) AS room
             FROM groups g {filter} ORDER BY g.id LIMIT $1"
        );
        Ok(fetch!(self, fetch_all GroupAvailability, &sql, limit))
    }

    /// Sets an agent's routing status; false if there is no such agent.
    pub async fn set_routing_status(&mut self, agent_id: &str, status: &str) -> Result<bool> {
        Ok(exec!(self, "UPDATE agents SET routing_status = $2 WHERE id = $1", agent_id, status) > 0)
    }

    /// An agent's routing status; `None` if there is no such agent.
    pub async fn routing_status(&mut self, agent_id: &str) -> Result<Option<String>> {
        let row: Option<(String,)> =
            fetch!(self, fetch_optional(String,), "SELECT routing_status FROM agents WHERE id = $1", agent_id);
        Ok(row.map(|(status,)| status))
    }

    /// `(agent_id, status)` of every agent, or of the agents of `group_ids`, by id.
    pub async fn routing_statuses(&mut self, group_ids: Option<&[u32]>) -> Result<Vec<(String, String)>> {
        let sql = match group_ids {
            None => "SELECT id, routing_status FROM agents ORDER BY id".to_owned(),
            Some([]) => return Ok(Vec::new()),
            Some(ids) => format!(
                "SELECT id, routing_status FROM agents
                 WHERE id IN (SELECT agent_id FROM group_agents WHERE group_id IN ({})) ORDER BY id",
                id_list(ids)
            ),
        };
        Ok(fetch!(self, fetch_all(String, String), &sql))
    }

    /// The agent a thread is assigned to, and when it was queued (if it waits).
    pub async fn thread_routing(&mut self, thread_id: &str) -> Result<(Option<String>, Option<i64>)> {
        let row: Option<(Option<String>, Option<i64>)> = fetch!(
            self,
            fetch_optional(Option<String>, Option<i64>),
            "SELECT agent_id, queued_at FROM threads WHERE id = $1",
            thread_id
        );
        Ok(row.unwrap_or((None, None)))
    }

    /// Puts the thread at the end of its group's queue: queued at `now`, or just after the
    /// last one queued if that is later (threads queued within one clock tick keep their
    /// order). The group must be locked (`lock_routing`).
    pub async fn enqueue_thread(&mut self, thread_id: &str, group_id: u32, now: Micros) -> Result<Micros> {
        let (last,): LastQueued = fetch!(
            self,
            fetch_one LastQueued,
            "SELECT MAX(t.queued_at) FROM threads t JOIN chats c ON c.id = t.chat_id
             WHERE t.queued_at IS NOT NULL AND c.group_id = $1",
            i64::from(group_id)
        );
        let at = Micros(now.0.max(last.map_or(i64::MIN, |last| last + 1)));
        exec!(self, "UPDATE threads SET queued_at = $2 WHERE id = $1", thread_id, at.0);
        Ok(at)
    }

    /// Assigns the thread to the agent (out of the queue, if it waited).
    pub async fn assign_thread(&mut self, thread_id: &str, agent_id: &str) -> Result<()> {
        exec!(self, "UPDATE threads SET agent_id = $2, queued_at = NULL WHERE id = $1", thread_id, agent_id);
        Ok(())
    }

    /// Takes the thread from its agent (it was transferred): their load drops by one.
    pub async fn unassign_thread(&mut self, thread_id: &str) -> Result<()> {
        exec!(self, "UPDATE threads SET agent_id = NULL WHERE id = $1", thread_id);
        Ok(())
    }

    /// Takes the thread out of the queue (it closed, or was transferred).
    pub async fn dequeue_thread(&mut self, thread_id: &str) -> Result<()> {
        exec!(self, "UPDATE threads SET queued_at = NULL WHERE id = $1", thread_id);
        Ok(())
    }

    /// The oldest queued thread of the group whose chat no other transaction holds, locking
    /// that chat (PostgreSQL: `FOR UPDATE … SKIP LOCKED`, so this never waits on a chat).
    pub async fn next_queued(&mut self, group_id: u32) -> Result<Option<QueuedThread>> {
        let sql = self.pick(
            "SELECT t.id AS thread_id, t.chat_id, c.customer_id, t.queued_at
             FROM threads t JOIN chats c ON c.id = t.chat_id
             WHERE t.queued_at IS NOT NULL AND c.group_id = $1 ORDER BY t.queued_at, t.id LIMIT 1",
            "SELECT t.id AS thread_id, t.chat_id, c.customer_id, t.queued_at
             FROM threads t JOIN chats c ON c.id = t.chat_id
             WHERE t.queued_at IS NOT NULL AND c.group_id = $1 ORDER BY t.queued_at, t.id LIMIT 1
             FOR UPDATE OF c SKIP LOCKED",
        );
        Ok(fetch!(self, fetch_optional QueuedThread, sql, i64::from(group_id)))
    }

    /// The group's queue, oldest first: position `i + 1` is the `i`th. At most `limit`.
    pub async fn queue(&mut self, group_id: u32, limit: i64) -> Result<Vec<QueuedThread>> {
        Ok(fetch!(
            self,
            fetch_all QueuedThread,
            "SELECT t.id AS thread_id, t.chat_id, c.customer_id, t.queued_at
             FROM threads t JOIN chats c ON c.id = t.chat_id
             WHERE t.queued_at IS NOT NULL AND c.group_id = $1 ORDER BY t.queued_at, t.id LIMIT $2",
            i64::from(group_id),
            limit
        ))
    }

    /// The thread's position in its group's queue (1 = next) and when it was queued, if it
    /// waits.
    pub async fn queue_position(&mut self, thread_id: &str) -> Result<Option<(i64, i64)>> {
        let row: Option<(i64, i64)> = fetch!(
            self,
            fetch_optional(i64, i64),
            "SELECT (SELECT COUNT(*) FROM threads o JOIN chats oc ON oc.id = o.chat_id
                     WHERE o.queued_at IS NOT NULL AND oc.group_id = c.group_id
                       AND (o.queued_at < t.queued_at OR (o.queued_at = t.queued_at AND o.id <= t.id))),
                    t.queued_at
             FROM threads t JOIN chats c ON c.id = t.chat_id WHERE t.id = $1 AND t.queued_at IS NOT NULL",
            thread_id
        );
        Ok(row)
    }

    pub async fn set_chat_group(&mut self, chat_id: &str, group_id: u32) -> Result<()> {
        exec!(self, "UPDATE chats SET group_id = $2 WHERE id = $1", chat_id, i64::from(group_id));
        Ok(())
    }

    pub async fn insert_ticket(&mut self, ticket: &TicketRow) -> Result<()> {
        exec!(
            self,
            "INSERT INTO tickets (id, customer_id, group_id, requester_name, requester_mail, subject, message, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &ticket.id,
            ticket.customer_id.as_deref(),
            i64::from(ticket.group_id),
            ticket.requester_name.as_deref(),
            &ticket.requester_mail,
            ticket.subject.as_deref(),
            &ticket.message,
            ticket.created_at.0
        );
        Ok(())
    }

    /// A stored ticket's `(group_id, requester_mail, message)`.
    pub async fn ticket(&mut self, id: &str) -> Result<Option<(i64, String, String)>> {
        Ok(fetch!(
            self,
            fetch_optional(i64, String, String),
            "SELECT group_id, requester_mail, message FROM tickets WHERE id = $1",
            id
        ))
    }
}
