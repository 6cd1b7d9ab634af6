//! Entities shared by requests, responses and pushes: users, chats, threads, events.
//!
//! Optional fields are `Option` and absent from the JSON when `None`, so a frame decoded and
//! encoded again is the same JSON (the recorded-frames test holds us to that).

use crate::wire::{self, FromWire, Json, ToWire, WireError};
use serde::de;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Properties: `{"<namespace>": {"<name>": <value>}}`.
pub type Properties = Map<String, Value>;

/// Property names to delete: `{"<namespace>": ["<name>", …]}`.
pub type PropertyNames = std::collections::BTreeMap<String, Vec<String>>;

/// Session fields as the wire carries them: an array of one-key objects, in order.
pub type SessionFields = Vec<Map<String, Value>>;

/// Which groups may see a chat or thread.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Access {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<u32>>,
}

impl Access {
    /// Access for the given groups.
    pub fn groups(ids: impl Into<Vec<u32>>) -> Self {
        Self { group_ids: Some(ids.into()) }
    }
}

/// Counters a client requires in the `login` response (protocol.md §4.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Statistics {
    pub chats_count: u64,
    pub threads_count: u64,
    pub visits_count: u64,
    pub page_views_count: u64,
    pub greetings_shown_count: u64,
    pub greetings_accepted_count: u64,
}

/// A customer (the visitor).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Customer {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_fields: Option<SessionFields>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistics: Option<Statistics>,
    /// In a chat's user list: whether the customer is present in the chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_seen_up_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// An agent (or a bot) as customers and other agents see it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Agent {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_bot: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events_seen_up_to: Option<String>,
}

/// A chat participant, tagged by `type`. A type this crate does not know (a newer server's)
/// decodes as `Unknown`, keeping its JSON, instead of failing the whole frame.
#[derive(Debug, Clone, PartialEq)]
pub enum User {
    Customer(Customer),
    Agent(Agent),
    Unknown(Map<String, Value>),
}

/// The known user types, as serde derives them.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum KnownUser<C, A> {
    Customer(C),
    Agent(A),
}

impl User {
    /// The user's id (`""` for an unknown user type without one).
    pub fn id(&self) -> &str {
        match self {
            User::Customer(c) => &c.id,
            User::Agent(a) => &a.id,
            User::Unknown(fields) => fields.get("id").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

impl Serialize for User {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            User::Customer(c) => KnownUser::<&Customer, &Agent>::Customer(c).serialize(serializer),
            User::Agent(a) => KnownUser::<&Customer, &Agent>::Agent(a).serialize(serializer),
            User::Unknown(fields) => fields.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for User {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields = Map::<String, Value>::deserialize(deserializer)?;
        match type_of(&fields)? {
            "customer" | "agent" => match serde_json::from_value(Value::Object(fields)).map_err(de::Error::custom)? {
                KnownUser::Customer(c) => Ok(User::Customer(c)),
                KnownUser::Agent(a) => Ok(User::Agent(a)),
            },
            _ => Ok(User::Unknown(fields)),
        }
    }
}

/// The `type` of a tagged object.
fn type_of<E: de::Error>(fields: &Map<String, Value>) -> Result<&str, E> {
    fields.get("type").and_then(Value::as_str).ok_or_else(|| E::missing_field("type"))
}

/// A customer that carries `"type": "customer"` on the wire outside a user list, as in the
/// `login` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "User", into = "User")]
pub struct TaggedCustomer(pub Customer);

impl FromWire for TaggedCustomer {
    fn from_wire(json: &Json) -> Result<Self, WireError> {
        User::from_wire(json)?.try_into().map_err(WireError)
    }
}

impl ToWire for TaggedCustomer {
    fn to_wire(&self) -> Json {
        wire::tagged("customer", &self.0)
    }
}

// The wire codec's reading of tagged users and events: the same rules as the serde impls above
// (a known `type` reads its body, any other keeps the object).
impl FromWire for User {
    fn from_wire(json: &Json) -> Result<Self, WireError> {
        match wire::tag(json, "User")? {
            "customer" => Customer::from_wire(json).map(User::Customer),
            "agent" => Agent::from_wire(json).map(User::Agent),
            _ => Map::from_wire(json).map(User::Unknown),
        }
    }
}

impl ToWire for User {
    fn to_wire(&self) -> Json {
        match self {
            User::Customer(c) => wire::tagged("customer", c),
            User::Agent(a) => wire::tagged("agent", a),
            User::Unknown(fields) => fields.to_wire(),
        }
    }
}

impl FromWire for EventBody {
    fn from_wire(json: &Json) -> Result<Self, WireError> {
        match wire::tag(json, "EventBody")? {
            "message" => MessageBody::from_wire(json).map(EventBody::Message),
            "file" => FileBody::from_wire(json).map(EventBody::File),
            "filled_form" => FilledFormBody::from_wire(json).map(EventBody::FilledForm),
            "rich_message" => RichMessageBody::from_wire(json).map(EventBody::RichMessage),
            "system_message" => SystemMessageBody::from_wire(json).map(EventBody::SystemMessage),
            _ => Map::from_wire(json).map(EventBody::Unknown),
        }
    }
}

impl ToWire for EventBody {
    fn to_wire(&self) -> Json {
        match self {
            EventBody::Message(m) => wire::tagged("message", m),
            EventBody::File(f) => wire::tagged("file", f),
            EventBody::FilledForm(f) => wire::tagged("filled_form", f),
            EventBody::RichMessage(r) => wire::tagged("rich_message", r),
            EventBody::SystemMessage(s) => wire::tagged("system_message", s),
            EventBody::Unknown(fields) => fields.to_wire(),
        }
    }
}

impl TryFrom<User> for TaggedCustomer {
    type Error = String;
    fn try_from(user: User) -> Result<Self, String> {
        match user {
            User::Customer(customer) => Ok(Self(customer)),
            other => Err(format!("expected a customer, got user {}", other.id())),
        }
    }
}

impl From<TaggedCustomer> for User {
    fn from(customer: TaggedCustomer) -> Self {
        User::Customer(customer.0)
    }
}

/// A chat with one thread (the latest, or the one asked for).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Chat {
    pub id: String,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
    /// `None` only for a chat without threads (v3.5 allows `null` in `get_chat`).
    #[serde(default)]
    pub thread: Option<Thread>,
}

/// A thread: one conversation of a chat, with its events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Thread {
    pub id: String,
    pub created_at: String,
    pub active: bool,
    #[serde(default)]
    pub user_ids: Vec<String>,
    #[serde(default)]
    pub events: Vec<Event>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_thread_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_thread_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<Queue>,
    /// Agent Chat API: the thread's tags (agents only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Agent Chat API `list_archives` with `highlights`: where `filters.query` matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highlight: Option<Vec<Highlight>>,
}

/// One match of a `list_archives` query: the event's field, with the matched text wrapped in
/// the request's `pre_tag` and `post_tag`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Highlight {
    /// `event.<type>`, e.g. `event.message`.
    #[serde(rename = "type")]
    pub kind: String,
    pub event_id: String,
    pub field: String,
    pub highlight: String,
}

