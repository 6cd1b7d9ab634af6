//! RTM actions: what a client may ask (`Request`) and what a successful answer carries
//! (`Response`), keyed by the action name (protocol.md §7, RTM reference v3.5).
//!
//! v3.2 names are kept as aliases where v3.5 renamed an action: `activate_chat` is decoded
//! like `resume_chat`.

use crate::entity::{
    Access, Agent, Chat, ChatSummary, Customer, Event, Properties, PropertyNames, SessionFields, TaggedCustomer, Thread,
};
use crate::wire::{FromWire, ToWire};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// An empty object payload (`{}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Empty {}

/// One RTM action, declared once in the table below: its wire name, its request (`Self`), its
/// response, and whether a push settles it.
///
/// A client calls `client.call(request)` with any `Action` and gets `Self::Response` back,
/// typed; only the responses it asks for are ever decoded (and linked into its build).
pub trait Action: Serialize + DeserializeOwned + Send + 'static {
    /// The `action` on the wire.
    const NAME: &'static str;
    /// The payload of a successful response.
    type Response: Serialize + DeserializeOwned + Send + 'static;
    /// The push that settles the request when it carries the request's `request_id`
    /// (protocol.md §3.4): `incoming_chat`, `incoming_event`. `None`: the response settles it.
    const SETTLED_BY: Option<&'static str>;
    /// This request as the enum a server matches on.
    fn into_request(self) -> Request;
    /// A response as the enum frames carry.
    fn into_response(response: Self::Response) -> Response;
}

actions! {
    "login" => Login(LoginRequest) -> LoginResponse;
    "start_chat" => StartChat(StartChatRequest) -> StartChatResponse, settled_by "incoming_chat";
    "resume_chat" => ResumeChat(ResumeChatRequest) -> StartChatResponse, settled_by "incoming_chat";
    /// The v3.2 name of `resume_chat`.
    "activate_chat" => ActivateChat(ActivateChatRequest) -> StartChatResponse, settled_by "incoming_chat";
    "deactivate_chat" => DeactivateChat(DeactivateChatRequest) -> Empty;
    "send_event" => SendEvent(SendEventRequest) -> SendEventResponse, settled_by "incoming_event";
    "get_chat" => GetChat(GetChatRequest) -> Chat;
    "list_chats" => ListChats(ListChatsRequest) -> ListChatsResponse;
    "list_threads" => ListThreads(ListThreadsRequest) -> ListThreadsResponse;
    "update_chat_properties" => UpdateChatProperties(UpdateChatPropertiesRequest) -> Empty;
    "delete_chat_properties" => DeleteChatProperties(DeleteChatPropertiesRequest) -> Empty;
    "update_thread_properties" => UpdateThreadProperties(UpdateThreadPropertiesRequest) -> Empty;
    "delete_thread_properties" => DeleteThreadProperties(DeleteThreadPropertiesRequest) -> Empty;
    "update_event_properties" => UpdateEventProperties(UpdateEventPropertiesRequest) -> Empty;
    "delete_event_properties" => DeleteEventProperties(DeleteEventPropertiesRequest) -> Empty;
    "mark_events_as_seen" => MarkEventsAsSeen(MarkEventsAsSeenRequest) -> Empty;
    "send_rich_message_postback" => SendRichMessagePostback(SendRichMessagePostbackRequest) -> Empty;
    "send_sneak_peek" => SendSneakPeek(SendSneakPeekRequest) -> Empty;
    "get_customer" => GetCustomer(GetCustomerRequest) -> TaggedCustomer;
    "update_customer" => UpdateCustomer(UpdateCustomerRequest) -> Empty;
    "set_customer_session_fields" => SetCustomerSessionFields(SetCustomerSessionFieldsRequest) -> Empty;
    "update_customer_page" => UpdateCustomerPage(UpdateCustomerPageRequest) -> Empty;
    "accept_greeting" => AcceptGreeting(AcceptGreetingRequest) -> Empty;
    "cancel_greeting" => CancelGreeting(CancelGreetingRequest) -> Empty;
    "get_form" => GetForm(GetFormRequest) -> GetFormResponse;
    "get_predicted_agent" => GetPredictedAgent(GetPredictedAgentRequest) -> PredictedAgent;
    "get_url_info" => GetUrlInfo(GetUrlInfoRequest) -> UrlInfo;
    "list_group_statuses" => ListGroupStatuses(ListGroupStatusesRequest) -> ListGroupStatusesResponse;
    /// Keep-alive. v2 sends `{"action":"ping"}` without a payload.
    "ping" => Ping(PingRequest) -> Empty;
}

/// `ping`'s payload: usually absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
#[serde(transparent)]
pub struct PingRequest(pub Option<Empty>);

/// `login` (protocol.md §4.2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Application {
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct CustomerPage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// What a client requires in the `login` response (protocol.md §4.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct LoginChat {
    pub chat_id: String,
    pub has_unread_events: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_active_thread: Option<bool>,
}

/// Availability: online iff `online_groups_ids` contains `customer_groups.monitoring.id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
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
            customer_groups: Some(CustomerGroups {
                monitoring: MonitoringGroup { id: group, config: Default::default() },
            }),
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct CustomerGroups {
    pub monitoring: MonitoringGroup,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct MonitoringGroup {
    pub id: u32,
    #[serde(flatten)]
    pub config: Map<String, Value>,
}

/// The chat of a `start_chat` / `resume_chat` request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct InitialThread {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<Event>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct StartChatRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<InitialChat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuous: Option<bool>,
}

