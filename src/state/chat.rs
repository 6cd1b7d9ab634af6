//! The messages of the visitor's chat, the connection's state, and how pushes, sends and
//! loads change them.
//!
//! A message the visitor sends appears at once as `Sending`, keyed by its `custom_id`; the
//! server's copy (same `custom_id`) confirms it. Events are deduplicated by id and by `seq`, so a
//! push and a reload of the same event never show twice.
//!
//! Messages are in `seq` order (the server's order of the chat, across its threads), whatever
//! order they arrive in: a late event or an older page of history is inserted in its place, not
//! appended. The visitor's own messages that the server has not confirmed (no `seq` yet:
//! sending, or failed) stay last; once confirmed, they move to their place. Messages without a
//! `seq` (notices, servers that assign none) go where they arrive, before those unconfirmed ones.
//!
//! Where the next message goes (`next_send`) depends on what the login said: the visitor's chat
//! and whether it is active come with it (`logged_in`), so a returning visitor's first message
//! joins their chat. Until that first login nobody knows, and sending waits: a `start_chat`
//! sent blind would meet `chat_limit_reached`. The chat's history is loaded afterwards
//! (`load_history`, `load_threads`) and only adds messages: by the time it arrives, pushes may
//! know better whether the chat is active.
//!
//! Around the messages the state keeps what the window shows about the conversation: who is
//! typing, the place in the queue, which agent has the chat, how far the agents have read, and
//! whether the chat has ended (and then its rating).

use super::time::unix_seconds;
use confab_protocol::action::{Form, LoginChat};
use confab_protocol::entity::{
    Agent, Chat, Event, EventBody, Greeting, Properties, Queue, RichMessageBody, RichMessageButton, Thread, User,
};
use confab_protocol::push::Push;
use std::collections::HashMap;

/// An agent as the visitor sees them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AgentCard {
    pub id: String,
    pub name: String,
    /// Already through `safe_url`.
    pub avatar: Option<String>,
    pub job_title: Option<String>,
}

impl AgentCard {
    fn unknown(id: &str) -> Self {
        Self { id: id.to_owned(), name: String::new(), avatar: None, job_title: None }
    }

    fn of(agent: &Agent) -> Self {
        Self {
            id: agent.id.clone(),
            name: agent.name.clone().unwrap_or_default(),
            avatar: agent.avatar.as_deref().and_then(super::safe_url).map(str::to_owned),
            job_title: agent.job_title.clone().filter(|t| !t.trim().is_empty()),
        }
    }

    /// Up to two initials, for an agent without an avatar.
    pub fn initials(&self) -> String {
        self.name.split_whitespace().filter_map(|w| w.chars().next()).take(2).collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Author {
    Visitor,
    Agent(AgentCard),
    System,
}

impl Author {
    /// Messages by the same author are grouped together.
    pub fn same_as(&self, other: &Author) -> bool {
        match (self, other) {
            (Author::Agent(a), Author::Agent(b)) => a.id == b.id,
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// A file on its way to the server: percent sent.
    Uploading(u8),
    Sending,
    Sent,
    /// An agent has read it (`events_marked_as_seen`).
    Seen,
    Failed(String),
}

impl Delivery {
    /// The server has it.
    pub fn is_stored(&self) -> bool {
        matches!(self, Delivery::Sent | Delivery::Seen)
    }
}

/// Something the window says about the chat in the conversation itself. The words are the
/// language's (`i18n`), so the state keeps what happened, not a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Notice {
    ChatEnded,
    /// The chat went to another agent or group (or back into the queue).
    Transferred,
    /// An agent took the chat.
    AgentJoined {
        name: String,
    },
}

/// A file in the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileLink {
    /// Already through `safe_url`; `None` when refused (the name still shows).
    pub url: Option<String>,
    pub name: String,
    /// Shown as a picture (an image type the server serves inline).
    pub image: bool,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Content {
    Text(String),
    File(FileLink),
    Notice(Notice),
    Rich(Rich),
}

/// A rich message: cards (each with a picture, a title, a subtitle and buttons), quick
/// replies (buttons offered as answers), or a sticker. Built from the event's typed data; every
/// address already through `safe_url`, so a view only ever shows text, pictures and links.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rich {
    pub quick_replies: bool,
    pub elements: Vec<RichElement>,
    /// The postback id of the button the visitor chose, once they have.
    pub chosen: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RichElement {
    pub title: Option<String>,
    pub subtitle: Option<String>,
    /// A picture's address and its description.
    pub image: Option<(String, String)>,
    pub buttons: Vec<RichButton>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RichButton {
    pub text: String,
    pub action: ButtonAction,
    /// Sent back (`send_rich_message_postback`) when the visitor chooses it.
    pub postback_id: Option<String>,
}

/// A choice in a rich message, for its postbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub chat_id: String,
    pub thread_id: String,
    pub event_id: String,
    /// The button chosen before, now taken back (`toggled: false`).
    pub previous: Option<String>,
}

/// What a button does besides its postback.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ButtonAction {
    /// Answers with the button's words, as the visitor's message.
    Message,
    /// Opens a web page (a `webview` opens as a page too).
    Link(String),
    /// Calls a phone number (`tel:`).
    Phone(String),
    /// Only the postback (`cancel`, or a link refused by the allowlist).
    Postback,
}

impl Rich {
    /// The message's cards or quick replies; `me` chose the button whose `user_ids` name them
    /// (the server fills those from the stored postbacks, so a later page knows the choice).
    fn of(body: &RichMessageBody, me: Option<&str>) -> Self {
        let chosen = me.and_then(|me| {
            let buttons = body.elements.iter().flat_map(|e| e.buttons.iter().flatten());
            buttons.filter(|b| b.user_ids.iter().flatten().any(|id| id == me)).find_map(|b| b.postback_id.clone())
        });
        let elements = body
            .elements
            .iter()
            .map(|e| RichElement {
                title: e.title.clone().filter(|t| !t.trim().is_empty()),
                subtitle: e.subtitle.clone().filter(|t| !t.trim().is_empty()),
                image: e.image.as_ref().and_then(|image| {
                    let url = super::safe_url(&image.url)?.to_owned();
                    Some((url, image.alternative_text.clone().or_else(|| image.name.clone()).unwrap_or_default()))
                }),
                buttons: e.buttons.iter().flatten().filter(|b| !b.text.trim().is_empty()).map(RichButton::of).collect(),
            })
            .collect();
        Self { quick_replies: body.template_id == "quick_replies", elements, chosen }
    }
}

impl RichButton {
    fn of(button: &RichMessageButton) -> Self {
        let value = button.value.as_deref().unwrap_or("");
        let action = match button.kind.as_deref().unwrap_or("message") {
            "message" => ButtonAction::Message,
            "url" | "webview" => match super::safe_url(value) {
                Some(url) if !url.to_ascii_lowercase().starts_with("mailto:") => ButtonAction::Link(url.to_owned()),
                _ => ButtonAction::Postback,
            },
            "phone" => match phone_number(value) {
                Some(number) => ButtonAction::Phone(number),
                None => ButtonAction::Postback,
            },
            _ => ButtonAction::Postback,
        };
        Self { text: button.text.clone(), action, postback_id: button.postback_id.clone() }
    }
}

/// A phone number a `tel:` link may carry: digits, one leading `+`, and spaces, dashes,
/// dots or brackets between them.
fn phone_number(value: &str) -> Option<String> {
    let value = value.trim();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value.char_indices().all(|(i, c)| c.is_ascii_digit() || " -.()".contains(c) || (c == '+' && i == 0));
    (allowed && (3..=20).contains(&digits)).then(|| value.chars().filter(|c| !c.is_whitespace()).collect())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Stable for the message's life: the `custom_id` of our own messages, else the event id.
    pub key: String,
    pub id: Option<String>,
    /// The event's place in the chat; `None` until the server has it.
    pub seq: Option<u64>,
    /// The conversation (thread) it belongs to, when known.
    pub thread_id: Option<String>,
    pub author: Author,
    pub content: Content,
    pub created_at: Option<String>,
    /// `created_at` in seconds since the epoch, read once: the rows compare every message's
    /// time with its neighbours' each time the chat changes.
    pub at: Option<i64>,
    pub delivery: Delivery,
}

impl Message {
    /// The words of a text message or the name of a file; empty for a notice.
    pub fn text(&self) -> &str {
        match &self.content {
            Content::Text(text) => text,
            Content::File(file) => &file.name,
            Content::Rich(rich) => rich.elements.iter().find_map(|e| e.title.as_deref()).unwrap_or(""),
            Content::Notice(_) => "",
        }
    }
}

/// The connection as the visitor is told about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    Connecting,
    Connected,
    /// Lost; reconnecting on its own.
    Reconnecting,
    /// An attempt failed; the next one is in `retry_in_secs`.
    Retrying {
        retry_in_secs: u64,
    },
    /// Stopped until the visitor asks to go on (`inactivity_timeout`, `users_limit_reached`).
    Paused {
        reason: String,
    },
    /// Over for good (for example the visitor was banned).
    Ended {
        reason: String,
    },
}

impl Connection {
    /// Whether the composer takes a message now. Connecting or reconnecting it does: the
    /// message waits in the outbox (`ChatState::next_send`) and goes once connected. Paused or
    /// over it does not; what is typed stays in the composer.
    pub fn accepts_messages(&self) -> bool {
        matches!(
            self,
            Connection::Connected | Connection::Connecting | Connection::Reconnecting | Connection::Retrying { .. }
        )
    }

