//! Who is in a chat, changed by agents (Agent Chat Web API v3.6 "Chat users" and "Chat
//! access"): `add_user_to_chat`, `remove_user_from_chat`, `transfer_chat`; and `multicast`,
//! chat-unrelated content for chosen users, never stored.
//!
//! Only agents are added and removed here: the chat's one customer stays. The chat must be
//! active, and the requester one of its users unless `ignore_requester_presence`.
//!
//! A transfer moves the thread's routing with its users, in one routing transaction
//! (`routing.rs`): the thread leaves its agent (whose load drops, so their groups' queues are
//! drained to them) and any place it had in a queue.
//!
//! - **To agents** (`target.type: agent`): each must be accepting chats or not (an `offline`
//!   agent is `agent_offline`; `list_agents_for_transfer` offers the others) and have access
//!   to the chat (its group, or an administrator; `missing_access` otherwise). They join, the
//!   chat's other agents leave, and the thread is assigned to the first of them, over their
//!   `max_chats` if need be: a transfer by hand is not routing.
//! - **To groups** (`target.type: group`, or no target: within the chat's group): unknown
//!   groups are `group_not_found`. Every agent of the chat leaves; the chat moves to the
//!   first named group where an agent other than those has room, joins that group's queue,
//!   and the queue is drained (the least-loaded accepting agent with room takes it, never one
//!   the transfer removed). If nobody can take it at once, the transfer fails
//!   (`group_unavailable`, or `group_offline` when nobody of the groups accepts chats) and
//!   changes nothing, unless `ignore_agents_availability`: then the chat moves to the first
//!   named group that is not offline and waits in its queue (`chat_transferred` carries the
//!   place), or, every group offline, to the first, for an agent to pick up. Once it waits,
//!   it is an ordinary queued thread: the next routing change gives it to whoever has room,
//!   the agents it left included.
//!
//! `chat_transferred` goes to the chat's users, the agents who left, and every agent; then
//! `user_added_to_chat` / `user_removed_from_chat` per agent, then what routing did.

use super::chats::{LockedChat, inactive};
use super::routing::{Routing, group_not_found, queue_at};
use super::{Domain, DomainEvent, Members, Requester};
use crate::clock::Micros;
use crate::error::{Error, Result};
use crate::limits::{MAX_GROUPS, MAX_MULTICAST_CONTENT_BYTES, MAX_QUEUE_PER_GROUP, MAX_TRANSFER_TARGETS};
use crate::store::Conn;
use confab_protocol::ErrorType;
use confab_protocol::action::GroupStatus;
use confab_protocol::agent::{MulticastRecipients, RoutingStatus};
use confab_protocol::entity::User;

/// Where a chat is transferred.
#[derive(Debug, Clone)]
pub enum Target {
    Group(Vec<u32>),
    Agents(Vec<String>),
}

/// `transfer_chat`'s switches.
#[derive(Debug, Clone, Copy, Default)]
pub struct TransferOptions {
    /// To a group: queue the chat (or leave it in an offline group) rather than fail when
    /// nobody can take it at once.
    pub ignore_agents_availability: bool,
    /// The requester need not be one of the chat's users.
    pub ignore_requester_presence: bool,
}

/// The target with each id once, in the order given: not empty, at most
/// `MAX_TRANSFER_TARGETS`.
fn distinct(target: Target) -> Result<Target> {
    fn once<T: PartialEq>(ids: Vec<T>) -> Result<Vec<T>> {
        let mut kept: Vec<T> = Vec::new();
        for id in ids {
            if !kept.contains(&id) {
                if kept.len() == MAX_TRANSFER_TARGETS {
                    return Err(Error::validation(format!("At most {MAX_TRANSFER_TARGETS} `target.ids`")));
                }
                kept.push(id);
            }
        }
        if kept.is_empty() {
            return Err(Error::validation("`target.ids` must not be empty"));
        }
        Ok(kept)
    }
    Ok(match target {
        Target::Group(ids) => Target::Group(once(ids)?),
        Target::Agents(ids) => Target::Agents(once(ids)?),
    })
}

fn agent_type(user_type: &str) -> Result<()> {
    if user_type != "agent" {
        return Err(Error::validation(format!("`user_type` must be `agent`, not `{user_type}`")));
    }
    Ok(())
}

fn agent_not_found(id: &str) -> Error {
    Error::not_found(format!("Agent {id} not found"))
}

