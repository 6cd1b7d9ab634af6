//! The ticket form endpoint, `POST /v2/tickets/new` (protocol.md §7.2, SDK v2
//! `sendTicketForm`): JSON, no authentication.

use crate::entity::FilledFormBody;
use crate::wire::{FromWire, ToWire};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The body SDK v2 builds from a filled ticket form (`createTicketBody`). Confab also accepts
/// the `filled_form` itself, and reads the requester, subject and message from its fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct TicketRequest {
    /// The account (v2 sends its license number); not checked: one server, one account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_id: Option<Value>,
    /// The question, textarea, radio, select and checkbox answers as `"<label> <answer>"` lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_message: Option<String>,
    /// Every answer as `"<label> <answer>"` lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_message: Option<String>,
    /// The customer's id (`entity_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<TicketRequester>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<TicketSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The filled ticket form (a Confab extension; `type: "filled_form"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled_form: Option<FilledFormBody>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct TicketRequester {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct TicketSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A created ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct TicketResponse {
    pub id: String,
}

/// A refused ticket (400 or 422): `{"errors": [{"incorrect requester structure": [msg]}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct TicketErrors {
    pub errors: Vec<BTreeMap<String, Vec<String>>>,
}

impl TicketErrors {
    /// One error: `what` is wrong, because of `message`.
    pub fn one(what: &str, message: impl Into<String>) -> Self {
        Self { errors: vec![BTreeMap::from([(what.to_owned(), vec![message.into()])])] }
    }
}
