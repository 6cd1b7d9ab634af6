//! Statements about webhooks and their delivery log.

use super::Conn;
use crate::clock::Micros;
use crate::error::Result;

/// A registered webhook, as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub action: String,
    pub secret_key: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub owner_client_id: String,
    pub description: Option<String>,
    /// JSON, as registered.
    pub filters: String,
}

/// One attempt to deliver one webhook call.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: String,
    pub action: String,
    pub attempt: i64,
    pub outcome: String,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub at: i64,
}

const COLUMNS: &str = "id, url, action, secret_key, type, owner_client_id, description, filters";

impl Conn {
    pub async fn insert_webhook(&mut self, row: &WebhookRow, now: Micros) -> Result<()> {
        exec!(
            self,
            "INSERT INTO webhooks (id, url, action, secret_key, type, owner_client_id, description, filters, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &row.id,
            &row.url,
            &row.action,
            &row.secret_key,
            &row.kind,
            &row.owner_client_id,
            &row.description,
            &row.filters,
            now.0
        );
        Ok(())
    }

    /// Every webhook, or those of one owner, oldest first.
    pub async fn webhooks(&mut self, owner_client_id: Option<&str>) -> Result<Vec<WebhookRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM webhooks WHERE ($1 IS NULL OR owner_client_id = $1) ORDER BY created_at, id"
        );
        Ok(fetch!(self, fetch_all WebhookRow, &sql, owner_client_id))
    }

    pub async fn count_webhooks(&mut self, owner_client_id: &str, action: &str) -> Result<u64> {
        let (count,): (i64,) = fetch!(
            self,
            fetch_one(i64,),
            "SELECT COUNT(*) FROM webhooks WHERE owner_client_id = $1 AND action = $2",
            owner_client_id,
            action
        );
        Ok(count as u64)
    }

    /// Removes a webhook (of `owner_client_id`, when given); false if there was none.
    pub async fn delete_webhook(&mut self, id: &str, owner_client_id: Option<&str>) -> Result<bool> {
        let removed = exec!(
            self,
            "DELETE FROM webhooks WHERE id = $1 AND ($2 IS NULL OR owner_client_id = $2)",
            id,
            owner_client_id
        );
        Ok(removed > 0)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn record_delivery(
        &mut self,
        webhook_id: &str,
        action: &str,
        attempt: u32,
        outcome: &str,
        http_status: Option<u16>,
        error: Option<&str>,
        now: Micros,
    ) -> Result<()> {
        exec!(
            self,
            "INSERT INTO webhook_deliveries (webhook_id, action, attempt, outcome, http_status, error, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            webhook_id,
            action,
            i64::from(attempt),
            outcome,
            http_status.map(i64::from),
            error,
            now.0
        );
        Ok(())
    }

    /// The newest `limit` attempts, of one webhook or of all, newest first.
    pub async fn deliveries(&mut self, webhook_id: Option<&str>, limit: u32) -> Result<Vec<DeliveryRow>> {
        Ok(fetch!(
            self,
            fetch_all DeliveryRow,
            "SELECT id, webhook_id, action, attempt, outcome, http_status, error, at FROM webhook_deliveries
             WHERE ($1 IS NULL OR webhook_id = $1) ORDER BY id DESC LIMIT $2",
            webhook_id,
            i64::from(limit)
        ))
    }

    /// Forgets attempts from before `before`.
    pub async fn prune_deliveries(&mut self, before: Micros) -> Result<u64> {
        Ok(exec!(self, "DELETE FROM webhook_deliveries WHERE at < $1", before.0))
    }

    /// An agent's role (`administrator` or `agent`); `None` for an unknown agent.
    pub async fn agent_role(&mut self, agent_id: &str) -> Result<Option<String>> {
        let row: Option<(String,)> =
            fetch!(self, fetch_optional(String,), "SELECT role FROM agents WHERE id = $1", agent_id);
        Ok(row.map(|(role,)| role))
    }
}
