//! Server pushes, by name (protocol.md §12). A client ignores pushes it does not know.

use crate::action::{GroupStatus, Postback};
use crate::entity::{Chat, Customer, Event, Greeting, Properties, PropertyNames, Queue, User};
use crate::wire::{FromWire, ToWire};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

named_payloads! {
    /// A server push, by name.
    pub enum Push {
        "incoming_chat" => IncomingChat(IncomingChat),
        "chat_deactivated" => ChatDeactivated(ChatDeactivated),
        "chat_transferred" => ChatTransferred(ChatTransferred),
        "user_added_to_chat" => UserAddedToChat(UserAddedToChat),
        "user_removed_from_chat" => UserRemovedFromChat(UserRemovedFromChat),
        "incoming_event" => IncomingEvent(IncomingEvent),
        "event_updated" => EventUpdated(IncomingEvent),
        "incoming_rich_message_postback" => IncomingRichMessagePostback(IncomingRichMessagePostback),
        "chat_properties_updated" => ChatPropertiesUpdated(ChatPropertiesUpdated),
        "chat_properties_deleted" => ChatPropertiesDeleted(ChatPropertiesDeleted),
        "thread_properties_updated" => ThreadPropertiesUpdated(ThreadPropertiesUpdated),
        "thread_properties_deleted" => ThreadPropertiesDeleted(ThreadPropertiesDeleted),
        "event_properties_updated" => EventPropertiesUpdated(EventPropertiesUpdated),
        "event_properties_deleted" => EventPropertiesDeleted(EventPropertiesDeleted),
        "events_marked_as_seen" => EventsMarkedAsSeen(EventsMarkedAsSeen),
        "incoming_typing_indicator" => IncomingTypingIndicator(IncomingTypingIndicator),
        /// What a customer types, before sending it (to agents).
        "incoming_sneak_peek" => IncomingSneakPeek(IncomingSneakPeek),
        /// v3.5: the customer's fields at the top level.
        "customer_updated" => CustomerUpdated(Customer),
        "customer_page_updated" => CustomerPageUpdated(CustomerPageUpdated),
        "customer_side_storage_updated" => CustomerSideStorageUpdated(CustomerSideStorageUpdated),
        "incoming_multicast" => IncomingMulticast(IncomingMulticast),
        "incoming_greeting" => IncomingGreeting(Greeting),
        "greeting_accepted" => GreetingAccepted(GreetingUniqueId),
        "greeting_canceled" => GreetingCanceled(GreetingUniqueId),
        "queue_position_updated" => QueuePositionUpdated(QueuePositionUpdated),
        "groups_status_updated" => GroupsStatusUpdated(GroupsStatusUpdated),
        "customer_disconnected" => CustomerDisconnected(CustomerDisconnected),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct IncomingChat {
    pub chat: Chat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transferred_from: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct IncomingEvent {
    pub chat_id: String,
    pub thread_id: String,
    pub event: Event,
}

/// Someone joined the chat: clients learn their name before their first message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct UserAddedToChat {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    pub user: User,
    /// `manual`, `other`, …
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ChatDeactivated {
    pub chat_id: String,
    pub thread_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ThreadPropertiesUpdated {
    pub chat_id: String,
    pub thread_id: String,
    pub properties: Properties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct EventsMarkedAsSeen {
    pub user_id: String,
    pub chat_id: String,
    pub seen_up_to: String,
}

/// Sent just before the server closes the socket (protocol.md §6.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct CustomerDisconnected {
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// The chat moved to other groups or agents, perhaps into the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ChatTransferred {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<String>,
    /// `manual`, `inactive`, `assigned`, `unassigned`, `other`, …
    pub reason: String,
    pub transferred_to: TransferredTo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<Queue>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct TransferredTo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct UserRemovedFromChat {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    pub user_id: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct IncomingRichMessagePostback {
    pub user_id: String,
    pub chat_id: String,
    pub thread_id: String,
    pub event_id: String,
    pub postback: Postback,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ChatPropertiesUpdated {
    pub chat_id: String,
    pub properties: Properties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ChatPropertiesDeleted {
    pub chat_id: String,
    pub properties: PropertyNames,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ThreadPropertiesDeleted {
    pub chat_id: String,
    pub thread_id: String,
    pub properties: PropertyNames,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct EventPropertiesUpdated {
    pub chat_id: String,
    pub thread_id: String,
    pub event_id: String,
    pub properties: Properties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct EventPropertiesDeleted {
    pub chat_id: String,
    pub thread_id: String,
    pub event_id: String,
    pub properties: PropertyNames,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct IncomingTypingIndicator {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    pub typing_indicator: TypingIndicator,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct TypingIndicator {
    pub author_id: String,
    pub is_typing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct IncomingSneakPeek {
    pub chat_id: String,
    pub thread_id: String,
    pub sneak_peek: SneakPeek,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct SneakPeek {
    pub author_id: String,
    pub text: String,
    pub timestamp: u64,
}

/// v3.5: the page, and when the customer opened it (RFC 3339).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct CustomerPageUpdated {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct CustomerSideStorageUpdated {
    pub customer_side_storage: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct IncomingMulticast {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub content: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct GreetingUniqueId {
    pub unique_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct QueuePositionUpdated {
    pub chat_id: String,
    pub thread_id: String,
    pub queue: Queue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct GroupsStatusUpdated {
    pub groups: Vec<GroupStatusEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct GroupStatusEntry {
    pub id: u32,
    pub status: GroupStatus,
}

/// Reasons the server gives in `customer_disconnected`.
pub mod reason {
    /// The socket did not log in in time.
    pub const CONNECTION_TIMEOUT: &str = "connection_timeout";
    /// The token used to log in has expired.
    pub const ACCESS_TOKEN_EXPIRED: &str = "access_token_expired";
    /// The server is shutting down; reconnect.
    pub const SERVICE_TEMPORARILY_UNAVAILABLE: &str = "service_temporarily_unavailable";
    pub const INTERNAL_ERROR: &str = "internal_error";
    /// Banned by an agent; the client destroys itself.
    pub const CUSTOMER_BANNED: &str = "customer_banned";
    /// More sockets than `MAX_CONNECTIONS_PER_CUSTOMER` for one customer; the client destroys
    /// itself.
    pub const TOO_MANY_CONNECTIONS: &str = "too_many_connections";
    /// Too many sockets that have not logged in, from one address.
    pub const TOO_MANY_UNAUTHORIZED_CONNECTIONS: &str = "too_many_unauthorized_connections";
    /// No chat and no page change for the inactivity period.
    pub const INACTIVITY_TIMEOUT: &str = "inactivity_timeout";
    /// The API version in the URL is not one this server speaks.
    pub const UNSUPPORTED_VERSION: &str = "unsupported_version";
    /// The organization (license) is not this server's.
    pub const LICENSE_NOT_FOUND: &str = "license_not_found";
    /// The customer's identity was removed, or they were logged in elsewhere.
    pub const LOGGED_OUT_REMOTELY: &str = "logged_out_remotely";
    /// The customer connected to the wrong node: `data.region` names the right one.
    pub const MISDIRECTED_CONNECTION: &str = "misdirected_connection";
    /// Too many reconnections after `too_many_connections`.
    pub const CUSTOMER_TEMPORARILY_BLOCKED: &str = "customer_temporarily_blocked";
}
