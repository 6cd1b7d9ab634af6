//! Fan-out: domain events become pushes, delivered to the sockets of their recipients.
//!
//! [`push_of`] is the one place that decides which push a domain event becomes and who gets
//! it. [`Fanout::deliver`] hands the pushes to this node's [`hub`]; on PostgreSQL the same
//! events, committed with the change, reach the other nodes through the [`bus`], whose
//! listener calls `deliver` there. Delivery never waits on a socket.
//!
//! The requester's own socket gets its copy carrying its `request_id` (protocol.md §3.4: that
//! push settles the request) when the requester is among the push's recipients; every other
//! socket gets it without.
//!
//! One domain event is no push: `CustomerDisconnected` (a ban, a remote logout) tells the
//! customer's sockets to end; each then says its own goodbye (`customer_disconnected` with
//! the reason, then the close), after the frames queued before it.

pub mod bus;
pub mod hub;

use crate::domain::{DomainEvent, Members};
use crate::webhooks::Webhooks;
use confab_protocol::agent::{AgentPush, AgentRoutingStatus, ChatUnfollowed, ThreadTag};
use confab_protocol::frame::push_text;
use confab_protocol::push::{
    ChatDeactivated, ChatPropertiesDeleted, ChatPropertiesUpdated, ChatTransferred, CustomerPageUpdated,
    EventPropertiesDeleted, EventPropertiesUpdated, EventsMarkedAsSeen, GreetingUniqueId, GroupStatusEntry,
    GroupsStatusUpdated, IncomingChat, IncomingEvent, IncomingMulticast, IncomingRichMessagePostback,
    IncomingSneakPeek, IncomingTypingIndicator, Push, QueuePositionUpdated, SneakPeek, ThreadPropertiesDeleted,
    ThreadPropertiesUpdated, TransferredTo, TypingIndicator, UserAddedToChat, UserRemovedFromChat, reason,
};
use hub::{EVERY_AGENT, Hub, SocketHandle};
use std::sync::{Arc, OnceLock};

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

