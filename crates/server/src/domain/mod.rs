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

mod agent_chats;
mod archives;
mod chat_state;
pub mod chat_users;
mod chats;
mod customers;
mod greetings;
mod properties;
mod routing;
mod tickets;
pub mod uploads;
mod views;
mod webhooks;

pub use archives::ArchiveQuery;
pub use chats::Started;
pub use customers::{Grant, TokenClaims, parse_agents_file, statistics};
pub use greetings::{AGENT_GREETING_TEMPLATE_ID, GreetingRule, PageGreetings};
pub use routing::{DEFAULT_GROUP, GroupConfig, parse_groups_file};
pub use tickets::{TicketError, TicketInput};
pub use webhooks::{NewWebhook, WEBHOOK_ACTIONS, WebhookFilters};

use crate::clock::Clock;
use crate::store::Store;
use confab_protocol::action::{GroupStatus, Postback};
use confab_protocol::entity::{Chat, Customer, Event, Greeting, Properties, PropertyNames, Queue, User};
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
    /// Agents who follow the chat or its customer without being users of the chat: they hear
    /// what its agents hear.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub followers: Vec<String>,
}

/// A committed change, as fan-out (and later webhooks and triggers) consume it. Each carries
/// the chat's members as of the commit, so delivering it needs no further query, on this node
/// or another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DomainEvent {
    /// A chat was started, or a new thread opened in it (`incoming_chat`).
    ChatStarted {
        chat: Chat,
        requester_id: String,
        members: Members,
    },
    /// Someone joined the chat (`user_added_to_chat`).
    UserAdded {
        chat_id: String,
        thread_id: String,
        user: User,
        requester_id: String,
        /// Added with `visibility: agents`: the customer is not told.
        #[serde(default)]
        agents_only: bool,
        members: Members,
    },
    /// An agent left the chat (`user_removed_from_chat`, `reason`: `manual`), for the chat's
    /// users and the removed agent.
    UserRemoved {
        chat_id: String,
        thread_id: String,
        user_id: String,
        reason: String,
        requester_id: String,
        members: Members,
    },
    /// The chat went to other agents or a group (`chat_transferred`, `reason`: `manual`), with
    /// its place in the queue when it waits there after the transfer.
    ChatTransferred {
        chat_id: String,
        thread_id: String,
        requester_id: String,
        group_ids: Option<Vec<u32>>,
        agent_ids: Option<Vec<String>>,
        #[serde(default)]
        queue: Option<Queue>,
        members: Members,
    },
    /// Chat-unrelated content for chosen users (`incoming_multicast`). Not stored.
    Multicast {
        author_id: String,
        message_type: Option<String>,
        content: serde_json::Value,
        recipients: Vec<String>,
    },
    /// An event was added to a thread (`incoming_event`).
    EventAdded {
        chat_id: String,
        thread_id: String,
        event: Event,
        members: Members,
    },
    /// The chat's active thread was closed (`chat_deactivated`).
    ChatDeactivated {
        chat_id: String,
        thread_id: String,
        user_id: String,
        members: Members,
    },
    /// A user clicked a rich message button (`incoming_rich_message_postback`, to the chat's
    /// agents and the user's other sockets).
    RichMessagePostback {
        chat_id: String,
        thread_id: String,
        event_id: String,
        user_id: String,
        postback: Postback,
        members: Members,
    },
    /// A user's seen marker moved forward (`events_marked_as_seen`).
    EventsSeen {
        chat_id: String,
        user_id: String,
        seen_up_to: String,
        members: Members,
    },
    /// What a customer is typing (`incoming_sneak_peek`, to agents only). Not stored.
    SneakPeek {
        chat_id: String,
        thread_id: String,
        author_id: String,
        text: String,
        timestamp: u64,
        members: Members,
    },
    /// An agent started or stopped typing (`incoming_typing_indicator`: to the customer unless
    /// `agents_only`, and to the other agents). Not stored.
    TypingIndicator {
        chat_id: String,
        thread_id: String,
        author_id: String,
        is_typing: bool,
        agents_only: bool,
        timestamp: u64,
        members: Members,
    },
    /// `chat_properties_updated`: the names set, with their new values.
    ChatPropertiesUpdated {
        chat_id: String,
        properties: Properties,
        members: Members,
    },
    /// `chat_properties_deleted`: the names removed.
    ChatPropertiesDeleted {
        chat_id: String,
        properties: PropertyNames,
        members: Members,
    },
    ThreadPropertiesUpdated {
        chat_id: String,
        thread_id: String,
        properties: Properties,
        members: Members,
    },
    ThreadPropertiesDeleted {
        chat_id: String,
        thread_id: String,
        properties: PropertyNames,
        members: Members,
    },
    /// `internal`: the event is an internal note (agents only), and so is this change.
    EventPropertiesUpdated {
        chat_id: String,
        thread_id: String,
        event_id: String,
        properties: Properties,
        internal: bool,
        members: Members,
    },
    EventPropertiesDeleted {
        chat_id: String,
        thread_id: String,
        event_id: String,
        properties: PropertyNames,
        internal: bool,
        members: Members,
    },
    /// The customer's fields changed (`customer_updated`, v3.5: the fields at the top level),
    /// for the agents of their chat (`members`, empty without one) and their own sockets.
    CustomerUpdated {
        customer: Customer,
        members: Members,
    },
    /// The customer opened a page (`customer_page_updated`), for the agents of their chat.
    CustomerPageUpdated {
        customer_id: String,
        url: String,
        title: Option<String>,
        opened_at: String,
        members: Members,
    },
    /// A greeting was shown to the customer (`incoming_greeting`).
    GreetingShown {
        customer_id: String,
        greeting: Greeting,
    },
    /// The customer accepted a greeting (`greeting_accepted`).
    GreetingAccepted {
        customer_id: String,
        unique_id: String,
    },
    /// A greeting was canceled, by the customer or by a newer one (`greeting_canceled`).
    GreetingCanceled {
        customer_id: String,
        unique_id: String,
    },
    /// Every session of the customer ends with `customer_disconnected` and this reason (a ban,
    /// a remote logout), on every node.
    CustomerDisconnected {
        customer_id: String,
        reason: String,
    },
    /// A queued thread moved in its group's queue (`queue_position_updated`).
    QueuePositionUpdated {
        chat_id: String,
        thread_id: String,
        queue: Queue,
        members: Members,
    },
    /// A group's availability changed (`groups_status_updated`, for the customers logged in
    /// with that group).
    GroupStatusChanged {
        group_id: u32,
        status: GroupStatus,
    },
    /// A thread got a tag (`thread_tagged`, for the chat's agents and followers).
    ThreadTagged {
        chat_id: String,
        thread_id: String,
        tag: String,
        requester_id: String,
        members: Members,
    },
    /// A thread lost a tag (`thread_untagged`).
    ThreadUntagged {
        chat_id: String,
        thread_id: String,
        tag: String,
        requester_id: String,
        members: Members,
    },
    /// Agents stopped following a chat (`chat_unfollowed`, for them).
    ChatUnfollowed {
        chat_id: String,
        agent_ids: Vec<String>,
    },
    /// An agent created a customer (`incoming_customer`, for every agent).
    CustomerCreated {
        customer: Customer,
    },
    /// An agent's routing status changed (`routing_status_set`, for every agent).
    RoutingStatusSet {
        agent_id: String,
        status: confab_protocol::agent::RoutingStatus,
    },
}

