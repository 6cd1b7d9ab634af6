//! Fan-out: domain events become pushes, delivered to the sockets of their recipients.
//!
//! [`push_of`] is the one place that decides which push a domain event becomes and who gets
//! it. [`Fanout::deliver`] hands the pushes to this node's [`hub`]; on PostgreSQL the same
//! events, committed with the change, reach the other nodes through the [`bus`], whose
//! listener calls `deliver` there. Delivery never waits on a socket.
//!
//! The requester's own socket gets its copy carrying its `request_id` (protocol.md §3.4: that
//! push settles the request); every other socket gets it without.
//!
//! One domain event is no push: `CustomerDisconnected` (a ban, a remote logout) tells the
//! customer's sockets to end; each then says its own goodbye (`customer_disconnected` with
//! the reason, then the close), after the frames queued before it.

pub mod bus;
pub mod hub;

use crate::domain::{DomainEvent, Members};
use confab_protocol::frame::PushFrame;
use confab_protocol::push::{
    ChatDeactivated, GreetingUniqueId, IncomingChat, IncomingEvent, Push, UserAddedToChat, reason,
};
use hub::{Hub, SocketHandle};

/// The socket a request came from, and its `request_id`.
#[derive(Debug, Clone)]
pub struct Origin {
    pub socket: SocketHandle,
    pub request_id: Option<String>,
}

/// What a domain event becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery<'a> {
    /// A push, and the users it is for.
    Push(Push, Vec<&'a str>),
    /// The end of every socket of these users, with this `customer_disconnected` reason.
    Disconnect(&'static str, Vec<&'a str>),
}

/// The `customer_disconnected` reasons a domain event may end sockets with, as the socket's
/// goodbye names them (a reason this server does not send is dropped).
fn known_reason(name: &str) -> Option<&'static str> {
    [reason::CUSTOMER_BANNED, reason::LOGGED_OUT_REMOTELY, reason::SERVICE_TEMPORARILY_UNAVAILABLE]
        .into_iter()
        .find(|r| *r == name)
}

/// The push a domain event becomes, and the users it is for.
pub fn push_of(event: &DomainEvent) -> Delivery<'_> {
    fn everyone(members: &Members) -> Vec<&str> {
        members.customers.iter().chain(&members.agents).map(String::as_str).collect()
    }
    let (push, recipients) = match event {
        DomainEvent::ChatStarted { chat, requester_id, members } => (
            Push::IncomingChat(IncomingChat {
                chat: chat.clone(),
                requester_id: Some(requester_id.clone()),
                transferred_from: None,
            }),
            everyone(members),
        ),
        DomainEvent::UserAdded { chat_id, thread_id, user, requester_id, members } => (
            Push::UserAddedToChat(UserAddedToChat {
                chat_id: chat_id.clone(),
                thread_id: Some(thread_id.clone()),
                user: user.clone(),
                reason: "manual".into(),
                requester_id: Some(requester_id.clone()),
            }),
            everyone(members),
        ),
        DomainEvent::EventAdded { chat_id, thread_id, event, members } => {
            // Internal notes (`visibility: agents`) never reach customers.
            let recipients = if event.visibility.as_deref() == Some("agents") {
                members.agents.iter().map(String::as_str).collect()
            } else {
                everyone(members)
            };
            let push = Push::IncomingEvent(IncomingEvent {
                chat_id: chat_id.clone(),
                thread_id: thread_id.clone(),
                event: event.clone(),
            });
            (push, recipients)
        }
        DomainEvent::ChatDeactivated { chat_id, thread_id, user_id, members } => (
            Push::ChatDeactivated(ChatDeactivated {
                chat_id: chat_id.clone(),
                thread_id: thread_id.clone(),
                user_id: Some(user_id.clone()),
            }),
            everyone(members),
        ),
        DomainEvent::GreetingShown { customer_id, greeting } => {
            (Push::IncomingGreeting(greeting.clone()), vec![customer_id.as_str()])
        }
        DomainEvent::GreetingAccepted { customer_id, unique_id } => {
            (Push::GreetingAccepted(GreetingUniqueId { unique_id: unique_id.clone() }), vec![customer_id.as_str()])
        }
        DomainEvent::GreetingCanceled { customer_id, unique_id } => {
            (Push::GreetingCanceled(GreetingUniqueId { unique_id: unique_id.clone() }), vec![customer_id.as_str()])
        }
        DomainEvent::CustomerDisconnected { customer_id, reason } => {
            let Some(reason) = known_reason(reason) else {
                tracing::warn!(reason, "a disconnection for a reason this server does not send");
                return Delivery::Disconnect(reason::SERVICE_TEMPORARILY_UNAVAILABLE, vec![customer_id.as_str()]);
            };
            return Delivery::Disconnect(reason, vec![customer_id.as_str()]);
        }
    };
    Delivery::Push(push, recipients)
}

/// Delivers domain events as pushes on this node.
#[derive(Default)]
pub struct Fanout {
    pub hub: Hub,
}

impl Fanout {
    /// Pushes each event to its recipients' sockets on this node, in order. `origin`'s socket
    /// gets its copies with its `request_id`.
    pub fn deliver(&self, events: &[DomainEvent], origin: Option<&Origin>) {
        for event in events {
            let (push, recipients) = match push_of(event) {
                Delivery::Push(push, recipients) => (push, recipients),
                Delivery::Disconnect(reason, users) => {
                    self.hub.disconnect(&users, reason);
                    continue;
                }
            };
            let skip = origin.map(|o| o.socket.id);
            if let Some(origin) = origin {
                origin.socket.send_frame(PushFrame { request_id: origin.request_id.clone(), push: push.clone() });
            }
            self.hub.push(&recipients, push, skip);
        }
    }
}
