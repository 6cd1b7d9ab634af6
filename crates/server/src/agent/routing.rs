//! Routing statuses: `set_routing_status` and `list_routing_statuses` (Agent Chat Web API
//! v3.6, "Status").
//!
//! Confab accepts `offline` for agents too (the reference allows it for bots only): an agent
//! who leaves is `offline`, which is every agent's status until set, and makes their groups
//! offline when nobody else accepts chats.

use super::parse;
use crate::AppState;
use crate::domain::Requester;
use crate::error::Result;
use axum::response::{IntoResponse, Response};
use confab_protocol::agent::{AgentRoutingStatus, ListRoutingStatusesRequest, SetRoutingStatusRequest};

/// `{status, agent_id?}` → `{}`; the requester's own status without `agent_id`. Routing
/// follows at once (an agent who starts accepting chats takes queued ones), and customers
/// learn of their group's changed availability.
pub async fn set_routing_status(state: &AppState, me: Requester<'_>, body: &[u8]) -> Result<Response> {
    let req: SetRoutingStatusRequest = parse(body)?;
    let events = state.domain.set_routing_status(me, req.agent_id.as_deref(), req.status).await?;
    state.fanout.deliver(&events, None);
    Ok(axum::Json(serde_json::json!({})).into_response())
}

/// `{filters?: {group_ids?}}` → `[{agent_id, status}]`; `group_not_found` for an unknown group.
pub async fn list_routing_statuses(state: &AppState, body: &[u8]) -> Result<Response> {
    let req: ListRoutingStatusesRequest = parse(body)?;
    let groups = req.filters.and_then(|f| f.group_ids);
    let statuses = state.domain.routing_statuses(groups.as_deref()).await?;
    let body: Vec<AgentRoutingStatus> =
        statuses.into_iter().map(|(agent_id, status)| AgentRoutingStatus { agent_id, status }).collect();
    Ok(axum::Json(body).into_response())
}