/// A thread's place in the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Queue {
    pub position: u32,
    pub wait_time: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_at: Option<String>,
}

/// An event: the fields every event has, plus its type-specific body.
///
/// Outgoing events (from a client) carry no `id`, `created_at` or `author_id`; the server
/// assigns them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    /// The client's own id for the event, echoed back so it can match its optimistic copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_id: Option<String>,
    /// `all` (default) or `agents`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
    /// Confab's extension: the event's place in its chat (1, 2, 3, … across threads),
    /// assigned by the server in the transaction that stores the event. Clients order by it
    /// and drop duplicates; clients that do not know it ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(flatten)]
    pub body: EventBody,
}

impl Event {
    /// A new outgoing message event.
    pub fn message(text: impl Into<String>) -> Self {
        Self::outgoing(EventBody::Message(MessageBody { text: text.into(), postback: None }))
    }

    /// A new outgoing file event naming an upload's `url`; the server fills in the file's
    /// name, type and size from the upload.
    pub fn file(url: impl Into<String>) -> Self {
        Self::outgoing(EventBody::File(FileBody {
            url: url.into(),
            name: None,
            content_type: None,
            size: None,
            width: None,
            height: None,
            thumbnail_url: None,
            thumbnail2x_url: None,
            alternative_text: None,
        }))
    }

    /// A new outgoing event with the given body and no server-assigned fields.
    pub fn outgoing(body: EventBody) -> Self {
        Self {
            id: None,
            created_at: None,
            author_id: None,
            custom_id: None,
            visibility: None,
            properties: None,
            seq: None,
            body,
        }
    }

    /// Sets `custom_id`.
    pub fn with_custom_id(mut self, custom_id: impl Into<String>) -> Self {
        self.custom_id = Some(custom_id.into());
        self
    }

    /// The text of a message or system message.
    pub fn text(&self) -> Option<&str> {
        match &self.body {
            EventBody::Message(m) => Some(&m.text),
            EventBody::SystemMessage(m) => Some(&m.text),
            _ => None,
        }
    }
}