/// The chat, locked, with its active thread; the requester must be in it unless `ignore`.
async fn active_chat(
    tx: &mut Conn,
    agent_id: &str,
    chat_id: &str,
    ignore_requester_presence: bool,
) -> Result<(LockedChat, String, Members)> {
    let locked = tx.lock_chat(Requester::Agent(agent_id), chat_id).await?;
    let thread_id = locked.active_thread().ok_or_else(|| inactive(chat_id))?.to_owned();
    let members = tx.members(chat_id).await?;
    if !ignore_requester_presence {
        require_presence(&members, agent_id)?;
    }
    Ok((locked, thread_id, members))
}

/// `missing_access` unless the agent is one of the chat's users.
pub(super) fn require_presence(members: &Members, agent_id: &str) -> Result<()> {
    if !members.agents.iter().any(|a| a == agent_id) {
        return Err(Error::new(
            ErrorType::MissingAccess,
            "Requester is not a user of the chat; set `ignore_requester_presence` to act anyway",
        ));
    }
    Ok(())
}

impl Domain {
    /// Adds an agent to an active chat (`user_added_to_chat`, reason `manual`). With
    /// `visibility: agents` the customer is not told.
    pub async fn add_user_to_chat(
        &self,
        requester_id: &str,
        chat_id: &str,
        user_id: &str,
        user_type: &str,
        visibility: &str,
        ignore_requester_presence: bool,
    ) -> Result<Vec<DomainEvent>> {
        agent_type(user_type)?;
        let agents_only = match visibility {
            "all" => false,
            "agents" => true,
            other => return Err(Error::validation(format!("`visibility` must be `all` or `agents`, not `{other}`"))),
        };
        let mut tx = self.store.write().await?;
        let (_, thread_id, _) = active_chat(&mut tx, requester_id, chat_id, ignore_requester_presence).await?;
        let mut agent = tx.agent(user_id).await?.ok_or_else(|| agent_not_found(user_id))?;
        if !tx.add_chat_user(chat_id, user_id, "agent").await? {
            return Err(Error::validation(format!("{user_id} is already a user of chat {chat_id}")));
        }
        agent.present = Some(true);
        let members = tx.members(chat_id).await?;
        let events = vec![DomainEvent::UserAdded {
            chat_id: chat_id.to_owned(),
            thread_id,
            user: User::Agent(agent),
            requester_id: requester_id.to_owned(),
            agents_only,
            members,
        }];
        self.commit(tx, &events).await?;
        Ok(events)
    }

    /// Removes an agent from an active chat (`user_removed_from_chat`, reason `manual`): it
    /// gets no more of the chat's pushes.
    pub async fn remove_user_from_chat(
        &self,
        requester_id: &str,
        chat_id: &str,
        user_id: &str,
        user_type: &str,
        ignore_requester_presence: bool,
    ) -> Result<Vec<DomainEvent>> {
        agent_type(user_type)?;
        let mut tx = self.store.write().await?;
        let (_, thread_id, members) = active_chat(&mut tx, requester_id, chat_id, ignore_requester_presence).await?;
        if !members.agents.iter().any(|a| a == user_id) || !tx.remove_chat_user(chat_id, user_id).await? {
            return Err(Error::not_found(format!("{user_id} is not an agent of chat {chat_id}")));
        }
        let members = tx.members(chat_id).await?;
        let events = vec![removed(chat_id, &thread_id, user_id, requester_id, members)];
        self.commit(tx, &events).await?;
        Ok(events)
    }

