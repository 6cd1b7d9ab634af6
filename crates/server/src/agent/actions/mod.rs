//! What each Agent Chat API action does, one file per group of actions: `chats` (read, start,
//! resume, deactivate, follow), `chat_users` (add, remove, transfer, multicast), `events`
//! (send, postbacks, seen markers, typing), `properties` (and thread tags), `customers`,
//! `routing`.
//!
//! The Web API (`POST /v3.6/agent/action/<action>`) and the agent RTM socket
//! (`/v3.6/agent/rtm/ws`) both call [`dispatch`] with the action's name and its JSON body, so
//! the two transports serve the same actions with the same rules. Each handler takes the
//! [`AgentCall`] and its typed request, calls the domain, hands the domain events to fan-out,
//! and returns the response body.

mod chat_users;
mod chats;
mod customers;
mod events;
mod properties;
mod routing;

use super::parse;
use crate::AppState;
use crate::domain::{Domain, DomainEvent, Requester};
use crate::error::{Error, Result};
use crate::fanout::Origin;
use confab_protocol::entity::Agent;
use serde::Serialize;
use serde_json::Value;
use std::sync::Mutex;

/// One request from an authenticated agent.
pub struct AgentCall<'a> {
    pub state: &'a AppState,
    pub agent: &'a Agent,
    /// The agent's RTM socket and request id; `None` over the Web API.
    pub origin: Option<Origin>,
    /// The domain events the action caused, pushed once its answer is on its way.
    caused: Mutex<Vec<DomainEvent>>,
}

impl<'a> AgentCall<'a> {
    pub fn new(state: &'a AppState, agent: &'a Agent, origin: Option<Origin>) -> Self {
        Self { state, agent, origin, caused: Mutex::default() }
    }

    pub fn me(&self) -> Requester<'_> {
        Requester::Agent(&self.agent.id)
    }

    pub fn domain(&self) -> &Domain {
        &self.state.domain
    }

    /// Keeps the domain events for [`AgentCall::push_caused`].
    pub fn fan_out(&self, events: &[DomainEvent]) {
        self.caused.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(events);
    }

    /// Pushes what the action caused to whoever it is for (the caller's socket gets its
    /// copies with the request's id). Called after the answer is queued, so that a socket
    /// hears the answer first, as a customer's does.
    pub fn push_caused(self) {
        let events = self.caused.into_inner().unwrap_or_else(|e| e.into_inner());
        self.state.fanout.deliver(&events, self.origin.as_ref());
    }
}

/// `{}`: the answer of the actions the reference gives no response payload.
fn done() -> Result<Value> {
    Ok(Value::Object(Default::default()))
}

/// A typed response as the JSON body.
fn answer(response: impl Serialize) -> Result<Value> {
    Ok(serde_json::to_value(response).expect("responses always encode"))
}

/// Declares the action table once: the names served, and which handler serves each, with the
/// body parsed into the handler's request type.
macro_rules! agent_actions {
    ($($name:literal => $handler:path,)*) => {
        /// Every action the Agent Chat API serves here, by wire name.
        pub const ACTIONS: &[&str] = &[$($name),*];

        /// Runs `action` with its JSON `body`; `not_found` for an action there is not.
        pub async fn dispatch(call: &AgentCall<'_>, action: &str, body: &[u8]) -> Result<Value> {
            match action {
                $($name => $handler(call, parse(body)?).await,)*
                other => Err(Error::not_found(format!("Unknown action `{other}`"))),
            }
        }
    };
}

agent_actions! {
    "list_chats" => chats::list_chats,
    "list_threads" => chats::list_threads,
    "get_chat" => chats::get_chat,
    "list_archives" => chats::list_archives,
    "start_chat" => chats::start_chat,
    "resume_chat" => chats::resume_chat,
    "deactivate_chat" => chats::deactivate_chat,
    "follow_chat" => chats::follow_chat,
    "unfollow_chat" => chats::unfollow_chat,
    "transfer_chat" => chat_users::transfer_chat,
    "add_user_to_chat" => chat_users::add_user_to_chat,
    "remove_user_from_chat" => chat_users::remove_user_from_chat,
    "list_agents_for_transfer" => chat_users::list_agents_for_transfer,
    "multicast" => chat_users::multicast,
    "send_event" => events::send_event,
    "send_rich_message_postback" => events::send_rich_message_postback,
    "mark_events_as_seen" => events::mark_events_as_seen,
    "send_typing_indicator" => events::send_typing_indicator,
    "update_chat_properties" => properties::update_chat_properties,
    "delete_chat_properties" => properties::delete_chat_properties,
    "update_thread_properties" => properties::update_thread_properties,
    "delete_thread_properties" => properties::delete_thread_properties,
    "update_event_properties" => properties::update_event_properties,
    "delete_event_properties" => properties::delete_event_properties,
    "tag_thread" => properties::tag_thread,
    "untag_thread" => properties::untag_thread,
    "get_customer" => customers::get_customer,
    "create_customer" => customers::create_customer,
    "update_customer" => customers::update_customer,
    "ban_customer" => customers::ban_customer,
    "follow_customer" => customers::follow_customer,
    "unfollow_customer" => customers::unfollow_customer,
    "logout_customer" => customers::logout_customer,
    "send_greeting" => customers::send_greeting,
    "set_routing_status" => routing::set_routing_status,
    "list_routing_statuses" => routing::list_routing_statuses,
}
