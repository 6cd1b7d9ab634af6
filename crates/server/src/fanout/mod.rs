//! Fan-out: domain events become pushes, delivered to the sockets of their recipients.
//!
//! [`push_of`] is the one place that decides which push a domain event becomes and who gets
//! it. [`Fanout::deliver`] hands the pushes to this node's [`hub`]; on PostgreSQL the same
//! events, committed with the change, reach the other nodes through the [`bus`], whose
//! listener calls `deliver` there. Delivery never waits on a socket.
//!
//! The requester's own socket gets its copy carrying its `request_id` (protocol.md §3.4: that
//! push settles the request); every other socket gets it without.

pub mod bus;
pub mod hub;

use crate::domain::{DomainEvent, Members};
use confab_protocol::push::{
    ChatDeactivated, GroupStatusEntry, GroupsStatusUpdated, IncomingChat, IncomingEvent, Push, QueuePositionUpdated,
    UserAddedToChat,
};
use hub::{Hub, SocketHandle};

/// The socket a request came from, and its `request_id`.
#[derive(Debug, Clone)]
pub struct Origin {
    pub socket: SocketHandle,
    pub request_id: Option<String>,
}

/// Who a push is for: users (by id), and the customers logged in with a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients<'a> {
    pub users: Vec<&'a str>,
    pub group: Option<u32>,
}

impl<'a> FromIterator<&'a str> for Recipients<'a> {
    fn from_iter<I: IntoIterator<Item = &'a str>>(users: I) -> Self {
        Recipients { users: users.into_iter().collect(), group: None }
    }
}

/// The push a domain event becomes, and who it is for.
pub fn push_of(event: &DomainEvent) -> (Push, Recipients<'_>) {
    fn everyone(members: &Members) -> Recipients<'_> {
        members.customers.iter().chain(&members.agents).map(String::as_str).collect()
    }
    match event {
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
        DomainEvent::QueuePositionUpdated { chat_id, thread_id, queue, members } => (
            Push::QueuePositionUpdated(QueuePositionUpdated {
                chat_id: chat_id.clone(),
                thread_id: thread_id.clone(),
                queue: queue.clone(),
            }),
            everyone(members),
        ),
        DomainEvent::GroupStatusChanged { group_id, status } => (
            Push::GroupsStatusUpdated(GroupsStatusUpdated {
                groups: vec![GroupStatusEntry { id: *group_id, status: *status }],
            }),
            Recipients { users: Vec::new(), group: Some(*group_id) },
        ),
    }
}

/// Delivers domain events as pushes on this node.
#[derive(Default)]
pub struct Fanout {
    pub hub: Hub,
}

impl Fanout {
    /// Pushes each event to its recipients' sockets on this node, in order. `origin`'s socket
    /// gets its copies (of the pushes for its user) with its `request_id`.
    pub fn deliver(&self, events: &[DomainEvent], origin: Option<&Origin>) {
        for event in events {
            let (push, recipients) = push_of(event);
            let own = origin.map(|o| (o.socket.id, o.request_id.clone()));
            self.hub.push(&recipients.users, recipients.group, push, own);
        }
    }
}
