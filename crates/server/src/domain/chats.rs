//! Chats, threads and events: the operations that change them, and the reads.
//!
//! A customer has at most one chat (protocol.md §11.1, `chat_limit_reached`); each
//! conversation in it is a thread, and at most one thread is active. `start_chat` creates the
//! chat with its first thread, `resume_chat` opens the next thread, events land in the active
//! thread (or, with `attach_to_last_thread`, the latest), `deactivate_chat` closes it.
//!
//! Every change starts by locking the chat's row (`lock_chat`), so changes to one chat are
//! serialized across nodes while different chats proceed in parallel; the unique constraints
//! behind each rule catch what a lock would not.

use super::routing::DEFAULT_GROUP;
use super::views::{self, access, parse_properties};
use super::{Domain, DomainEvent, Members, Requester};
use crate::clock::Micros;
use crate::error::{Error, Result};
use crate::limits::{
    MAX_CUSTOM_ID_BYTES, MAX_EVENTS_PER_THREAD_READ, MAX_FILE_NAME_BYTES, MAX_FORM_ANSWER_BYTES, MAX_FORM_FIELDS,
    MAX_INITIAL_EVENTS, MAX_MESSAGE_TEXT_BYTES, MAX_QUEUE_PER_GROUP, MAX_RICH_MESSAGE_BUTTONS,
    MAX_RICH_MESSAGE_ELEMENTS, MAX_RICH_MESSAGE_TEXT_BYTES, MAX_URL_BYTES,
};
use crate::store::{ChatFilters, ChatRow, Conn, EventRow, Page, Reader, random_id};
use confab_protocol::ErrorType;
use confab_protocol::action::{GroupStatus, InitialChat};
use confab_protocol::entity::{Chat, ChatSummary, Event, EventBody, RichMessageBody, Thread, User};
use std::collections::HashMap;

/// How a new thread finds its agent.
#[derive(Debug, Clone, Copy)]
pub(super) enum Route<'a> {
    /// Into the group's queue, and to an agent with room (a customer's chat).
    Queue,
    /// To this agent at once (an agent started or resumed it).
    Assign(&'a str),
    /// Nowhere: the thread starts closed (an agent's `active: false`).
    Inactive,
}

/// A chat just started or resumed: the direct response, and what `incoming_chat` carries.
#[derive(Debug, Clone)]
pub struct Started {
    pub chat: Chat,
    pub thread_id: String,
    pub event_ids: Vec<String>,
}

/// Whether `url` is an http(s) URL of at most `MAX_URL_BYTES`.
pub(super) fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return false;
    };
    !rest.is_empty() && url.len() <= MAX_URL_BYTES && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn web_url(url: &str, what: &str) -> Result<()> {
    if is_web_url(url) {
        Ok(())
    } else {
        Err(Error::validation(format!("{what} must be an http or https URL of at most {MAX_URL_BYTES} bytes")))
    }
}

pub(super) fn at_most(text: &str, limit: usize, what: &str) -> Result<()> {
    if text.len() > limit {
        return Err(Error::validation(format!("{what} is longer than {limit} bytes")));
    }
    Ok(())
}

fn not_blank(text: &str, limit: usize, what: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::validation(format!("{what} must not be empty")));
    }
    at_most(text, limit, what)
}