    /// Transfers an active chat to agents or to a group (without a target, within its
    /// group), moving its routing with it (see the top of this file).
    pub async fn transfer_chat(
        &self,
        requester_id: &str,
        chat_id: &str,
        target: Option<Target>,
        options: TransferOptions,
    ) -> Result<Vec<DomainEvent>> {
        let target = target.map(distinct).transpose()?;
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let (locked, thread_id, before) =
            active_chat(&mut tx, requester_id, chat_id, options.ignore_requester_presence).await?;
        let chat_group = locked.chat.group_id as u32;
        let target = target.unwrap_or(Target::Group(vec![chat_group]));
        let (old_agent, queued_at) = tx.thread_routing(&thread_id).await?;
        // Routing locks (after the chat's): the chat's group, the groups of the agent it
        // leaves, and those it goes to (the named groups, or the named agents' groups).
        let mut groups = vec![chat_group];
        if let Some(agent) = &old_agent {
            groups.extend(tx.groups_of_agent(agent).await?);
        }
        match &target {
            Target::Group(ids) => {
                let existing = tx.existing_groups(ids).await?;
                if let Some(&missing) = ids.iter().find(|id| !existing.contains(id)) {
                    return Err(group_not_found(missing));
                }
                groups.extend(ids);
            }
            Target::Agents(ids) => {
                for id in ids {
                    tx.agent(id).await?.ok_or_else(|| agent_not_found(id))?;
                    groups.extend(tx.groups_of_agent(id).await?);
                }
            }
        }
        let mut routing = self.begin_routing(&mut tx, &groups).await?;
        // The thread leaves its agent; its place in a queue is decided below.
        tx.unassign_thread(&thread_id).await?;
        let (wanted, group_ids, agent_ids) = match target {
            Target::Agents(ids) => {
                for id in &ids {
                    let status = tx.routing_status(id).await?;
                    if status.as_deref().is_none_or(|s| s == RoutingStatus::Offline.as_str()) {
                        return Err(Error::new(ErrorType::AgentOffline, format!("Agent {id} is offline")));
                    }
                    if !tx.agent_may_use_group(id, chat_group).await? {
                        return Err(Error::new(
                            ErrorType::MissingAccess,
                            format!("Agent {id} has no access to chat {chat_id} (group {chat_group})"),
                        ));
                    }
                }
                if queued_at.is_some() {
                    tx.dequeue_thread(&thread_id).await?;
                }
                tx.assign_thread(&thread_id, &ids[0]).await?;
                (ids.clone(), None, Some(ids))
            }
            Target::Group(ids) => {
                // Those it is taken from: the chat's agents, and the agent it was assigned to.
                let mut leaving = before.agents.clone();
                leaving.extend(old_agent.iter().filter(|a| !before.agents.contains(a)).cloned());
                let group = transfer_group(&mut tx, &routing, &ids, &leaving, options).await?;
                if group != chat_group {
                    tx.set_chat_group(chat_id, group).await?;
                }
                // Already waiting in this group's queue, it keeps its place; otherwise it
                // joins the end of the queue (unless nobody of the group accepts chats).
                let keeps_place = queued_at.is_some() && group == chat_group;
                if queued_at.is_some() && !keeps_place {
                    tx.dequeue_thread(&thread_id).await?;
                }
                if !keeps_place && routing.status(group) != GroupStatus::Offline {
                    if routing.queued(group) as i64 >= MAX_QUEUE_PER_GROUP {
                        return Err(Error::new(
                            ErrorType::GroupUnavailable,
                            format!("Group {group} has no room in its queue"),
                        ));
                    }
                    tx.enqueue_thread(&thread_id, group, now).await?;
                }
                routing.keep_from(&thread_id, leaving);
                (Vec::new(), Some(ids), None)
            }
        };
        let mut joined = Vec::new();
        for id in &wanted {
            if tx.add_chat_user(chat_id, id, "agent").await? {
                let mut agent = tx.agent(id).await?.ok_or_else(|| agent_not_found(id))?;
                agent.present = Some(true);
                joined.push(User::Agent(agent));
            }
        }
        let mut left = Vec::new();
        for id in before.agents.iter().filter(|a| !wanted.contains(a)) {
            tx.remove_chat_user(chat_id, id).await?;
            left.push(id.clone());
        }
        let members = tx.members(chat_id).await?;
        let routed = self.settle_routing(&mut tx, routing).await?;
        if group_ids.is_some()
            && !options.ignore_agents_availability
            && tx.thread_routing(&thread_id).await?.0.is_none()
        {
            // Those with room took the chats waiting before this one.
            return Err(Error::new(
                ErrorType::GroupUnavailable,
                "No agent can take the chat now; set `ignore_agents_availability` to queue it",
            ));
        }
        let queue = tx.queue_position(&thread_id).await?.map(|(position, at)| queue_at(position, Some(Micros(at))));
        // The agents leaving hear of the transfer too; so does whoever routing added.
        let mut told = tx.members(chat_id).await?;
        told.agents.extend(left.iter().cloned());
        let mut events = vec![DomainEvent::ChatTransferred {
            chat_id: chat_id.to_owned(),
            thread_id: thread_id.clone(),
            requester_id: requester_id.to_owned(),
            group_ids,
            agent_ids,
            queue,
            members: told,
        }];
        for user in joined {
            events.push(DomainEvent::UserAdded {
                chat_id: chat_id.to_owned(),
                thread_id: thread_id.clone(),
                user,
                requester_id: requester_id.to_owned(),
                agents_only: false,
                members: members.clone(),
            });
        }
        for id in left {
            events.push(removed(chat_id, &thread_id, &id, requester_id, members.clone()));
        }
        events.extend(routed);
        self.commit(tx, &events).await?;
        Ok(events)
    }