/// `activate_chat` (v3.2): the same payload as `resume_chat`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
#[serde(transparent)]
pub struct ActivateChatRequest(pub ResumeChatRequest);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ResumeChatRequest {
    pub chat: InitialChat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuous: Option<bool>,
}

/// The direct answer to `start_chat` / `resume_chat`; clients wait for `incoming_chat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct StartChatResponse {
    pub chat_id: String,
    pub thread_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ids: Option<Vec<String>>,
}

/// v3.5 names the chat `id`; v3.2 `chat_id`. One of them is required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct DeactivateChatRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct SendEventRequest {
    pub chat_id: String,
    pub event: Event,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach_to_last_thread: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct SendEventResponse {
    pub event_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct GetChatRequest {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ListChatsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<SortOrder>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ListChatsResponse {
    pub chats_summary: Vec<ChatSummary>,
    pub total_chats: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_page_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, FromWire, ToWire)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ListThreadsResponse {
    pub threads: Vec<Thread>,
    pub found_threads: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_page_id: Option<String>,
}

/// `update_chat_properties`: v3.5 names the chat `id`, v3.2 `chat_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct UpdateChatPropertiesRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    pub properties: Properties,
}

/// `delete_chat_properties`: `{"<namespace>": ["<name>", …]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct DeleteChatPropertiesRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    pub properties: PropertyNames,
}

impl UpdateChatPropertiesRequest {
    /// The chat, by its v3.5 or v3.2 field.
    pub fn chat(&self) -> Option<&str> {
        self.id.as_deref().or(self.chat_id.as_deref())
    }
}

impl DeleteChatPropertiesRequest {
    /// The chat, by its v3.5 or v3.2 field.
    pub fn chat(&self) -> Option<&str> {
        self.id.as_deref().or(self.chat_id.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct UpdateThreadPropertiesRequest {
    pub chat_id: String,
    pub thread_id: String,
    pub properties: Properties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct DeleteThreadPropertiesRequest {
    pub chat_id: String,
    pub thread_id: String,
    pub properties: PropertyNames,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct UpdateEventPropertiesRequest {
    pub chat_id: String,
    pub thread_id: String,
    pub event_id: String,
    pub properties: Properties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct DeleteEventPropertiesRequest {
    pub chat_id: String,
    pub thread_id: String,
    pub event_id: String,
    pub properties: PropertyNames,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct MarkEventsAsSeenRequest {
    pub chat_id: String,
    /// RFC 3339: every event created up to this moment is seen.
    pub seen_up_to: String,
}

/// A click on a rich message button.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Postback {
    pub id: String,
    pub toggled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct SendRichMessagePostbackRequest {
    pub chat_id: String,
    pub thread_id: String,
    pub event_id: String,
    pub postback: Postback,
}

/// What the customer is typing, before sending it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct SendSneakPeekRequest {
    pub chat_id: String,
    pub sneak_peek_text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct GetCustomerRequest {}

/// `update_customer`: the fields to change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
#[serde(transparent)]
pub struct UpdateCustomerRequest(pub CustomerUpdate);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct SetCustomerSessionFieldsRequest {
    pub session_fields: SessionFields,
}

/// `update_customer_page`: the page the customer is on now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
#[serde(transparent)]
pub struct UpdateCustomerPageRequest(pub CustomerPage);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct AcceptGreetingRequest {
    pub greeting_id: u64,
    pub unique_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct CancelGreetingRequest {
    pub unique_id: String,
}

/// The forms a group may configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, FromWire, ToWire)]
#[serde(rename_all = "snake_case")]
pub enum FormType {
    Prechat,
    Postchat,
    Ticket,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct GetFormRequest {
    pub group_id: u32,
    #[serde(rename = "type")]
    pub kind: FormType,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct GetFormResponse {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Form>,
}

/// A form: its fields in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Form {
    pub id: String,
    pub fields: Vec<FormField>,
}

/// One field of a form. `kind` is the wire `type`: `header`, `name`, `email`, `question`,
/// `textarea`, `radio`, `select`, `checkbox`, `group_chooser`, `rating`, …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct FormField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<FormOption>>,
    /// `rating` fields: the label of the comment box.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct FormOption {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked: Option<bool>,
    /// `group_chooser` options: the group the choice routes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct GetPredictedAgentRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u32>,
}

/// Who would take a chat started now, and whether it would wait in a queue first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct PredictedAgent {
    pub agent: Agent,
    pub queue: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct GetUrlInfoRequest {
    pub url: String,
}

/// A link preview, fetched by the server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct UrlInfo {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Without its scheme, as the API gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_height: Option<u32>,
}

/// `{"all": true}` or `{"group_ids": […]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ListGroupStatusesRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<u32>>,
}

/// Whether a group can take a chat now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, FromWire, ToWire)]
#[serde(rename_all = "snake_case")]
pub enum GroupStatus {
    /// An agent accepts chats.
    Online,
    /// No agent accepts chats; a new chat waits in the queue.
    OnlineForQueue,
    /// Nobody to answer: leave a ticket.
    Offline,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ListGroupStatusesResponse {
    /// By group id (a string key on the wire).
    pub groups_status: BTreeMap<u32, GroupStatus>,
}