/// Checks an event a user wants to send (protocol.md §9.1): what customers may send (not rich
/// messages or system messages), sizes, URL schemes.
fn validate_event(requester: Requester<'_>, event: &Event) -> Result<()> {
    if let Some(custom_id) = &event.custom_id {
        at_most(custom_id, MAX_CUSTOM_ID_BYTES, "`custom_id`")?;
    }
    if let Some(properties) = &event.properties {
        super::properties::validate(properties)?;
    }
    match &event.body {
        EventBody::Message(m) => not_blank(&m.text, MAX_MESSAGE_TEXT_BYTES, "Message text")?,
        EventBody::File(f) => {
            web_url(&f.url, "File URL")?;
            for url in [&f.thumbnail_url, &f.thumbnail2x_url].into_iter().flatten() {
                web_url(url, "Thumbnail URL")?;
            }
            for text in [&f.name, &f.content_type, &f.alternative_text].into_iter().flatten() {
                at_most(text, MAX_FILE_NAME_BYTES, "A file's name, type or alternative text")?;
            }
        }
        EventBody::FilledForm(form) => {
            not_blank(&form.form_id, MAX_CUSTOM_ID_BYTES, "`form_id`")?;
            if form.fields.len() > MAX_FORM_FIELDS {
                return Err(Error::validation(format!("A filled form has at most {MAX_FORM_FIELDS} fields")));
            }
            for field in &form.fields {
                not_blank(&field.kind, MAX_CUSTOM_ID_BYTES, "A form field's `type`")?;
                at_most(&field.label, MAX_FORM_ANSWER_BYTES, "A form field's label")?;
                let answers = field.answer.iter().chain(field.answers.iter().flatten());
                let size: usize = answers.map(|a| a.to_string().len()).sum();
                if size > MAX_FORM_ANSWER_BYTES {
                    return Err(Error::validation(format!(
                        "A form field's answers are longer than {MAX_FORM_ANSWER_BYTES} bytes"
                    )));
                }
            }
        }
        EventBody::RichMessage(rich) => {
            if !requester.is_agent() {
                return Err(Error::validation("Customers cannot send rich messages"));
            }
            validate_rich_message(rich)?;
        }
        EventBody::SystemMessage(m) => {
            if !requester.is_agent() {
                return Err(Error::validation("Customers cannot send system messages"));
            }
            not_blank(&m.text, MAX_MESSAGE_TEXT_BYTES, "System message text")?;
        }
        EventBody::Unknown(_) => {
            return Err(Error::validation(format!("Event type `{}` is not supported", event.body.kind())));
        }
    }
    match event.visibility.as_deref() {
        None | Some("all") => Ok(()),
        Some("agents") if requester.is_agent() => Ok(()),
        Some(other) => Err(Error::validation(format!("Visibility `{other}` is not allowed"))),
    }
}

/// A rich message: a template clients render, a bounded number of elements and buttons, and
/// only http(s) links and images (every client opens them).
fn validate_rich_message(rich: &RichMessageBody) -> Result<()> {
    if !matches!(rich.template_id.as_str(), "cards" | "quick_replies" | "sticker") {
        return Err(Error::validation("`template_id` must be cards, quick_replies or sticker"));
    }
    if rich.elements.is_empty() || rich.elements.len() > MAX_RICH_MESSAGE_ELEMENTS {
        return Err(Error::validation(format!("A rich message has 1–{MAX_RICH_MESSAGE_ELEMENTS} elements")));
    }
    for element in &rich.elements {
        for text in [&element.title, &element.subtitle].into_iter().flatten() {
            at_most(text, MAX_RICH_MESSAGE_TEXT_BYTES, "A rich message's title or subtitle")?;
        }
        if let Some(image) = &element.image {
            web_url(&image.url, "A rich message's image URL")?;
        }
        let buttons = element.buttons.as_deref().unwrap_or_default();
        if buttons.len() > MAX_RICH_MESSAGE_BUTTONS {
            return Err(Error::validation(format!("An element has at most {MAX_RICH_MESSAGE_BUTTONS} buttons")));
        }
        for button in buttons {
            not_blank(&button.text, MAX_RICH_MESSAGE_TEXT_BYTES, "A button's text")?;
            if let Some(postback_id) = &button.postback_id {
                at_most(postback_id, MAX_CUSTOM_ID_BYTES, "A button's `postback_id`")?;
            }
            match (button.kind.as_deref(), &button.value) {
                (Some("url" | "webview"), Some(url)) => web_url(url, "A url button's value")?,
                (Some("url" | "webview"), None) => {
                    return Err(Error::validation("A url or webview button needs its URL in `value`"));
                }
                (_, Some(value)) => at_most(value, MAX_RICH_MESSAGE_TEXT_BYTES, "A button's value")?,
                (_, None) => {}
            }
        }
    }
    Ok(())
}

/// The events a new thread starts with, checked, and the properties of the chat and thread
/// checked as `update_*_properties` checks them.
pub(super) fn initial_events(requester: Requester<'_>, initial: &InitialChat) -> Result<Vec<Event>> {
    let thread_properties = initial.thread.as_ref().and_then(|t| t.properties.as_ref());
    for properties in initial.properties.iter().chain(thread_properties) {
        super::properties::validate(properties)?;
    }
    let events = initial.thread.as_ref().and_then(|t| t.events.clone()).unwrap_or_default();
    if events.len() > MAX_INITIAL_EVENTS {
        return Err(Error::validation(format!("A thread can start with at most {MAX_INITIAL_EVENTS} events")));
    }
    for event in &events {
        validate_event(requester, event)?;
    }
    Ok(events)
}

