//! `send_ticket_form` (protocol.md §7.2): a filled ticket form becomes the JSON body of
//! `POST /v2/tickets/new`, and the answer becomes the ticket or an error. No IO here.

use crate::error::SdkError;
use confab_protocol::entity::{FilledFormBody, FilledFormField};
use serde_json::{Map, Value, json};

/// A ticket form the customer filled in, and where it goes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TicketForm {
    /// The filled form (`get_form` with type `ticket` gives the fields to fill).
    pub filled_form: FilledFormBody,
    /// The group the ticket is for.
    pub group_id: Option<u32>,
    /// An IANA time zone for the times in the ticket.
    pub time_zone: Option<String>,
}

/// Field types whose answers make the ticket's message (`ticket_message`).
const MESSAGE_FIELDS: &[&str] = &["question", "textarea", "radio", "select", "checkbox"];

/// The request body of §7.2: `{licence_id, ticket_message, offline_message, visitor_id,
/// requester: {name?, mail?}, group?, source?: {url}, timezone?, subject?}`. `licence_id`
/// carries the organization id.
///
/// ```
/// use confab_sdk::protocol::entity::{FilledFormBody, FilledFormField};
/// use confab_sdk::ticket::{TicketForm, ticket_body};
/// let field = |kind: &str, label: &str, answer: &str| FilledFormField {
///     id: None, kind: kind.into(), label: label.into(), answer: Some(answer.into()), answers: None,
/// };
/// let form = TicketForm {
///     filled_form: FilledFormBody { form_id: "ticket".into(), fields: vec![
///         field("email", "Your email:", "jo@example.com"),
///         field("textarea", "Your message:", "Where is my order?"),
///     ]},
///     group_id: Some(0),
///     time_zone: None,
/// };
/// let body = ticket_body(&form, "org-1", Some("cust-1"), None);
/// assert_eq!(body["requester"]["mail"], "jo@example.com");
/// assert_eq!(body["ticket_message"], "Your message: Where is my order?");
/// ```
pub fn ticket_body(
    form: &TicketForm,
    organization_id: &str,
    visitor_id: Option<&str>,
    page_url: Option<&str>,
) -> Value {
    let fields = &form.filled_form.fields;
    let lines = |only_message: bool| {
        fields
            .iter()
            .filter(|field| !only_message || MESSAGE_FIELDS.contains(&field.kind.as_str()))
            .filter_map(|field| Some(format!("{} {}", field.label, answer_text(field)?)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let answer_of = |kind: &str| fields.iter().find(|field| field.kind == kind).and_then(answer_text);
    let mut requester = Map::new();
    if let Some(name) = answer_of("name") {
        requester.insert("name".into(), name.into());
    }
    if let Some(mail) = answer_of("email") {
        requester.insert("mail".into(), mail.into());
    }
    let mut body = json!({
        "licence_id": organization_id,
        "ticket_message": lines(true),
        "offline_message": lines(false),
        "requester": requester,
    });
    let object = body.as_object_mut().expect("a JSON object");
    if let Some(visitor_id) = visitor_id {
        object.insert("visitor_id".into(), visitor_id.into());
    }
    if let Some(group) = form.group_id {
        object.insert("group".into(), group.into());
    }
    if let Some(url) = page_url {
        object.insert("source".into(), json!({ "url": url }));
    }
    if let Some(time_zone) = &form.time_zone {
        object.insert("timezone".into(), time_zone.as_str().into());
    }
    if let Some(subject) = answer_of("subject") {
        object.insert("subject".into(), subject.into());
    }
    body
}

/// A field's answer as text: the string, an option's label, or a checkbox's labels joined.
fn answer_text(field: &FilledFormField) -> Option<String> {
    let text = |value: &Value| match value {
        Value::String(text) => Some(text.clone()),
        Value::Object(option) => option.get("label").and_then(Value::as_str).map(str::to_owned),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    if let Some(answers) = &field.answers {
        let labels: Vec<String> = answers.iter().filter_map(text).collect();
        return (!labels.is_empty()).then(|| labels.join(", "));
    }
    field.answer.as_ref().and_then(text).filter(|answer| !answer.is_empty())
}

/// Reads the endpoint's answer: 2xx → the ticket (`{id, …}`); 400 and 422 → `VALIDATION`
/// with the server's message; anything else → `SdkError::Http`.
///
/// ```
/// use confab_sdk::ticket::read_ticket_response;
/// assert_eq!(read_ticket_response(200, r#"{"id":"T1"}"#).unwrap()["id"], "T1");
/// assert_eq!(read_ticket_response(422, r#"{"errors":[{"incorrect requester structure":["mail"]}]}"#).unwrap_err().code(), "VALIDATION");
/// ```
pub fn read_ticket_response(status: u16, body: &str) -> Result<Value, SdkError> {
    match status {
        200..=299 => serde_json::from_str(body).map_err(|e| SdkError::Protocol(format!("unreadable ticket: {e}"))),
        400 | 422 => {
            Err(SdkError::Validation(if body.is_empty() { "invalid ticket form".into() } else { body.into() }))
        }
        status => Err(SdkError::Http(format!("ticket endpoint answered {status}"))),
    }
}
