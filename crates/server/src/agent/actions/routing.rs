//! Routing statuses (Agent Chat Web API v3.6 "Status"): `set_routing_status`,
//! `list_routing_statuses`.
//!
//! Confab accepts `offline` for agents too (the reference allows it for bots only): an agent
//! who leaves is `offline`, which is every agent's status until set, and makes their groups
//! offline when nobody else accepts chats.

use super::{AgentCall, answer, done};
use crate::error::Result;
use confab_protocol::agent::{AgentRoutingStatus, ListRoutingStatusesRequest, SetRoutingStatusRequest};
use serde_json::Value;

/// `{status, agent_id?}` → `{}`; the requester's own status without `agent_id`. Routing
/// follows at once (an agent who starts accepting chats takes queued ones), customers learn
/// of their group's changed availability, and every agent gets `routing_status_set`.
pub async fn set_routing_status(call: &AgentCall<'_>, req: SetRoutingStatusRequest) -> Result<Value> {
    let events = call.domain().set_routing_status(call.me(), req.agent_id.as_deref(), req.status).await?;
    call.fan_out(&events);
    done()
}

/// `{filters?: {group_ids?}}` → `[{agent_id, status}]`; `group_not_found` for an unknown group.
pub async fn list_routing_statuses(call: &AgentCall<'_>, req: ListRoutingStatusesRequest) -> Result<Value> {
    let groups = req.filters.and_then(|f| f.group_ids);
    let statuses = call.domain().routing_statuses(groups.as_deref()).await?;
    answer(statuses.into_iter().map(|(agent_id, status)| AgentRoutingStatus { agent_id, status }).collect::<Vec<_>>())
}