pub(super) fn not_found(chat_id: &str) -> Error {
    Error::not_found(format!("Chat {chat_id} not found"))
}

pub(super) fn inactive(chat_id: &str) -> Error {
    Error::new(ErrorType::ChatInactive, format!("Chat {chat_id} is inactive"))
}

pub(super) fn already_active(chat_id: &str) -> Error {
    Error::new(ErrorType::ChatAlreadyActive, format!("Chat {chat_id} is already active"))
}

/// Gives each thread its tags (an empty list for none): what agents see of a thread.
pub(super) async fn with_tags<'t>(db: &mut Conn, threads: impl Iterator<Item = &'t mut Thread>) -> Result<()> {
    let threads: Vec<&mut Thread> = threads.collect();
    let ids: Vec<String> = threads.iter().map(|t| t.id.clone()).collect();
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    for (thread_id, tag) in db.tags_of_threads(&ids).await? {
        tags.entry(thread_id).or_default().push(tag);
    }
    for thread in threads {
        thread.tags = Some(tags.remove(&thread.id).unwrap_or_default());
    }
    Ok(())
}

/// Fills the buttons' `user_ids` of the rich messages in `threads` with who chose them (their
/// postback stands, toggled on), so a page loaded later shows the choices made.
pub(super) async fn with_choices<'t>(db: &mut Conn, threads: impl Iterator<Item = &'t mut Thread>) -> Result<()> {
    let is_rich = |e: &Event| matches!(e.body, EventBody::RichMessage(_));
    let threads: Vec<&mut Thread> = threads.filter(|t| t.events.iter().any(is_rich)).collect();
    let ids: Vec<String> = threads.iter().map(|t| t.id.clone()).collect();
    let mut chosen: HashMap<(String, String), Vec<String>> = HashMap::new();
    for (event_id, postback_id, user_id) in db.chosen_in_threads(&ids).await? {
        chosen.entry((event_id, postback_id)).or_default().push(user_id);
    }
    for event in threads.into_iter().flat_map(|t| t.events.iter_mut()) {
        let (Some(event_id), EventBody::RichMessage(rich)) = (&event.id, &mut event.body) else { continue };
        let buttons = rich.elements.iter_mut().flat_map(|e| e.buttons.iter_mut().flatten());
        for button in buttons {
            if let Some(users) = button.postback_id.as_ref().and_then(|p| chosen.get(&(event_id.clone(), p.clone()))) {
                button.user_ids = Some(users.clone());
            }
        }
    }
    Ok(())
}

/// Whether the requester may see the chat: a customer only their own (else `not_found`, so
/// ids leak nothing), an agent those of their scope (`agent_may_see`, from
/// `store::agent_access`; else `missing_access`).
fn may_see(requester: Requester<'_>, chat: &ChatRow, agent_may_see: bool) -> Result<()> {
    match requester {
        Requester::Customer(id) if chat.customer_id != id => Err(not_found(&chat.id)),
        Requester::Customer(_) => Ok(()),
        Requester::Agent(_) if agent_may_see => Ok(()),
        Requester::Agent(_) => Err(Error::new(
            ErrorType::MissingAccess,
            format!("Chat {} is in group {}, which is not one of yours", chat.id, chat.group_id),
        )),
    }
}

/// The chat, if the requester may see it (see [`may_see`]).
async fn visible(db: &mut Conn, requester: Requester<'_>, chat_id: &str, chat: Option<ChatRow>) -> Result<ChatRow> {
    let chat = chat.ok_or_else(|| not_found(chat_id))?;
    let agent_may_see = match requester {
        Requester::Agent(agent_id) => db.agent_may_see(agent_id, chat_id).await?,
        Requester::Customer(_) => false,
    };
    may_see(requester, &chat, agent_may_see)?;
    Ok(chat)
}

/// Who is in the chat, by kind: who its pushes are for.
pub(super) fn members_of(users: &[User]) -> Members {
    let mut members = Members::default();
    for user in users {
        match user {
            User::Customer(c) => members.customers.push(c.id.clone()),
            _ => members.agents.push(user.id().to_owned()),
        }
    }
    members
}

/// A chat locked for a change, with its latest thread.
#[derive(sqlx::FromRow)]
pub(super) struct LockedChat {
    #[sqlx(flatten)]
    pub chat: ChatRow,
    pub thread_id: Option<String>,
    pub thread_active: Option<bool>,
    /// Whether the requesting agent's scope holds the chat (false for a customer).
    pub agent_may_see: bool,
}