    /// Whether a file can be sent now: uploads need the server, so only while connected (or
    /// connecting for the first time).
    pub fn accepts_files(&self) -> bool {
        matches!(self, Connection::Connected | Connection::Connecting)
    }
}

/// How the next message is delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendPlan {
    /// The visitor has no chat yet: the message starts one.
    StartChat,
    /// The chat has no active thread: the message opens the next one.
    ResumeChat {
        chat_id: String,
    },
    SendEvent {
        chat_id: String,
    },
}

/// An invitation to chat (a greeting) from an agent, shown until the visitor answers or
/// closes it.
#[derive(Debug, Clone, PartialEq)]
pub struct GreetingCard {
    pub id: u64,
    pub unique_id: String,
    pub agent: AgentCard,
    pub text: String,
}

/// What the bottom of the window offers.
#[derive(Debug, Clone, PartialEq)]
pub enum Footer {
    Composer,
    /// Before a first chat: the group's pre-chat form.
    Prechat(Form),
    /// Nobody is available: leave a message (a ticket).
    Ticket(Form),
    /// The ticket was left.
    TicketSent,
    /// The conversation ended: the rating and "start a new chat".
    Ended,
}

/// The end of a conversation, as the window shows it until the visitor starts a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub thread_id: String,
    pub rating: RatingState,
    /// The server holds a rating for it (so declining takes it back there too).
    pub rated_on_server: bool,
    /// The post-chat survey was sent or skipped.
    pub surveyed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatingState {
    /// Not rated yet: the window asks.
    Asking,
    /// Rated: 1 good, 0 bad.
    Rated { score: u8 },
    /// The visitor said no thanks (or took the rating back).
    Declined,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatState {
    pub customer_id: Option<String>,
    pub chat_id: Option<String>,
    /// Whether the chat has an active thread (sending needs `resume_chat` otherwise).
    pub active: bool,
    /// A login has succeeded: `chat_id` and `active` are known.
    pub logged_in: bool,
    pub messages: Vec<Message>,
    /// The agent who has the chat now, once one has joined.
    pub agent: Option<AgentCard>,
    /// An agent is typing.
    pub typing: Option<AgentCard>,
    /// The chat waits for an agent.
    pub queue: Option<Queue>,
    /// The last conversation ended; `None` while one is going on or after "start a new chat".
    pub ended: Option<Ended>,
    /// Every earlier conversation is loaded.
    pub history_complete: bool,
    /// No agent of the visitor's group is available.
    pub offline: bool,
    /// The group's pre-chat form, asked before a first chat starts.
    pub prechat: Option<Form>,
    /// The group's ticket form, offered while the group is offline.
    pub ticket: Option<Form>,
    /// The group's post-chat survey, offered when a conversation ends.
    pub postchat: Option<Form>,
    /// The visitor filled the pre-chat form (the chat is starting with it).
    pub prechat_sent: bool,
    /// The visitor left a ticket.
    pub ticket_sent: bool,
    /// The newest conversation was loaded after the first login: a message kept from an
    /// earlier page is known here if it arrived before that page closed.
    pub synced: bool,
    /// A greeting the visitor sees now.
    pub greeting: Option<GreetingCard>,
    /// A greeting was accepted: sending waits for the chat it starts.
    accepting_greeting: bool,
    /// The newest of the agents' "seen up to" times.
    seen_up_to: Option<String>,
    agents: HashMap<String, AgentCard>,
    /// Forms filled in each conversation, as `(thread, form)`: a survey is asked once.
    filled_forms: Vec<(String, String)>,
}

impl ChatState {
    /// Takes in a login (the first or one after a reconnect): who the visitor is, and their
    /// chat from the login's list: the one shown if listed, else one with an active thread,
    /// else the first.
    pub fn logged_in(&mut self, customer_id: &str, chats: &[LoginChat]) {
        self.customer_id = Some(customer_id.to_owned());
        self.logged_in = true;
        // The login says what chats there are: a greeting's chat missed meanwhile is listed.
        self.accepting_greeting = false;
        let shown = chats.iter().find(|c| Some(&c.chat_id) == self.chat_id.as_ref());
        let active = chats.iter().find(|c| c.has_active_thread == Some(true));
        if let Some(chat) = shown.or(active).or(chats.first()) {
            self.chat_id = Some(chat.chat_id.clone());
            self.active = chat.has_active_thread == Some(true);
        }
    }

    /// How to deliver the next message; `None` while it must wait: until the first login has
    /// been synced, whenever the connection is down, and while a greeting's chat is starting;
    /// unless the connection has ended for good (then the attempt fails and says so).
    pub fn next_send(&self, connection: &Connection) -> Option<SendPlan> {
        if !matches!(connection, Connection::Ended { .. }) {
            let ready = self.logged_in && self.synced && matches!(connection, Connection::Connected);
            if !ready || (self.accepting_greeting && !self.active) {
                return None;
            }
        }
        Some(match &self.chat_id {
            None => SendPlan::StartChat,
            Some(chat_id) if !self.active => SendPlan::ResumeChat { chat_id: chat_id.clone() },
            Some(chat_id) => SendPlan::SendEvent { chat_id: chat_id.clone() },
        })
    }

    /// A greeting to show (`incoming_greeting`, or the login's). One already answered is not.
    pub fn greeted(&mut self, greeting: &Greeting) {
        if greeting.accepted == Some(true) {
            return;
        }
        let agent = AgentCard::of(&greeting.agent);
        self.agents.entry(agent.id.clone()).or_insert_with(|| agent.clone());
        let text = greeting.event.text().unwrap_or_default().to_owned();
        self.greeting = Some(GreetingCard { id: greeting.id, unique_id: greeting.unique_id.clone(), agent, text });
    }

    /// The greeting `unique_id` was accepted or canceled (here or in another tab).
    pub fn greeting_gone(&mut self, unique_id: &str) {
        if self.greeting.as_ref().is_some_and(|g| g.unique_id == unique_id) {
            self.greeting = None;
        }
    }

    /// Whether the next message answers the greeting shown (no conversation is going on):
    /// accepting it starts the chat, the greeting's words first, and the message follows.
    pub fn message_answers_greeting(&self) -> bool {
        self.logged_in && !self.active && self.greeting.is_some()
    }

    /// The visitor answers the greeting shown: it goes, and sending waits for its chat.
    /// Returns what `accept_greeting` needs.
    pub fn accept_greeting(&mut self) -> Option<(u64, String)> {
        let greeting = self.greeting.take()?;
        // With a conversation going on, the greeting only adds to it: nothing to wait for.
        self.accepting_greeting = !self.active;
        Some((greeting.id, greeting.unique_id))
    }

    /// Accepting failed (the greeting was gone already): messages start a chat as usual.
    pub fn greeting_failed(&mut self) {
        self.accepting_greeting = false;
    }

    /// Shows a message the visitor just wrote, before the server has it.
    pub fn add_pending(&mut self, key: &str, text: &str) {
        self.add_own(key, Content::Text(text.to_owned()), Delivery::Sending);
    }

    /// Shows a file the visitor is sending, before it is uploaded.
    pub fn add_upload(&mut self, key: &str, name: &str) {
        let file = FileLink { url: None, name: name.to_owned(), image: false, width: None, height: None };
        self.add_own(key, Content::File(file), Delivery::Uploading(0));
    }

    /// Shows something the visitor sends, last, until the server has it. Sending after a chat
    /// ended starts a new conversation: the end is no longer shown.
    fn add_own(&mut self, key: &str, content: Content, delivery: Delivery) {
        self.ended = None;
        self.messages.push(Message {
            key: key.to_owned(),
            id: None,
            seq: None,
            thread_id: None,
            author: Author::Visitor,
            content,
            created_at: None,
            at: None,
            delivery,
        });
    }

    /// How much of upload `key` is sent (0.0 to 1.0); once all of it, it is being sent.
    pub fn upload_progress(&mut self, key: &str, fraction: f64) {
        if let Some(m) = self.messages.iter_mut().find(|m| m.key == key && matches!(m.delivery, Delivery::Uploading(_)))
        {
            let percent = (fraction.clamp(0.0, 1.0) * 100.0).round() as u8;
            m.delivery = if percent >= 100 { Delivery::Sending } else { Delivery::Uploading(percent) };
        }
    }

    /// Takes away a message that was never sent (a canceled upload).
    pub fn remove_unsent(&mut self, key: &str) {
        self.messages.retain(|m| m.key != key || m.delivery.is_stored());
    }

    /// Whether the server has message `key`.
    pub fn is_stored(&self, key: &str) -> bool {
        self.messages.iter().any(|m| m.key == key && m.delivery.is_stored())
    }

    /// Marks our message `key` as not sent, keeping its text for a retry.
    pub fn fail(&mut self, key: &str, reason: &str) {
        // One the server has (its answer was lost, but its push came) stays sent.
        if let Some(m) = self.messages.iter_mut().find(|m| m.key == key && !m.delivery.is_stored()) {
            m.delivery = Delivery::Failed(reason.to_owned());
        }
    }

    /// Puts a failed text message back to `Sending`; returns its text. (A failed file is not
    /// kept: the visitor attaches it again.)
    pub fn retry(&mut self, key: &str) -> Option<String> {
        let m = self.messages.iter_mut().find(|m| {
            m.key == key && matches!(m.delivery, Delivery::Failed(_)) && matches!(m.content, Content::Text(_))
        })?;
        m.delivery = Delivery::Sending;
        Some(m.text().to_owned())
    }

    /// Takes in a chat from `start_chat`, `resume_chat` or `incoming_chat`: the visitor's chat
    /// now, with its users and its thread's events merged with what is already shown.
    pub fn load_chat(&mut self, chat: &Chat) {
        self.chat_id = Some(chat.id.clone());
        if let Some(thread) = &chat.thread {
            self.active = thread.active;
            if thread.active {
                self.ended = None;
                self.accepting_greeting = false;
                self.queue = thread.queue.clone();
            } else {
                self.thread_ended(thread.id.clone(), rating_of(thread.properties.as_ref()));
            }
        }
        self.load_history(chat);
    }

    /// Takes in a chat fetched with `get_chat`: its users and its thread's events only. Whether
    /// it is active stays as the login and the pushes since said: the answer may be older.
    pub fn load_history(&mut self, chat: &Chat) {
        self.learn_users(&chat.users);
        if let Some(thread) = &chat.thread {
            self.load_threads(std::slice::from_ref(thread));
        }
    }

    /// Takes in threads of the chat's history (a `get_chat_history` page, or the chat's newest
    /// thread): their events go to their places. The newest of them, if it has ended and none
    /// newer is known, shows as ended (with its rating).
    pub fn load_threads(&mut self, threads: &[Thread]) {
        for thread in threads {
            for event in &thread.events {
                self.upsert_in(event, Some(&thread.id));
            }
        }
        let newest_known = self.messages.iter().rev().find_map(|m| m.thread_id.as_deref());
        if let Some(newest) = threads.iter().max_by(|a, b| a.created_at.cmp(&b.created_at))
            && !newest.active
            && !self.active
            && newest_known.is_none_or(|known| known == newest.id)
            && self.ended.is_none()
        {
            self.thread_ended(newest.id.clone(), rating_of(newest.properties.as_ref()));
        }
    }

    /// What the bottom of the window offers now. A conversation under way always keeps its
    /// composer; without one, an offline group takes tickets, and a first chat starts with the
    /// pre-chat form. What the visitor already typed is never put aside for a form.
    pub fn footer(&self) -> Footer {
        if self.ended.is_some() {
            return Footer::Ended;
        }
        let typed = self.messages.iter().any(|m| m.author == Author::Visitor && !m.delivery.is_stored());
        if !self.active && self.offline && !typed {
            if self.ticket_sent {
                return Footer::TicketSent;
            }
            if let Some(form) = &self.ticket {
                return Footer::Ticket(form.clone());
            }
        }
        match &self.prechat {
            Some(form) if self.logged_in && self.chat_id.is_none() && !self.prechat_sent && !typed => {
                Footer::Prechat(form.clone())
            }
            _ => Footer::Composer,
        }
    }

    /// The visitor chose a rich message's button: returns what its postback needs, if the
    /// message is stored and the button has a postback id.
    pub fn choose(&mut self, key: &str, postback_id: &str) -> Option<Choice> {
        let chat_id = self.chat_id.clone()?;
        let message = self.messages.iter_mut().find(|m| m.key == key)?;
        let Content::Rich(rich) = &mut message.content else { return None };
        let previous = rich.chosen.replace(postback_id.to_owned()).filter(|p| p != postback_id);
        Some(Choice { chat_id, thread_id: message.thread_id.clone()?, event_id: message.id.clone()?, previous })
    }

    /// The button the visitor chose in rich message `key`, if any.
    pub fn chosen(&self, key: &str) -> Option<String> {
        self.messages.iter().find(|m| m.key == key).and_then(|m| match &m.content {
            Content::Rich(rich) => rich.chosen.clone(),
            _ => None,
        })
    }

    /// Whether a quick reply's buttons are still offered: the message is the newest one and
    /// the visitor has not answered it.
    pub fn offers_quick_replies(&self, key: &str) -> bool {
        self.messages
            .last()
            .is_some_and(|m| m.key == key && matches!(&m.content, Content::Rich(r) if r.chosen.is_none()))
    }

    /// The visitor chose "start a new chat": the end is no longer shown.
    /// The post-chat survey to offer now: the conversation ended, the group has one that asks
    /// something besides a rating (the rating panel asks that), and it was neither sent (from
    /// here or another page) nor skipped.
    pub fn survey(&self) -> Option<&Form> {
        let ended = self.ended.as_ref().filter(|e| !e.surveyed)?;
        let form = self.postchat.as_ref().filter(|f| f.fields.iter().any(super::form::asks))?;
        let filled = self.filled_forms.iter().any(|(thread, id)| *thread == ended.thread_id && *id == form.id);
        (!filled).then_some(form)
    }

    /// The survey was sent or skipped.
    pub fn surveyed(&mut self) {
        if let Some(ended) = &mut self.ended {
            ended.surveyed = true;
        }
    }

    pub fn start_new(&mut self) {
        self.ended = None;
    }

    /// The visitor rated the ended conversation (or took it back).
    pub fn rated(&mut self, rating: RatingState) {
        if let Some(ended) = &mut self.ended {
            ended.rated_on_server = match rating {
                RatingState::Rated { .. } => true,
                RatingState::Declined => false,
                RatingState::Asking => ended.rated_on_server,
            };
            ended.rating = rating;
        }
    }

    /// Applies a push. Returns true when it brought a new message from someone else (for the
    /// unread badge).
    pub fn apply_push(&mut self, push: &Push) -> bool {
        match push {
            Push::IncomingEvent(incoming)
                if Some(&incoming.chat_id) == self.chat_id.as_ref() || self.chat_id.is_none() =>
            {
                self.chat_id.get_or_insert_with(|| incoming.chat_id.clone());
                let new = self.upsert_in(&incoming.event, Some(&incoming.thread_id));
                let author = self.author_of(&incoming.event);
                if let Author::Agent(agent) = &author {
                    // They wrote: no longer typing, and the chat is no longer waiting.
                    if self.typing.as_ref().is_some_and(|t| t.id == agent.id) {
                        self.typing = None;
                    }
                    self.queue = None;
                }
                new && author != Author::Visitor
            }
            Push::IncomingChat(incoming) => {
                self.load_chat(&incoming.chat);
                false
            }
            Push::UserAddedToChat(added) if self.is_ours(&added.chat_id) => {
                self.learn_users(std::slice::from_ref(&added.user));
                if let User::Agent(agent) = &added.user
                    && let Some(card) = self.agents.get(&agent.id).cloned()
                    && self.agent.as_ref().is_none_or(|a| a.id != card.id)
                {
                    self.queue = None;
                    self.agent = Some(card.clone());
                    let key = format!("joined-{}-{}", added.thread_id.as_deref().unwrap_or(""), card.id);
                    self.add_notice(key, Notice::AgentJoined { name: card.name });
                }
                false
            }
            Push::UserRemovedFromChat(removed) if self.is_ours(&removed.chat_id) => {
                if self.agent.as_ref().is_some_and(|a| a.id == removed.user_id) {
                    self.agent = None;
                }
                false
            }
            Push::ChatTransferred(transferred) if self.is_ours(&transferred.chat_id) => {
                self.agent = None;
                self.typing = None;
                self.queue = transferred.queue.clone();
                let key =
                    format!("transferred-{}-{}", transferred.thread_id.as_deref().unwrap_or(""), self.messages.len());
                self.add_notice(key, Notice::Transferred);
                false
            }
            Push::QueuePositionUpdated(update) if self.is_ours(&update.chat_id) => {
                self.queue = Some(update.queue.clone());
                false
            }
            Push::IncomingTypingIndicator(typing) if self.is_ours(&typing.chat_id) => {
                let author = &typing.typing_indicator.author_id;
                if Some(author) != self.customer_id.as_ref() {
                    self.typing = typing.typing_indicator.is_typing.then(|| self.agent_card(author));
                }
                false
            }
            Push::EventsMarkedAsSeen(seen) if self.is_ours(&seen.chat_id) => {
                if Some(&seen.user_id) != self.customer_id.as_ref() {
                    self.seen_by_agent(&seen.seen_up_to);
                }
                false
            }
            Push::ThreadPropertiesUpdated(update) if self.is_ours(&update.chat_id) => {
                if let Some(ended) = self.ended.as_mut().filter(|e| e.thread_id == update.thread_id)
                    && let Some(rating) = rating_of(Some(&update.properties))
                {
                    ended.rating = rating;
                    ended.rated_on_server = true;
                }
                false
            }
            Push::ChatDeactivated(deactivated) if self.is_ours(&deactivated.chat_id) => {
                self.active = false;
                self.accepting_greeting = false;
                self.typing = None;
                self.queue = None;
                self.agent = None;
                if !self.messages.iter().any(|m| m.key == closed_key(&deactivated.thread_id)) {
                    self.thread_ended(deactivated.thread_id.clone(), None);
                }
                false
            }
            _ => false,
        }
    }

    /// Adds or confirms the message for `event`, in its place. Returns true if it was not
    /// shown before.
    pub fn upsert(&mut self, event: &Event) -> bool {
        self.upsert_in(event, None)
    }

    /// The time of the newest message from someone else, for `mark_events_as_seen`.
    pub fn newest_from_others(&self) -> Option<&str> {
        self.messages
            .iter()
            .rev()
            .filter(|m| m.author != Author::Visitor && m.seq.is_some())
            .find_map(|m| m.created_at.as_deref())
    }

    fn is_ours(&self, chat_id: &str) -> bool {
        self.chat_id.as_deref() == Some(chat_id)
    }

    fn thread_ended(&mut self, thread_id: String, rating: Option<RatingState>) {
        self.add_notice(closed_key(&thread_id), Notice::ChatEnded);
        let rated_on_server = rating.is_some();
        self.ended =
            Some(Ended { thread_id, rating: rating.unwrap_or(RatingState::Asking), rated_on_server, surveyed: false });
    }

    fn add_notice(&mut self, key: String, notice: Notice) {
        if self.messages.iter().any(|m| m.key == key) {
            return;
        }
        self.insert_in_order(Message {
            key,
            id: None,
            seq: None,
            thread_id: None,
            author: Author::System,
            content: Content::Notice(notice),
            created_at: None,
            at: None,
            delivery: Delivery::Sent,
        });
    }

    fn seen_by_agent(&mut self, seen_up_to: &str) {
        if self.seen_up_to.as_deref().is_some_and(|known| known >= seen_up_to) {
            return;
        }
        self.seen_up_to = Some(seen_up_to.to_owned());
        // Times are the server's RFC 3339 in one format: they compare as strings.
        for m in &mut self.messages {
            if m.author == Author::Visitor
                && m.delivery == Delivery::Sent
                && m.created_at.as_deref().is_some_and(|at| at <= seen_up_to)
            {
                m.delivery = Delivery::Seen;
            }
        }
    }

    fn upsert_in(&mut self, event: &Event, thread_id: Option<&str>) -> bool {
        if let (EventBody::FilledForm(form), Some(thread)) = (&event.body, thread_id) {
            let filled = (thread.to_owned(), form.form_id.clone());
            if !self.filled_forms.contains(&filled) {
                self.filled_forms.push(filled);
            }
        }
        let Some(mut message) = self.message_from(event) else {
            return false;
        };
        message.thread_id = thread_id.map(str::to_owned);
        let same = |m: &Message| {
            (message.id.is_some() && m.id == message.id)
                || (message.seq.is_some() && m.seq == message.seq)
                || event.custom_id.as_deref().is_some_and(|c| m.key == c)
        };
        match self.messages.iter().position(same) {
            Some(index) => {
                let mut existing = self.messages.remove(index);
                existing.id = message.id.or(existing.id);
                existing.seq = message.seq.or(existing.seq);
                existing.thread_id = message.thread_id.or(existing.thread_id);
                existing.created_at = message.created_at.or(existing.created_at);
                existing.at = message.at.or(existing.at);
                // The server's copy knows better (a file's address, type and size); what the
                // visitor chose in a rich message stays chosen.
                let chosen = match &existing.content {
                    Content::Rich(rich) => rich.chosen.clone(),
                    _ => None,
                };
                existing.content = message.content;
                if let Content::Rich(rich) = &mut existing.content {
                    rich.chosen = rich.chosen.take().or(chosen);
                }
                if !existing.delivery.is_stored() {
                    existing.delivery = message.delivery;
                }
                // A confirmed message of ours now has a seq: it leaves the end for its place.
                self.insert_in_order(existing);
                false
            }
            None => {
                self.insert_in_order(message);
                true
            }
        }
    }

    /// Inserts before the first message with a greater `seq`, and before the visitor's own
    /// unconfirmed messages (which stay last).
    fn insert_in_order(&mut self, message: Message) {
        let confirmed = self.messages.iter().rposition(|m| m.delivery.is_stored()).map_or(0, |last| last + 1);
        let index = message
            .seq
            .and_then(|seq| self.messages[..confirmed].iter().position(|m| m.seq.is_some_and(|other| other > seq)))
            .unwrap_or(confirmed);
        self.messages.insert(index, message);
    }

    fn learn_users(&mut self, users: &[User]) {
        for user in users {
            if let User::Agent(agent) = user {
                self.agents.insert(agent.id.clone(), AgentCard::of(agent));
                if let Some(seen) = &agent.events_seen_up_to {
                    self.seen_by_agent(seen);
                }
            }
        }
    }

    fn agent_card(&self, id: &str) -> AgentCard {
        self.agents.get(id).cloned().unwrap_or_else(|| AgentCard::unknown(id))
    }

    fn author_of(&self, event: &Event) -> Author {
        match (&event.body, event.author_id.as_deref()) {
            (EventBody::SystemMessage(_), _) => Author::System,
            (_, Some(id)) if Some(id) == self.customer_id.as_deref() => Author::Visitor,
            (_, Some(id)) => Author::Agent(self.agent_card(id)),
            (_, None) => Author::System,
        }
    }

    fn message_from(&self, event: &Event) -> Option<Message> {
        let content = match &event.body {
            EventBody::Message(m) => Content::Text(m.text.clone()),
            EventBody::SystemMessage(m) => Content::Text(m.text.clone()),
            EventBody::File(f) => Content::File(FileLink {
                url: super::safe_url(&f.url).map(str::to_owned),
                name: f.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "file".into()),
                image: f.content_type.as_deref().is_some_and(|t| INLINE_IMAGE_TYPES.contains(&t)),
                width: f.width,
                height: f.height,
            }),
            EventBody::RichMessage(rich) => Content::Rich(Rich::of(rich, self.customer_id.as_deref())),
            // Kinds of event this widget does not show.
            EventBody::FilledForm(_) | EventBody::Unknown(_) => {
                return None;
            }
        };
        let author = self.author_of(event);
        let delivery = match (&author, &self.seen_up_to, &event.created_at) {
            (Author::Visitor, Some(seen), Some(at)) if at <= seen => Delivery::Seen,
            _ => Delivery::Sent,
        };
        Some(Message {
            key: event.custom_id.clone().or_else(|| event.id.clone())?,
            id: event.id.clone(),
            seq: event.seq,
            thread_id: None,
            author,
            content,
            created_at: event.created_at.clone(),
            at: event.created_at.as_deref().and_then(unix_seconds),
            delivery,
        })
    }
}

