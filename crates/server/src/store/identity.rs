//! Statements about who is who: customers and their identity cookies, agents and their tokens,
//! and the server's shared secrets.

use super::{Conn, hash_secret};
use crate::clock::Micros;
use crate::error::Result;
use confab_protocol::entity::{Agent, Customer, Statistics};

/// An agent that exists from first start.
#[derive(Debug, Clone)]
pub struct AgentSeed {
    pub id: String,
    pub name: String,
    pub job_title: String,
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

#[derive(sqlx::FromRow)]
struct CustomerRow {
    id: String,
    name: Option<String>,
    email: Option<String>,
    visits_count: i64,
    created_at: i64,
    chats_count: i64,
    threads_count: i64,
    greetings_shown_count: i64,
    greetings_accepted_count: i64,
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

    /// Counts a visit (a login) and applies the fields the client sent, creating the customer
    /// on their first.
    pub async fn record_visit(&mut self, id: &str, name: Option<&str>, email: Option<&str>, now: Micros) -> Result<()> {
        exec!(
            self,
            "INSERT INTO customers (id, cookie_secret, name, email, visits_count, created_at) VALUES ($1, '', $2, $3, 1, $4)
             ON CONFLICT (id) DO UPDATE SET visits_count = customers.visits_count + 1,
                 name = COALESCE(excluded.name, customers.name), email = COALESCE(excluded.email, customers.email)",
            id,
            name,
            email,
            now.0
        );
        Ok(())
    }

    /// A customer with statistics.
    pub async fn customer(&mut self, id: &str) -> Result<Option<Customer>> {
        let row: Option<CustomerRow> = fetch!(
            self,
            fetch_optional CustomerRow,
            "SELECT c.id, c.name, c.email, c.visits_count, c.created_at,
                    (SELECT COUNT(*) FROM chats WHERE customer_id = c.id) AS chats_count,
                    (SELECT COALESCE(MAX(threads_count), 0) FROM chats WHERE customer_id = c.id) AS threads_count,
                    (SELECT COUNT(shown_at) FROM greetings WHERE customer_id = c.id) AS greetings_shown_count,
                    (SELECT COUNT(*) FROM greetings WHERE customer_id = c.id AND state = 'accepted')
                        AS greetings_accepted_count
             FROM customers c WHERE c.id = $1",
            id
        );
        Ok(row.map(|row| Customer {
            id: row.id,
            name: row.name,
            email: row.email,
            created_at: Some(Micros(row.created_at).rfc3339()),
            statistics: Some(Statistics {
                chats_count: row.chats_count as u64,
                threads_count: row.threads_count as u64,
                visits_count: row.visits_count as u64,
                page_views_count: row.visits_count as u64,
                greetings_shown_count: row.greetings_shown_count as u64,
                greetings_accepted_count: row.greetings_accepted_count as u64,
            }),
            ..Customer::default()
        }))
    }

    /// Creates the agent if missing and sets its access token.
    pub async fn upsert_agent(&mut self, seed: &AgentSeed, token: &str) -> Result<()> {
        exec!(
            self,
            "INSERT INTO agents (id, name, job_title, token_hash) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET token_hash = excluded.token_hash",
            &seed.id,
            &seed.name,
            &seed.job_title,
            hash_secret(token)
        );
        Ok(())
    }

    /// The agent an access token belongs to.
    pub async fn agent_for_token(&mut self, token: &str) -> Result<Option<Agent>> {
        let row: Option<AgentRow> = fetch!(self, fetch_optional AgentRow, "SELECT id, name, job_title FROM agents WHERE token_hash = $1", hash_secret(token));
        Ok(row.map(Agent::from))
    }

    pub async fn agent(&mut self, id: &str) -> Result<Option<Agent>> {
        let row: Option<AgentRow> =
            fetch!(self, fetch_optional AgentRow, "SELECT id, name, job_title FROM agents WHERE id = $1", id);
        Ok(row.map(Agent::from))
    }
}