impl LockedChat {
    /// The latest thread, if it is active.
    pub fn active_thread(&self) -> Option<&str> {
        self.thread_id.as_deref().filter(|_| self.thread_active == Some(true))
    }
}

impl Conn {
    /// Locks the chat's row until commit (PostgreSQL: `FOR UPDATE`; SQLite's write
    /// transaction holds the database already) and reads its latest thread and, for an agent,
    /// whether it is in their scope, in one query.
    pub(super) async fn lock_chat(&mut self, requester: Requester<'_>, chat_id: &str) -> Result<LockedChat> {
        let access = match requester {
            Requester::Agent(_) => crate::store::agent_access("c", "$2"),
            // False; names `$2` because it is bound either way.
            Requester::Customer(_) => "($2 IS NULL)".to_owned(),
        };
        let lock = self.pick("", " FOR UPDATE OF c");
        let sql = format!(
            "SELECT c.id, c.customer_id, c.properties, c.group_id, t.id AS thread_id, t.active AS thread_active,
                    {access} AS agent_may_see
             FROM chats c LEFT JOIN threads t ON t.chat_id = c.id AND t.seq = c.threads_count WHERE c.id = $1{lock}"
        );
        let locked: Option<LockedChat> =
            crate::store::fetch!(self, fetch_optional LockedChat, &sql, chat_id, requester.id());
        let locked = locked.ok_or_else(|| not_found(chat_id))?;
        may_see(requester, &locked.chat, locked.agent_may_see)?;
        Ok(locked)
    }

    /// Creates the customer's chat in `group`, with the customer in it;
    /// `chat_limit_reached` (naming their chat) if they have one.
    pub(super) async fn create_chat(
        &mut self,
        chat_id: &str,
        customer_id: &str,
        group: u32,
        properties: &str,
        now: Micros,
    ) -> Result<()> {
        if !self.insert_chat(chat_id, customer_id, properties, now).await? {
            let existing = self.chat_of_customer(customer_id).await?.unwrap_or_default();
            return Err(Error::new(
                ErrorType::ChatLimitReached,
                format!("Customer already has chat {existing}; use resume_chat to continue it"),
            ));
        }
        if group != DEFAULT_GROUP {
            self.set_chat_group(chat_id, group).await?;
        }
        self.add_chat_user(chat_id, customer_id, "customer").await?;
        Ok(())
    }

    pub(super) async fn members(&mut self, chat_id: &str) -> Result<Members> {
        let mut members = Members::default();
        for (user_id, user_type) in self.chat_members(chat_id).await? {
            match user_type.as_str() {
                "customer" => members.customers.push(user_id),
                "follower" => members.followers.push(user_id),
                _ => members.agents.push(user_id),
            }
        }
        // A follower who joined the chat hears it as one of its agents.
        members.followers.retain(|id| !members.agents.contains(id));
        Ok(members)
    }

    async fn users(&mut self, chat_id: &str) -> Result<Vec<User>> {
        Ok(self.users_of_chats(&[chat_id.to_owned()]).await?.into_iter().map(|(_, u)| u).collect())
    }

    /// Stores `event` as the chat's next event, in `thread_id`, with the server's fields.
    pub(super) async fn append_event(
        &mut self,
        chat_id: &str,
        thread_id: &str,
        author_id: &str,
        mut event: Event,
        now: Micros,
    ) -> Result<Event> {
        let seq = self.next_event_seq(chat_id).await?;
        let id = format!("{thread_id}_{seq}");
        event.id = Some(id.clone());
        event.created_at = Some(now.rfc3339());
        event.author_id = Some(author_id.to_owned());
        event.visibility.get_or_insert_with(|| "all".to_owned());
        event.seq = Some(seq as u64);
        let row = EventRow {
            chat_id: chat_id.to_owned(),
            thread_id: thread_id.to_owned(),
            seq,
            event: serde_json::to_string(&event).expect("events always encode"),
        };
        self.insert_event(&row, &id, &event, author_id, now).await?;
        Ok(event)
    }

