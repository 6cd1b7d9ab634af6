//! What happens, typed: every event of the Customer SDK as one enum, [`ClientEvent`].
//!
//! Pushes become events one to one, except where protocol.md §12 derives more: `incoming_chat`,
//! `user_added_to_chat`, `get_chat` and `list_chats` also yield [`ClientEvent::UserData`] per
//! user (each user once until their data changes); `thread_properties_updated` with
//! `lc2.queue_pos` also yields [`ClientEvent::QueuePositionUpdated`]; `groups_status_updated`
//! and v2's `incoming_multicast` `lc2`/`groups_update` yield
//! [`ClientEvent::AvailabilityUpdated`]. `customer_disconnected` becomes
//! [`ClientEvent::Disconnected`] (or nothing, per §6.3); `customer_side_storage_updated` is
//! kept and sent back with the next login; `incoming_sneak_peek` (for agents) is dropped.

use crate::error::SdkError;
use confab_protocol::action::LoginChat;
use confab_protocol::entity::{Customer, Greeting, User};
use confab_protocol::push::{
    ChatDeactivated, ChatPropertiesDeleted, ChatPropertiesUpdated, ChatTransferred, CustomerPageUpdated,
    EventPropertiesDeleted, EventPropertiesUpdated, EventsMarkedAsSeen, IncomingChat, IncomingEvent, IncomingMulticast,
    IncomingRichMessagePostback, IncomingTypingIndicator, QueuePositionUpdated, ThreadPropertiesDeleted,
    ThreadPropertiesUpdated, UserAddedToChat, UserRemovedFromChat,
};
use confab_protocol::token::KeptIdentity;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// Whether agents are there to chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Availability {
    /// The customer's group has an agent accepting chats (or a queue).
    Online,
    /// Nobody to answer: offer a ticket form.
    Offline,
}

impl Availability {
    /// `online` or `offline`, as the official SDK names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Online => "online",
            Availability::Offline => "offline",
        }
    }
}

/// What the client does after a [`ClientEvent::Disconnected`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DisconnectOutcome {
    /// It reconnects on its own (after a backoff) and emits `Connected` again.
    Reconnecting,
    /// It waits until [`Client::connect`](crate::Client) is called (`users_limit_reached`,
    /// `inactivity_timeout`).
    Paused,
    /// It has ended for good; every later call fails with `SDK_DESTROYED`.
    Destroyed,
}

/// One thing that happened, in order. Names follow the Customer SDK's events (the table in
/// the crate's README maps each).
///
/// Serializable, so that one tab can hand the events of a shared connection to the others
/// (`tabs.rs`).
#[allow(clippy::large_enum_variant)] // Boxing would cost every match; events are few.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ClientEvent {
    /// `availability_updated`: the customer's group went online or offline.
    AvailabilityUpdated {
        /// The new availability.
        availability: Availability,
    },
    /// `chat_deactivated`: the chat's thread was closed.
    ChatDeactivated(ChatDeactivated),
    /// `chat_properties_deleted`.
    ChatPropertiesDeleted(ChatPropertiesDeleted),
    /// `chat_properties_updated`.
    ChatPropertiesUpdated(ChatPropertiesUpdated),
    /// `chat_transferred`: to other groups or agents, perhaps into the queue.
    ChatTransferred(ChatTransferred),
    /// `connected`: logged in (also after every reconnect).
    Connected {
        /// The customer, with statistics.
        customer: Customer,
        /// Whether agents are available.
        availability: Availability,
        /// A greeting waiting for the customer, if any.
        greeting: Option<Greeting>,
        /// The customer's chats: whether each has an active thread is known at once.
        chats: Vec<LoginChat>,
    },
    /// Not in the official SDK: a connection attempt failed; another follows after `retry_in`.
    ConnectFailed {
        /// Why it failed.
        error: SdkError,
        /// When the next attempt starts.
        retry_in: Duration,
    },
    /// `connection_recovered`: after the browser came back online, the server answered.
    ConnectionRecovered,
    /// `connection_unstable`: the browser went offline while connected.
    ConnectionUnstable,
    /// `customer_id`: the customer's id, from the first token.
    CustomerId(String),
    /// Not in the official SDK: the identity to keep (`Config::keep_identity`), when a token
    /// named a customer other than `Config::identity` (the first time, or after it was lost).
    /// Keep it where only this app can read it, and pass it back in `Config::identity`.
    IdentityKept(KeptIdentity),
    /// `customer_page_updated`.
    CustomerPageUpdated(CustomerPageUpdated),
    /// `customer_updated`: the customer's changed fields.
    CustomerUpdated(Customer),
    /// `disconnected`: the connection was lost or ended.
    Disconnected {
        /// `connection_lost`, the `customer_disconnected` reason, or a login failure
        /// (`identity_mismatch`, `customer_banned`, `users_limit_reached`,
        /// `wrong_product_version`, a token refusal's message).
        reason: String,
        /// The `customer_disconnected` push's `data`, for reasons that reconnect or pause.
        data: Option<Value>,
        /// What the client does next.
        outcome: DisconnectOutcome,
    },
    /// `event_properties_deleted`.
    EventPropertiesDeleted(EventPropertiesDeleted),
    /// `event_properties_updated`.
    EventPropertiesUpdated(EventPropertiesUpdated),
    /// `event_updated`: an event was edited.
    EventUpdated(IncomingEvent),
    /// `events_marked_as_seen`.
    EventsMarkedAsSeen(EventsMarkedAsSeen),
    /// `greeting_accepted`.
    GreetingAccepted {
        /// The greeting's `unique_id`.
        unique_id: String,
    },
    /// `greeting_canceled`.
    GreetingCanceled {
        /// The greeting's `unique_id`.
        unique_id: String,
    },
    /// `incoming_chat`: a chat started or resumed (by another tab or an agent).
    IncomingChat(IncomingChat),
    /// `incoming_event`: a new event in a chat, each once.
    IncomingEvent(IncomingEvent),
    /// `incoming_greeting`.
    IncomingGreeting(Greeting),
    /// `incoming_multicast`, as received.
    IncomingMulticast(IncomingMulticast),
    /// `incoming_rich_message_postback`.
    IncomingRichMessagePostback(IncomingRichMessagePostback),
    /// `incoming_typing_indicator`.
    IncomingTypingIndicator(IncomingTypingIndicator),
    /// `queue_position_updated`: from the push, or from `thread_properties_updated` carrying
    /// `lc2.queue_pos` (then `queued_at` is `None`).
    QueuePositionUpdated(QueuePositionUpdated),
    /// `thread_properties_deleted`.
    ThreadPropertiesDeleted(ThreadPropertiesDeleted),
    /// `thread_properties_updated`.
    ThreadPropertiesUpdated(ThreadPropertiesUpdated),
    /// `user_added_to_chat`.
    UserAddedToChat(UserAddedToChat),
    /// `user_data`: a user seen in a chat, without per-chat fields (`present`,
    /// `events_seen_up_to`).
    UserData(User),
    /// `user_removed_from_chat`.
    UserRemovedFromChat(UserRemovedFromChat),
}

