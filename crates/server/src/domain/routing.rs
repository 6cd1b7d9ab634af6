//! Groups, routing and the queue.
//!
//! - **Groups** (id, name, forms) live in the database; group 0 "General" is created with its
//!   default forms by the migration, and the site owner's groups file (`--groups-file`) is
//!   applied on every start. A new agent joins group 0.
//! - **Routing status**: each agent is `accepting_chats`, `not_accepting_chats` or `offline`
//!   (the default).
//! - **Availability** of a group: `online` when one of its agents accepts chats and has room
//!   (fewer active chats assigned than their `max_chats`), `online_for_queue` when agents
//!   accept chats but none has room, `offline` otherwise.
//! - **Routing**: a new thread enters its group's queue; then the queue is drained, oldest
//!   first, each to the least-loaded accepting agent with room. So a thread either gets an
//!   agent at once, or waits with a position, or (group offline) is left for agents to pick up.
//!
//! Every operation that may change who takes what runs [`Domain::begin_routing`] (locks the
//! groups and their agents, and notes their statuses and queues) and, after its change,
//! [`Domain::settle_routing`] (drains the queues, and returns the assignments, the moved queue
//! positions and the changed group statuses as domain events), in its one transaction. The
//! group's lock serializes its routing across nodes; so chats that need no routing take none:
//! a chat started while nobody of its group accepts chats, a thread closed that was neither
//! assigned nor queued. (A chat started while the last agent starts accepting chats may so
//! miss them: it stays unassigned, as if it had come a moment earlier.)
//!
//! A **transfer** (`chat_users.rs`) is routing too: to a group, the thread leaves its agent
//! and joins the target group's queue, which is then drained like any other; the settling
//! never hands it back to an agent the transfer removed ([`Routing::keep_from`]). Once it
//! waits, it is an ordinary queued thread.

use super::{Domain, DomainEvent, Members, Requester};
use crate::clock::Micros;
use crate::error::{Error, Result};
use crate::limits::{MAX_GROUPS, MAX_QUEUE_PER_GROUP, QUEUE_WAIT_PER_POSITION_SECS};
use crate::store::{Candidate, Conn, GroupRow, QueuedThread};
use confab_protocol::ErrorType;
use confab_protocol::action::{Form, FormType, GetFormResponse, GroupStatus, PredictedAgent};
use confab_protocol::agent::RoutingStatus;
use confab_protocol::entity::{Queue, User};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// The group every customer is in unless they log in to another, and every chat unless it
/// names another.
pub const DEFAULT_GROUP: u32 = 0;

/// One group of the site owner's groups file (`--groups-file`, a JSON array of these).
/// Applied on start: a group is created or updated; `agents`, when given, replaces its
/// agents; a form given replaces that form (`null` turns it off), a form left out is kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    pub id: u32,
    pub name: String,
    #[serde(default)]
    pub agents: Option<Vec<String>>,
    #[serde(default)]
    pub forms: HashMap<FormType, Option<Form>>,
    /// Whether a chat may start while the group is offline (the visitor leaves a message for
    /// agents to pick up). When false, `start_chat` answers `groups_offline`. Default true.
    #[serde(default)]
    pub offline_chats: Option<bool>,
}

/// Parses a groups file.
pub fn parse_groups_file(text: &str) -> std::result::Result<Vec<GroupConfig>, String> {
    let groups: Vec<GroupConfig> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if groups.len() as i64 > MAX_GROUPS {
        return Err(format!("at most {MAX_GROUPS} groups"));
    }
    Ok(groups)
}

fn form_json(form: &Option<Form>) -> Option<String> {
    form.as_ref().map(|f| serde_json::to_string(f).expect("forms always encode"))
}

pub(super) fn group_not_found(id: u32) -> Error {
    Error::new(ErrorType::GroupNotFound, format!("Group {id} not found"))
}

/// A request may name at most `MAX_GROUPS` groups.
fn at_most_groups(ids: &[u32]) -> Result<()> {
    if ids.len() as i64 > MAX_GROUPS {
        return Err(Error::validation(format!("At most {MAX_GROUPS} groups at once")));
    }
    Ok(())
}

