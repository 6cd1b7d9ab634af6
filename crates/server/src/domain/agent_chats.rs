//! What only agents do (Agent Chat API v3.6): start and resume a chat with a customer, follow
//! chats and customers, tag threads, create customers, and find whom to transfer a chat to.
//!
//! Confab's chats belong to one customer, so an agent's `start_chat` names that customer in
//! `chat.users` (LiveChat allows a chat without one); the thread goes to the requester at
//! once, not through the queue. Following gives an agent a chat's (or a customer's) pushes
//! without joining it ([`Members::followers`]); a resumed chat is followed afresh.

use super::chats::{LockedChat, Route, Started, already_active, initial_events, not_found};
use super::customers::{apply_update, customer_entity, validate_update};
use super::{DEFAULT_GROUP, Domain, DomainEvent, Members, Requester};
use crate::error::{Error, Result};
use crate::limits::{MAX_STARTING_AGENTS, MAX_TAG_BYTES, MAX_TAGS_PER_THREAD};
use crate::store::{Conn, random_id};
use confab_protocol::ErrorType;
use confab_protocol::action::CustomerUpdate;
use confab_protocol::agent::{AgentInitialChat, UserRef};

/// `chat.users`, checked: the customer it names, and the agents besides the requester.
struct Users<'a> {
    customer: Option<&'a str>,
    agents: Vec<&'a str>,
}

fn users_of<'a>(requester_id: &str, users: Option<&'a [UserRef]>) -> Result<Users<'a>> {
    let mut out = Users { customer: None, agents: Vec::new() };
    for user in users.unwrap_or_default() {
        match user.kind.as_str() {
            "customer" if out.customer.is_some_and(|c| c != user.id) => {
                return Err(Error::validation("`chat.users` may name one customer"));
            }
            "customer" => out.customer = Some(&user.id),
            "agent" if user.id == requester_id || out.agents.contains(&user.id.as_str()) => {}
            "agent" => out.agents.push(&user.id),
            other => {
                return Err(Error::validation(format!(
                    "`chat.users.type` must be `agent` or `customer`, not `{other}`"
                )));
            }
        }
    }
    if out.agents.len() > MAX_STARTING_AGENTS {
        return Err(Error::validation(format!("`chat.users` may name up to {MAX_STARTING_AGENTS} agents besides you")));
    }
    Ok(out)
}

/// Adds the requester and the named agents to the chat (each must exist).
async fn add_agents(tx: &mut Conn, chat_id: &str, requester_id: &str, agents: &[&str]) -> Result<()> {
    for agent_id in std::iter::once(&requester_id).chain(agents) {
        if tx.agent(agent_id).await?.is_none() {
            return Err(Error::not_found(format!("Agent {agent_id} not found")));
        }
        tx.add_chat_user(chat_id, agent_id, "agent").await?;
    }
    Ok(())
}

fn route(agent_id: &str, active: bool) -> Route<'_> {
    if active { Route::Assign(agent_id) } else { Route::Inactive }
}

fn valid_tag(tag: &str) -> Result<()> {
    if tag.trim().is_empty() || tag.len() > MAX_TAG_BYTES {
        return Err(Error::validation(format!("`tag` must be 1–{MAX_TAG_BYTES} bytes, not blank")));
    }
    Ok(())
}

impl Domain {
    /// An agent starts a chat with a customer (who must have none yet: `chat_limit_reached`
    /// names theirs), in the first group of `chat.access.group_ids` or the default group (one
    /// of the agent's groups, unless an administrator: `missing_access`). The
    /// requester and the agents named join it; the thread is theirs (or closed, unless
    /// `active`).
    pub async fn agent_start_chat(
        &self,
        agent_id: &str,
        chat: &AgentInitialChat,
        active: bool,
    ) -> Result<(Started, Vec<DomainEvent>)> {
        let requester = Requester::Agent(agent_id);
        let users = users_of(agent_id, chat.users.as_deref())?;
        let customer_id = users
            .customer
            .ok_or_else(|| Error::validation("`chat.users` must name the chat's customer (`type: customer`)"))?;
        let initial = &chat.chat;
        let events = initial_events(requester, initial)?;
        let groups = initial.access.as_ref().and_then(|a| a.group_ids.clone()).unwrap_or_default();
        self.check_groups(&groups).await?;
        let group = groups.first().copied().unwrap_or(DEFAULT_GROUP);
        let now = self.clock.now();
        let chat_id = random_id(10);
        let properties = serde_json::Value::Object(initial.properties.clone().unwrap_or_default()).to_string();
        let mut tx = self.store.write().await?;
        if !tx.agent_may_use_group(agent_id, group).await? {
            let message = format!("Group {group} is not one of yours: you may start chats in your groups only");
            return Err(Error::new(ErrorType::MissingAccess, message));
        }
        tx.lock_known_customer(customer_id).await?;
        tx.create_chat(&chat_id, customer_id, group, &properties, now).await?;
        add_agents(&mut tx, &chat_id, agent_id, &users.agents).await?;
        let route = route(agent_id, active);
        self.opened(tx, requester, &chat_id, group, &properties, initial, events, now, route).await
    }

