//! One connection for all of a site's tabs. A visitor with five tabs of a shop open is one
//! customer: one socket serves them all, and every tab shows the same conversation.
//!
//! The tabs elect a leader through a lock that one of them holds at a time (the browser's Web
//! Locks: released when the holder's page goes). The leader runs the ordinary driver and its
//! socket. The others are followers: their `Client` calls travel to the leader over a bus (a
//! `BroadcastChannel`), which makes them on its connection and sends back each answer to the
//! tab that asked; every event the leader's connection yields goes to every tab. A tab that
//! joins says hello and gets the current `Connected` (kept up to date with the chats, the
//! availability and the greeting since the login), so it loads the conversation like a fresh
//! login would, through the leader.
//!
//! When the leader's page goes, the lock passes to another tab, which starts its own driver
//! and announces itself; the followers fail what they had asked the old leader
//! (`CONNECTION_LOST`: the widget's outbox sends it again) and say hello to the new one.
//!
//! Messages are JSON text; a message that does not read (another version's tab) is ignored.
//! Nothing here touches the network: the leader's driver does, through its platform.

use crate::Client;
use crate::client::{Command, Control, Events, REQUEST_QUEUE, spawn_driver};
use crate::core::{Config, RawResponse, Reply};
use crate::error::SdkError;
use crate::event::ClientEvent;
use crate::platform::{BoxFuture, BoxStream, MaybeSend, Platform};
use crate::ticket::TicketForm;
use confab_protocol::Request;
use confab_protocol::action::{CustomerPage, LoginChat};
use confab_protocol::frame::RawPayload;
use confab_protocol::push::Push;
use futures::channel::{mpsc, oneshot};
use futures::future::FutureExt;
use futures::stream::FuturesUnordered;
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::task::Poll;

/// Where a tab posts messages for the site's other tabs (not for itself).
pub trait TabBus: MaybeSend + 'static {
    /// Sends `message` to every other tab of the site.
    fn post(&self, message: String);
}

/// What a tab needs to share a connection: the bus, the other tabs' messages, and a future
/// that resolves once this tab holds the leader's lock (and keeps it until the tab ends).
pub struct Tabs<B: TabBus> {
    /// Where this tab posts.
    pub bus: B,
    /// What the other tabs post, in order.
    pub messages: BoxStream<String>,
    /// Resolves when this tab becomes the leader.
    pub leadership: BoxFuture<()>,
}

#[allow(clippy::large_enum_variant)] // One at a time, straight to text.
#[derive(Serialize, Deserialize)]
enum TabMessage {
    /// A follower asks the leader for the connection's state.
    Hello {
        from: u64,
    },
    /// A tab became the leader: followers fail what they asked its predecessor, and say hello.
    Leader {
        from: u64,
    },
    /// Something that happened on the connection, for one tab (`to`) or every tab but one
    /// (`except`: the tab whose own call it answered, which has it as that call's answer).
    Event {
        to: Option<u64>,
        except: Option<u64>,
        event: ClientEvent,
    },
    Request {
        from: u64,
        id: u64,
        action: String,
        payload: RawPayload,
        settled_by: Option<String>,
    },
    CustomerPage {
        from: u64,
        id: u64,
        page: CustomerPage,
    },
    SneakPeek {
        chat_id: String,
        text: String,
    },
    Ticket {
        from: u64,
        id: u64,
        form: TicketForm,
    },
    Reply {
        to: u64,
        id: u64,
        result: Result<SharedReply, SdkError>,
    },
    TicketReply {
        to: u64,
        id: u64,
        result: Result<Value, SdkError>,
    },
    /// A follower's `connect()` / `disconnect()`, for the connection they share.
    Control {
        connect: bool,
        disconnect: bool,
    },
    /// The access token, for the followers' uploads (they go over HTTP from each tab).
    UploadToken {
        token: String,
    },
}

/// A `Reply` as text: a response's action and payload, a push's name and payload.
#[derive(Serialize, Deserialize)]
struct SharedReply {
    response: Option<(String, RawPayload)>,
    push: Option<(String, RawPayload)>,
}

impl SharedReply {
    fn from_reply(reply: Reply) -> Self {
        let raw = |r: RawResponse| (r.action, r.payload);
        match reply {
            Reply::Response(response) => Self { response: Some(raw(response)), push: None },
            Reply::Push { push, response } => {
                Self { response: response.map(raw), push: Some((push.name().to_owned(), push.payload())) }
            }
        }
    }