impl ClientEvent {
    /// The official SDK's event name (`connect_failed` is ours).
    ///
    /// ```
    /// use confab_sdk::ClientEvent;
    /// assert_eq!(ClientEvent::ConnectionUnstable.name(), "connection_unstable");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            ClientEvent::AvailabilityUpdated { .. } => "availability_updated",
            ClientEvent::ChatDeactivated(_) => "chat_deactivated",
            ClientEvent::ChatPropertiesDeleted(_) => "chat_properties_deleted",
            ClientEvent::ChatPropertiesUpdated(_) => "chat_properties_updated",
            ClientEvent::ChatTransferred(_) => "chat_transferred",
            ClientEvent::Connected { .. } => "connected",
            ClientEvent::ConnectFailed { .. } => "connect_failed",
            ClientEvent::ConnectionRecovered => "connection_recovered",
            ClientEvent::ConnectionUnstable => "connection_unstable",
            ClientEvent::CustomerId(_) => "customer_id",
            ClientEvent::IdentityKept(_) => "identity_kept",
            ClientEvent::CustomerPageUpdated(_) => "customer_page_updated",
            ClientEvent::CustomerUpdated(_) => "customer_updated",
            ClientEvent::Disconnected { .. } => "disconnected",
            ClientEvent::EventPropertiesDeleted(_) => "event_properties_deleted",
            ClientEvent::EventPropertiesUpdated(_) => "event_properties_updated",
            ClientEvent::EventUpdated(_) => "event_updated",
            ClientEvent::EventsMarkedAsSeen(_) => "events_marked_as_seen",
            ClientEvent::GreetingAccepted { .. } => "greeting_accepted",
            ClientEvent::GreetingCanceled { .. } => "greeting_canceled",
            ClientEvent::IncomingChat(_) => "incoming_chat",
            ClientEvent::IncomingEvent(_) => "incoming_event",
            ClientEvent::IncomingGreeting(_) => "incoming_greeting",
            ClientEvent::IncomingMulticast(_) => "incoming_multicast",
            ClientEvent::IncomingRichMessagePostback(_) => "incoming_rich_message_postback",
            ClientEvent::IncomingTypingIndicator(_) => "incoming_typing_indicator",
            ClientEvent::QueuePositionUpdated(_) => "queue_position_updated",
            ClientEvent::ThreadPropertiesDeleted(_) => "thread_properties_deleted",
            ClientEvent::ThreadPropertiesUpdated(_) => "thread_properties_updated",
            ClientEvent::UserAddedToChat(_) => "user_added_to_chat",
            ClientEvent::UserData(_) => "user_data",
            ClientEvent::UserRemovedFromChat(_) => "user_removed_from_chat",
        }
    }

    /// For `Disconnected`: whether the client reconnects on its own. False for any other event.
    pub fn will_reconnect(&self) -> bool {
        matches!(self, ClientEvent::Disconnected { outcome: DisconnectOutcome::Reconnecting, .. })
    }
}