/// What a domain event becomes.
// Built, delivered and dropped at once: a box per push would cost more than the size.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery<'a> {
    /// A push, and the users it is for.
    Push(Push, Recipients<'a>),
    /// The end of every socket of these users, with this `customer_disconnected` reason.
    Disconnect(&'static str, Vec<&'a str>),
    /// A push only agents get, and the agents it is for.
    Agents(AgentPush, Vec<&'a str>),
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
        members.customers.iter().chain(&members.agents).chain(&members.followers).map(String::as_str).collect()
    }
    fn agents(members: &Members) -> Vec<&str> {
        members.agents.iter().chain(&members.followers).map(String::as_str).collect()
    }
    /// A key change of a chat: its users, and every agent (who may take or watch it).
    fn everyone_and_all_agents(members: &Members) -> Vec<&str> {
        let mut users = everyone(members);
        users.push(EVERY_AGENT);
        users
    }
    /// The chat's agents and one more user (the requester, on their other sockets).
    fn agents_and<'a>(members: &'a Members, user_id: &'a str) -> Vec<&'a str> {
        let mut users = agents(members);
        if !users.contains(&user_id) {
            users.push(user_id);
        }
        users
    }
    let (push, recipients) = match event {
        DomainEvent::ChatStarted { chat, requester_id, members } => (
            Push::IncomingChat(IncomingChat {
                chat: chat.clone(),
                requester_id: Some(requester_id.clone()),
                transferred_from: None,
            }),
            everyone_and_all_agents(members),
        ),
        DomainEvent::UserAdded { chat_id, thread_id, user, requester_id, agents_only, members } => (
            Push::UserAddedToChat(UserAddedToChat {
                chat_id: chat_id.clone(),
                thread_id: Some(thread_id.clone()),
                user: user.clone(),
                reason: "manual".into(),
                requester_id: Some(requester_id.clone()),
            }),
            if *agents_only { agents(members) } else { everyone(members) },
        ),
        // The removed agent is no longer a member, but learns it left.
        DomainEvent::UserRemoved { chat_id, thread_id, user_id, reason, requester_id, members } => {
            let mut users = everyone(members);
            if !users.contains(&user_id.as_str()) {
                users.push(user_id);
            }
            let push = Push::UserRemovedFromChat(UserRemovedFromChat {
                chat_id: chat_id.clone(),
                thread_id: Some(thread_id.clone()),
                user_id: user_id.clone(),
                reason: reason.clone(),
                requester_id: Some(requester_id.clone()),
            });
            (push, users)
        }
        DomainEvent::ChatTransferred { chat_id, thread_id, requester_id, group_ids, agent_ids, queue, members } => (
            Push::ChatTransferred(ChatTransferred {
                chat_id: chat_id.clone(),
                thread_id: Some(thread_id.clone()),
                requester_id: Some(requester_id.clone()),
                reason: "manual".into(),
                transferred_to: TransferredTo { group_ids: group_ids.clone(), agent_ids: agent_ids.clone() },
                queue: queue.clone(),
            }),
            everyone_and_all_agents(members),
        ),
        DomainEvent::Multicast { author_id, message_type, content, recipients } => (
            Push::IncomingMulticast(IncomingMulticast {
                author_id: Some(author_id.clone()),
                kind: message_type.clone(),
                content: content.clone(),
            }),
            recipients.iter().map(String::as_str).collect(),
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
            everyone_and_all_agents(members),
        ),
        DomainEvent::RichMessagePostback { chat_id, thread_id, event_id, user_id, postback, members } => (
            Push::IncomingRichMessagePostback(IncomingRichMessagePostback {
                user_id: user_id.clone(),
                chat_id: chat_id.clone(),
                thread_id: thread_id.clone(),
                event_id: event_id.clone(),
                postback: postback.clone(),
            }),
            agents_and(members, user_id),
        ),
        DomainEvent::EventsSeen { chat_id, user_id, seen_up_to, members } => (
            Push::EventsMarkedAsSeen(EventsMarkedAsSeen {
                user_id: user_id.clone(),
                chat_id: chat_id.clone(),
                seen_up_to: seen_up_to.clone(),
            }),
            everyone(members),
        ),
        // What a customer types is for agents only, never for customers.
        DomainEvent::SneakPeek { chat_id, thread_id, author_id, text, timestamp, members } => (
            Push::IncomingSneakPeek(IncomingSneakPeek {
                chat_id: chat_id.clone(),
                thread_id: thread_id.clone(),
                sneak_peek: SneakPeek { author_id: author_id.clone(), text: text.clone(), timestamp: *timestamp },
            }),
            agents(members),
        ),
        DomainEvent::TypingIndicator { chat_id, thread_id, author_id, is_typing, agents_only, timestamp, members } => {
            let recipients = if *agents_only { agents(members) } else { everyone(members) };
            let push = Push::IncomingTypingIndicator(IncomingTypingIndicator {
                chat_id: chat_id.clone(),
                thread_id: Some(thread_id.clone()),
                typing_indicator: TypingIndicator {
                    author_id: author_id.clone(),
                    is_typing: *is_typing,
                    recipients: Some(if *agents_only { "agents" } else { "all" }.to_owned()),
                    timestamp: Some(*timestamp),
                },
            });
            // The typist's own sockets learn nothing new.
            (push, recipients.into_iter().filter(|id| id != author_id).collect())
        }
        DomainEvent::ChatPropertiesUpdated { chat_id, properties, members } => (
            Push::ChatPropertiesUpdated(ChatPropertiesUpdated {
                chat_id: chat_id.clone(),
                properties: properties.clone(),
            }),
            everyone(members),
        ),
        DomainEvent::ChatPropertiesDeleted { chat_id, properties, members } => (
            Push::ChatPropertiesDeleted(ChatPropertiesDeleted {
                chat_id: chat_id.clone(),
                properties: properties.clone(),
            }),
            everyone(members),
        ),
        DomainEvent::ThreadPropertiesUpdated { chat_id, thread_id, properties, members } => (
            Push::ThreadPropertiesUpdated(ThreadPropertiesUpdated {
                chat_id: chat_id.clone(),
                thread_id: thread_id.clone(),
                properties: properties.clone(),
            }),
            everyone(members),
        ),
        DomainEvent::ThreadPropertiesDeleted { chat_id, thread_id, properties, members } => (
            Push::ThreadPropertiesDeleted(ThreadPropertiesDeleted {
                chat_id: chat_id.clone(),
                thread_id: thread_id.clone(),
                properties: properties.clone(),
            }),
            everyone(members),
        ),
        DomainEvent::EventPropertiesUpdated { chat_id, thread_id, event_id, properties, internal, members } => (
            Push::EventPropertiesUpdated(EventPropertiesUpdated {
                chat_id: chat_id.clone(),
                thread_id: thread_id.clone(),
                event_id: event_id.clone(),
                properties: properties.clone(),
            }),
            if *internal { agents(members) } else { everyone(members) },
        ),
        DomainEvent::EventPropertiesDeleted { chat_id, thread_id, event_id, properties, internal, members } => (
            Push::EventPropertiesDeleted(EventPropertiesDeleted {
                chat_id: chat_id.clone(),
                thread_id: thread_id.clone(),
                event_id: event_id.clone(),
                properties: properties.clone(),
            }),
            if *internal { agents(members) } else { everyone(members) },
        ),
        DomainEvent::CustomerUpdated { customer, members } => {
            (Push::CustomerUpdated(customer.clone()), agents_and(members, &customer.id))
        }
        DomainEvent::CustomerPageUpdated { customer_id, url, title, opened_at, members } => (
            Push::CustomerPageUpdated(CustomerPageUpdated {
                customer_id: Some(customer_id.clone()),
                url: url.clone(),
                title: title.clone(),
                opened_at: Some(opened_at.clone()),
            }),
            // The customer's other tabs hear of it too (the SDK's `customer_page_updated`).
            agents_and(members, customer_id),
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
        DomainEvent::QueuePositionUpdated { chat_id, thread_id, queue, members } => (
            Push::QueuePositionUpdated(QueuePositionUpdated {
                chat_id: chat_id.clone(),
                thread_id: thread_id.clone(),
                queue: queue.clone(),
            }),
            everyone(members),
        ),
        DomainEvent::ThreadTagged { chat_id, thread_id, tag, members, .. } => {
            let tag = ThreadTag { chat_id: chat_id.clone(), thread_id: thread_id.clone(), tag: tag.clone() };
            return Delivery::Agents(AgentPush::ThreadTagged(tag), agents(members));
        }
        DomainEvent::ThreadUntagged { chat_id, thread_id, tag, members, .. } => {
            let tag = ThreadTag { chat_id: chat_id.clone(), thread_id: thread_id.clone(), tag: tag.clone() };
            return Delivery::Agents(AgentPush::ThreadUntagged(tag), agents(members));
        }
        DomainEvent::ChatUnfollowed { chat_id, agent_ids } => {
            let push = AgentPush::ChatUnfollowed(ChatUnfollowed { chat_id: chat_id.clone() });
            return Delivery::Agents(push, agent_ids.iter().map(String::as_str).collect());
        }
        DomainEvent::CustomerCreated { customer } => {
            return Delivery::Agents(AgentPush::IncomingCustomer(customer.clone()), vec![EVERY_AGENT]);
        }
        DomainEvent::RoutingStatusSet { agent_id, status } => {
            let push = AgentPush::RoutingStatusSet(AgentRoutingStatus { agent_id: agent_id.clone(), status: *status });
            return Delivery::Agents(push, vec![EVERY_AGENT]);
        }
        // For the customers logged in with the group, not for users by id.
        DomainEvent::GroupStatusChanged { group_id, status } => {
            let push = Push::GroupsStatusUpdated(GroupsStatusUpdated {
                groups: vec![GroupStatusEntry { id: *group_id, status: *status }],
            });
            return Delivery::Push(push, Recipients { users: Vec::new(), group: Some(*group_id) });
        }
    };
    Delivery::Push(push, Recipients { users: recipients, group: None })
}

/// Delivers domain events as pushes on this node, and this node's own commits as webhook calls.
#[derive(Default)]
pub struct Fanout {
    pub hub: Hub,
    /// Set once at start; tests that build a bare `Fanout` call no webhooks.
    pub webhooks: OnceLock<Arc<Webhooks>>,
}

impl Fanout {
    /// Delivers events this node committed: pushes ([`Fanout::push`]) and webhook calls.
    pub fn deliver(&self, events: &[DomainEvent], origin: Option<&Origin>) {
        self.fan_out(events, origin, self.webhooks.get());
    }

    /// Pushes each event to its recipients' sockets on this node, in order. `origin`'s socket
    /// gets its copies (of the pushes for its user) with its `request_id`. Events from other
    /// nodes (the bus) come here only: their own node called their webhooks.
    pub fn push(&self, events: &[DomainEvent], origin: Option<&Origin>) {
        self.fan_out(events, origin, None);
    }

    /// Decides each event's push once, for the webhooks (when given) and the sockets.
    fn fan_out(&self, events: &[DomainEvent], origin: Option<&Origin>, webhooks: Option<&Arc<Webhooks>>) {
        for event in events {
            let delivery = push_of(event);
            if let Some(webhooks) = webhooks {
                webhooks.offer(event, &delivery);
            }
            let (push, recipients) = match delivery {
                Delivery::Push(push, recipients) => (push, recipients),
                Delivery::Disconnect(reason, users) => {
                    self.hub.disconnect(&users, reason);
                    continue;
                }
                Delivery::Agents(push, users) => {
                    self.hub.push_encoded(&users, || push_text(push.name(), &push.payload()));
                    continue;
                }
            };
            // The requester's socket gets its copy with the request's id, if it is a recipient's.
            let own = origin.map(|o| (o.socket.id, o.request_id.clone()));
            self.hub.push(&recipients.users, recipients.group, push, own);
        }
    }
}