    fn into_reply(self) -> Result<Reply, SdkError> {
        let response = self.response.map(|(action, payload)| RawResponse { action, payload });
        match (self.push, response) {
            (Some((name, payload)), response) => {
                let push = Push::from_parts(&name, payload.as_deref())
                    .map_err(|e| SdkError::Protocol(format!("unreadable `{name}` from the leading tab: {e:?}")))?;
                Ok(Reply::Push { push, response })
            }
            (None, Some(response)) => Ok(Reply::Response(response)),
            (None, None) => Err(SdkError::Protocol("an empty answer from the leading tab".into())),
        }
    }
}

enum Following {
    Lead,
    Command(Option<Command>),
    Message(Option<String>),
    Control,
}

enum Leading {
    Command(Option<Command>),
    Event(Option<ClientEvent>),
    Message(Option<String>),
    Answer(Option<Answer>),
}

/// Who waits for an answer from the leader.
enum Waiting {
    Reply(oneshot::Sender<Result<Reply, SdkError>>),
    Ticket(oneshot::Sender<Result<Value, SdkError>>),
}

impl Waiting {
    fn fail(self, error: SdkError) {
        match self {
            Waiting::Reply(reply) => drop(reply.send(Err(error))),
            Waiting::Ticket(reply) => drop(reply.send(Err(error))),
        }
    }
}

/// Connects as one of the site's tabs on `platform`; returns at once, like `connect`.
pub(crate) fn connect_shared<P: Platform, B: TabBus>(platform: P, config: Config, tabs: Tabs<B>) -> (Client, Events) {
    let (platform, uploads) = crate::upload::tap(platform, &config);
    let (client, commands) = Client::new(uploads.clone());
    let (events_tx, events) = mpsc::unbounded();
    let tab = Tab {
        id: platform.random_seed(),
        bus: tabs.bus,
        messages: tabs.messages,
        events: events_tx,
        control: client.control().clone(),
        uploads,
    };
    P::spawn(Box::pin(tab.run(platform, config, commands, tabs.leadership)));
    (client, events)
}

struct Tab<B: TabBus> {
    id: u64,
    bus: B,
    messages: BoxStream<String>,
    events: mpsc::UnboundedSender<ClientEvent>,
    control: std::sync::Arc<Control>,
    uploads: std::sync::Arc<crate::upload::Uploads>,
}

impl<B: TabBus> Tab<B> {
    fn post(&self, message: &TabMessage) {
        if let Ok(text) = serde_json::to_string(message) {
            self.bus.post(text);
        }
    }

    async fn run<P: Platform>(
        mut self,
        platform: P,
        mut config: Config,
        mut commands: mpsc::Receiver<Command>,
        leadership: BoxFuture<()>,
    ) {
        let mut leadership = leadership.fuse();
        let mut waiting: HashMap<u64, Waiting> = HashMap::new();
        let mut next_id = 0;
        self.post(&TabMessage::Hello { from: self.id });
        // A follower until the lock is ours.
        loop {
            let input = {
                let control = futures::future::poll_fn(|cx| {
                    self.control.driver.register(cx.waker());
                    let flags = [&self.control.destroy, &self.control.disconnect, &self.control.connect];
                    if flags.iter().any(|flag| flag.load(Ordering::SeqCst)) { Poll::Ready(()) } else { Poll::Pending }
                });
                futures::select_biased! {
                    _ = leadership => Following::Lead,
                    command = commands.next() => Following::Command(command),
                    message = self.messages.next().fuse() => Following::Message(message),
                    _ = control.fuse() => Following::Control,
                }
            };
            match input {
                Following::Lead => break,
                Following::Command(Some(command)) => {
                    next_id += 1;
                    self.relay(command, next_id, &mut waiting);
                }
                // Every Client is gone.
                Following::Command(None) => return,
                Following::Message(Some(text)) => self.follow(&text, &mut waiting, &mut config),
                // No bus any more: no leader to reach, so lead alone.
                Following::Message(None) => break,
                Following::Control => {
                    if self.control.destroy.swap(false, Ordering::SeqCst) {
                        return;
                    }
                    let connect = self.control.connect.swap(false, Ordering::SeqCst);
                    let disconnect = self.control.disconnect.swap(false, Ordering::SeqCst);
                    self.post(&TabMessage::Control { connect, disconnect });
                }
            }
        }
        for (_, asked) in waiting.drain() {
            asked.fail(SdkError::ConnectionLost);
        }
        self.lead(platform, config, commands).await;
    }

