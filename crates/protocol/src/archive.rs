//! Agent Chat Web API v3.6 filters: `list_archives` (threads by content, time, group, agents,
//! tags, properties, events, surveys, greetings, agent responses) and the property filters
//! `list_chats` shares with it.
//!
//! The shapes are the reference's; what each filter means over Confab's data is the server's
//! (`store::archives`).

use crate::action::SortOrder;
use crate::entity::{Access, Properties, Thread, User};
use crate::wire::{FromWire, ToWire};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A filter over a set of values a thread has (its agents, tags, event types, …): one of
/// `exists`, `values` or `exclude_values`. With `require_every_value`, `values` wants every
/// value and `exclude_values` leaves out only threads with every value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct ValuesFilter<T> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<T>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_values: Option<Vec<T>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_every_value: Option<bool>,
}

impl<T> Default for ValuesFilter<T> {
    fn default() -> Self {
        Self { exists: None, values: None, exclude_values: None, require_every_value: None }
    }
}

/// `filters.properties.<namespace>.<name>.<exists | values | exclude_values>`; values are
/// strings, integers or booleans.
pub type PropertyFilters = BTreeMap<String, BTreeMap<String, ValuesFilter<Value>>>;

/// Groups to keep (`values`) or leave out (`exclude_values`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct GroupsFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_values: Option<Vec<u32>>,
}

/// `filters.surveys[]`: threads with (or, `exists: false`, without) a filled pre-chat or
/// post-chat survey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct SurveyFilter {
    /// `pre_chat` or `post_chat`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// Answer ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_values: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<GroupsFilter>,
}

/// `filters.greetings`: threads a greeting started (or joined).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct GreetingsFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// Greeting (template) ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_values: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<GroupsFilter>,
}

/// Agents to keep (`values`) or leave out (`exclude_values`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct AgentsFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_values: Option<Vec<String>>,
}

/// `filters.agent_response`: threads in which an agent answered (a message).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct AgentResponseFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// The other conditions apply to the thread's first agent message only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<AgentsFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<GroupsFilter>,
}

/// `list_archives` `filters`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ArchiveFilters {
    /// Words the thread's messages contain (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Threads created at or after (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Threads created at or before (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// These threads only; no other filter and no paging with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<PropertyFilters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<ValuesFilter<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<ValuesFilter<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sales: Option<ValuesFilter<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goals: Option<ValuesFilter<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surveys: Option<Vec<SurveyFilter>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_types: Option<ValuesFilter<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greetings: Option<GreetingsFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_response: Option<AgentResponseFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_countries: Option<ValuesFilter<String>>,
}

/// Tags around the text `filters.query` matched; `<em>` and `</em>` unless given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Highlights {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_tag: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ListArchivesRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<ArchiveFilters>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<SortOrder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highlights: Option<Highlights>,
}

/// A chat with one of its threads: one entry of `list_archives`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ArchivedChat {
    pub id: String,
    pub users: Vec<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
    pub thread: Thread,
    pub is_followed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ListArchivesResponse {
    pub chats: Vec<ArchivedChat>,
    pub found_chats: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_page_id: Option<String>,
}
