//! Server pushes, by name (protocol.md §12). A client ignores pushes it does not know.

use crate::entity::{Chat, Event, Properties, User};
use serde::{Deserialize, Serialize};
use serde_json::Value;

named_payloads! {
    /// A server push, by name.
    pub enum Push {
        "incoming_chat" => IncomingChat(IncomingChat),
        "incoming_event" => IncomingEvent(IncomingEvent),
        "user_added_to_chat" => UserAddedToChat(UserAddedToChat),
        "chat_deactivated" => ChatDeactivated(ChatDeactivated),
        "thread_properties_updated" => ThreadPropertiesUpdated(ThreadPropertiesUpdated),
        "events_marked_as_seen" => EventsMarkedAsSeen(EventsMarkedAsSeen),
        "customer_disconnected" => CustomerDisconnected(CustomerDisconnected),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingChat {
    pub chat: Chat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transferred_from: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingEvent {
    pub chat_id: String,
    pub thread_id: String,
    pub event: Event,
}

/// Someone joined the chat: clients learn their name before their first message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatDeactivated {
    pub chat_id: String,
    pub thread_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadPropertiesUpdated {
    pub chat_id: String,
    pub thread_id: String,
    pub properties: Properties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsMarkedAsSeen {
    pub user_id: String,
    pub chat_id: String,
    pub seen_up_to: String,
}

/// Sent just before the server closes the socket (protocol.md §6.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerDisconnected {
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
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
}