    /// Chat-unrelated content for the chosen users (`incoming_multicast`); not stored.
    pub async fn multicast(
        &self,
        author_id: &str,
        recipients: &MulticastRecipients,
        content: serde_json::Value,
        kind: Option<String>,
    ) -> Result<Vec<DomainEvent>> {
        let size = content.to_string().len();
        if size > MAX_MULTICAST_CONTENT_BYTES {
            return Err(Error::new(
                ErrorType::EntityTooLarge,
                format!("`content` is longer than {MAX_MULTICAST_CONTENT_BYTES} bytes"),
            ));
        }
        if let Some(kind) = &kind {
            super::chats::at_most(kind, crate::limits::MAX_CUSTOM_ID_BYTES, "`type`")?;
        }
        let customers = recipients.customers.clone().unwrap_or_default();
        let agents = recipients.agents.clone().unwrap_or_default();
        let any = customers.all == Some(true)
            || customers.ids.as_ref().is_some_and(|ids| !ids.is_empty())
            || agents.all == Some(true)
            || agents.ids.as_ref().is_some_and(|ids| !ids.is_empty())
            || agents.groups.as_ref().is_some_and(|ids| !ids.is_empty());
        if !any {
            return Err(Error::validation(
                "`recipients` needs one of agents.all, agents.ids, agents.groups, customers.all or customers.ids",
            ));
        }
        let groups = agents.groups.unwrap_or_default();
        if groups.len() as i64 > MAX_GROUPS {
            return Err(Error::validation(format!("At most {MAX_GROUPS} groups in `recipients.agents.groups`")));
        }
        // A write transaction only to publish on the bus for the other nodes.
        let mut tx = self.store.write().await?;
        let existing = tx.existing_groups(&groups).await?;
        if let Some(&missing) = groups.iter().find(|id| !existing.contains(id)) {
            return Err(group_not_found(missing));
        }
        let mut ids: Vec<String> = Vec::new();
        if customers.all == Some(true) {
            ids.extend(tx.customer_ids().await?);
        }
        ids.extend(customers.ids.into_iter().flatten());
        if agents.all == Some(true) {
            ids.extend(tx.agent_ids().await?);
        } else if !groups.is_empty() {
            ids.extend(tx.routing_statuses(Some(&groups)).await?.into_iter().map(|(agent, _)| agent));
        }
        ids.extend(agents.ids.into_iter().flatten());
        ids.sort();
        ids.dedup();
        let events = vec![DomainEvent::Multicast {
            author_id: author_id.to_owned(),
            message_type: kind,
            content,
            recipients: ids,
        }];
        self.commit(tx, &events).await?;
        Ok(events)
    }
}

/// The group of `ids` a transferred chat goes to: the first where an agent other than
/// `leaving` accepts chats and has room. If none: with `ignore_agents_availability`, the first
/// that is not offline (the chat will wait in its queue), else the first; without it,
/// `group_offline` when no agent of any of them accepts chats, `group_unavailable` otherwise.
async fn transfer_group(
    tx: &mut Conn,
    routing: &Routing,
    ids: &[u32],
    leaving: &[String],
    options: TransferOptions,
) -> Result<u32> {
    for &id in ids {
        let candidates = tx.candidates(id).await?;
        if candidates.iter().any(|c| c.has_room() && !leaving.contains(&c.agent_id)) {
            return Ok(id);
        }
    }
    let open = ids.iter().copied().find(|&id| routing.status(id) != GroupStatus::Offline);
    if options.ignore_agents_availability {
        return Ok(open.unwrap_or(ids[0]));
    }
    Err(match open {
        Some(group) => Error::new(
            ErrorType::GroupUnavailable,
            format!(
                "No agent of group {group} other than those it leaves can take the chat now; set `ignore_agents_availability` to queue it"
            ),
        ),
        None => Error::new(ErrorType::GroupOffline, format!("No agent of group {} accepts chats", ids[0])),
    })
}

fn removed(chat_id: &str, thread_id: &str, user_id: &str, requester_id: &str, members: Members) -> DomainEvent {
    DomainEvent::UserRemoved {
        chat_id: chat_id.to_owned(),
        thread_id: thread_id.to_owned(),
        user_id: user_id.to_owned(),
        reason: "manual".to_owned(),
        requester_id: requester_id.to_owned(),
        members,
    }
}
