//! Webhook registrations (Configuration API v3.6 `register_webhook`, `list_webhooks`,
//! `unregister_webhook`) and their delivery log. Delivering them is `crate::webhooks`' job;
//! what a webhook may be is a rule, and lives here.

use super::Domain;
use super::chats::is_web_url;
use crate::clock::Micros;
use crate::error::{Error, Result};
use crate::limits::{MAX_WEBHOOK_SECRET_BYTES, MAX_WEBHOOKS_PER_ACTION, WEBHOOK_LOG_RETENTION};
use crate::store::{DeliveryRow, WebhookRow, random_id};
use confab_protocol::ErrorType;

/// The webhook actions a receiver may register for: each is the push of the same name, its
/// payload the push's.
pub const WEBHOOK_ACTIONS: &[&str] = &[
    "incoming_chat",
    "incoming_event",
    "chat_deactivated",
    "chat_transferred",
    "user_added_to_chat",
    "user_removed_from_chat",
    "incoming_rich_message_postback",
    "chat_properties_updated",
    "chat_properties_deleted",
    "thread_properties_updated",
    "thread_properties_deleted",
    "event_properties_updated",
    "event_properties_deleted",
    "thread_tagged",
    "thread_untagged",
    "events_marked_as_seen",
    "incoming_customer",
    "customer_updated",
    "routing_status_set",
];

/// A registration as asked for.
pub struct NewWebhook {
    pub url: String,
    pub action: String,
    pub secret_key: String,
    pub kind: String,
    pub owner_client_id: String,
    pub description: Option<String>,
    pub filters: serde_json::Value,
}

impl Domain {
    /// Registers a webhook; its id. At most `MAX_WEBHOOKS_PER_ACTION` per owner and action
    /// (`limit_reached`), as LiveChat allows.
    pub async fn register_webhook(&self, new: NewWebhook) -> Result<String> {
        if !is_web_url(&new.url) {
            return Err(Error::validation("`url` must be an http(s) URL"));
        }
        if !WEBHOOK_ACTIONS.contains(&new.action.as_str()) {
            return Err(Error::validation(format!("`action` must be one of {}", WEBHOOK_ACTIONS.join(", "))));
        }
        if new.secret_key.is_empty() || new.secret_key.len() > MAX_WEBHOOK_SECRET_BYTES {
            return Err(Error::validation(format!("`secret_key` must be 1–{MAX_WEBHOOK_SECRET_BYTES} bytes")));
        }
        if !matches!(new.kind.as_str(), "license" | "bot") {
            return Err(Error::validation("`type` must be `license` or `bot`"));
        }
        if !new.filters.is_object() {
            return Err(Error::validation("`filters` must be an object"));
        }
        let author_type = new.filters.get("author_type");
        if author_type.is_some_and(|t| t != "customer" && t != "agent") {
            return Err(Error::validation("`filters.author_type` must be `customer` or `agent`"));
        }
        let row = WebhookRow {
            id: random_id(32).to_lowercase(),
            url: new.url,
            action: new.action,
            secret_key: new.secret_key,
            kind: new.kind,
            owner_client_id: new.owner_client_id,
            description: new.description,
            filters: new.filters.to_string(),
        };
        let mut tx = self.store.write().await?;
        if tx.count_webhooks(&row.owner_client_id, &row.action).await? >= MAX_WEBHOOKS_PER_ACTION {
            return Err(Error::new(
                ErrorType::LimitReached,
                format!("At most {MAX_WEBHOOKS_PER_ACTION} webhooks per action for one client"),
            ));
        }
        tx.insert_webhook(&row, self.clock.now()).await?;
        tx.commit().await?;
        Ok(row.id)
    }

    pub async fn webhooks(&self, owner_client_id: Option<&str>) -> Result<Vec<WebhookRow>> {
        self.store.read().await?.webhooks(owner_client_id).await
    }

    /// `not_found` for a webhook there is not (or of another owner, when one is named).
    pub async fn unregister_webhook(&self, id: &str, owner_client_id: Option<&str>) -> Result<()> {
        let mut tx = self.store.write().await?;
        if !tx.delete_webhook(id, owner_client_id).await? {
            return Err(Error::not_found(format!("Webhook {id} not found")));
        }
        tx.commit().await
    }

    /// Logs one attempt to deliver a webhook call.
    pub async fn record_delivery(
        &self,
        webhook_id: &str,
        action: &str,
        attempt: u32,
        outcome: &str,
        http_status: Option<u16>,
        error: Option<&str>,
    ) -> Result<()> {
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        tx.record_delivery(webhook_id, action, attempt, outcome, http_status, error, now).await?;
        tx.commit().await
    }

    pub async fn deliveries(&self, webhook_id: Option<&str>, limit: u32) -> Result<Vec<DeliveryRow>> {
        self.store.read().await?.deliveries(webhook_id, limit).await
    }

    /// Forgets attempts older than `WEBHOOK_LOG_RETENTION`.
    pub async fn prune_deliveries(&self) -> Result<u64> {
        let before = Micros(self.clock.now().0 - WEBHOOK_LOG_RETENTION.as_micros() as i64);
        let mut tx = self.store.write().await?;
        let pruned = tx.prune_deliveries(before).await?;
        tx.commit().await?;
        Ok(pruned)
    }

    /// Whether the agent is an administrator (may configure webhooks).
    pub async fn is_administrator(&self, agent_id: &str) -> Result<bool> {
        Ok(self.store.read().await?.agent_role(agent_id).await?.as_deref() == Some("administrator"))
    }
}
