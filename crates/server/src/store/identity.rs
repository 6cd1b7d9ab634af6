//! Customers, their identity cookies and access tokens; agents and their tokens.

use super::{Store, hash_secret, random_secret, timestamp, unix_now};
use crate::error::Result;
use confab_protocol::action::CustomerUpdate;
use confab_protocol::entity::{Agent, Customer, Statistics};
use sqlx::Row;
use std::time::Duration;

/// An agent that exists from first start.
#[derive(Debug, Clone)]
pub struct AgentSeed {
    pub id: String,
    pub name: String,
    pub job_title: String,
}

impl Store {
    /// The customer whose identity cookies these are, if they match.
    pub async fn customer_by_cookie(&self, id: &str, secret: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT id FROM customers WHERE id = ? AND cookie_secret = ?")
            .bind(id)
            .bind(hash_secret(secret))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// A new customer: returns its id and the secret for its identity cookie.
    pub async fn create_customer(&self) -> Result<(String, String)> {
        let id = uuid::Uuid::new_v4().to_string();
        let secret = random_secret();
        let _write = self.write.lock().await;
        sqlx::query("INSERT INTO customers (id, cookie_secret, created_at) VALUES (?, ?, ?)")
            .bind(&id)
            .bind(hash_secret(&secret))
            .bind(timestamp())
            .execute(&self.pool)
            .await?;
        Ok((id, secret))
    }

    /// Issues a fresh access token for the customer, valid for `ttl`.
    pub async fn issue_customer_token(&self, customer_id: &str, ttl: Duration) -> Result<String> {
        let token = random_secret();
        let now = unix_now();
        let _write = self.write.lock().await;
        // Expired tokens are useless; drop them while we are here.
        sqlx::query("DELETE FROM customer_tokens WHERE expires_at <= ?").bind(now).execute(&self.pool).await?;
        sqlx::query("INSERT INTO customer_tokens (token_hash, customer_id, expires_at) VALUES (?, ?, ?)")
            .bind(hash_secret(&token))
            .bind(customer_id)
            .bind(now + ttl.as_secs() as i64)
            .execute(&self.pool)
            .await?;
        Ok(token)
    }

    /// The customer an unexpired access token belongs to, and when the token expires (unix
    /// seconds).
    pub async fn customer_for_token(&self, token: &str) -> Result<Option<(String, i64)>> {
        let row = sqlx::query("SELECT customer_id, expires_at FROM customer_tokens WHERE token_hash = ? AND expires_at > ?")
            .bind(hash_secret(token))
            .bind(unix_now())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// Creates the agent if missing and sets its access token.
    pub async fn upsert_agent(&self, seed: &AgentSeed, token: &str) -> Result<()> {
        let _write = self.write.lock().await;
        sqlx::query(
            "INSERT INTO agents (id, name, job_title, token_hash) VALUES (?, ?, ?, ?)
             ON CONFLICT(id) DO UPDATE SET token_hash = excluded.token_hash",
        )
        .bind(&seed.id)
        .bind(&seed.name)
        .bind(&seed.job_title)
        .bind(hash_secret(token))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The agent an access token belongs to.
    pub async fn agent_for_token(&self, token: &str) -> Result<Option<Agent>> {
        let row = sqlx::query("SELECT id, name, job_title FROM agents WHERE token_hash = ?")
            .bind(hash_secret(token))
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| agent_from_row(&r)))
    }

    /// Records a visit (a login), applies the customer fields the client sent, and returns the
    /// customer with statistics, as `login` answers it.
    pub async fn login_customer(&self, id: &str, update: Option<&CustomerUpdate>) -> Result<Customer> {
        {
            let _write = self.write.lock().await;
            let (name, email) = update.map(|u| (u.name.clone(), u.email.clone())).unwrap_or_default();
            sqlx::query(
                "UPDATE customers SET visits_count = visits_count + 1,
                 name = COALESCE(?, name), email = COALESCE(?, email) WHERE id = ?",
            )
            .bind(name)
            .bind(email)
            .bind(id)
            .execute(&self.pool)
            .await?;
        }
        let mut customer = self.customer(id).await?;
        customer.session_fields = update.and_then(|u| u.session_fields.clone());
        Ok(customer)
    }

    /// A customer with statistics.
    pub async fn customer(&self, id: &str) -> Result<Customer> {
        let row = sqlx::query(
            "SELECT c.id, c.name, c.email, c.visits_count, c.created_at,
                    (SELECT COUNT(*) FROM chats WHERE customer_id = c.id),
                    (SELECT COUNT(*) FROM threads t JOIN chats ch ON ch.id = t.chat_id WHERE ch.customer_id = c.id)
             FROM customers c WHERE c.id = ?",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let visits: i64 = row.get(3);
        Ok(Customer {
            id: row.get(0),
            name: row.get(1),
            email: row.get(2),
            created_at: Some(row.get(4)),
            statistics: Some(Statistics {
                chats_count: row.get::<i64, _>(5) as u64,
                threads_count: row.get::<i64, _>(6) as u64,
                visits_count: visits as u64,
                page_views_count: visits as u64,
                greetings_shown_count: 0,
                greetings_accepted_count: 0,
            }),
            ..Customer::default()
        })
    }
}

pub(super) fn agent_from_row(row: &sqlx::sqlite::SqliteRow) -> Agent {
    Agent {
        id: row.get("id"),
        name: Some(row.get("name")),
        job_title: row.get("job_title"),
        ..Agent::default()
    }
}
