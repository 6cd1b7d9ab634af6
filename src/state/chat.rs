//! The messages of the visitor's chat, the connection's state, and how pushes, sends and
//! loads change them.
//!
//! A message the visitor sends appears at once as `Sending`, keyed by its `custom_id`; the
//! server's copy (same `custom_id`) confirms it. Events are deduplicated by id and by `seq`, so a
//! push and a reload of the same event never show twice.
//!
//! Messages are in `seq` order (the server's order of the chat), whatever order they arrive in:
//! a late event is inserted in its place, not appended. The visitor's own messages that the
//! server has not confirmed (no `seq` yet: sending, or failed) stay last; once confirmed, they
//! move to their place. Messages without a `seq` (notices, servers that assign none) go where
//! they arrive, before those unconfirmed ones.
//!
//! Where the next message goes (`next_send`) depends on what the login said: the visitor's chat
//! and whether it is active come with it (`logged_in`), so a returning visitor's first message
//! joins their chat. Until that first login nobody knows, and sending waits: a `start_chat`
//! sent blind would meet `chat_limit_reached`. The chat's history is loaded afterwards
//! (`load_history`) and only adds messages: by the time it arrives, pushes may know better
//! whether the chat is active.

use confab_protocol::action::LoginChat;
use confab_protocol::entity::{Chat, Event, EventBody, User};
use confab_protocol::push::Push;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Author {
    Visitor,
    Agent { name: String },
    System,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Delivery {
    Sending,
    Sent,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Stable for the message's life: the `custom_id` of our own messages, else the event id.
    pub key: String,
    pub id: Option<String>,
    /// The event's place in the chat; `None` until the server has it.
    pub seq: Option<u64>,
    pub author: Author,
    pub text: String,
    pub created_at: Option<String>,
    pub delivery: Delivery,
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
    /// Over for good (for example the visitor was banned).
    Ended {
        reason: String,
    },
}

impl Connection {
    /// Whether the composer takes a message now. While connecting for the first time it does:
    /// the send queue holds it until the login (`ChatState::next_send`). Once a connection was
    /// lost it does not, as sending would fail; what is typed stays in the composer.
    pub fn accepts_messages(&self) -> bool {
        matches!(self, Connection::Connected | Connection::Connecting)
    }

    /// What the header says, if anything needs saying.
    pub fn notice(&self) -> Option<String> {
        match self {
            Connection::Connected => None,
            Connection::Connecting => Some("Connecting…".into()),
            Connection::Reconnecting => Some("Connection lost. Reconnecting…".into()),
            Connection::Retrying { retry_in_secs: 0 } => Some("Can't reach the chat. Retrying…".into()),
            Connection::Retrying { retry_in_secs } => {
                Some(format!("Can't reach the chat. Retrying in {retry_in_secs} s…"))
            }
            Connection::Ended { reason } => Some(match reason.as_str() {
                "customer_banned" => "This chat is not available to you.".into(),
                _ => "The chat has ended. Reload the page to start again.".into(),
            }),
        }
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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatState {
    pub customer_id: Option<String>,
    pub chat_id: Option<String>,
    /// Whether the chat has an active thread (sending needs `resume_chat` otherwise).
    pub active: bool,
    /// A login has succeeded: `chat_id` and `active` are known.
    pub logged_in: bool,
    pub messages: Vec<Message>,
    agent_names: HashMap<String, String>,
}

impl ChatState {
    /// Takes in a login (the first or one after a reconnect): who the visitor is, and their
    /// chat from the login's list: the one shown if listed, else one with an active thread,
    /// else the first.
    pub fn logged_in(&mut self, customer_id: &str, chats: &[LoginChat]) {
        self.customer_id = Some(customer_id.to_owned());
        self.logged_in = true;
        let shown = chats.iter().find(|c| Some(&c.chat_id) == self.chat_id.as_ref());
        let active = chats.iter().find(|c| c.has_active_thread == Some(true));
        if let Some(chat) = shown.or(active).or(chats.first()) {
            self.chat_id = Some(chat.chat_id.clone());
            self.active = chat.has_active_thread == Some(true);
        }
    }

    /// How to deliver the next message; `None` while it must wait: before the first login,
    /// unless the connection has ended for good (then the attempt fails and says so).
    pub fn next_send(&self, connection: &Connection) -> Option<SendPlan> {
        if !self.logged_in && !matches!(connection, Connection::Ended { .. }) {
            return None;
        }
        Some(match &self.chat_id {
            None => SendPlan::StartChat,
            Some(chat_id) if !self.active => SendPlan::ResumeChat { chat_id: chat_id.clone() },
            Some(chat_id) => SendPlan::SendEvent { chat_id: chat_id.clone() },
        })
    }

    /// Shows a message the visitor just wrote, before the server has it.
    pub fn add_pending(&mut self, key: &str, text: &str) {
        self.messages.push(Message {
            key: key.to_owned(),
            id: None,
            seq: None,
            author: Author::Visitor,
            text: text.to_owned(),
            created_at: None,
            delivery: Delivery::Sending,
        });
    }

    /// Marks our message `key` as not sent, keeping its text for a retry.
    pub fn fail(&mut self, key: &str, reason: &str) {
        if let Some(m) = self.messages.iter_mut().find(|m| m.key == key) {
            m.delivery = Delivery::Failed(reason.to_owned());
        }
    }

    /// Puts a failed message back to `Sending`; returns its text.
    pub fn retry(&mut self, key: &str) -> Option<String> {
        let m = self.messages.iter_mut().find(|m| m.key == key && matches!(m.delivery, Delivery::Failed(_)))?;
        m.delivery = Delivery::Sending;
        Some(m.text.clone())
    }

    /// Takes in a chat from `start_chat`, `resume_chat` or `incoming_chat`: the visitor's chat
    /// now, with its users and its thread's events merged with what is already shown.
    pub fn load_chat(&mut self, chat: &Chat) {
        self.chat_id = Some(chat.id.clone());
        if let Some(thread) = &chat.thread {
            self.active = thread.active;
        }
        self.load_history(chat);
    }

    /// Takes in a chat fetched with `get_chat`: its users and its thread's events only. Whether
    /// it is active stays as the login and the pushes since said: the answer may be older.
    pub fn load_history(&mut self, chat: &Chat) {
        self.learn_users(&chat.users);
        for event in chat.thread.iter().flat_map(|thread| &thread.events) {
            self.upsert(event);
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
                let new = self.upsert(&incoming.event);
                new && self.author_of(&incoming.event) != Author::Visitor
            }
            Push::IncomingChat(incoming) => {
                self.load_chat(&incoming.chat);
                false
            }
            Push::UserAddedToChat(added) => {
                self.learn_users(std::slice::from_ref(&added.user));
                false
            }
            Push::ChatDeactivated(deactivated) if Some(&deactivated.chat_id) == self.chat_id.as_ref() => {
                self.active = false;
                let key = format!("closed-{}", deactivated.thread_id);
                if !self.messages.iter().any(|m| m.key == key) {
                    self.insert_in_order(Message {
                        key,
                        id: None,
                        seq: None,
                        author: Author::System,
                        text: "This chat has ended. Write again any time to start a new one.".into(),
                        created_at: None,
                        delivery: Delivery::Sent,
                    });
                }
                false
            }
            _ => false,
        }
    }

    /// Adds or confirms the message for `event`, in its place. Returns true if it was not
    /// shown before.
    pub fn upsert(&mut self, event: &Event) -> bool {
        let Some(message) = self.message_from(event) else {
            return false;
        };
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
                existing.created_at = message.created_at.or(existing.created_at);
                existing.delivery = Delivery::Sent;
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
        let confirmed = self.messages.iter().rposition(|m| m.delivery == Delivery::Sent).map_or(0, |last| last + 1);
        let index = message
            .seq
            .and_then(|seq| self.messages[..confirmed].iter().position(|m| m.seq.is_some_and(|other| other > seq)))
            .unwrap_or(confirmed);
        self.messages.insert(index, message);
    }

    fn learn_users(&mut self, users: &[User]) {
        for user in users {
            if let User::Agent(agent) = user {
                let name = agent.name.clone().unwrap_or_else(|| "Agent".into());
                self.agent_names.insert(agent.id.clone(), name);
            }
        }
    }

    fn author_of(&self, event: &Event) -> Author {
        match (&event.body, event.author_id.as_deref()) {
            (EventBody::SystemMessage(_), _) => Author::System,
            (_, Some(id)) if Some(id) == self.customer_id.as_deref() => Author::Visitor,
            (_, Some(id)) => {
                Author::Agent { name: self.agent_names.get(id).cloned().unwrap_or_else(|| "Agent".into()) }
            }
            (_, None) => Author::System,
        }
    }

    fn message_from(&self, event: &Event) -> Option<Message> {
        let text = match &event.body {
            EventBody::Message(m) => m.text.clone(),
            EventBody::SystemMessage(m) => m.text.clone(),
            EventBody::File(f) => f.name.clone().unwrap_or_else(|| "File".into()),
            // Kinds of event this widget cannot show yet.
            EventBody::FilledForm(_) | EventBody::RichMessage(_) | EventBody::Unknown(_) => {
                return None;
            }
        };
        Some(Message {
            key: event.custom_id.clone().or_else(|| event.id.clone())?,
            id: event.id.clone(),
            seq: event.seq,
            author: self.author_of(event),
            text,
            created_at: event.created_at.clone(),
            delivery: Delivery::Sent,
        })
    }
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
        ChatState { customer_id: Some("me".into()), chat_id: Some("C".into()), active: true, ..Default::default() }
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
            thread: Some(Thread {
                id: "T".into(),
                created_at: "t".into(),
                active: true,
                user_ids: vec![],
                events: vec![],
                properties: None,
                access: None,
                previous_thread_id: None,
                next_thread_id: None,
                queue: None,
                tags: None,
                highlight: None,
            }),
        };
        s.load_chat(&chat);
        assert!(s.apply_push(&incoming(event("T_2", "a@x", "Hi!", None))));
        assert!(!s.apply_push(&incoming(event("T_2", "a@x", "Hi!", None))), "same event twice");
        assert_eq!(s.messages.len(), 1);
        assert_eq!(s.messages[0].author, Author::Agent { name: "Alex".into() });
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
        s.apply_push(&incoming(event("T_1", "a@x", "Hi", None)));
        assert_eq!(s.messages[0].author, Author::Agent { name: "Alex".into() });
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
        s.messages.iter().map(|m| m.text.as_str()).collect()
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
            thread: Some(Thread {
                id: "T".into(),
                created_at: "t".into(),
                active,
                user_ids: vec![],
                events,
                properties: None,
                access: None,
                previous_thread_id: None,
                next_thread_id: None,
                queue: None,
                tags: None,
                highlight: None,
            }),
        }
    }

    #[test]
    fn a_returning_visitor_s_first_message_goes_to_their_chat_as_soon_as_they_are_logged_in() {
        let mut s = ChatState::default();
        assert_eq!(s.next_send(&Connection::Connecting), None, "before the login: wait, do not start a chat");

        s.logged_in("me", &[login_chat("C", true)]);
        assert_eq!(s.customer_id.as_deref(), Some("me"));
        assert_eq!(s.next_send(&Connection::Connected), Some(SendPlan::SendEvent { chat_id: "C".into() }));

        let mut s = ChatState::default();
        s.logged_in("me", &[login_chat("C", false)]);
        assert_eq!(s.next_send(&Connection::Connected), Some(SendPlan::ResumeChat { chat_id: "C".into() }));

        let mut s = ChatState::default();
        s.logged_in("me", &[]);
        assert_eq!(s.next_send(&Connection::Connected), Some(SendPlan::StartChat), "a new visitor starts one");
    }

    #[test]
    fn before_the_first_login_sending_waits_unless_the_connection_is_over() {
        let s = ChatState::default();
        for waiting in [Connection::Connecting, Connection::Retrying { retry_in_secs: 3 }, Connection::Reconnecting] {
            assert_eq!(s.next_send(&waiting), None, "{waiting:?}");
        }
        // Nothing will come: the attempt fails (the SDK says it has ended) and the message says so.
        assert_eq!(s.next_send(&Connection::Ended { reason: "customer_banned".into() }), Some(SendPlan::StartChat));

        // After the first login, a reconnect does not hold messages back: they fail and can be retried.
        let mut s = ChatState::default();
        s.logged_in("me", &[login_chat("C", true)]);
        assert_eq!(s.next_send(&Connection::Reconnecting), Some(SendPlan::SendEvent { chat_id: "C".into() }));
    }

    #[test]
    fn the_login_picks_the_chat_shown_else_an_active_one_and_says_whether_it_is_active() {
        let mut s = ChatState::default();
        s.logged_in("me", &[login_chat("OLD", false), login_chat("C", true)]);
        assert_eq!((s.chat_id.as_deref(), s.active), (Some("C"), true), "the active one");

        // Reconnected after the chat was closed meanwhile: the login knows.
        s.logged_in("me", &[login_chat("C", false), login_chat("NEW", true)]);
        assert_eq!((s.chat_id.as_deref(), s.active), (Some("C"), false), "the chat shown stays");
    }

    #[test]
    fn the_history_loaded_after_login_adds_messages_but_does_not_overrule_newer_news() {
        let mut s = ChatState::default();
        s.logged_in("me", &[login_chat("C", false)]);
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
    fn the_composer_takes_messages_while_connected_or_connecting_for_the_first_time() {
        assert!(Connection::Connected.accepts_messages());
        assert!(Connection::Connecting.accepts_messages(), "held by the send queue until the login");
        for c in [
            Connection::Reconnecting,
            Connection::Retrying { retry_in_secs: 3 },
            Connection::Ended { reason: "x".into() },
        ] {
            assert!(!c.accepts_messages(), "{c:?}");
        }
    }

    #[test]
    fn every_connection_problem_has_a_notice() {
        assert_eq!(Connection::Connected.notice(), None);
        for c in [
            Connection::Connecting,
            Connection::Reconnecting,
            Connection::Retrying { retry_in_secs: 3 },
            Connection::Ended { reason: "x".into() },
        ] {
            assert!(c.notice().is_some(), "{c:?}");
        }
    }
}
