//! RTM actions: what a client may ask (`Request`) and what a successful answer carries
//! (`Response`), keyed by the action name (protocol.md §7, RTM reference v3.5).
//!
//! v3.2 names are kept as aliases where v3.5 renamed an action: `activate_chat` is decoded
//! like `resume_chat`.

use crate::entity::{Access, Chat, ChatSummary, Customer, Event, Properties, SessionFields, TaggedCustomer, Thread};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An empty object payload (`{}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Empty {}

named_payloads! {
    /// A client request, by action.
    pub enum Request {
        "login" => Login(LoginRequest),
        "start_chat" => StartChat(StartChatRequest),
        "resume_chat" => ResumeChat(ResumeChatRequest),
        /// The v3.2 name of `resume_chat`.
        "activate_chat" => ActivateChat(ResumeChatRequest),
        "deactivate_chat" => DeactivateChat(DeactivateChatRequest),
        "send_event" => SendEvent(SendEventRequest),
        "get_chat" => GetChat(GetChatRequest),
        "list_chats" => ListChats(ListChatsRequest),
        "list_threads" => ListThreads(ListThreadsRequest),
        "update_thread_properties" => UpdateThreadProperties(ThreadPropertiesRequest),
        "mark_events_as_seen" => MarkEventsAsSeen(MarkEventsAsSeenRequest),
        /// Keep-alive. v2 sends `{"action":"ping"}` without a payload.
        "ping" => Ping(Option<Empty>),
    }
}

named_payloads! {
    /// The payload of a successful response, by action.
    pub enum Response {
        "login" => Login(LoginResponse),
        "start_chat" => StartChat(StartChatResponse),
        "resume_chat" => ResumeChat(StartChatResponse),
        "activate_chat" => ActivateChat(StartChatResponse),
        "deactivate_chat" => DeactivateChat(Empty),
        "send_event" => SendEvent(SendEventResponse),
        "get_chat" => GetChat(Chat),
        "list_chats" => ListChats(ListChatsResponse),
        "list_threads" => ListThreads(ListThreadsResponse),
        "update_thread_properties" => UpdateThreadProperties(Empty),
        "mark_events_as_seen" => MarkEventsAsSeen(Empty),
        "ping" => Ping(Empty),
    }
}

/// `login` (protocol.md §4.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// `"Bearer <access_token>"`.
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerUpdate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_side_storage: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_mobile: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<Application>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_page: Option<CustomerPage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// `{"3.5": [push names]}`: the pushes the client wants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushes: Option<Map<String, Value>>,
}

/// Customer fields a client may set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_fields: Option<SessionFields>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerPage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// What a client requires in the `login` response (protocol.md §4.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// With `statistics`.
    pub customer: TaggedCustomer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_active_thread: Option<bool>,
    pub chats: Vec<LoginChat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<Value>,
    pub __priv_dynamic_config: DynamicConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginChat {
    pub chat_id: String,
    pub has_unread_events: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_active_thread: Option<bool>,
}

/// Availability: online iff `online_groups_ids` contains `customer_groups.monitoring.id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DynamicConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_groups_ids: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_groups: Option<CustomerGroups>,
}

impl LoginResponse {
    /// The answer to `login`: the customer (with statistics), their chats, and whether any of
    /// them has an active thread.
    pub fn new(customer: Customer, chats: Vec<LoginChat>, config: DynamicConfig) -> Self {
        Self {
            customer: TaggedCustomer(customer),
            has_active_thread: Some(chats.iter().any(|c| c.has_active_thread == Some(true))),
            chats,
            greeting: None,
            __priv_dynamic_config: config,
        }
    }
}

impl DynamicConfig {
    /// A customer in `group`, with agents available in `online_groups`.
    pub fn new(group: u32, online_groups: Vec<u32>) -> Self {
        Self {
            online_groups_ids: Some(online_groups),
            customer_groups: Some(CustomerGroups { monitoring: MonitoringGroup { id: group, config: Default::default() } }),
        }
    }

    /// Whether the customer's group has agents online.
    pub fn is_online(&self) -> bool {
        match (&self.online_groups_ids, &self.customer_groups) {
            (Some(online), Some(groups)) => online.contains(&groups.monitoring.id),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerGroups {
    pub monitoring: MonitoringGroup,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MonitoringGroup {
    pub id: u32,
    #[serde(flatten)]
    pub config: Map<String, Value>,
}

/// The chat of a `start_chat` / `resume_chat` request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InitialChat {
    /// Required by `resume_chat`; absent in `start_chat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<InitialThread>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InitialThread {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<Event>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StartChatRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<InitialChat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuous: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResumeChatRequest {
    pub chat: InitialChat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuous: Option<bool>,
}

/// The direct answer to `start_chat` / `resume_chat`; clients wait for `incoming_chat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartChatResponse {
    pub chat_id: String,
    pub thread_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ids: Option<Vec<String>>,
}

/// v3.5 names the chat `id`; v3.2 `chat_id`. One of them is required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeactivateChatRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendEventRequest {
    pub chat_id: String,
    pub event: Event,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach_to_last_thread: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendEventResponse {
    pub event_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GetChatRequest {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListChatsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<SortOrder>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListChatsResponse {
    pub chats_summary: Vec<ChatSummary>,
    pub total_chats: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_page_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListThreadsRequest {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<SortOrder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_events_count: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListThreadsResponse {
    pub threads: Vec<Thread>,
    pub found_threads: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_page_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadPropertiesRequest {
    pub chat_id: String,
    pub thread_id: String,
    pub properties: Properties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkEventsAsSeenRequest {
    pub chat_id: String,
    pub seen_up_to: String,
}
