//! The domain layer: every state change, whichever API asks for it, is one function here that
//! validates, commits in one transaction, and returns the [`DomainEvent`]s it caused.
//!
//! ```text
//! customer RTM ─┐                       ┌─▶ fanout: pushes to this node's sockets
//! agent Web API ┼─▶ domain::<operation> ─┤   (recipients decided in one place)
//! (later: agent │   validate · commit    └─▶ store: the same events, committed with the
//!  RTM, bots)  ─┘   → Vec<DomainEvent>        change, reach the other nodes (bus)
//! ```
//!
//! Transports never build pushes: they call an operation, answer their caller, and hand the
//! events to `fanout`. Webhooks and triggers will consume the same events.
//!
//! Reads (`get_chat`, `list_chats`, `list_threads`) live here too, because what a requester may
//! see (their own chat only; internal notes for agents only) is a domain rule.

mod chats;
mod customers;
mod greetings;
mod views;

pub use chats::Started;
pub use customers::{Grant, TokenClaims};
pub use greetings::{AGENT_GREETING_TEMPLATE_ID, GreetingRule, PageGreetings};

use crate::clock::Clock;
use crate::store::Store;
use confab_protocol::entity::{Chat, Event, Greeting, User};
use serde::{Deserialize, Serialize};

/// Who is asking: decides what they may see and write.
#[derive(Debug, Clone, Copy)]
pub enum Requester<'a> {
    Customer(&'a str),
    Agent(&'a str),
}

impl Requester<'_> {
    pub fn id(&self) -> &str {
        match self {
            Requester::Customer(id) | Requester::Agent(id) => id,
        }
    }

    pub fn is_agent(&self) -> bool {
        matches!(self, Requester::Agent(_))
    }
}

/// Everyone in a chat when a change committed: who its pushes are for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Members {
    pub customers: Vec<String>,
    pub agents: Vec<String>,
}

/// A committed change, as fan-out (and later webhooks and triggers) consume it. Each carries
/// the chat's members as of the commit, so delivering it needs no further query, on this node
/// or another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DomainEvent {
    /// A chat was started, or a new thread opened in it (`incoming_chat`).
    ChatStarted { chat: Chat, requester_id: String, members: Members },
    /// Someone joined the chat (`user_added_to_chat`).
    UserAdded { chat_id: String, thread_id: String, user: User, requester_id: String, members: Members },
    /// An event was added to a thread (`incoming_event`).
    EventAdded { chat_id: String, thread_id: String, event: Event, members: Members },
    /// The chat's active thread was closed (`chat_deactivated`).
    ChatDeactivated { chat_id: String, thread_id: String, user_id: String, members: Members },
    /// A greeting was shown to the customer (`incoming_greeting`).
    GreetingShown { customer_id: String, greeting: Greeting },
    /// The customer accepted a greeting (`greeting_accepted`).
    GreetingAccepted { customer_id: String, unique_id: String },
    /// A greeting was canceled, by the customer or by a newer one (`greeting_canceled`).
    GreetingCanceled { customer_id: String, unique_id: String },
    /// Every session of the customer ends with `customer_disconnected` and this reason (a ban,
    /// a remote logout), on every node.
    CustomerDisconnected { customer_id: String, reason: String },
}

impl DomainEvent {
    /// The chat it changed, if it is about a chat.
    pub fn chat_id(&self) -> Option<&str> {
        match self {
            DomainEvent::ChatStarted { chat, .. } => Some(&chat.id),
            DomainEvent::UserAdded { chat_id, .. }
            | DomainEvent::EventAdded { chat_id, .. }
            | DomainEvent::ChatDeactivated { chat_id, .. } => Some(chat_id),
            DomainEvent::GreetingShown { .. }
            | DomainEvent::GreetingAccepted { .. }
            | DomainEvent::GreetingCanceled { .. }
            | DomainEvent::CustomerDisconnected { .. } => None,
        }
    }
}

/// The domain: the store, the clock, and the settings the rules depend on.
pub struct Domain {
    pub store: Store,
    pub clock: Clock,
    /// This node's id, so that it can tell its own commits from other nodes' on the bus.
    pub node_id: String,
    customer_tokens: customers::TokenKey,
    customer_token_ttl: std::time::Duration,
}

impl Domain {
    /// The domain over an opened store. Reads or creates the server-wide token signing key.
    pub async fn new(
        store: Store,
        clock: Clock,
        customer_token_ttl: std::time::Duration,
    ) -> crate::error::Result<Self> {
        let customer_tokens = customers::TokenKey::load(&store).await?;
        Ok(Self { store, clock, node_id: crate::store::random_id(12), customer_tokens, customer_token_ttl })
    }
}