    /// A follower's call, sent to the leader.
    fn relay(&self, command: Command, id: u64, waiting: &mut HashMap<u64, Waiting>) {
        let from = self.id;
        let message = match command {
            Command::Request { request, settled_by, reply } => {
                waiting.insert(id, Waiting::Reply(reply));
                let settled_by = settled_by.map(str::to_owned);
                TabMessage::Request {
                    from,
                    id,
                    action: request.name().to_owned(),
                    payload: request.payload(),
                    settled_by,
                }
            }
            Command::CustomerPage { page, reply } => {
                waiting.insert(id, Waiting::Reply(reply));
                TabMessage::CustomerPage { from, id, page }
            }
            Command::SneakPeek { chat_id, text } => TabMessage::SneakPeek { chat_id, text },
            Command::Ticket { form, reply } => {
                waiting.insert(id, Waiting::Ticket(reply));
                TabMessage::Ticket { from, id, form: *form }
            }
        };
        self.post(&message);
    }

    /// A message from the leader, to a follower.
    fn follow(&self, text: &str, waiting: &mut HashMap<u64, Waiting>, config: &mut Config) {
        let Ok(message) = serde_json::from_str::<TabMessage>(text) else { return };
        match message {
            TabMessage::Event { to, except, event } if to.is_none_or(|to| to == self.id) && except != Some(self.id) => {
                // Should this tab lead one day, its driver is the same visitor.
                if let ClientEvent::IdentityKept(identity) = &event {
                    config.identity = Some(identity.clone());
                }
                let _ = self.events.unbounded_send(event);
            }
            TabMessage::Reply { to, id, result } if to == self.id => {
                if let Some(Waiting::Reply(reply)) = waiting.remove(&id) {
                    let _ = reply.send(result.and_then(SharedReply::into_reply));
                }
            }
            TabMessage::TicketReply { to, id, result } if to == self.id => {
                if let Some(Waiting::Ticket(reply)) = waiting.remove(&id) {
                    let _ = reply.send(result);
                }
            }
            TabMessage::UploadToken { token } => self.uploads.set_token(token),
            TabMessage::Leader { .. } => {
                for (_, asked) in waiting.drain() {
                    asked.fail(SdkError::ConnectionLost);
                }
                self.post(&TabMessage::Hello { from: self.id });
            }
            _ => {}
        }
    }

    /// The leader: the driver and its socket, for this tab and the others.
    async fn lead<P: Platform>(mut self, platform: P, config: Config, mut commands: mpsc::Receiver<Command>) {
        let (mut driver, driver_commands) = mpsc::channel(REQUEST_QUEUE);
        let (driver_events_tx, mut driver_events) = mpsc::unbounded();
        spawn_driver(platform, config, driver_commands, self.control.clone(), driver_events_tx);
        self.post(&TabMessage::Leader { from: self.id });
        let mut current = Current::default();
        let mut answers: FuturesUnordered<BoxFuture<Answer>> = FuturesUnordered::new();
        loop {
            let input = {
                let answer = if answers.is_empty() {
                    futures::future::Either::Left(futures::future::pending())
                } else {
                    futures::future::Either::Right(answers.next())
                };
                futures::select_biased! {
                    command = commands.next() => Leading::Command(command),
                    event = driver_events.next() => Leading::Event(event),
                    message = self.messages.next().fuse() => Leading::Message(message),
                    answer = answer.fuse() => Leading::Answer(answer),
                }
            };
            let (command, answer) = match input {
                Leading::Command(Some(command)) => through_driver(command, None),
                // Every Client is gone: dropping `driver` ends the driver and its socket.
                Leading::Command(None) => return,
                Leading::Event(Some(event)) => {
                    self.hand_on(&mut current, event, None);
                    (None, None)
                }
                // The driver ended (destroyed): so does every tab's connection.
                Leading::Event(None) => return,
                Leading::Message(Some(text)) => self.serve(&text, &current),
                // Without a bus the leader serves only its own tab.
                Leading::Message(None) => {
                    self.messages = Box::pin(futures::stream::pending());
                    (None, None)
                }
                Leading::Answer(Some(answer)) => {
                    self.answer(&mut current, answer);
                    (None, None)
                }
                Leading::Answer(None) => (None, None),
            };
            answers.extend(answer);
            if let Some(command) = command
                && driver.send(command).await.is_err()
            {
                return;
            }
        }
    }

    /// An event of the shared connection, to this tab's app and to the other tabs (but
    /// `except`).
    fn hand_on(&self, current: &mut Current, event: ClientEvent, except: Option<u64>) {
        current.follow(&event);
        self.post(&TabMessage::Event { to: None, except, event: event.clone() });
        if matches!(event, ClientEvent::Connected { .. }) {
            self.share_upload_token();
        }
        if except != Some(self.id) {
            let _ = self.events.unbounded_send(event);
        }
    }