    /// Opens the chat's next thread with its first events; the chat must be locked and have no
    /// active thread. Returns the thread, its events' ids, and the chat's users.
    pub(super) async fn open_thread(
        &mut self,
        requester: Requester<'_>,
        chat_id: &str,
        group: i64,
        initial: &InitialChat,
        events: Vec<Event>,
        now: Micros,
    ) -> Result<(Thread, Vec<String>, Vec<User>)> {
        let number = self.bump_threads_count(chat_id).await?.ok_or_else(|| not_found(chat_id))?;
        let thread_id = random_id(10);
        let properties = initial.thread.as_ref().and_then(|t| t.properties.clone()).unwrap_or_default();
        let properties = serde_json::Value::Object(properties).to_string();
        match self.insert_thread(&thread_id, chat_id, number, &properties, now).await {
            Err(Error::Database(e)) if crate::store::is_unique_violation(&e) => {
                // Another node opened a thread between our check and our insert.
                return Err(already_active(chat_id));
            }
            other => other?,
        }
        let mut stored = Vec::with_capacity(events.len());
        for event in events {
            stored.push(self.append_event(chat_id, &thread_id, requester.id(), event, now).await?);
        }
        let event_ids = stored.iter().filter_map(|e| e.id.clone()).collect();
        let users = self.users(chat_id).await?;
        let (previous_thread_id, _) = self.thread_neighbours(chat_id, number).await?;
        let thread = Thread {
            id: thread_id,
            created_at: now.rfc3339(),
            active: true,
            user_ids: views::user_ids(&users),
            events: stored,
            properties: parse_properties(&properties),
            access: access(group),
            previous_thread_id,
            next_thread_id: None,
            queue: None,
            tags: None,
            highlight: None,
        };
        Ok((thread, event_ids, users))
    }
}

impl Domain {
    /// Starts the customer's chat in the default group ([`Domain::start_chat_in`]).
    pub async fn start_chat(&self, customer_id: &str, initial: &InitialChat) -> Result<(Started, Vec<DomainEvent>)> {
        self.start_chat_in(customer_id, DEFAULT_GROUP, initial).await
    }

    /// Starts the customer's chat with its first thread and initial events, in one
    /// transaction, in the first group of `initial.access.group_ids`, else in `default_group`
    /// (the group they logged in with), and routes it. `chat_limit_reached` if they have one;
    /// `group_not_found` for an unknown group.
    pub async fn start_chat_in(
        &self,
        customer_id: &str,
        default_group: u32,
        initial: &InitialChat,
    ) -> Result<(Started, Vec<DomainEvent>)> {
        let requester = Requester::Customer(customer_id);
        let events = initial_events(requester, initial)?;
        let groups = initial.access.as_ref().and_then(|a| a.group_ids.clone()).unwrap_or_default();
        self.check_groups(&groups).await?;
        let group = groups.first().copied().unwrap_or(default_group);
        let now = self.clock.now();
        let chat_id = random_id(10);
        let properties = serde_json::Value::Object(initial.properties.clone().unwrap_or_default()).to_string();
        let mut tx = self.store.write().await?;
        tx.create_chat(&chat_id, customer_id, group, &properties, now).await?;
        self.opened(tx, requester, &chat_id, group, &properties, initial, events, now, Route::Queue).await
    }

    /// Opens a new thread in the customer's inactive chat (v3.5 `resume_chat`, v3.2
    /// `activate_chat`). `chat_already_active` if a thread is open.
    pub async fn resume_chat(&self, customer_id: &str, initial: &InitialChat) -> Result<(Started, Vec<DomainEvent>)> {
        let requester = Requester::Customer(customer_id);
        let chat_id = initial.id.as_deref().ok_or_else(|| Error::validation("chat.id is required"))?;
        let events = initial_events(requester, initial)?;
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let locked = tx.lock_chat(requester, chat_id).await?;
        if locked.active_thread().is_some() {
            return Err(already_active(chat_id));
        }
        // A retry of a message the chat already has (its answer was lost, then the chat
        // closed): the chat resumes without a second copy, as `send_event` would answer.
        let mut fresh = Vec::with_capacity(events.len());
        for event in events {
            let stored = match &event.custom_id {
                Some(custom_id) => tx.event_by_custom_id(chat_id, requester.id(), custom_id).await?.is_some(),
                None => false,
            };
            if !stored {
                fresh.push(event);
            }
        }
        let group = locked.chat.group_id as u32;
        self.opened(tx, requester, chat_id, group, &locked.chat.properties, initial, fresh, now, Route::Queue).await
    }