    /// An agent opens a new thread in an inactive chat (`chat.id`); `chat_already_active` if
    /// one is open. Its followers stop following (`chat_unfollowed`).
    pub async fn agent_resume_chat(
        &self,
        agent_id: &str,
        chat: &AgentInitialChat,
        active: bool,
    ) -> Result<(Started, Vec<DomainEvent>)> {
        let requester = Requester::Agent(agent_id);
        let initial = &chat.chat;
        let chat_id = initial.id.as_deref().ok_or_else(|| Error::validation("`chat.id` is required"))?;
        let users = users_of(agent_id, chat.users.as_deref())?;
        let events = initial_events(requester, initial)?;
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let locked: LockedChat = tx.lock_chat(requester, chat_id).await?;
        if locked.active_thread().is_some() {
            return Err(already_active(chat_id));
        }
        if users.customer.is_some_and(|c| c != locked.chat.customer_id) {
            return Err(Error::validation("A chat has one customer: `chat.users` names another"));
        }
        let followers = tx.chat_followers(chat_id).await?;
        tx.clear_chat_followers(chat_id).await?;
        add_agents(&mut tx, chat_id, agent_id, &users.agents).await?;
        let group = locked.chat.group_id as u32;
        let route = route(agent_id, active);
        let (started, mut domain_events) =
            self.opened(tx, requester, chat_id, group, &locked.chat.properties, initial, events, now, route).await?;
        if !followers.is_empty() {
            // Told after the commit (the change is durable); on this node only, like a reply.
            domain_events.push(DomainEvent::ChatUnfollowed { chat_id: chat_id.to_owned(), agent_ids: followers });
        }
        Ok((started, domain_events))
    }

    /// The agent gets the chat's pushes from now until they unfollow it or it is resumed.
    /// Its users need not follow it (a no-op for them).
    pub async fn follow_chat(&self, agent_id: &str, chat_id: &str) -> Result<()> {
        let mut tx = self.store.write().await?;
        tx.lock_chat(Requester::Agent(agent_id), chat_id).await?;
        if !tx.members(chat_id).await?.agents.iter().any(|a| a == agent_id) {
            tx.follow_chat(chat_id, agent_id).await?;
        }
        tx.commit().await
    }

    /// Ends a follow (`chat_unfollowed` to the agent's sockets); the chat's own agents cannot
    /// unfollow it (`validation`).
    pub async fn unfollow_chat(&self, agent_id: &str, chat_id: &str) -> Result<Vec<DomainEvent>> {
        let mut tx = self.store.write().await?;
        tx.lock_chat(Requester::Agent(agent_id), chat_id).await?;
        if tx.members(chat_id).await?.agents.iter().any(|a| a == agent_id) {
            return Err(Error::validation("Chat members cannot unfollow their chat"));
        }
        let events = if tx.unfollow_chat(chat_id, agent_id).await? {
            vec![DomainEvent::ChatUnfollowed { chat_id: chat_id.to_owned(), agent_ids: vec![agent_id.to_owned()] }]
        } else {
            Vec::new()
        };
        self.commit(tx, &events).await?;
        Ok(events)
    }

    /// The agent hears of the customer's updates and page views (`customer_updated`,
    /// `customer_page_updated`) until they unfollow them.
    pub async fn follow_customer(&self, agent_id: &str, customer_id: &str) -> Result<()> {
        let mut tx = self.store.write().await?;
        tx.lock_known_customer(customer_id).await?;
        tx.follow_customer(customer_id, agent_id).await?;
        tx.commit().await
    }

