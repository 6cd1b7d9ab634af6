//! Statements about who is who: customers and their identity cookies, agents and their tokens,
//! and the server's shared secrets.

use super::{Conn, hash_secret};
use crate::clock::Micros;
use crate::error::Result;
use confab_protocol::entity::Agent;

/// An agent that exists from first start.
#[derive(Debug, Clone)]
pub struct AgentSeed {
    pub id: String,
    pub name: String,
    pub job_title: String,
    /// `administrator` (may configure webhooks, sees chats of every group) or `agent` (sees
    /// chats of their groups and the chats they are in).
    pub role: String,
    /// Active chats routing gives them at most.
    pub max_chats: u32,
}

#[derive(sqlx::FromRow)]
struct AgentRow {
    id: String,
    name: String,
    job_title: Option<String>,
}

impl From<AgentRow> for Agent {
    fn from(row: AgentRow) -> Self {
        Agent { id: row.id, name: Some(row.name), job_title: row.job_title, ..Agent::default() }
    }
}

/// A customer's stored fields and the counts behind their statistics (`domain` builds the
/// entity and the statistics from it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerRow {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub avatar: Option<String>,
    /// JSON: an array of one-key objects.
    pub session_fields: String,
    pub created_at: i64,
    pub visits_count: i64,
    pub page_views_count: i64,
    pub chats_count: i64,
    pub threads_count: i64,
    pub last_page_url: Option<String>,
    pub last_page_title: Option<String>,
    pub last_page_at: Option<i64>,
    pub greetings_shown_count: i64,
    pub greetings_accepted_count: i64,
}

impl Conn {
    /// The server secret `name`, created with `value` by whichever node asks first.
    pub async fn server_secret(&mut self, name: &str, value: &str) -> Result<String> {
        exec!(
            self,
            "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            name,
            value
        );
        let (value,): (String,) =
            fetch!(self, fetch_one(String,), "SELECT value FROM server_secrets WHERE name = $1", name);
        Ok(value)
    }

    /// The customer whose stored (hashed) identity secret this is: visitors from before
    /// identity secrets were derived from the signing key.
    pub async fn customer_by_cookie(&mut self, id: &str, secret: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = fetch!(
            self,
            fetch_optional(String,),
            "SELECT id FROM customers WHERE id = $1 AND cookie_secret = $2",
            id,
            hash_secret(secret)
        );
        Ok(row.map(|(id,)| id))
    }

    /// Counts a visit (a login), creating the customer on their first.
    pub async fn record_visit(&mut self, id: &str, now: Micros) -> Result<()> {
        exec!(
            self,
            "INSERT INTO customers (id, cookie_secret, visits_count, created_at) VALUES ($1, '', 1, $2)
             ON CONFLICT (id) DO UPDATE SET visits_count = customers.visits_count + 1",
            id,
            now.0
        );
        Ok(())
    }

    /// A customer made by an agent (`create_customer`): no visit yet, no cookie to log in with.
    pub async fn insert_customer(&mut self, id: &str, now: Micros) -> Result<()> {
        exec!(
            self,
            "INSERT INTO customers (id, cookie_secret, visits_count, created_at) VALUES ($1, '', 0, $2)",
            id,
            now.0
        );
        Ok(())
    }

    /// Agents whose routing status is not `offline`, with their active threads, fewest first.
    pub async fn agents_online(&mut self) -> Result<Vec<(String, i64)>> {
        Ok(fetch!(
            self,
            fetch_all(String, i64),
            "SELECT a.id, (SELECT COUNT(*) FROM threads t WHERE t.agent_id = a.id AND t.active = TRUE) AS load
             FROM agents a WHERE a.routing_status <> 'offline' ORDER BY load, a.id"
        ))
    }