/// The type-specific part of an event, tagged by `type`. A type this crate does not know
/// decodes as `Unknown`, keeping its JSON (with `type`), so one new event type never makes a
/// whole push or history page unreadable.
#[derive(Debug, Clone, PartialEq)]
pub enum EventBody {
    Message(MessageBody),
    File(FileBody),
    FilledForm(FilledFormBody),
    RichMessage(RichMessageBody),
    SystemMessage(SystemMessageBody),
    Unknown(Map<String, Value>),
}

/// The known event types, as serde derives them.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum KnownEventBody<M, F, FF, R, S> {
    Message(M),
    File(F),
    FilledForm(FF),
    RichMessage(R),
    SystemMessage(S),
}

type KnownRef<'a> =
    KnownEventBody<&'a MessageBody, &'a FileBody, &'a FilledFormBody, &'a RichMessageBody, &'a SystemMessageBody>;
type KnownOwned = KnownEventBody<MessageBody, FileBody, FilledFormBody, RichMessageBody, SystemMessageBody>;

impl EventBody {
    /// The wire `type`: `message`, `file`, `system_message`, or the unknown type's name.
    pub fn kind(&self) -> &str {
        match self {
            EventBody::Message(_) => "message",
            EventBody::File(_) => "file",
            EventBody::FilledForm(_) => "filled_form",
            EventBody::RichMessage(_) => "rich_message",
            EventBody::SystemMessage(_) => "system_message",
            EventBody::Unknown(fields) => fields.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

impl Serialize for EventBody {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            EventBody::Message(m) => KnownRef::Message(m).serialize(serializer),
            EventBody::File(f) => KnownRef::File(f).serialize(serializer),
            EventBody::FilledForm(f) => KnownRef::FilledForm(f).serialize(serializer),
            EventBody::RichMessage(r) => KnownRef::RichMessage(r).serialize(serializer),
            EventBody::SystemMessage(s) => KnownRef::SystemMessage(s).serialize(serializer),
            EventBody::Unknown(fields) => fields.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for EventBody {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields = Map::<String, Value>::deserialize(deserializer)?;
        match type_of(&fields)? {
            "message" | "file" | "filled_form" | "rich_message" | "system_message" => {
                match serde_json::from_value::<KnownOwned>(Value::Object(fields)).map_err(de::Error::custom)? {
                    KnownEventBody::Message(m) => Ok(EventBody::Message(m)),
                    KnownEventBody::File(f) => Ok(EventBody::File(f)),
                    KnownEventBody::FilledForm(f) => Ok(EventBody::FilledForm(f)),
                    KnownEventBody::RichMessage(r) => Ok(EventBody::RichMessage(r)),
                    KnownEventBody::SystemMessage(s) => Ok(EventBody::SystemMessage(s)),
                }
            }
            _ => Ok(EventBody::Unknown(fields)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct MessageBody {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postback: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct FileBody {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail2x_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative_text: Option<String>,
}

/// A form the customer filled in (pre-chat, post-chat, ticket).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct FilledFormBody {
    pub form_id: String,
    pub fields: Vec<FilledFormField>,
}

/// One answered field. `answer` is a string, an option (`{id, label}`) or, for
/// `group_chooser`, `{group_id, label}`; `answers` holds a checkbox field's options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct FilledFormField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<Vec<Value>>,
}

/// Cards, quick replies or a sticker, with buttons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct RichMessageBody {
    /// `cards`, `quick_replies`, `sticker`.
    pub template_id: String,
    #[serde(default)]
    pub elements: Vec<RichMessageElement>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct RichMessageElement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<RichMessageImage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buttons: Option<Vec<RichMessageButton>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct RichMessageImage {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative_text: Option<String>,
}

/// A button: `kind` (wire `type`) is `message`, `url`, `webview`, `phone` or `cancel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct RichMessageButton {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postback_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webview_height: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct SystemMessageBody {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_message_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_vars: Option<Map<String, Value>>,
}

/// One chat in a `list_chats` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ChatSummary {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_thread_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_thread_created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event_per_type: Option<std::collections::BTreeMap<String, LastEvent>>,
    /// Agent Chat Web API: the chat's latest thread, without events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_thread_summary: Option<ThreadSummary>,
}

/// A thread without its events (Agent Chat Web API chat summaries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ThreadSummary {
    pub id: String,
    pub created_at: String,
    #[serde(default)]
    pub user_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
}

/// The newest event of one type in a chat summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct LastEvent {
    pub thread_id: String,
    pub thread_created_at: String,
    pub event: Event,
}

/// A greeting: an agent's (or a rule's) invitation to chat, shown before any chat exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct Greeting {
    pub id: u64,
    pub unique_id: String,
    #[serde(default)]
    pub displayed_first_time: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<bool>,
    /// `greeting` or `announcement`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    pub event: Event,
    pub agent: Agent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon: Option<Value>,
}