fn status_of(candidates: &[Candidate]) -> GroupStatus {
    if candidates.iter().any(Candidate::has_room) {
        GroupStatus::Online
    } else if candidates.is_empty() {
        GroupStatus::Offline
    } else {
        GroupStatus::OnlineForQueue
    }
}

/// `queue` of a thread at `position` (1 = next).
pub fn queue_at(position: i64, queued_at: Option<Micros>) -> Queue {
    Queue {
        position: position as u32,
        wait_time: (position as u32).saturating_mul(QUEUE_WAIT_PER_POSITION_SECS),
        queued_at: queued_at.map(Micros::rfc3339),
    }
}

/// What a routing transaction saw after locking: the statuses and queues of its groups.
pub(super) struct Routing {
    groups: Vec<u32>,
    statuses: BTreeMap<u32, GroupStatus>,
    queues: HashMap<u32, Vec<QueuedThread>>,
    /// A thread settling must not give to these agents (those a transfer just removed).
    kept_from: Option<(String, Vec<String>)>,
}

impl Routing {
    /// The group's status when the transaction locked it.
    pub fn status(&self, group: u32) -> GroupStatus {
        self.statuses.get(&group).copied().unwrap_or(GroupStatus::Offline)
    }

    /// How many threads waited in the group's queue then.
    pub fn queued(&self, group: u32) -> usize {
        self.queues.get(&group).map_or(0, Vec::len)
    }

    /// Settling will not give `thread_id` to any of `agents`: a transfer does not hand a chat
    /// back to the agents it took it from.
    pub fn keep_from(&mut self, thread_id: &str, agents: Vec<String>) {
        self.kept_from = Some((thread_id.to_owned(), agents));
    }

    fn may_take(&self, thread_id: &str, agent_id: &str) -> bool {
        match &self.kept_from {
            Some((kept, agents)) if kept == thread_id => !agents.iter().any(|a| a == agent_id),
            _ => true,
        }
    }
}

impl Conn {
    async fn group_status(&mut self, group: u32) -> Result<GroupStatus> {
        Ok(status_of(&self.candidates(group).await?))
    }
}

impl Domain {
    /// Locks `groups` (and their agents) for a routing change, and notes their statuses and
    /// queues, to tell afterwards what changed.
    pub(super) async fn begin_routing(&self, tx: &mut Conn, groups: &[u32]) -> Result<Routing> {
        let mut groups = groups.to_vec();
        groups.sort_unstable();
        groups.dedup();
        tx.lock_routing(&groups).await?;
        let mut statuses = BTreeMap::new();
        let mut queues = HashMap::new();
        for &group in &groups {
            statuses.insert(group, tx.group_status(group).await?);
            queues.insert(group, tx.queue(group, MAX_QUEUE_PER_GROUP).await?);
        }
        Ok(Routing { groups, statuses, queues, kept_from: None })
    }

    /// Drains the groups' queues to agents with room (oldest thread first, least-loaded agent
    /// first), and returns what changed: `UserAdded` per assignment, `QueuePositionUpdated` per
    /// thread whose position moved, `GroupStatusChanged` per group whose status changed. A
    /// thread kept from the agents with room ([`Routing::keep_from`]) waits, and so does the
    /// group's queue behind it, until the next routing change.
    pub(super) async fn settle_routing(&self, tx: &mut Conn, routing: Routing) -> Result<Vec<DomainEvent>> {
        let mut events = Vec::new();
        for &group in &routing.groups {
            loop {
                let candidates = tx.candidates(group).await?;
                if !candidates.iter().any(Candidate::has_room) {
                    break;
                }
                let Some(next) = tx.next_queued(group).await? else {
                    break;
                };
                let Some(agent) =
                    candidates.into_iter().find(|c| c.has_room() && routing.may_take(&next.thread_id, &c.agent_id))
                else {
                    break;
                };
                tx.assign_thread(&next.thread_id, &agent.agent_id).await?;
                tx.add_chat_user(&next.chat_id, &agent.agent_id, "agent").await?;
                let mut user = tx.agent(&agent.agent_id).await?.ok_or_else(|| Error::not_found("Unknown agent"))?;
                user.present = Some(true);
                events.push(DomainEvent::UserAdded {
                    chat_id: next.chat_id.clone(),
                    thread_id: next.thread_id,
                    user: User::Agent(user),
                    requester_id: agent.agent_id,
                    agents_only: false,
                    members: tx.members(&next.chat_id).await?,
                });
            }
            let before: HashMap<&str, usize> =
                routing.queues[&group].iter().enumerate().map(|(i, q)| (q.thread_id.as_str(), i + 1)).collect();
            for (i, queued) in tx.queue(group, MAX_QUEUE_PER_GROUP).await?.into_iter().enumerate() {
                let position = i + 1;
                if before.get(queued.thread_id.as_str()).is_some_and(|&was| was != position) {
                    events.push(DomainEvent::QueuePositionUpdated {
                        chat_id: queued.chat_id,
                        thread_id: queued.thread_id,
                        queue: queue_at(position as i64, None),
                        // The push is the waiting customer's.
                        members: Members { customers: vec![queued.customer_id], ..Members::default() },
                    });
                }
            }
        }
        for (&group, &was) in &routing.statuses {
            let status = tx.group_status(group).await?;
            if status != was {
                events.push(DomainEvent::GroupStatusChanged { group_id: group, status });
            }
        }
        Ok(events)
    }

