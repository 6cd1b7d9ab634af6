//! Agent Chat Web API v3.6 bodies: `POST /v3.6/agent/action/<action>` with a bearer token.
//! Failures use [`crate::error::ErrorBody`].
//!
//! Requests tolerate fields they do not declare: integrations written against LiveChat send
//! fields Confab does not use, and must not be refused for them.

use crate::action::{CustomerUpdate, InitialChat, SortOrder};
use crate::entity::{ChatSummary, Customer, Event};
use crate::wire::{FromWire, ToWire};
use serde::{Deserialize, Serialize};

named_payloads! {
    /// The pushes only agents get (the Agent Chat RTM API), beside the [`crate::push::Push`]es
    /// they share with customers.
    pub enum AgentPush {
        "thread_tagged" => ThreadTagged(ThreadTag),
        "thread_untagged" => ThreadUntagged(ThreadTag),
        /// A customer was created (`create_customer`).
        "incoming_customer" => IncomingCustomer(Customer),
        /// An agent's routing status changed.
        "routing_status_set" => RoutingStatusSet(AgentRoutingStatus),
        /// The agent no longer follows the chat (it ended, or they unfollowed it).
        "chat_unfollowed" => ChatUnfollowed(ChatUnfollowed),
    }
}

/// `thread_tagged` / `thread_untagged`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ThreadTag {
    pub chat_id: String,
    pub thread_id: String,
    pub tag: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ChatUnfollowed {
    pub chat_id: String,
}

/// Requests naming one thing by `id`: `follow_chat`, `unfollow_chat`, `get_customer`,
/// `follow_customer`, `unfollow_customer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct IdRequest {
    pub id: String,
}

/// `tag_thread`, `untag_thread`: tags are case sensitive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct TagThreadRequest {
    pub chat_id: String,
    pub thread_id: String,
    pub tag: String,
}

/// A user named in `start_chat` / `resume_chat`'s `chat.users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct UserRef {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// The chat of an agent's `start_chat` / `resume_chat`: the customer's fields, and the users.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct AgentInitialChat {
    #[serde(flatten)]
    pub chat: InitialChat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<UserRef>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct StartChatRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<AgentInitialChat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuous: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ResumeChatRequest {
    pub chat: AgentInitialChat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuous: Option<bool>,
}

/// The agent's `start_chat` answers as the customer's does.
pub use crate::action::StartChatResponse;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ResumeChatResponse {
    pub thread_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ids: Option<Vec<String>>,
}

/// `create_customer`: answered `{"customer_id"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
#[serde(transparent)]
pub struct CreateCustomerRequest(pub CustomerUpdate);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct CreateCustomerResponse {
    pub customer_id: String,
}

/// `update_customer`: the customer's `id` and at least one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct UpdateCustomerRequest {
    pub id: String,
    #[serde(flatten)]
    pub update: CustomerUpdate,
}

/// `get_customer`'s answer: the customer, typed, with the ids of their chats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct AgentCustomer {
    #[serde(flatten)]
    pub customer: Customer,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chat_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ListAgentsForTransferRequest {
    pub chat_id: String,
}

/// One agent `list_agents_for_transfer` offers, fewest active chats first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct AgentForTransfer {
    pub agent_id: String,
    pub total_active_chats: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ListChatsFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_chats_without_threads: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<u32>>,
    /// Chat properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<crate::archive::PropertyFilters>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ListChatsResponse {
    pub chats_summary: Vec<ChatSummary>,
    pub found_chats: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_page_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct GetChatRequest {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct SendEventRequest {
    pub chat_id: String,
    pub event: Event,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach_to_last_thread: Option<bool>,
}

/// Closes the chat's active thread (v3.6 names the chat `id`). The requester must be one of
/// the chat's users unless `ignore_requester_presence`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct DeactivateChatRequest {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_requester_presence: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct SendEventResponse {
    pub event_id: String,
}

/// `send_typing_indicator`: `visibility` is `all` (default) or `agents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct SendTypingIndicatorRequest {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    pub is_typing: bool,
}

/// `send_greeting` (a Confab extension of the Agent Chat Web API): shows the customer a
/// greeting with `text` from the calling agent, on every socket they have open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct SendGreetingRequest {
    pub customer_id: String,
    pub text: String,
    /// `greeting` (default) or `announcement`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
}

/// The greeting made: what the customer's `accept_greeting` / `cancel_greeting` name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct SendGreetingResponse {
    pub greeting_id: u64,
    pub unique_id: String,
}

/// `ban_customer` (v3.6): bans the customer for `ban.days` days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct BanCustomerRequest {
    pub id: String,
    pub ban: Ban,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Ban {
    pub days: u32,
}

/// `logout_customer` (a Confab extension): ends every session of the customer (their sockets
/// get `customer_disconnected` with `logged_out_remotely`), as when the site's own account
/// behind the visitor logs out elsewhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct LogoutCustomerRequest {
    pub id: String,
}

/// `remove_user_from_chat`: only agents can be removed (`user_type: agent`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct RemoveUserFromChatRequest {
    pub chat_id: String,
    pub user_id: String,
    pub user_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_requester_presence: Option<bool>,
}

/// `add_user_to_chat`: `visibility` is `all` or `agents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct AddUserToChatRequest {
    pub chat_id: String,
    pub user_id: String,
    pub user_type: String,
    pub visibility: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_requester_presence: Option<bool>,
}

/// `transfer_chat` (v3.6 names the chat `id`); without `target`, within the current group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct TransferChatRequest {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TransferTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_agents_availability: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_requester_presence: Option<bool>,
}

/// Where a chat goes: `type` is `group` (ids are group numbers) or `agent` (agent ids).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct TransferTarget {
    #[serde(rename = "type")]
    pub kind: String,
    pub ids: Vec<serde_json::Value>,
}

/// `multicast`: chat-unrelated content for chosen users, not stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct MulticastRequest {
    pub recipients: MulticastRecipients,
    pub content: serde_json::Value,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// An agent's routing status (`set_routing_status`, `list_routing_statuses`): whether chats
/// are routed to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, FromWire, ToWire)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct SetRoutingStatusRequest {
    pub status: RoutingStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

/// `list_routing_statuses`: every agent's, or those of the agents of `filters.group_ids`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ListRoutingStatusesRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<RoutingStatusFilters>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct MulticastRecipients {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customers: Option<MulticastCustomers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<MulticastAgents>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct MulticastCustomers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct MulticastAgents {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<u32>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct RoutingStatusFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<u32>>,
}

/// One entry of the `list_routing_statuses` response (a JSON array of these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct AgentRoutingStatus {
    pub agent_id: String,
    pub status: RoutingStatus,
}
