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
mod routing;
mod tickets;
mod views;

pub use chats::Started;
pub use customers::{Grant, TokenClaims};
pub use routing::{DEFAULT_GROUP, GroupConfig, parse_groups_file};
pub use tickets::{TicketError, TicketInput};

use crate::clock::Clock;
use crate::store::Store;
use confab_protocol::action::GroupStatus;
use confab_protocol::entity::{Chat, Event, Queue, User};
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
    /// A queued thread moved in its group's queue (`queue_position_updated`).
    QueuePositionUpdated { chat_id: String, thread_id: String, queue: Queue, members: Members },
    /// A group's availability changed (`groups_status_updated`, for the customers logged in
    /// with that group).
    GroupStatusChanged { group_id: u32, status: GroupStatus },
}

impl DomainEvent {
    /// The chat the event is about (`""` for a group's event).
    pub fn chat_id(&self) -> &str {
        match self {
            DomainEvent::ChatStarted { chat, .. } => &chat.id,
            DomainEvent::UserAdded { chat_id, .. }
            | DomainEvent::EventAdded { chat_id, .. }
            | DomainEvent::ChatDeactivated { chat_id, .. }
            | DomainEvent::QueuePositionUpdated { chat_id, .. } => chat_id,
            DomainEvent::GroupStatusChanged { .. } => "",
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