    /// A call's answer, to the tab that made it. A push that settled a call is that call's
    /// answer for its tab, and an event for every other tab (as it is, with a socket per tab,
    /// for the sockets that did not ask).
    fn answer(&self, current: &mut Current, answer: Answer) {
        match answer {
            Answer::Reply { asker, result } => {
                if let Ok(Reply::Push { push, .. }) = &result {
                    let event = match push {
                        Push::IncomingChat(incoming) => Some(ClientEvent::IncomingChat(incoming.clone())),
                        Push::IncomingEvent(incoming) => Some(ClientEvent::IncomingEvent(incoming.clone())),
                        _ => None,
                    };
                    let asking_tab = match &asker {
                        Asker::Here(_) => self.id,
                        Asker::Tab { from, .. } => *from,
                    };
                    if let Some(event) = event {
                        self.hand_on(current, event, Some(asking_tab));
                    }
                }
                match asker {
                    Asker::Here(reply) => drop(reply.send(result)),
                    Asker::Tab { from, id } => {
                        let result = result.map(SharedReply::from_reply);
                        self.post(&TabMessage::Reply { to: from, id, result });
                    }
                }
            }
            Answer::Ticket { from, id, result } => self.post(&TabMessage::TicketReply { to: from, id, result }),
        }
    }

    fn share_upload_token(&self) {
        if let Some(token) = self.uploads.token() {
            self.post(&TabMessage::UploadToken { token });
        }
    }

    /// A follower's message, to the leader: what to ask the driver, and the future of the
    /// answer.
    fn serve(&self, text: &str, current: &Current) -> (Option<Command>, Option<BoxFuture<Answer>>) {
        let Ok(message) = serde_json::from_str::<TabMessage>(text) else { return (None, None) };
        match message {
            TabMessage::Hello { from } => {
                for event in current.identity.iter().chain(&current.connected) {
                    self.post(&TabMessage::Event { to: Some(from), except: None, event: event.clone() });
                }
                if current.connected.is_some() {
                    self.share_upload_token();
                }
                (None, None)
            }
            TabMessage::Request { from, id, action, payload, settled_by } => {
                let request = match Request::from_parts(&action, payload.as_deref()) {
                    Ok(request) => request,
                    Err(e) => {
                        let error = SdkError::Protocol(format!("unreadable `{action}` from another tab: {e:?}"));
                        self.post(&TabMessage::Reply { to: from, id, result: Err(error) });
                        return (None, None);
                    }
                };
                // The push that settles it is one of the protocol's names, known statically.
                let settled_by = settled_by.and_then(|name| SETTLING_PUSHES.iter().copied().find(|p| *p == name));
                let (reply, _) = oneshot::channel();
                through_driver(Command::Request { request: Box::new(request), settled_by, reply }, Some((from, id)))
            }
            TabMessage::CustomerPage { from, id, page } => {
                let (reply, _) = oneshot::channel();
                through_driver(Command::CustomerPage { page, reply }, Some((from, id)))
            }
            TabMessage::Ticket { from, id, form } => {
                let (reply, answer) = oneshot::channel();
                let answer = answer.map(move |result| Answer::Ticket {
                    from,
                    id,
                    result: result.unwrap_or(Err(SdkError::Destroyed)),
                });
                (Some(Command::Ticket { form: Box::new(form), reply }), Some(Box::pin(answer)))
            }
            TabMessage::SneakPeek { chat_id, text } => (Some(Command::SneakPeek { chat_id, text }), None),
            TabMessage::Control { connect, disconnect } => {
                if disconnect {
                    self.control.connect.store(false, Ordering::SeqCst);
                    self.control.disconnect.store(true, Ordering::SeqCst);
                }
                if connect {
                    self.control.connect.store(true, Ordering::SeqCst);
                }
                self.control.driver.wake();
                (None, None)
            }
            _ => (None, None),
        }
    }
}

/// Who made a call the leader's driver answers: this tab's app, or another tab.
enum Asker {
    Here(oneshot::Sender<Result<Reply, SdkError>>),
    Tab { from: u64, id: u64 },
}

/// A call's answer from the driver, for whoever asked.
#[allow(clippy::large_enum_variant)] // A handful in flight.
enum Answer {
    Reply { asker: Asker, result: Result<Reply, SdkError> },
    Ticket { from: u64, id: u64, result: Result<Value, SdkError> },
}