    /// Applies the site owner's groups (upsert), in one transaction. An unknown agent is a
    /// `validation` error and changes nothing.
    pub async fn apply_groups(&self, groups: &[GroupConfig]) -> Result<()> {
        let mut tx = self.store.write().await?;
        for config in groups {
            let existing = tx.group(config.id).await?;
            let mut row = existing.clone().unwrap_or(GroupRow {
                id: i64::from(config.id),
                name: config.name.clone(),
                prechat_form: None,
                postchat_form: None,
                ticket_form: None,
                offline_chats: true,
            });
            row.name = config.name.clone();
            for (kind, form) in &config.forms {
                let json = form_json(form);
                match kind {
                    FormType::Prechat => row.prechat_form = json,
                    FormType::Postchat => row.postchat_form = json,
                    FormType::Ticket => row.ticket_form = json,
                }
            }
            if let Some(offline_chats) = config.offline_chats {
                row.offline_chats = offline_chats;
            }
            if existing.is_some() {
                tx.update_group(&row).await?;
            } else {
                tx.insert_group(&row).await?;
            }
            if let Some(agents) = &config.agents {
                for agent in agents {
                    if tx.agent(agent).await?.is_none() {
                        return Err(Error::validation(format!("Group {}: unknown agent {agent}", config.id)));
                    }
                }
                tx.set_group_agents(config.id, agents).await?;
            }
        }
        tx.commit().await
    }

    /// `group_not_found` unless every group of `ids` exists.
    pub async fn check_groups(&self, ids: &[u32]) -> Result<()> {
        at_most_groups(ids)?;
        let existing = self.store.read().await?.existing_groups(ids).await?;
        match ids.iter().find(|id| !existing.contains(id)) {
            Some(&missing) => Err(group_not_found(missing)),
            None => Ok(()),
        }
    }

    /// The status of each group of `ids` (`group_not_found` for an unknown one), or of every
    /// group.
    pub async fn group_statuses(&self, ids: Option<&[u32]>) -> Result<BTreeMap<u32, GroupStatus>> {
        at_most_groups(ids.unwrap_or_default())?;
        let rows = self.store.read().await?.group_availability(ids, MAX_GROUPS).await?;
        let statuses: BTreeMap<u32, GroupStatus> = rows
            .into_iter()
            .map(|row| {
                let status = match (row.accepting, row.room) {
                    (_, true) => GroupStatus::Online,
                    (true, false) => GroupStatus::OnlineForQueue,
                    (false, false) => GroupStatus::Offline,
                };
                (row.id as u32, status)
            })
            .collect();
        if let Some(&missing) = ids.into_iter().flatten().find(|id| !statuses.contains_key(id)) {
            return Err(group_not_found(missing));
        }
        Ok(statuses)
    }