    /// Ends a follow; the agents of the customer's chat keep hearing of them while it lasts.
    pub async fn unfollow_customer(&self, agent_id: &str, customer_id: &str) -> Result<()> {
        let mut tx = self.store.write().await?;
        tx.lock_known_customer(customer_id).await?;
        tx.unfollow_customer(customer_id, agent_id).await?;
        tx.commit().await
    }

    /// Tags (`add`) or untags a thread of the chat (`thread_tagged` / `thread_untagged`, for
    /// its agents and followers). Tagging twice changes nothing; untagging a tag the thread
    /// does not have is `not_found`; a thread has at most `MAX_TAGS_PER_THREAD` (`limit_reached`).
    pub async fn tag_thread(
        &self,
        agent_id: &str,
        chat_id: &str,
        thread_id: &str,
        tag: &str,
        add: bool,
    ) -> Result<Vec<DomainEvent>> {
        valid_tag(tag)?;
        let mut tx = self.store.write().await?;
        tx.lock_chat(Requester::Agent(agent_id), chat_id).await?;
        if tx.thread(chat_id, thread_id).await?.is_none() {
            return Err(Error::not_found(format!("Thread {thread_id} not found")));
        }
        let changed = if add {
            if tx.count_thread_tags(thread_id).await? >= MAX_TAGS_PER_THREAD {
                return Err(Error::new(
                    ErrorType::LimitReached,
                    format!("A thread has at most {MAX_TAGS_PER_THREAD} tags"),
                ));
            }
            tx.tag_thread(thread_id, tag, self.clock.now()).await?
        } else if tx.untag_thread(thread_id, tag).await? {
            true
        } else {
            return Err(Error::not_found(format!("Thread {thread_id} has no tag `{tag}`")));
        };
        let events = if changed {
            let members = tx.members(chat_id).await?;
            let (chat_id, thread_id, tag, requester_id) =
                (chat_id.to_owned(), thread_id.to_owned(), tag.to_owned(), agent_id.to_owned());
            vec![if add {
                DomainEvent::ThreadTagged { chat_id, thread_id, tag, requester_id, members }
            } else {
                DomainEvent::ThreadUntagged { chat_id, thread_id, tag, requester_id, members }
            }]
        } else {
            Vec::new()
        };
        self.commit(tx, &events).await?;
        Ok(events)
    }

    /// A customer made by an agent (`incoming_customer` for the agents), with the fields
    /// given. They have no chat and no visit until they log in, which they cannot do with
    /// this id: it is for agents' records and for chats agents start.
    pub async fn create_customer(&self, fields: &CustomerUpdate) -> Result<(String, Vec<DomainEvent>)> {
        validate_update(fields)?;
        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = self.store.write().await?;
        tx.insert_customer(&id, self.clock.now()).await?;
        apply_update(&mut tx, &id, fields, &Members::default()).await?;
        let row = tx.customer(&id).await?.ok_or_else(|| Error::not_found("The customer just created is gone"))?;
        let events = vec![DomainEvent::CustomerCreated { customer: customer_entity(row) }];
        self.commit(tx, &events).await?;
        Ok((id, events))
    }

    /// The customer with the ids of their chats (`get_customer` for agents).
    pub async fn customer_with_chats(
        &self,
        customer_id: &str,
    ) -> Result<(confab_protocol::entity::Customer, Vec<String>)> {
        let mut db = self.store.read().await?;
        let row = db.customer(customer_id).await?;
        let customer =
            row.map(customer_entity).ok_or_else(|| Error::not_found(format!("Customer {customer_id} not found")))?;
        let chat_ids = db.chat_of_customer(customer_id).await?.into_iter().collect();
        Ok((customer, chat_ids))
    }

    /// Agents a chat may go to (`list_agents_for_transfer`): not offline, not in it already,
    /// fewest active chats first.
    pub async fn agents_for_transfer(&self, chat_id: &str) -> Result<Vec<(String, u32)>> {
        let mut db = self.store.read().await?;
        db.chat(chat_id).await?.ok_or_else(|| not_found(chat_id))?;
        let members = db.members(chat_id).await?;
        Ok(db
            .agents_online()
            .await?
            .into_iter()
            .filter(|(id, _)| !members.agents.contains(id))
            .map(|(id, load)| (id, u32::try_from(load).unwrap_or(u32::MAX)))
            .collect())
    }
}
