//! Agent Chat Web API v3.6 bodies: `POST /v3.6/agent/action/<action>` with a bearer token.
//! Failures use [`crate::error::ErrorBody`].

use crate::action::SortOrder;
use crate::entity::{ChatSummary, Event};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListChatsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<ListChatsFilters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<SortOrder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListChatsFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_chats_without_threads: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<u32>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListChatsResponse {
    pub chats_summary: Vec<ChatSummary>,
    pub found_chats: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_page_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetChatRequest {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendEventRequest {
    pub chat_id: String,
    pub event: Event,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach_to_last_thread: Option<bool>,
}

/// Closes the chat's active thread (v3.6 names the chat `id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeactivateChatRequest {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendEventResponse {
    pub event_id: String,
}

/// An agent's routing status (`set_routing_status`, `list_routing_statuses`): whether chats
/// are routed to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingStatus {
    AcceptingChats,
    NotAcceptingChats,
    Offline,
}

impl RoutingStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RoutingStatus::AcceptingChats => "accepting_chats",
            RoutingStatus::NotAcceptingChats => "not_accepting_chats",
            RoutingStatus::Offline => "offline",
        }
    }

    /// From the wire name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "accepting_chats" => Some(RoutingStatus::AcceptingChats),
            "not_accepting_chats" => Some(RoutingStatus::NotAcceptingChats),
            "offline" => Some(RoutingStatus::Offline),
            _ => None,
        }
    }
}

/// `set_routing_status`: the requester's status, or `agent_id`'s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRoutingStatusRequest {
    pub status: RoutingStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

/// `list_routing_statuses`: every agent's, or those of the agents of `filters.group_ids`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListRoutingStatusesRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<RoutingStatusFilters>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingStatusFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<u32>>,
}

/// One entry of the `list_routing_statuses` response (a JSON array of these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRoutingStatus {
    pub agent_id: String,
    pub status: RoutingStatus,
}