    /// The rest of `start_chat` and `resume_chat`: the thread, its events, its routing (by
    /// `route`: an agent, or a place in the queue, or, in an offline group, neither), the chat
    /// (with its `properties`, as JSON) as `incoming_chat` shows it, and the commit.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn opened(
        &self,
        mut tx: Conn,
        requester: Requester<'_>,
        chat_id: &str,
        group: u32,
        properties: &str,
        initial: &InitialChat,
        events: Vec<Event>,
        now: Micros,
        route: Route<'_>,
    ) -> Result<(Started, Vec<DomainEvent>)> {
        let (mut thread, event_ids, _) =
            tx.open_thread(requester, chat_id, i64::from(group), initial, events, now).await?;
        // Routing locks the group (serializing its chats' routing across nodes), and only
        // when an agent of it accepts chats: an offline group's chats start side by side.
        let mut routed = Vec::new();
        let mut offline = true;
        if let Route::Assign(agent_id) = route {
            let routing = self.begin_routing(&mut tx, &[group]).await?;
            tx.assign_thread(&thread.id, agent_id).await?;
            routed = self.settle_routing(&mut tx, routing).await?;
            offline = false;
        } else if let Route::Inactive = route {
            tx.deactivate_thread(&thread.id).await?;
            thread.active = false;
            offline = false;
        } else if !tx.candidates(group).await?.is_empty() {
            let routing = self.begin_routing(&mut tx, &[group]).await?;
            if routing.status(group) != GroupStatus::Offline {
                if routing.queued(group) as i64 >= MAX_QUEUE_PER_GROUP {
                    return Err(Error::new(
                        ErrorType::GroupUnavailable,
                        format!("Group {group} has no room in its queue"),
                    ));
                }
                // Behind whoever waits already; settling hands it an agent if one has room.
                tx.enqueue_thread(&thread.id, group, now).await?;
                offline = false;
            }
            routed = self.settle_routing(&mut tx, routing).await?;
        }
        if offline && !self.offline_chats(&mut tx, group).await? {
            return Err(Error::new(ErrorType::GroupsOffline, format!("Group {group} is offline")));
        }
        let users = tx.users(chat_id).await?;
        thread.user_ids = views::user_ids(&users);
        thread.queue = tx
            .queue_position(&thread.id)
            .await?
            .map(|(position, queued_at)| super::routing::queue_at(position, Some(Micros(queued_at))));
        let members = members_of(&users);
        let chat = Chat {
            id: chat_id.to_owned(),
            users,
            properties: parse_properties(properties),
            access: access(i64::from(group)),
            thread: Some(thread.clone()),
        };
        let mut events =
            vec![DomainEvent::ChatStarted { chat: chat.clone(), requester_id: requester.id().to_owned(), members }];
        events.extend(routed);
        self.commit(tx, &events).await?;
        Ok((Started { chat, thread_id: thread.id, event_ids }, events))
    }

    /// Adds an event to the chat's active thread (or its latest, with `attach_to_last_thread`).
    /// An agent who writes joins the chat first (`user_added_to_chat`), and takes the thread
    /// if nobody was assigned to it (out of the queue, if it waited: the queue moves up).
    /// Idempotent by `custom_id` for customers: a retry returns the event stored by the first
    /// try.
    pub async fn send_event(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        event: Event,
        attach_to_last_thread: bool,
    ) -> Result<(Event, Vec<DomainEvent>)> {
        validate_event(requester, &event)?;
        let event = self.with_upload_facts(event).await?;
        let now = self.clock.now();
        let mut tx = self.store.write().await?;
        let locked = tx.lock_chat(requester, chat_id).await?;
        // A customer's retry of a send whose answer was lost (same chat and `custom_id`): the
        // stored event again, not a second copy. The chat's lock orders the two tries. (Agent
        // apps and bots may reuse their ids; theirs are not checked.)
        if let (Requester::Customer(_), Some(custom_id)) = (requester, &event.custom_id)
            && let Some(stored) = tx.event_by_custom_id(chat_id, requester.id(), custom_id).await?
        {
            return Ok((stored, Vec::new()));
        }
        let thread_id = match (&locked.thread_id, locked.active_thread()) {
            (_, Some(active)) => active.to_owned(),
            (Some(latest), None) if attach_to_last_thread => latest.clone(),
            _ => return Err(inactive(chat_id)),
        };
        let mut routing = None;
        if let Requester::Agent(agent_id) = requester
            && locked.active_thread() == Some(thread_id.as_str())
            && tx.thread_routing(&thread_id).await?.0.is_none()
        {
            routing = Some(self.begin_routing(&mut tx, &[locked.chat.group_id as u32]).await?);
            tx.assign_thread(&thread_id, agent_id).await?;
        }
        let mut joined = None;
        if let Requester::Agent(agent_id) = requester
            && tx.add_chat_user(chat_id, agent_id, "agent").await?
        {
            let mut agent = tx.agent(agent_id).await?.ok_or_else(|| Error::authentication("Unknown agent"))?;
            agent.present = Some(true);
            joined = Some(User::Agent(agent));
        }
        let stored = tx.append_event(chat_id, &thread_id, requester.id(), event, now).await?;
        let members = tx.members(chat_id).await?;
        let mut domain_events = Vec::with_capacity(2);
        if let Some(user) = joined {
            domain_events.push(DomainEvent::UserAdded {
                chat_id: chat_id.to_owned(),
                thread_id: thread_id.clone(),
                user,
                requester_id: requester.id().to_owned(),
                agents_only: false,
                members: members.clone(),
            });
        }
        domain_events.push(DomainEvent::EventAdded {
            chat_id: chat_id.to_owned(),
            thread_id,
            event: stored.clone(),
            members,
        });
        if let Some(routing) = routing {
            domain_events.extend(self.settle_routing(&mut tx, routing).await?);
        }
        self.commit(tx, &domain_events).await?;
        Ok((stored, domain_events))
    }

    /// Closes the chat's active thread. `chat_inactive` if none is open; an agent must be one
    /// of the chat's users unless `ignore_requester_presence` (`missing_access`).
    pub async fn deactivate_chat(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        ignore_requester_presence: bool,
    ) -> Result<Vec<DomainEvent>> {
        let mut tx = self.store.write().await?;
        let locked = tx.lock_chat(requester, chat_id).await?;
        let thread_id = locked.active_thread().ok_or_else(|| inactive(chat_id))?.to_owned();
        // Closing a thread changes nobody's membership: read once, for the check and the push.
        let members = tx.members(chat_id).await?;
        if let Requester::Agent(agent_id) = requester
            && !ignore_requester_presence
        {
            super::chat_users::require_presence(&members, agent_id)?;
        }
        // The thread's agent gets room, and its place in the queue frees up: route the
        // queues of the chat's group and of that agent's groups.
        // (A thread neither assigned nor queued changes no routing: no routing locks.)
        let (agent, queued_at) = tx.thread_routing(&thread_id).await?;
        let mut groups = Vec::new();
        if agent.is_some() || queued_at.is_some() {
            groups.push(locked.chat.group_id as u32);
        }
        if let Some(agent) = &agent {
            groups.extend(tx.groups_of_agent(agent).await?);
        }
        let routing = self.begin_routing(&mut tx, &groups).await?;
        if !tx.deactivate_thread(&thread_id).await? {
            return Err(inactive(chat_id));
        }
        if queued_at.is_some() {
            tx.dequeue_thread(&thread_id).await?;
        }
        let mut events = vec![DomainEvent::ChatDeactivated {
            chat_id: chat_id.to_owned(),
            thread_id,
            user_id: requester.id().to_owned(),
            members,
        }];
        events.extend(self.settle_routing(&mut tx, routing).await?);
        self.commit(tx, &events).await?;
        Ok(events)
    }

    /// Commits a change together with its domain events for the other nodes.
    pub(super) async fn commit(&self, mut tx: Conn, events: &[DomainEvent]) -> Result<()> {
        if tx.needs_bus() && !events.is_empty() {
            let payload = serde_json::to_string(events).expect("domain events always encode");
            tx.publish(&self.node_id, self.clock.now(), &payload).await?;
        }
        tx.commit().await
    }

    /// The chat with one thread: `thread_id`, or the latest.
    pub async fn get_chat(&self, requester: Requester<'_>, chat_id: &str, thread_id: Option<&str>) -> Result<Chat> {
        let mut db = self.store.read().await?;
        let chat = db.chat(chat_id).await?;
        let chat = visible(&mut db, requester, chat_id, chat).await?;
        let thread = match thread_id {
            Some(id) => {
                Some(db.thread(chat_id, id).await?.ok_or_else(|| Error::not_found(format!("Thread {id} not found")))?)
            }
            None => db.last_thread(chat_id).await?,
        };
        let users = db.users(chat_id).await?;
        let mut thread = match thread {
            Some(row) => {
                let events = db
                    .thread_events(std::slice::from_ref(&row.id), requester.is_agent(), MAX_EVENTS_PER_THREAD_READ)
                    .await?;
                let neighbours = db.thread_neighbours(chat_id, row.seq).await?;
                let queue = if row.active { db.queue_position(&row.id).await? } else { None };
                let mut thread = views::thread(chat.group_id, row, events, &users, neighbours);
                thread.queue = queue.map(|(position, at)| super::routing::queue_at(position, Some(Micros(at))));
                Some(thread)
            }
            None => None,
        };
        with_choices(&mut db, thread.iter_mut()).await?;
        if requester.is_agent() {
            with_tags(&mut db, thread.iter_mut()).await?;
        }
        let access = access(chat.group_id);
        Ok(Chat { id: chat.id, users, properties: parse_properties(&chat.properties), access, thread })
    }

    /// One page of the chats the requester sees: a customer their own, an agent those of their
    /// scope (`store::agent_access`). Returns
    /// the page and the total.
    pub async fn list_chats(
        &self,
        requester: Requester<'_>,
        page: Page,
        filters: &ChatFilters,
    ) -> Result<(Vec<ChatSummary>, u64)> {
        let reader = match requester {
            Requester::Customer(id) => Reader::Customer(id),
            Requester::Agent(id) => Reader::Agent(id),
        };
        let mut db = self.store.read().await?;
        let total = db.count_chats(reader, filters).await?;
        let chats = db.chat_page(reader, filters, page.order, page.size, page.offset).await?;
        let ids: Vec<String> = chats.iter().map(|c| c.id.clone()).collect();
        let last_events = db.last_event_per_type(&ids, requester.is_agent()).await?;
        let mut thread_ids: Vec<String> = last_events.iter().map(|e| e.thread_id.clone()).collect();
        thread_ids.sort();
        thread_ids.dedup();
        let rows = views::SummaryRows {
            users: db.users_of_chats(&ids).await?,
            last_threads: db.last_threads(&ids).await?,
            thread_times: db.thread_times(&thread_ids).await?,
            last_events,
        };
        Ok((views::summaries(chats, rows), total))
    }

    /// One page of a chat's threads. With `page.by_events`, as many threads as it takes to
    /// reach `page.size` events (at most `LIST_THREADS_MAX` threads). Returns the threads and
    /// the total.
    pub async fn list_threads(
        &self,
        requester: Requester<'_>,
        chat_id: &str,
        page: Page,
    ) -> Result<(Vec<Thread>, u64)> {
        let mut db = self.store.read().await?;
        let chat = db.chat(chat_id).await?;
        let group = visible(&mut db, requester, chat_id, chat).await?.group_id;
        let total = db.count_threads(chat_id).await?;
        let limit = if page.by_events { crate::limits::LIST_THREADS_MAX } else { page.size };
        let candidates = db.thread_page(chat_id, page.order, limit, page.offset, requester.is_agent()).await?;
        let mut rows = Vec::new();
        let mut events = 0i64;
        for candidate in candidates {
            let done = if page.by_events { events >= i64::from(page.size) } else { rows.len() >= page.size as usize };
            if done {
                break;
            }
            events += candidate.events_count;
            rows.push(candidate.thread);
        }
        let ids: Vec<String> = rows.iter().map(|t| t.id.clone()).collect();
        let mut events = db.thread_events(&ids, requester.is_agent(), MAX_EVENTS_PER_THREAD_READ).await?;
        let users = db.users(chat_id).await?;
        // Threads are numbered 1, 2, … without gaps: the page's neighbours are its own threads
        // and the two just outside it, read at once.
        let (low, high) = rows.iter().fold((i64::MAX, i64::MIN), |(lo, hi), t| (lo.min(t.seq), hi.max(t.seq)));
        let ids: std::collections::HashMap<i64, String> = if rows.is_empty() {
            Default::default()
        } else {
            db.thread_ids_between(chat_id, low - 1, high + 1).await?.into_iter().collect()
        };
        let mut threads = Vec::with_capacity(rows.len());
        for row in rows {
            let (mine, rest): (Vec<EventRow>, Vec<EventRow>) = events.into_iter().partition(|e| e.thread_id == row.id);
            events = rest;
            let neighbours = (ids.get(&(row.seq - 1)).cloned(), ids.get(&(row.seq + 1)).cloned());
            threads.push(views::thread(group, row, mine, &users, neighbours));
        }
        with_choices(&mut db, threads.iter_mut()).await?;
        if requester.is_agent() {
            with_tags(&mut db, threads.iter_mut()).await?;
        }
        Ok((threads, total))
    }
}