    /// Locks the customer's row until commit (PostgreSQL; SQLite's write transaction holds
    /// the database already); false if there is no such customer.
    pub async fn lock_customer(&mut self, id: &str) -> Result<bool> {
        let sql =
            self.pick("SELECT id FROM customers WHERE id = $1", "SELECT id FROM customers WHERE id = $1 FOR UPDATE");
        let row: Option<(String,)> = fetch!(self, fetch_optional(String,), sql, id);
        Ok(row.is_some())
    }

    /// A customer's fields and counts.
    pub async fn customer(&mut self, id: &str) -> Result<Option<CustomerRow>> {
        Ok(fetch!(
            self,
            fetch_optional CustomerRow,
            "SELECT c.id, c.name, c.email, c.avatar, c.session_fields, c.created_at, c.visits_count,
                    c.page_views_count, c.last_page_url, c.last_page_title, c.last_page_at,
                    (SELECT COUNT(*) FROM chats WHERE customer_id = c.id) AS chats_count,
                    (SELECT COALESCE(MAX(threads_count), 0) FROM chats WHERE customer_id = c.id) AS threads_count,
                    (SELECT COUNT(shown_at) FROM greetings WHERE customer_id = c.id) AS greetings_shown_count,
                    (SELECT COUNT(*) FROM greetings WHERE customer_id = c.id AND state = 'accepted')
                        AS greetings_accepted_count
             FROM customers c WHERE c.id = $1",
            id
        ))
    }

    /// Sets the given fields of a customer (`None`: unchanged).
    pub async fn update_customer(
        &mut self,
        id: &str,
        name: Option<&str>,
        email: Option<&str>,
        avatar: Option<&str>,
        session_fields: Option<&str>,
    ) -> Result<()> {
        exec!(
            self,
            "UPDATE customers SET name = COALESCE($2, name), email = COALESCE($3, email),
                 avatar = COALESCE($4, avatar), session_fields = COALESCE($5, session_fields)
             WHERE id = $1",
            id,
            name,
            email,
            avatar,
            session_fields
        );
        Ok(())
    }

    /// Counts a page view and remembers the page as the customer's last.
    pub async fn record_page_view(&mut self, id: &str, url: &str, title: Option<&str>, now: Micros) -> Result<()> {
        exec!(
            self,
            "UPDATE customers SET page_views_count = page_views_count + 1,
                 last_page_url = $2, last_page_title = $3, last_page_at = $4
             WHERE id = $1",
            id,
            url,
            title,
            now.0
        );
        Ok(())
    }

    /// Creates the agent if missing and sets its access token.
    pub async fn upsert_agent(&mut self, seed: &AgentSeed, token: &str) -> Result<()> {
        exec!(
            self,
            "INSERT INTO agents (id, name, job_title, token_hash, role, max_chats) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash, role = excluded.role,
                                            max_chats = excluded.max_chats",
            &seed.id,
            &seed.name,
            &seed.job_title,
            hash_secret(token),
            &seed.role,
            i64::from(seed.max_chats)
        );
        Ok(())
    }

    /// The agent an access token belongs to.
    pub async fn agent_for_token(&mut self, token: &str) -> Result<Option<Agent>> {
        let row: Option<AgentRow> = fetch!(self, fetch_optional AgentRow, "SELECT id, name, job_title FROM agents WHERE token_hash = $1", hash_secret(token));
        Ok(row.map(Agent::from))
    }

    /// Every agent's id.
    pub async fn agent_ids(&mut self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = fetch!(self, fetch_all(String,), "SELECT id FROM agents ORDER BY id");
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Every customer's id.
    pub async fn customer_ids(&mut self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = fetch!(self, fetch_all(String,), "SELECT id FROM customers ORDER BY id");
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    pub async fn agent(&mut self, id: &str) -> Result<Option<Agent>> {
        let row: Option<AgentRow> =
            fetch!(self, fetch_optional AgentRow, "SELECT id, name, job_title FROM agents WHERE id = $1", id);
        Ok(row.map(Agent::from))
    }
}
