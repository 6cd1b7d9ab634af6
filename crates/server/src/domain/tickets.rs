//! Tickets: what a visitor leaves through the ticket form when nobody can chat
//! (`POST /v2/tickets/new`, protocol.md §7.2). Stored; no push (agents read tickets elsewhere).
//!
//! The body is either what SDK v2 builds (`requester`, `ticket_message`, `offline_message`,
//! `subject`, …) or carries the `filled_form` itself, whose fields give what the body leaves
//! out: `name` and `email` fields the requester, a `subject` field the subject, the
//! question, textarea, radio, select and checkbox answers the message.

use super::Domain;
use crate::error::Error;
use crate::limits::{MAX_TICKET_FIELD_BYTES, MAX_TICKET_MESSAGE_BYTES};
use crate::store::{TicketRow, random_id};
use confab_protocol::entity::FilledFormBody;
use confab_protocol::ticket::TicketRequest;
use serde_json::Value;

/// The ticket request as the domain takes it.
pub type TicketInput = TicketRequest;

/// Why a ticket was refused.
#[derive(Debug)]
pub enum TicketError {
    /// The request is wrong: `what` (the documented key, e.g. `incorrect requester structure`)
    /// and why.
    Invalid {
        what: &'static str,
        message: String,
    },
    Other(Error),
}

impl From<Error> for TicketError {
    fn from(error: Error) -> Self {
        TicketError::Other(error)
    }
}

impl From<sqlx::Error> for TicketError {
    fn from(error: sqlx::Error) -> Self {
        TicketError::Other(error.into())
    }
}

const REQUESTER: &str = "incorrect requester structure";
const TICKET: &str = "incorrect ticket structure";
const GROUP: &str = "incorrect group";

fn invalid(what: &'static str, message: impl Into<String>) -> TicketError {
    TicketError::Invalid { what, message: message.into() }
}

/// An answer as text: a string, an option's label, or a checkbox's labels.
fn answer_text(answer: Option<&Value>, answers: Option<&Vec<Value>>) -> String {
    fn one(value: &Value) -> String {
        match value {
            Value::String(s) => s.clone(),
            Value::Object(o) => o.get("label").and_then(Value::as_str).unwrap_or_default().to_owned(),
            Value::Null => String::new(),
            other => other.to_string(),
        }
    }
    match (answer, answers) {
        (Some(answer), _) => one(answer),
        (None, Some(answers)) => answers.iter().map(one).collect::<Vec<_>>().join(", "),
        (None, None) => String::new(),
    }
}

/// What a filled form says: `(name, email, subject, message)`.
fn from_form(form: &FilledFormBody) -> (Option<String>, Option<String>, Option<String>, String) {
    let (mut name, mut email, mut subject, mut lines) = (None, None, None, Vec::new());
    for field in &form.fields {
        let text = answer_text(field.answer.as_ref(), field.answers.as_ref());
        match field.kind.as_str() {
            "name" => name = Some(text),
            "email" => email = Some(text),
            "subject" => subject = Some(text),
            "question" | "textarea" | "radio" | "select" | "checkbox" => {
                lines.push(format!("{} {}", field.label, text).trim().to_owned())
            }
            _ => {}
        }
    }
    (name, email, subject, lines.join("\n"))
}

fn is_email(mail: &str) -> bool {
    let Some((local, domain)) = mail.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !mail.chars().any(char::is_whitespace)
}

fn bounded(what: &'static str, name: &str, value: Option<String>, max: usize) -> Result<Option<String>, TicketError> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        Some(v) if v.len() > max => Err(invalid(what, format!("{name} is longer than {max} bytes"))),
        other => Ok(other),
    }
}

impl Domain {
    /// Validates and stores a ticket; returns its id.
    pub async fn create_ticket(&self, request: &TicketInput) -> Result<String, TicketError> {
        let (form_name, form_mail, form_subject, form_message) =
            request.filled_form.as_ref().map(from_form).unwrap_or_default();
        let requester = request.requester.clone().unwrap_or_default();
        let name = bounded(REQUESTER, "name", requester.name.or(form_name), MAX_TICKET_FIELD_BYTES)?;
        let mail = bounded(REQUESTER, "mail", requester.mail.or(form_mail), MAX_TICKET_FIELD_BYTES)?
            .ok_or_else(|| invalid(REQUESTER, "mail is required"))?;
        if !is_email(&mail) {
            return Err(invalid(REQUESTER, format!("mail `{mail}` is not an email address")));
        }
        let subject = bounded(TICKET, "subject", request.subject.clone().or(form_subject), MAX_TICKET_FIELD_BYTES)?;
        let message = request
            .ticket_message
            .clone()
            .filter(|m| !m.trim().is_empty())
            .or_else(|| request.offline_message.clone())
            .or(Some(form_message));
        let message = bounded(TICKET, "message", message, MAX_TICKET_MESSAGE_BYTES)?
            .ok_or_else(|| invalid(TICKET, "message is required"))?;
        let customer_id = bounded(TICKET, "visitor_id", request.visitor_id.clone(), MAX_TICKET_FIELD_BYTES)?;
        let group_id = request.group.unwrap_or(super::DEFAULT_GROUP);
        let ticket = TicketRow {
            id: random_id(10),
            customer_id,
            group_id,
            requester_name: name,
            requester_mail: mail,
            subject,
            message,
            created_at: self.clock.now(),
        };
        let mut tx = self.store.write().await?;
        if tx.group(group_id).await?.is_none() {
            return Err(invalid(GROUP, format!("Group {group_id} not found")));
        }
        tx.insert_ticket(&ticket).await?;
        tx.commit().await?;
        Ok(ticket.id)
    }

    /// A stored ticket's `(group_id, requester_mail, message)`.
    pub async fn ticket(&self, id: &str) -> crate::error::Result<Option<(i64, String, String)>> {
        self.store.read().await?.ticket(id).await
    }
}
