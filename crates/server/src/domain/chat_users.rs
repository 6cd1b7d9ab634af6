//! Who is in a chat, changed by agents (Agent Chat Web API v3.6 "Chat users" and "Chat
//! access"): `add_user_to_chat`, `remove_user_from_chat`, `transfer_chat`; and `multicast`,
//! chat-unrelated content for chosen users, never stored.
//!
//! Only agents are added and removed here: the chat's one customer stays. The chat must be
//! active, and the requester one of its users unless `ignore_requester_presence`.

use super::chats::{LockedChat, inactive};
use super::{Domain, DomainEvent, Members, Requester};
use crate::error::{Error, Result};
use crate::limits::MAX_MULTICAST_CONTENT_BYTES;
use crate::store::Conn;
use confab_protocol::ErrorType;
use confab_protocol::agent::MulticastRecipients;
use confab_protocol::entity::User;

/// The only group there is until groups exist: every agent is in it.
pub const DEFAULT_GROUP: u32 = 0;

/// Where a chat is transferred.
#[derive(Debug, Clone)]
pub enum Target {
    Group(Vec<u32>),
    Agents(Vec<String>),
}

fn agent_type(user_type: &str) -> Result<()> {
    if user_type != "agent" {
        return Err(Error::validation(format!("`user_type` must be `agent`, not `{user_type}`")));
    }
    Ok(())
}

fn group_not_found(id: u32) -> Error {
    Error::new(ErrorType::GroupNotFound, format!("Group {id} not found"))
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

    /// Transfers an active chat to agents (who join; the chat's other agents leave) or to a
    /// group (its agents leave; with no routing yet, nobody is assigned). Without a target,
    /// within the current group. Only group 0 exists until groups do.
    pub async fn transfer_chat(
        &self,
        requester_id: &str,
        chat_id: &str,
        target: Option<Target>,
        ignore_requester_presence: bool,
    ) -> Result<Vec<DomainEvent>> {
        let target = target.unwrap_or(Target::Group(vec![DEFAULT_GROUP]));
        match &target {
            Target::Group(ids) if ids.is_empty() => return Err(Error::validation("`target.ids` must not be empty")),
            Target::Agents(ids) if ids.is_empty() => return Err(Error::validation("`target.ids` must not be empty")),
            Target::Group(ids) => {
                if let Some(id) = ids.iter().find(|id| **id != DEFAULT_GROUP) {
                    return Err(group_not_found(*id));
                }
            }
            Target::Agents(_) => {}
        }
        let mut tx = self.store.write().await?;
        let (_, thread_id, before) = active_chat(&mut tx, requester_id, chat_id, ignore_requester_presence).await?;
        let wanted: Vec<String> = match &target {
            Target::Group(_) => Vec::new(),
            Target::Agents(ids) => ids.clone(),
        };
        let mut joined = Vec::new();
        for id in &wanted {
            let mut agent = tx.agent(id).await?.ok_or_else(|| agent_not_found(id))?;
            if tx.add_chat_user(chat_id, id, "agent").await? {
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
        let (group_ids, agent_ids) = match target {
            Target::Group(ids) => (Some(ids), None),
            Target::Agents(ids) => (None, Some(ids)),
        };
        // The agents leaving hear of the transfer too.
        let mut told = members.clone();
        told.agents.extend(left.iter().cloned());
        let mut events = vec![DomainEvent::ChatTransferred {
            chat_id: chat_id.to_owned(),
            thread_id: thread_id.clone(),
            requester_id: requester_id.to_owned(),
            group_ids,
            agent_ids,
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
        if let Some(id) = agents.groups.iter().flatten().find(|id| **id != DEFAULT_GROUP) {
            return Err(group_not_found(*id));
        }
        // A write transaction only to publish on the bus for the other nodes.
        let mut tx = self.store.write().await?;
        let mut ids: Vec<String> = Vec::new();
        if customers.all == Some(true) {
            ids.extend(tx.customer_ids().await?);
        }
        ids.extend(customers.ids.into_iter().flatten());
        if agents.all == Some(true) || agents.groups.is_some_and(|g| !g.is_empty()) {
            ids.extend(tx.agent_ids().await?);
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