/// Image types the server serves inline (everything else is an attachment).
const INLINE_IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

fn closed_key(thread_id: &str) -> String {
    format!("closed-{thread_id}")
}

/// A thread's rating from its properties (`rating.score`: 0 or 1), if it was rated.
fn rating_of(properties: Option<&Properties>) -> Option<RatingState> {
    let score = properties?.get("rating")?.get("score")?.as_u64()?;
    Some(RatingState::Rated { score: u8::from(score >= 1) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_protocol::entity::{Agent, Thread};
    use confab_protocol::push::IncomingEvent;

    fn event(id: &str, author: &str, text: &str, custom_id: Option<&str>) -> Event {
        let mut e = Event::message(text);
        e.id = Some(id.into());
        e.author_id = Some(author.into());
        e.created_at = Some("2026-11-22T02:00:00.000000Z".into());
        e.custom_id = custom_id.map(Into::into);
        e
    }

    fn state() -> ChatState {
        ChatState {
            customer_id: Some("me".into()),
            chat_id: Some("C".into()),
            active: true,
            logged_in: true,
            synced: true,
            ..Default::default()
        }
    }

    fn incoming(e: Event) -> Push {
        Push::IncomingEvent(IncomingEvent { chat_id: "C".into(), thread_id: "T".into(), event: e })
    }

    #[test]
    fn a_pending_message_is_confirmed_by_the_servers_copy_not_duplicated() {
        let mut s = state();
        s.add_pending("k1", "hello");
        assert_eq!(s.messages[0].delivery, Delivery::Sending);
        assert!(!s.apply_push(&incoming(event("T_1", "me", "hello", Some("k1")))));
        assert_eq!(s.messages.len(), 1);
        assert_eq!(s.messages[0].delivery, Delivery::Sent);
        assert_eq!(s.messages[0].id.as_deref(), Some("T_1"));
    }

    #[test]
    fn an_agent_message_is_new_once_and_named() {
        let mut s = state();
        let chat = Chat {
            id: "C".into(),
            users: vec![User::Agent(Agent { id: "a@x".into(), name: Some("Alex".into()), ..Default::default() })],
            properties: None,
            access: None,
            thread: Some(thread("T", "t", true, vec![])),
        };
        s.load_chat(&chat);
        assert!(s.apply_push(&incoming(event("T_2", "a@x", "Hi!", None))));
        assert!(!s.apply_push(&incoming(event("T_2", "a@x", "Hi!", None))), "same event twice");
        assert_eq!(s.messages.len(), 1);
        assert!(matches!(&s.messages[0].author, Author::Agent(a) if a.name == "Alex"));
    }

    #[test]
    fn an_agent_who_joins_is_named_on_their_first_message() {
        let mut s = state();
        let agent = User::Agent(Agent { id: "a@x".into(), name: Some("Alex".into()), ..Default::default() });
        let joined = Push::UserAddedToChat(confab_protocol::push::UserAddedToChat {
            chat_id: "C".into(),
            thread_id: None,
            user: agent,
            reason: "manual".into(),
            requester_id: None,
        });
        s.apply_push(&joined);
        s.apply_push(&joined);
        s.apply_push(&incoming(event("T_1", "a@x", "Hi", None)));
        assert_eq!(s.messages[0].content, Content::Notice(Notice::AgentJoined { name: "Alex".into() }), "said once");
        assert!(matches!(&s.messages[1].author, Author::Agent(a) if a.name == "Alex"));
        assert_eq!(s.agent.as_ref().map(|a| a.name.as_str()), Some("Alex"), "the header shows who has the chat");
    }

    fn agent_user(id: &str, name: &str) -> User {
        User::Agent(Agent { id: id.into(), name: Some(name.into()), ..Default::default() })
    }

    fn thread(id: &str, created_at: &str, active: bool, events: Vec<Event>) -> Thread {
        Thread { id: id.into(), created_at: created_at.into(), active, events, ..Thread::default() }
    }

    #[test]
    fn earlier_conversations_load_above_in_order_with_their_threads() {
        let mut s = state();
        s.active = false;
        s.load_threads(&[thread(
            "T3",
            "2026-11-22T10:00:00Z",
            false,
            vec![with_seq(event("e5", "me", "latest", None), 5)],
        )]);
        s.load_threads(&[
            thread("T1", "2026-11-20T10:00:00Z", false, vec![with_seq(event("e1", "me", "first", None), 1)]),
            thread("T2", "2026-11-21T10:00:00Z", false, vec![with_seq(event("e3", "a@x", "second", None), 3)]),
        ]);
        assert_eq!(texts(&s), ["first", "second", "latest", ""], "the notice of the end stays last");
        let threads: Vec<_> = s.messages.iter().filter_map(|m| m.thread_id.as_deref()).collect();
        assert_eq!(threads, ["T1", "T2", "T3"]);
        let ended = s.ended.as_ref().expect("the newest conversation ended");
        assert_eq!((ended.thread_id.as_str(), &ended.rating), ("T3", &RatingState::Asking));
    }

    #[test]
    fn a_closed_chat_says_so_once_and_the_next_message_resumes_it() {
        let mut s = state();
        let closed = Push::ChatDeactivated(confab_protocol::push::ChatDeactivated {
            chat_id: "C".into(),
            thread_id: "T".into(),
            user_id: Some("a@x".into()),
        });
        s.apply_push(&closed);
        s.apply_push(&closed);
        assert!(!s.active, "the next message must resume the chat");
        assert_eq!(s.messages.len(), 1);
        assert_eq!(s.messages[0].author, Author::System);
    }

    #[test]
    fn pushes_for_another_chat_are_ignored() {
        let mut s = state();
        let other = Push::IncomingEvent(IncomingEvent {
            chat_id: "OTHER".into(),
            thread_id: "T".into(),
            event: event("X_1", "a", "x", None),
        });
        assert!(!s.apply_push(&other));
        assert!(s.messages.is_empty());
    }

    #[test]
    fn a_failed_message_keeps_its_text_and_can_be_retried() {
        let mut s = state();
        s.add_pending("k", "my long question");
        s.fail("k", "Connection lost.");
        assert_eq!(s.messages[0].delivery, Delivery::Failed("Connection lost.".into()));
        assert_eq!(s.retry("k").as_deref(), Some("my long question"));
        assert_eq!(s.messages[0].delivery, Delivery::Sending);
        assert_eq!(s.retry("k"), None, "only failed messages are retried");
    }

    fn with_seq(mut e: Event, seq: u64) -> Event {
        e.seq = Some(seq);
        e
    }

    fn texts(s: &ChatState) -> Vec<&str> {
        s.messages.iter().map(Message::text).collect()
    }

    #[test]
    fn messages_are_in_seq_order_whatever_order_they_arrive_in() {
        let mut s = state();
        for seq in [2, 4, 1, 3] {
            s.apply_push(&incoming(with_seq(event(&format!("T_{seq}"), "a@x", &format!("m{seq}"), None), seq)));
        }
        assert_eq!(texts(&s), ["m1", "m2", "m3", "m4"], "a late event is inserted in its place, not appended");
    }

    #[test]
    fn a_pushed_event_and_its_reloaded_copies_show_once_in_order() {
        let mut s = state();
        assert!(s.apply_push(&incoming(with_seq(event("T_1", "a@x", "hi", None), 1))));
        assert!(!s.apply_push(&incoming(with_seq(event("T_1", "a@x", "hi", None), 1))), "a pushed copy");
        let reloaded = chat_with_thread(
            true,
            vec![with_seq(event("T_1", "a@x", "hi", None), 1), with_seq(event("T_2", "a@x", "there", None), 2)],
        );
        s.load_chat(&reloaded);
        s.load_chat(&reloaded);
        assert_eq!(texts(&s), ["hi", "there"]);
    }

    #[test]
    fn own_unconfirmed_messages_stay_last_then_take_their_place_once_confirmed() {
        let mut s = state();
        s.apply_push(&incoming(with_seq(event("T_1", "a@x", "hello", None), 1)));
        s.add_pending("k1", "mine, first");
        s.add_pending("k2", "mine, second");
        s.fail("k2", "Not sent: no connection.");

        // The agent's next message overtakes ours on the way: it goes above them, still pending.
        s.apply_push(&incoming(with_seq(event("T_3", "a@x", "anyone?", None), 3)));
        assert_eq!(texts(&s), ["hello", "anyone?", "mine, first", "mine, second"]);

        // Ours was stored before it (seq 2): confirmed, it moves to its place.
        assert!(!s.apply_push(&incoming(with_seq(event("T_2", "me", "mine, first", Some("k1")), 2))));
        assert_eq!(texts(&s), ["hello", "mine, first", "anyone?", "mine, second"]);
        assert_eq!(s.messages[1].delivery, Delivery::Sent);
        assert_eq!(
            s.messages[3].delivery,
            Delivery::Failed("Not sent: no connection.".into()),
            "the failed one stays last"
        );

        // A notice or an event without seq also goes above the unconfirmed one.
        s.apply_push(&incoming(event("X_1", "a@x", "no seq", None)));
        assert_eq!(texts(&s), ["hello", "mine, first", "anyone?", "no seq", "mine, second"]);
    }

    fn login_chat(id: &str, active: bool) -> LoginChat {
        LoginChat { chat_id: id.into(), has_unread_events: false, has_active_thread: Some(active) }
    }

    fn chat_with_thread(active: bool, events: Vec<Event>) -> Chat {
        Chat {
            id: "C".into(),
            users: vec![],
            properties: None,
            access: None,
            thread: Some(thread("T", "t", active, events)),
        }
    }

    #[test]
    fn a_returning_visitor_s_first_message_goes_to_their_chat_as_soon_as_they_are_logged_in() {
        let mut s = ChatState::default();
        assert_eq!(s.next_send(&Connection::Connecting), None, "before the login: wait, do not start a chat");

        s.logged_in("me", &[login_chat("C", true)]);

        s.synced = true;
        assert_eq!(s.customer_id.as_deref(), Some("me"));
        assert_eq!(s.next_send(&Connection::Connected), Some(SendPlan::SendEvent { chat_id: "C".into() }));

        let mut s = ChatState::default();
        s.logged_in("me", &[login_chat("C", false)]);
        s.synced = true;
        assert_eq!(s.next_send(&Connection::Connected), Some(SendPlan::ResumeChat { chat_id: "C".into() }));

        let mut s = ChatState::default();
        s.logged_in("me", &[]);
        s.synced = true;
        assert_eq!(s.next_send(&Connection::Connected), Some(SendPlan::StartChat), "a new visitor starts one");
    }

    fn greeting(unique_id: &str, text: &str) -> Greeting {
        Greeting {
            id: 3,
            unique_id: unique_id.into(),
            displayed_first_time: true,
            accepted: Some(false),
            subtype: None,
            event: Event::message(text),
            agent: Agent { id: "a@x".into(), name: Some("Alex Morgan".into()), ..Default::default() },
            addon: None,
        }
    }

    #[test]
    fn a_greeting_is_answered_by_the_first_message_which_then_waits_for_the_chat_it_starts() {
        let mut s = ChatState::default();
        s.logged_in("me", &[]);
        s.synced = true;
        s.greeted(&greeting("G1", "Need a hand?"));
        let card = s.greeting.clone().expect("shown");
        assert_eq!((card.text.as_str(), card.agent.name.as_str()), ("Need a hand?", "Alex Morgan"));
        assert!(s.message_answers_greeting());

        assert_eq!(s.accept_greeting(), Some((3, "G1".into())));
        assert_eq!(s.greeting, None, "the card goes at once");
        assert_eq!(s.next_send(&Connection::Connected), None, "the message waits for the greeting's chat");
        s.apply_push(&Push::IncomingChat(confab_protocol::push::IncomingChat {
            chat: chat_with_thread(true, vec![event("T_1", "a@x", "Need a hand?", None)]),
            requester_id: None,
            transferred_from: None,
        }));
        assert_eq!(s.next_send(&Connection::Connected), Some(SendPlan::SendEvent { chat_id: "C".into() }));
        assert_eq!(texts(&s), ["Need a hand?"], "the greeting's words open the conversation");

        // Closed elsewhere, or accepting failed: messages start a chat as usual.
        let mut s = ChatState::default();
        s.logged_in("me", &[]);
        s.synced = true;
        s.greeted(&greeting("G2", "Hello"));
        s.greeting_gone("other");
        assert!(s.greeting.is_some(), "another greeting's news changes nothing");
        s.greeting_gone("G2");
        assert!(!s.message_answers_greeting());
        assert_eq!(s.next_send(&Connection::Connected), Some(SendPlan::StartChat));
        s.greeted(&greeting("G3", "Hello"));
        s.accept_greeting();
        s.greeting_failed();
        assert_eq!(s.next_send(&Connection::Connected), Some(SendPlan::StartChat));
        let mut accepted = greeting("G4", "Hi");
        accepted.accepted = Some(true);
        s.greeted(&accepted);
        assert_eq!(s.greeting, None, "an accepted greeting (the login's) is not shown again");
    }

    fn rich_event(id: &str, template: &str, elements: serde_json::Value) -> Event {
        let mut e: Event = serde_json::from_value(serde_json::json!({
            "id": id, "type": "rich_message", "author_id": "a@x", "template_id": template, "elements": elements,
        }))
        .expect("a rich message");
        e.seq = Some(9);
        e
    }

    #[test]
    fn a_rich_message_keeps_only_safe_addresses_and_remembers_the_visitor_s_choice() {
        let mut s = state();
        let card = rich_event(
            "E1",
            "cards",
            serde_json::json!([{
                "title": "<img src=x onerror=alert(1)>", "subtitle": "Ethiopia",
                "image": {"url": "javascript:alert(1)", "name": "beans.png"},
                "buttons": [
                    {"type": "message", "text": "Add to order", "postback_id": "add"},
                    {"type": "url", "text": "Read more", "value": "https://shop.example/beans", "postback_id": "more"},
                    {"type": "webview", "text": "Sneaky", "value": "javascript:alert(1)", "postback_id": "x"},
                    {"type": "phone", "text": "Call us", "value": "+1 (555) 010-9999"},
                    {"type": "phone", "text": "Bad number", "value": "555; rm -rf"},
                    {"type": "cancel", "text": "No thanks", "postback_id": "no"},
                    {"type": "message", "text": "   "},
                ],
            }]),
        );
        s.apply_push(&Push::IncomingEvent(IncomingEvent { chat_id: "C".into(), thread_id: "T".into(), event: card }));
        let Content::Rich(rich) = &s.messages[0].content else { panic!("a rich message: {:?}", s.messages[0]) };
        assert!(!rich.quick_replies);
        let element = &rich.elements[0];
        assert_eq!(element.title.as_deref(), Some("<img src=x onerror=alert(1)>"), "kept as words, shown as text");
        assert_eq!(element.image, None, "a javascript: picture is dropped");
        let actions: Vec<(&str, &ButtonAction)> =
            element.buttons.iter().map(|b| (b.text.as_str(), &b.action)).collect();
        assert_eq!(
            actions,
            [
                ("Add to order", &ButtonAction::Message),
                ("Read more", &ButtonAction::Link("https://shop.example/beans".into())),
                ("Sneaky", &ButtonAction::Postback),
                ("Call us", &ButtonAction::Phone("+1(555)010-9999".into())),
                ("Bad number", &ButtonAction::Postback),
                ("No thanks", &ButtonAction::Postback),
            ],
            "an empty button is dropped"
        );

        let choice = |previous: Option<&str>| Choice {
            chat_id: "C".into(),
            thread_id: "T".into(),
            event_id: "E1".into(),
            previous: previous.map(str::to_owned),
        };
        assert_eq!(s.choose("E1", "more"), Some(choice(None)));
        assert_eq!(s.choose("E1", "add"), Some(choice(Some("more"))), "the earlier choice is taken back");
        assert_eq!(s.choose("E1", "add"), Some(choice(None)), "the same button again takes nothing back");
        assert_eq!(s.chosen("E1").as_deref(), Some("add"));
        // The same event again (a reload): the choice stays.
        let again = rich_event("E1", "cards", serde_json::json!([{"title": "Beans", "buttons": []}]));
        s.upsert_in(&again, Some("T"));
        assert_eq!(s.chosen("E1").as_deref(), Some("add"));

        // A fresh page learns the choice from the server: the chosen button names the visitor.
        let mut fresh = state();
        let me = fresh.customer_id.clone().expect("a visitor");
        let read = rich_event(
            "E2",
            "cards",
            serde_json::json!([{"title": "Beans", "buttons": [
                {"type": "message", "text": "Add", "postback_id": "add", "user_ids": ["someone-else"]},
                {"type": "message", "text": "Not now", "postback_id": "later", "user_ids": [me]},
            ]}]),
        );
        fresh.upsert_in(&read, Some("T"));
        assert_eq!(fresh.chosen("E2").as_deref(), Some("later"));
    }

    #[test]
    fn quick_replies_are_offered_until_answered_or_followed() {
        let mut s = state();
        let quick = rich_event(
            "Q1",
            "quick_replies",
            serde_json::json!([{
                "title": "Ground or whole?",
                "buttons": [{"type": "message", "text": "Whole", "postback_id": "whole"}, {"type": "message", "text": "Ground", "postback_id": "ground"}],
            }]),
        );
        s.apply_push(&Push::IncomingEvent(IncomingEvent { chat_id: "C".into(), thread_id: "T".into(), event: quick }));
        assert_eq!(s.messages[0].text(), "Ground or whole?");
        assert!(s.offers_quick_replies("Q1"));
        s.add_pending("k1", "Whole");
        assert!(!s.offers_quick_replies("Q1"), "the visitor answered in words");
    }

    #[test]
    fn a_greeting_taken_up_during_a_conversation_never_holds_messages_back() {
        // Regression: Reply during an active chat (the server only adds the greeting's event)
        // left sending waiting for a chat that never came, once the chat ended.
        let mut s = state();
        s.greeted(&greeting("G1", "Anything else?"));
        s.accept_greeting();
        s.apply_push(&Push::ChatDeactivated(confab_protocol::push::ChatDeactivated {
            chat_id: "C".into(),
            thread_id: "T".into(),
            user_id: None,
        }));
        assert_eq!(s.next_send(&Connection::Connected), Some(SendPlan::ResumeChat { chat_id: "C".into() }));

        // Accepted without a chat, and the chat's push missed in a reconnect: the login lists it.
        let mut s = ChatState::default();
        s.logged_in("me", &[]);
        s.synced = true;
        s.greeted(&greeting("G2", "Hello"));
        s.accept_greeting();
        assert_eq!(s.next_send(&Connection::Connected), None);
        s.logged_in("me", &[login_chat("C", true)]);
        assert_eq!(s.next_send(&Connection::Connected), Some(SendPlan::SendEvent { chat_id: "C".into() }));
    }

    #[test]
    fn a_message_the_server_has_is_not_marked_failed_by_a_lost_answer() {
        let mut s = state();
        s.add_pending("k1", "hello");
        s.apply_push(&incoming(event("T_1", "me", "hello", Some("k1"))));
        s.fail("k1", "Not sent: no answer in time.");
        assert_eq!(s.messages[0].delivery, Delivery::Sent);
    }

    #[test]
    fn before_the_first_login_sending_waits_unless_the_connection_is_over() {
        let s = ChatState::default();
        for waiting in [Connection::Connecting, Connection::Retrying { retry_in_secs: 3 }, Connection::Reconnecting] {
            assert_eq!(s.next_send(&waiting), None, "{waiting:?}");
        }
        // Nothing will come: the attempt fails (the SDK says it has ended) and the message says so.
        assert_eq!(s.next_send(&Connection::Ended { reason: "customer_banned".into() }), Some(SendPlan::StartChat));
    }

    #[test]
    fn the_login_picks_the_chat_shown_else_an_active_one_and_says_whether_it_is_active() {
        let mut s = ChatState::default();
        s.logged_in("me", &[login_chat("OLD", false), login_chat("C", true)]);
        s.synced = true;
        assert_eq!((s.chat_id.as_deref(), s.active), (Some("C"), true), "the active one");

        // Reconnected after the chat was closed meanwhile: the login knows.
        s.logged_in("me", &[login_chat("C", false), login_chat("NEW", true)]);
        s.synced = true;
        assert_eq!((s.chat_id.as_deref(), s.active), (Some("C"), false), "the chat shown stays");
    }

    #[test]
    fn the_history_loaded_after_login_adds_messages_but_does_not_overrule_newer_news() {
        let mut s = ChatState::default();
        s.logged_in("me", &[login_chat("C", false)]);
        s.synced = true;
        // The visitor's first message resumed the chat before the history arrived.
        s.apply_push(&Push::IncomingChat(confab_protocol::push::IncomingChat {
            chat: chat_with_thread(true, vec![]),
            requester_id: None,
            transferred_from: None,
        }));
        assert!(s.active);

        s.load_history(&chat_with_thread(false, vec![with_seq(event("T_1", "a@x", "earlier", None), 1)]));
        assert!(s.active, "the history's older answer does not close the chat again");
        assert_eq!(texts(&s), ["earlier"]);
    }

    #[test]
    fn the_composer_takes_messages_unless_paused_or_over_and_files_only_while_connected() {
        for c in [Connection::Connected, Connection::Connecting] {
            assert!(c.accepts_messages() && c.accepts_files(), "{c:?}");
        }
        for c in [Connection::Reconnecting, Connection::Retrying { retry_in_secs: 3 }] {
            assert!(c.accepts_messages(), "kept in the outbox until connected: {c:?}");
            assert!(!c.accepts_files(), "an upload needs the server: {c:?}");
        }
        for c in [Connection::Paused { reason: "inactivity_timeout".into() }, Connection::Ended { reason: "x".into() }]
        {
            assert!(!c.accepts_messages() && !c.accepts_files(), "{c:?}");
        }
    }

    #[test]
    fn messages_wait_while_the_connection_is_down_and_until_the_first_login_is_synced() {
        let mut s = ChatState::default();
        s.logged_in("me", &[login_chat("C", true)]);
        assert_eq!(s.next_send(&Connection::Connected), None, "the newest conversation is not loaded yet");
        s.synced = true;
        let plan = Some(SendPlan::SendEvent { chat_id: "C".into() });
        assert_eq!(s.next_send(&Connection::Connected), plan);
        for down in [Connection::Reconnecting, Connection::Retrying { retry_in_secs: 2 }, Connection::Connecting] {
            assert_eq!(s.next_send(&down), None, "{down:?}");
        }
        // A message kept from the last page is known once the conversation is loaded.
        s.add_pending("w1", "sent before the reload");
        assert!(!s.is_stored("w1"));
        s.upsert(&event("T_5", "me", "sent before the reload", Some("w1")));
        assert!(s.is_stored("w1"));
    }

    #[test]
    fn agents_reading_marks_the_visitor_s_messages_seen() {
        let mut s = state();
        s.apply_push(&incoming(with_seq(event("e1", "me", "one", Some("k1")), 1)));
        let mut later = with_seq(event("e2", "me", "two", Some("k2")), 2);
        later.created_at = Some("2026-11-22T02:05:00.000000Z".into());
        s.apply_push(&incoming(later));
        let seen = |up_to: &str, user: &str| {
            Push::EventsMarkedAsSeen(confab_protocol::push::EventsMarkedAsSeen {
                user_id: user.into(),
                chat_id: "C".into(),
                seen_up_to: up_to.into(),
            })
        };
        s.apply_push(&seen("2026-11-22T02:01:00.000000Z", "me"));
        assert!(s.messages.iter().all(|m| m.delivery == Delivery::Sent), "the visitor's own reading is no receipt");
        s.apply_push(&seen("2026-11-22T02:01:00.000000Z", "a@x"));
        assert_eq!(s.messages.iter().map(|m| m.delivery.clone()).collect::<Vec<_>>(), [Delivery::Seen, Delivery::Sent]);
        s.apply_push(&seen("2026-11-22T02:00:30.000000Z", "a@x"));
        assert_eq!(s.messages[0].delivery, Delivery::Seen, "an older marker changes nothing");
    }

    #[test]
    fn typing_shows_until_the_agent_stops_or_writes() {
        let mut s = state();
        s.apply_push(&Push::UserAddedToChat(confab_protocol::push::UserAddedToChat {
            chat_id: "C".into(),
            thread_id: Some("T".into()),
            user: agent_user("a@x", "Alex"),
            reason: "manual".into(),
            requester_id: None,
        }));
        let typing = |author: &str, is_typing: bool| {
            Push::IncomingTypingIndicator(confab_protocol::push::IncomingTypingIndicator {
                chat_id: "C".into(),
                thread_id: Some("T".into()),
                typing_indicator: confab_protocol::push::TypingIndicator {
                    author_id: author.into(),
                    is_typing,
                    recipients: None,
                    timestamp: None,
                },
            })
        };
        s.apply_push(&typing("me", true));
        assert_eq!(s.typing, None, "the visitor's own typing is not shown to them");
        s.apply_push(&typing("a@x", true));
        assert_eq!(s.typing.as_ref().map(|a| a.name.as_str()), Some("Alex"));
        s.apply_push(&typing("a@x", false));
        assert_eq!(s.typing, None);
        s.apply_push(&typing("a@x", true));
        s.apply_push(&incoming(event("e1", "a@x", "done", None)));
        assert_eq!(s.typing, None, "their message ends the typing");
    }

    #[test]
    fn the_queue_shows_until_an_agent_takes_the_chat_and_a_transfer_says_so() {
        use confab_protocol::entity::Queue;
        let mut s = state();
        s.apply_push(&Push::QueuePositionUpdated(confab_protocol::push::QueuePositionUpdated {
            chat_id: "C".into(),
            thread_id: "T".into(),
            queue: Queue { position: 2, wait_time: 90, queued_at: None },
        }));
        assert_eq!(s.queue.as_ref().map(|q| q.position), Some(2));
        s.apply_push(&Push::UserAddedToChat(confab_protocol::push::UserAddedToChat {
            chat_id: "C".into(),
            thread_id: Some("T".into()),
            user: agent_user("a@x", "Alex"),
            reason: "assigned".into(),
            requester_id: None,
        }));
        assert_eq!(s.queue, None);
        s.apply_push(&Push::ChatTransferred(confab_protocol::push::ChatTransferred {
            chat_id: "C".into(),
            thread_id: Some("T".into()),
            requester_id: None,
            reason: "manual".into(),
            transferred_to: Default::default(),
            queue: Some(Queue { position: 1, wait_time: 30, queued_at: None }),
        }));
        assert_eq!(s.agent, None);
        assert_eq!(s.queue.as_ref().map(|q| q.position), Some(1));
        assert_eq!(s.messages.last().map(|m| &m.content), Some(&Content::Notice(Notice::Transferred)));
    }

    #[test]
    fn an_ended_chat_asks_for_a_rating_until_rated_declined_or_restarted() {
        let mut s = state();
        s.apply_push(&incoming(with_seq(event("e1", "me", "hi", None), 1)));
        s.apply_push(&Push::ChatDeactivated(confab_protocol::push::ChatDeactivated {
            chat_id: "C".into(),
            thread_id: "T".into(),
            user_id: None,
        }));
        assert_eq!(s.ended.as_ref().map(|e| &e.rating), Some(&RatingState::Asking));
        s.rated(RatingState::Rated { score: 1 });
        assert!(s.ended.as_ref().is_some_and(|e| e.rated_on_server));
        s.rated(RatingState::Asking);
        assert!(s.ended.as_ref().is_some_and(|e| e.rated_on_server), "changing keeps the server's until replaced");
        s.start_new();
        assert_eq!(s.ended, None);
        s.logged_in = true;
        assert_eq!(s.next_send(&Connection::Connected), Some(SendPlan::ResumeChat { chat_id: "C".into() }));

        // A chat that ended with a rating comes back rated.
        let mut rated = chat_with_thread(false, vec![with_seq(event("e1", "me", "hi", None), 1)]);
        let mut properties = Properties::new();
        properties.insert("rating".into(), serde_json::json!({"score": 0, "comment": "slow"}));
        rated.thread.as_mut().unwrap().properties = Some(properties);
        let mut s = state();
        s.load_chat(&rated);
        assert_eq!(s.ended.as_ref().map(|e| &e.rating), Some(&RatingState::Rated { score: 0 }));
    }

    #[test]
    fn an_ended_chat_offers_the_survey_once_sent_skipped_or_filled_elsewhere() {
        let ended = |s: &mut ChatState| {
            s.apply_push(&incoming(with_seq(event("e1", "me", "hi", None), 1)));
            s.apply_push(&Push::ChatDeactivated(confab_protocol::push::ChatDeactivated {
                chat_id: "C".into(),
                thread_id: "T".into(),
                user_id: None,
            }));
        };
        let field = |kind: &str| confab_protocol::action::FormField {
            id: Some("0".into()),
            kind: kind.into(),
            label: Some("?".into()),
            required: None,
            options: None,
            comment_label: None,
        };
        let survey = Form { id: "post".into(), fields: vec![field("rating"), field("textarea")] };
        let mut s = state();
        ended(&mut s);
        assert_eq!(s.survey(), None, "no survey for a group without one");
        s.postchat = Some(Form { id: "post".into(), fields: vec![field("rating")] });
        assert_eq!(s.survey(), None, "a rating alone is the rating panel's");
        s.postchat = Some(survey.clone());
        assert_eq!(s.survey(), Some(&survey));
        s.surveyed();
        assert_eq!(s.survey(), None, "sent or skipped");

        // Filled on another page: the thread already holds it.
        let mut s = state();
        s.postchat = Some(survey.clone());
        ended(&mut s);
        let filled = Event::outgoing(EventBody::FilledForm(confab_protocol::entity::FilledFormBody {
            form_id: "post".into(),
            fields: vec![],
        }));
        s.apply_push(&Push::IncomingEvent(confab_protocol::push::IncomingEvent {
            chat_id: "C".into(),
            thread_id: "T".into(),
            event: with_seq(filled, 2),
        }));
        assert_eq!(s.survey(), None);
        // A later conversation that ends asks again.
        s.start_new();
        s.apply_push(&Push::ChatDeactivated(confab_protocol::push::ChatDeactivated {
            chat_id: "C".into(),
            thread_id: "T2".into(),
            user_id: None,
        }));
        assert_eq!(s.survey(), Some(&survey));
    }

    #[test]
    fn files_keep_their_name_and_only_safe_urls() {
        use confab_protocol::entity::FileBody;
        let mut s = state();
        let file = |id: &str, url: &str, kind: &str| {
            let mut e = Event::outgoing(EventBody::File(FileBody {
                url: url.into(),
                name: Some(format!("{id}.bin")),
                content_type: Some(kind.into()),
                size: Some(10),
                width: None,
                height: None,
                thumbnail_url: None,
                thumbnail2x_url: None,
                alternative_text: None,
            }));
            e.id = Some(id.into());
            e.author_id = Some("a@x".into());
            e
        };
        s.apply_push(&incoming(file("pic", "https://x.example/p.png", "image/png")));
        s.apply_push(&incoming(file("doc", "javascript:alert(1)", "application/pdf")));
        s.apply_push(&incoming(file("svg", "https://x.example/s.svg", "image/svg+xml")));
        let files: Vec<_> = s
            .messages
            .iter()
            .map(|m| match &m.content {
                Content::File(f) => (f.name.as_str(), f.url.is_some(), f.image),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(files, [("pic.bin", true, true), ("doc.bin", false, false), ("svg.bin", true, false)]);
    }

    #[test]
    fn an_upload_shows_its_progress_then_becomes_the_server_s_file_or_goes_when_canceled() {
        use confab_protocol::entity::FileBody;
        let mut s = state();
        s.add_upload("up1", "photo.png");
        s.upload_progress("up1", 0.42);
        assert_eq!(s.messages[0].delivery, Delivery::Uploading(42));
        s.upload_progress("up1", 1.0);
        assert_eq!(s.messages[0].delivery, Delivery::Sending, "uploaded: now the file event is on its way");
        let mut stored = Event::outgoing(EventBody::File(FileBody {
            url: "https://chat.example/files/1/photo.png".into(),
            name: Some("photo.png".into()),
            content_type: Some("image/png".into()),
            size: Some(5),
            width: Some(10),
            height: Some(10),
            thumbnail_url: None,
            thumbnail2x_url: None,
            alternative_text: None,
        }));
        stored.id = Some("e1".into());
        stored.author_id = Some("me".into());
        stored.custom_id = Some("up1".into());
        stored.seq = Some(1);
        s.upsert(&stored);
        assert_eq!(s.messages.len(), 1);
        assert!(matches!(&s.messages[0].content, Content::File(f) if f.image && f.url.is_some()));
        assert_eq!(s.retry("up1"), None, "files are not retried from memory");

        s.add_upload("up2", "big.zip");
        s.remove_unsent("up2");
        s.remove_unsent("up1");
        assert_eq!(texts(&s), ["photo.png"], "a canceled upload goes; a sent file stays");
    }

    #[test]
    fn the_footer_offers_the_pre_chat_form_first_and_tickets_while_offline() {
        let form = |id: &str| Form { id: id.into(), fields: vec![] };
        let mut s = ChatState { prechat: Some(form("pre")), ticket: Some(form("ticket")), ..Default::default() };
        assert_eq!(s.footer(), Footer::Composer, "nothing is known before the login");
        s.logged_in("me", &[]);
        s.synced = true;
        assert_eq!(s.footer(), Footer::Prechat(form("pre")));
        s.offline = true;
        assert_eq!(s.footer(), Footer::Ticket(form("ticket")), "nobody to chat with: leave a message");
        s.ticket_sent = true;
        assert_eq!(s.footer(), Footer::TicketSent);
        s.offline = false;
        assert_eq!(s.footer(), Footer::Prechat(form("pre")), "back online: chat again");
        s.prechat_sent = true;
        assert_eq!(s.footer(), Footer::Composer);

        // A conversation under way keeps its composer even when the group goes offline.
        let mut s = state();
        s.ticket = Some(form("ticket"));
        s.offline = true;
        assert_eq!(s.footer(), Footer::Composer);
        // And what was typed is never put aside.
        s.active = false;
        s.add_pending("k", "still there?");
        assert_eq!(s.footer(), Footer::Composer);
    }
}