    /// The groups a chat can be started in now (`online` or `online_for_queue`), as `login`'s
    /// `online_groups_ids` lists them.
    pub async fn online_groups(&self) -> Result<Vec<u32>> {
        let statuses = self.group_statuses(None).await?;
        Ok(statuses.into_iter().filter(|(_, s)| *s != GroupStatus::Offline).map(|(id, _)| id).collect())
    }

    /// The group's form of `kind`: `{enabled: false}` when off.
    pub async fn get_form(&self, group: u32, kind: FormType) -> Result<GetFormResponse> {
        let row = self.store.read().await?.group(group).await?.ok_or_else(|| group_not_found(group))?;
        let json = match kind {
            FormType::Prechat => row.prechat_form,
            FormType::Postchat => row.postchat_form,
            FormType::Ticket => row.ticket_form,
        };
        let form: Option<Form> = json.and_then(|json| serde_json::from_str(&json).ok());
        Ok(GetFormResponse { enabled: form.is_some(), form })
    }

    /// Whether chats may start in the group while it is offline.
    pub(super) async fn offline_chats(&self, tx: &mut Conn, group: u32) -> Result<bool> {
        Ok(tx.group(group).await?.ok_or_else(|| group_not_found(group))?.offline_chats)
    }

    /// The agent a chat started now in `group` would get, and whether it would wait first.
    /// `group_offline` when no agent of the group accepts chats.
    pub async fn predicted_agent(&self, group: u32) -> Result<PredictedAgent> {
        let mut db = self.store.read().await?;
        db.group(group).await?.ok_or_else(|| group_not_found(group))?;
        let candidates = db.candidates(group).await?;
        let queued = !db.queue(group, 1).await?.is_empty();
        let Some(least_loaded) = candidates.first() else {
            return Err(Error::new(ErrorType::GroupOffline, format!("Group {group} is offline")));
        };
        let with_room = candidates.iter().find(|c| c.has_room());
        let queue = with_room.is_none() || queued;
        let first = with_room.unwrap_or(least_loaded);
        let mut agent = db.agent(&first.agent_id).await?.ok_or_else(|| Error::not_found("Unknown agent"))?;
        agent.is_bot = Some(false);
        Ok(PredictedAgent { agent, queue })
    }

    /// Sets an agent's routing status (the requester's, or `agent_id`'s), and routes what that
    /// allows: an agent who starts accepting chats takes queued ones.
    pub async fn set_routing_status(
        &self,
        requester: Requester<'_>,
        agent_id: Option<&str>,
        status: RoutingStatus,
    ) -> Result<Vec<DomainEvent>> {
        let agent_id = agent_id.unwrap_or(requester.id());
        let mut tx = self.store.write().await?;
        let groups = tx.groups_of_agent(agent_id).await?;
        let routing = self.begin_routing(&mut tx, &groups).await?;
        let before = tx.routing_status(agent_id).await?;
        if before.is_none() || !tx.set_routing_status(agent_id, status.as_str()).await? {
            return Err(Error::not_found(format!("Agent {agent_id} not found")));
        }
        let mut events = Vec::new();
        if before.as_deref() != Some(status.as_str()) {
            events.push(DomainEvent::RoutingStatusSet { agent_id: agent_id.to_owned(), status });
        }
        events.extend(self.settle_routing(&mut tx, routing).await?);
        self.commit(tx, &events).await?;
        Ok(events)
    }

    /// Every agent's routing status, or those of the agents of `group_ids`.
    pub async fn routing_statuses(&self, group_ids: Option<&[u32]>) -> Result<Vec<(String, RoutingStatus)>> {
        if let Some(ids) = group_ids {
            self.check_groups(ids).await?;
        }
        let rows = self.store.read().await?.routing_statuses(group_ids).await?;
        Ok(rows
            .into_iter()
            .map(|(agent, status)| (agent, RoutingStatus::parse(&status).unwrap_or(RoutingStatus::Offline)))
            .collect())
    }

    /// One agent's routing status (`offline` for an unknown agent).
    pub async fn routing_status_of(&self, agent_id: &str) -> Result<RoutingStatus> {
        let status = self.store.read().await?.routing_status(agent_id).await?;
        Ok(status.as_deref().and_then(RoutingStatus::parse).unwrap_or(RoutingStatus::Offline))
    }
}