/// The command to give the leader's driver, with its answer coming back through the leader
/// (which hands a push that settled it to the other tabs). `tab`: the other tab that asked,
/// and its call's id; `None` for this tab's own calls, whose replies are theirs already.
fn through_driver(command: Command, tab: Option<(u64, u64)>) -> (Option<Command>, Option<BoxFuture<Answer>>) {
    let answered = |reply: oneshot::Sender<Result<Reply, SdkError>>| {
        let (relayed, answer) = oneshot::channel();
        let asker = match tab {
            Some((from, id)) => Asker::Tab { from, id },
            None => Asker::Here(reply),
        };
        let answer: BoxFuture<Answer> = Box::pin(
            answer.map(move |result| Answer::Reply { asker, result: result.unwrap_or(Err(SdkError::Destroyed)) }),
        );
        (relayed, answer)
    };
    match command {
        Command::Request { request, settled_by, reply } => {
            let (reply, answer) = answered(reply);
            (Some(Command::Request { request, settled_by, reply }), Some(answer))
        }
        Command::CustomerPage { page, reply } => {
            let (reply, answer) = answered(reply);
            (Some(Command::CustomerPage { page, reply }), Some(answer))
        }
        other => (Some(other), None),
    }
}

/// The pushes that settle a request (`Action::SETTLED_BY` of the protocol's actions).
const SETTLING_PUSHES: &[&str] = &["incoming_chat", "incoming_event"];

/// What a tab joining now must be told: the identity to keep, and the last `Connected`, kept
/// true to what happened since (which chats have an active thread, whether agents are
/// available, the greeting on offer).
#[derive(Default)]
struct Current {
    identity: Option<ClientEvent>,
    connected: Option<ClientEvent>,
}

impl Current {
    fn follow(&mut self, event: &ClientEvent) {
        match event {
            ClientEvent::IdentityKept(_) => self.identity = Some(event.clone()),
            ClientEvent::Connected { .. } => self.connected = Some(event.clone()),
            ClientEvent::Disconnected { .. } => self.connected = None,
            _ => {}
        }
        let Some(ClientEvent::Connected { chats, availability, greeting, .. }) = &mut self.connected else { return };
        let mut set_active = |chat_id: &str, active: bool| match chats.iter_mut().find(|c| c.chat_id == chat_id) {
            Some(chat) => chat.has_active_thread = Some(active),
            None => chats.insert(
                0,
                LoginChat { chat_id: chat_id.to_owned(), has_unread_events: false, has_active_thread: Some(active) },
            ),
        };
        match event {
            ClientEvent::IncomingChat(incoming) => set_active(&incoming.chat.id, true),
            ClientEvent::ChatDeactivated(deactivated) => set_active(&deactivated.chat_id, false),
            ClientEvent::AvailabilityUpdated { availability: now } => *availability = *now,
            ClientEvent::IncomingGreeting(offered) => *greeting = Some(offered.clone()),
            ClientEvent::GreetingAccepted { .. } | ClientEvent::GreetingCanceled { .. } => *greeting = None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_protocol::ServerFrame;
    use confab_protocol::frame::PushFrame;

    /// What one tab posts, another reads back the same.
    fn through_the_bus(message: &TabMessage) -> TabMessage {
        let text = serde_json::to_string(message).expect("tab messages encode");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("tab message does not read back: {e}\n{text}"))
    }

    #[test]
    fn every_push_recorded_from_the_official_sdks_reaches_another_tab_unchanged() {
        let mut pushes = 0;
        for recording in [
            include_str!("../../protocol/tests/recorded/sdk2-basic.jsonl"),
            include_str!("../../protocol/tests/recorded/sdk4-basic.jsonl"),
        ] {
            for line in recording.lines() {
                let line: Value = serde_json::from_str(line).unwrap();
                if line["kind"] != "recv" || line["frame"]["type"] != "push" {
                    continue;
                }
                let Ok(ServerFrame::Push(PushFrame { push, .. })) = ServerFrame::decode(&line["frame"].to_string())
                else {
                    continue;
                };
                let event = match push {
                    Push::IncomingChat(p) => ClientEvent::IncomingChat(p),
                    Push::IncomingEvent(p) => ClientEvent::IncomingEvent(p),
                    Push::ChatDeactivated(p) => ClientEvent::ChatDeactivated(p),
                    Push::EventsMarkedAsSeen(p) => ClientEvent::EventsMarkedAsSeen(p),
                    Push::ThreadPropertiesUpdated(p) => ClientEvent::ThreadPropertiesUpdated(p),
                    _ => continue,
                };
                pushes += 1;
                let message = TabMessage::Event { to: None, except: None, event: event.clone() };
                let TabMessage::Event { event: read, .. } = through_the_bus(&message) else {
                    panic!("an event reads back as an event")
                };
                assert_eq!(read, event);
            }
        }
        assert!(pushes >= 5, "the recordings hold pushes: {pushes}");
    }
}
