//! Webhook registrations (Configuration API v3.6 `register_webhook`, `list_webhooks`,
//! `unregister_webhook`) and their delivery log. Delivering them is `crate::webhooks`' job;
//! what a webhook may be is a rule, and lives here.

use super::chats::is_web_url;
use super::{Domain, Members};
use crate::clock::Micros;
use crate::error::{Error, Result};
use crate::limits::{MAX_FILTER_VALUES, MAX_WEBHOOK_SECRET_BYTES, MAX_WEBHOOKS_PER_ACTION, WEBHOOK_LOG_RETENTION};
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

/// What a webhook's `filters` keep (LiveChat's Configuration API `register_webhook`):
///
/// - `author_type`: `incoming_event` calls for events by a `customer` or an `agent` only;
/// - `chat_presence.user_ids`: calls about chats with one of `values` among their users (all
///   of them with `require_every_value`), or with none of `exclude_values`;
/// - `only_my_chats`: calls about chats whose property `source.client_id` is the webhook's
///   `owner_client_id` (the chats the owner's integration started).
///
/// The chat filters leave calls about no chat (customers, routing statuses) alone.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct WebhookFilters {
    #[serde(default)]
    pub author_type: Option<String>,
    #[serde(default)]
    pub only_my_chats: Option<bool>,
    #[serde(default)]
    pub chat_presence: Option<ChatPresence>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct ChatPresence {
    #[serde(default)]
    pub user_ids: Option<confab_protocol::archive::ValuesFilter<String>>,
}

impl WebhookFilters {
    /// `validation` naming what is wrong.
    pub fn parse(filters: &serde_json::Value) -> Result<Self> {
        let parsed: Self = <Self as serde::Deserialize>::deserialize(filters)
            .map_err(|e| Error::validation(format!("`filters`: {e}")))?;
        if parsed.author_type.as_deref().is_some_and(|t| t != "customer" && t != "agent") {
            return Err(Error::validation("`filters.author_type` must be `customer` or `agent`"));
        }
        if let Some(ids) = parsed.chat_presence.as_ref().and_then(|p| p.user_ids.as_ref()) {
            let lists = [&ids.values, &ids.exclude_values];
            if ids.exists.is_some() || lists.iter().filter(|l| l.is_some()).count() != 1 {
                return Err(Error::validation("`filters.chat_presence.user_ids`: give `values` or `exclude_values`"));
            }
            if lists.iter().flat_map(|l| l.iter()).any(|l| l.is_empty() || l.len() > MAX_FILTER_VALUES) {
                return Err(Error::validation(format!("`filters.chat_presence.user_ids`: 1–{MAX_FILTER_VALUES} ids")));
            }
        }
        Ok(parsed)
    }

    /// Whether a call about a chat with these users passes `chat_presence`.
    pub fn admits(&self, members: &Members) -> bool {
        let Some(ids) = self.chat_presence.as_ref().and_then(|p| p.user_ids.as_ref()) else {
            return true;
        };
        let present = |id: &String| {
            members.customers.contains(id) || members.agents.contains(id) || members.followers.contains(id)
        };
        let every = ids.require_every_value == Some(true);
        let has = |list: &[String]| if every { list.iter().all(present) } else { list.iter().any(present) };
        match (&ids.values, &ids.exclude_values) {
            (Some(values), _) => has(values),
            (_, Some(values)) => !has(values),
            _ => true,
        }
    }
}

impl Domain {
    /// Whether the chat's property `source.client_id` is `client_id` (webhooks'
    /// `only_my_chats`).
    pub async fn chat_of_client(&self, chat_id: &str, client_id: &str) -> Result<bool> {
        let chat = self.store.read().await?.chat(chat_id).await?;
        let properties = chat.and_then(|c| super::views::parse_properties(&c.properties)).unwrap_or_default();
        let source = properties.get("source").and_then(|s| s.get("client_id")).and_then(|id| id.as_str());
        Ok(source == Some(client_id))
    }

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
        WebhookFilters::parse(&new.filters)?;
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