impl DomainEvent {
    /// The chat this event is about and who was in it, for the events about one chat.
    pub fn chat(&self) -> Option<(&str, &Members)> {
        use DomainEvent::*;
        match self {
            ChatStarted { chat, members, .. } => Some((&chat.id, members)),
            UserAdded { chat_id, members, .. }
            | UserRemoved { chat_id, members, .. }
            | ChatTransferred { chat_id, members, .. }
            | EventAdded { chat_id, members, .. }
            | ChatDeactivated { chat_id, members, .. }
            | RichMessagePostback { chat_id, members, .. }
            | EventsSeen { chat_id, members, .. }
            | SneakPeek { chat_id, members, .. }
            | TypingIndicator { chat_id, members, .. }
            | ChatPropertiesUpdated { chat_id, members, .. }
            | ChatPropertiesDeleted { chat_id, members, .. }
            | ThreadPropertiesUpdated { chat_id, members, .. }
            | ThreadPropertiesDeleted { chat_id, members, .. }
            | EventPropertiesUpdated { chat_id, members, .. }
            | EventPropertiesDeleted { chat_id, members, .. }
            | QueuePositionUpdated { chat_id, members, .. }
            | ThreadTagged { chat_id, members, .. }
            | ThreadUntagged { chat_id, members, .. } => Some((chat_id, members)),
            _ => None,
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
    /// Where uploads are served (`uploads::with_files_url`); `None`: no file event names one.
    files_url: Option<String>,
    /// The greeting rules' page patterns, and when they were read (`greets_page`).
    greeted_pages: std::sync::Mutex<Option<(crate::clock::Micros, std::sync::Arc<Vec<String>>)>>,
}

impl Domain {
    /// The domain over an opened store. Reads or creates the server-wide token signing key.
    pub async fn new(
        store: Store,
        clock: Clock,
        customer_token_ttl: std::time::Duration,
    ) -> crate::error::Result<Self> {
        let customer_tokens = customers::TokenKey::load(&store).await?;
        Ok(Self {
            store,
            clock,
            node_id: crate::store::random_id(12),
            customer_tokens,
            customer_token_ttl,
            files_url: None,
            greeted_pages: std::sync::Mutex::default(),
        })
    }
}
