//! The Configuration API's webhook actions, `POST /v3.6/configuration/action/<action>` with an
//! administrator's bearer token (other agents get `authorization`, 403):
//!
//! - `register_webhook` `{url, action, secret_key, type, owner_client_id?, description?,
//!   filters?}` → `{"id"}`;
//! - `list_webhooks` `{owner_client_id?}` → `[{id, url, action, secret_key, type,
//!   owner_client_id, description?, filters}]`;
//! - `unregister_webhook` `{id, owner_client_id?}` → `{}`;
//! - `list_webhook_deliveries` `{webhook_id?, limit?}` (Confab's) → the delivery log, newest
//!   first: `[{webhook_id, action, attempt, outcome, http_status?, error?, at}]`.
//!
//! `owner_client_id` defaults to `confab` (Confab has no OAuth clients of its own).

use crate::agent::{AuthenticatedAgent, parse};
use crate::domain::NewWebhook;
use crate::error::{Error, Result};
use crate::limits::MAX_WEBHOOK_DELIVERIES_READ;
use crate::{AppState, Body};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use confab_protocol::ErrorType;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The owner of webhooks registered without one.
const DEFAULT_OWNER: &str = "confab";

#[derive(Deserialize)]
struct RegisterWebhook {
    url: String,
    action: String,
    secret_key: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    owner_client_id: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    filters: Option<Value>,
}

#[derive(Deserialize)]
struct ListWebhooks {
    #[serde(default)]
    owner_client_id: Option<String>,
}

#[derive(Deserialize)]
struct UnregisterWebhook {
    id: String,
    #[serde(default)]
    owner_client_id: Option<String>,
}

#[derive(Deserialize)]
struct ListDeliveries {
    #[serde(default)]
    webhook_id: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

#[derive(Serialize)]
struct Webhook {
    id: String,
    url: String,
    action: String,
    secret_key: String,
    #[serde(rename = "type")]
    kind: String,
    owner_client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    filters: Value,
}

#[derive(Serialize)]
struct Delivery {
    webhook_id: String,
    action: String,
    attempt: i64,
    outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    at: String,
}

pub async fn action(
    State(state): State<AppState>,
    Path(action): Path<String>,
    AuthenticatedAgent(agent): AuthenticatedAgent,
    Body(body): Body,
) -> Result<Response> {
    if !state.domain.is_administrator(&agent.id).await? {
        return Err(Error::new(ErrorType::Authorization, "Only administrators may configure webhooks"));
    }
    let domain = &state.domain;
    let answer = match action.as_str() {
        "register_webhook" => {
            let req: RegisterWebhook = parse(&body)?;
            let new = NewWebhook {
                url: req.url,
                action: req.action,
                secret_key: req.secret_key,
                kind: req.kind,
                owner_client_id: req.owner_client_id.unwrap_or_else(|| DEFAULT_OWNER.to_owned()),
                description: req.description,
                filters: req.filters.unwrap_or_else(|| json!({})),
            };
            let id = domain.register_webhook(new).await?;
            state.webhooks.refresh();
            json!({ "id": id })
        }
        "list_webhooks" => {
            let req: ListWebhooks = parse(&body)?;
            let rows = domain.webhooks(req.owner_client_id.as_deref()).await?;
            let list: Vec<Webhook> = rows
                .into_iter()
                .map(|row| Webhook {
                    filters: serde_json::from_str(&row.filters).unwrap_or_else(|_| json!({})),
                    id: row.id,
                    url: row.url,
                    action: row.action,
                    secret_key: row.secret_key,
                    kind: row.kind,
                    owner_client_id: row.owner_client_id,
                    description: row.description,
                })
                .collect();
            serde_json::to_value(list).expect("webhooks always encode")
        }
        "unregister_webhook" => {
            let req: UnregisterWebhook = parse(&body)?;
            domain.unregister_webhook(&req.id, req.owner_client_id.as_deref()).await?;
            state.webhooks.refresh();
            json!({})
        }
        "list_webhook_deliveries" => {
            let req: ListDeliveries = parse(&body)?;
            let limit = req.limit.unwrap_or(100);
            if !(1..=MAX_WEBHOOK_DELIVERIES_READ).contains(&limit) {
                return Err(Error::validation(format!("`limit` must be 1–{MAX_WEBHOOK_DELIVERIES_READ}")));
            }
            let rows = domain.deliveries(req.webhook_id.as_deref(), limit).await?;
            let list: Vec<Delivery> = rows
                .into_iter()
                .map(|row| Delivery {
                    webhook_id: row.webhook_id,
                    action: row.action,
                    attempt: row.attempt,
                    outcome: row.outcome,
                    http_status: row.http_status,
                    error: row.error,
                    at: crate::clock::Micros(row.at).rfc3339(),
                })
                .collect();
            serde_json::to_value(list).expect("deliveries always encode")
        }
        other => return Err(Error::not_found(format!("Unknown action `{other}`"))),
    };
    Ok(axum::Json(answer).into_response())
}
