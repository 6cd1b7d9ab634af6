//! The async client: [`Client`] sends requests, [`Events`] yields what happens, and a driver
//! task (spawned by the adapter) runs the sans-IO [`Core`] against a [`Platform`].
//!
//! The driver owns everything mutable; `Client` only holds the way to reach it, so it is cheap
//! to clone and to share across tasks or UI components.
//!
//! Between them, every queue is bounded except `Events`:
//! - requests travel through a channel of `REQUEST_QUEUE` slots behind one shared sender; a
//!   caller beyond that waits its turn, and the core refuses requests beyond
//!   `MAX_PENDING_REQUESTS` at once;
//! - `disconnect()` is a flag, not a message: asking twice is asking once;
//! - `Events` stays unbounded, see `connect`.

use crate::core::{Config, Core, Event, Io, Reply, RequestId};
use crate::error::Error;
use crate::platform::{Platform, Socket};
use confab_protocol::Request;
use confab_protocol::action::LoginChat;
use confab_protocol::action::{
    GetChatRequest, InitialChat, InitialThread, ListChatsRequest, ListChatsResponse, ListThreadsRequest,
    ListThreadsResponse, ResumeChatRequest, SendEventRequest, StartChatRequest,
};
use confab_protocol::entity::{Chat, Customer, Event as ChatEvent, Thread};
use confab_protocol::push::Push;
use confab_protocol::token::TokenReply;
use futures::channel::{mpsc, oneshot};
use futures::future::{Either, FutureExt};
use futures::lock::Mutex;
use futures::task::AtomicWaker;
use futures::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;

/// What the client user sees, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// Logged in (also after every reconnect), with the customer's chats: whether each has an
    /// active thread is known at once, no request needed.
    Connected { customer: Customer, chats: Vec<LoginChat>, online: bool },
    /// A connection attempt failed; another follows after `retry_in`.
    ConnectFailed { error: Error, retry_in: Duration },
    /// The connection dropped (`will_reconnect`) or ended.
    Disconnected { reason: String, will_reconnect: bool },
    /// A server push: `incoming_event`, `incoming_chat`, `chat_deactivated`, …
    Push(Push),
}

/// A request on its way to the driver, with where its result goes.
type Call = (Box<Request>, oneshot::Sender<Result<Reply, Error>>);

/// Requests the driver has not picked up yet. The driver picks them up as soon as it is not
/// writing to the socket, so this only fills when a caller fires many at once.
const REQUEST_QUEUE: usize = 16;

/// Sends requests. Clone it freely; all clones drive the same connection.
#[derive(Clone)]
pub struct Client {
    /// One sender shared by every clone: each `mpsc::Sender` has a slot of its own beyond the
    /// channel's capacity, so a sender per clone (or per call) would leave it unbounded.
    calls: Arc<Mutex<mpsc::Sender<Call>>>,
    disconnect: Arc<DisconnectFlag>,
    /// Where uploads go, with the driver's latest access token (`upload.rs`).
    pub(crate) uploads: Arc<crate::upload::Uploads>,
}

/// `Client::disconnect` → the driver.
#[derive(Default)]
struct DisconnectFlag {
    requested: AtomicBool,
    driver: AtomicWaker,
}

/// The stream of [`ClientEvent`]s. Ends when the client is dropped or destroyed.
pub type Events = mpsc::UnboundedReceiver<ClientEvent>;

/// Connects on `platform`: spawns the driver and returns the handle and its events.
pub(crate) fn connect<P: Platform>(platform: P, config: Config) -> (Client, Events) {
    let (platform, uploads) = crate::upload::tap(platform, &config);
    let (calls_tx, calls) = mpsc::channel(REQUEST_QUEUE);
    // Unbounded on purpose: the driver must never wait for the app. An app may await a reply
    // while not reading events (the widget did, on `Connected`); a driver blocked on a full
    // `Events` would never read that reply: a deadlock. Dropping events instead would lose
    // messages. What fills it is the server's pushes, which a connected app reads as they come.
    let (events_tx, events) = mpsc::unbounded();
    let disconnect = Arc::new(DisconnectFlag::default());
    let mut core = Core::new(config, platform.random_seed());
    core.connect(platform.now());
    let driver = Driver {
        platform,
        core,
        calls,
        disconnect: disconnect.clone(),
        events: events_tx,
        pending: HashMap::new(),
        socket: None,
    };
    P::spawn(Box::pin(driver.run()));
    (Client { calls: Arc::new(Mutex::new(calls_tx)), disconnect, uploads }, events)
}

impl Client {
    async fn call(&self, request: Request) -> Result<Reply, Error> {
        let (tx, rx) = oneshot::channel();
        // Waits while the queue is full; the lock is released before waiting for the answer.
        self.calls.lock().await.send((Box::new(request), tx)).await.map_err(|_| Error::Destroyed)?;
        rx.await.map_err(|_| Error::Destroyed)?
    }

    /// Sends a request answered by a plain response, and decodes its payload as `T`.
    async fn call_response<T: serde::de::DeserializeOwned>(&self, request: Request) -> Result<T, Error> {
        match self.call(request).await? {
            Reply::Response(response) => response.decode(),
            other => Err(unexpected(&other)),
        }
    }

    async fn call_chat(&self, request: Request) -> Result<Chat, Error> {
        match self.call(request).await? {
            Reply::Chat(chat) => Ok(chat),
            other => Err(unexpected(&other)),
        }
    }

    /// Starts the customer's chat, optionally with a first message. Resolves with the chat
    /// once the server's `incoming_chat` arrives.
    pub async fn start_chat(&self, first_message: Option<&str>) -> Result<Chat, Error> {
        let chat = InitialChat { thread: first_message.map(initial_thread), ..InitialChat::default() };
        self.start_chat_with(StartChatRequest { chat: Some(chat), active: Some(true), continuous: None }).await
    }

    /// `start_chat` with every parameter.
    pub async fn start_chat_with(&self, request: StartChatRequest) -> Result<Chat, Error> {
        self.call_chat(Request::StartChat(request)).await
    }

    /// Opens a new thread in an inactive chat (the official SDK's `activateChat`).
    pub async fn resume_chat(&self, chat_id: &str, first_message: Option<&str>) -> Result<Chat, Error> {
        let chat = InitialChat {
            id: Some(chat_id.to_owned()),
            thread: first_message.map(initial_thread),
            ..InitialChat::default()
        };
        self.resume_chat_with(ResumeChatRequest { chat, active: Some(true), continuous: None }).await
    }

    /// `resume_chat` with every parameter.
    pub async fn resume_chat_with(&self, request: ResumeChatRequest) -> Result<Chat, Error> {
        self.call_chat(Request::ResumeChat(request)).await
    }

    /// Alias of [`Client::resume_chat`], the v3.2 name.
    pub async fn activate_chat(&self, chat_id: &str, first_message: Option<&str>) -> Result<Chat, Error> {
        self.resume_chat(chat_id, first_message).await
    }

    /// Sends an event; resolves with the event as stored (id, author, time).
    pub async fn send_event(&self, chat_id: &str, event: ChatEvent) -> Result<ChatEvent, Error> {
        let request = SendEventRequest { chat_id: chat_id.to_owned(), event, attach_to_last_thread: None };
        match self.call(Request::SendEvent(request)).await? {
            Reply::Event { event, .. } => Ok(event),
            other => Err(unexpected(&other)),
        }
    }

    /// The chat with its latest thread (or `thread_id`).
    pub async fn get_chat(&self, chat_id: &str, thread_id: Option<&str>) -> Result<Chat, Error> {
        let request = GetChatRequest { chat_id: chat_id.to_owned(), thread_id: thread_id.map(str::to_owned) };
        self.call_response(Request::GetChat(request)).await
    }

    pub async fn list_chats(&self, request: ListChatsRequest) -> Result<ListChatsResponse, Error> {
        self.call_response(Request::ListChats(request)).await
    }

    pub async fn list_threads(&self, request: ListThreadsRequest) -> Result<ListThreadsResponse, Error> {
        self.call_response(Request::ListThreads(request)).await
    }

    /// The chat's history, newest page first (the official SDK's `getChatHistory`).
    pub fn get_chat_history(&self, chat_id: &str) -> ChatHistory {
        ChatHistory { client: self.clone(), chat_id: chat_id.to_owned(), next_page: None, done: false }
    }

    /// Closes the connection; pending requests fail with `ConnectionLost`. Requests already
    /// handed to the driver are sent first (and fail with it).
    pub fn disconnect(&self) {
        self.disconnect.requested.store(true, Ordering::SeqCst);
        self.disconnect.driver.wake();
    }
}

/// A reply of the wrong kind for its request (a server bug). Names the kind only: formatting
/// whole replies would pull `Debug` of every wire type into the widget's wasm.
fn unexpected(reply: &Reply) -> Error {
    let kind = match reply {
        Reply::Chat(_) => "a chat",
        Reply::Event { .. } => "an event",
        Reply::Response(response) => response.action.as_str(),
    };
    Error::Protocol(format!("unexpected reply: {kind}"))
}

fn initial_thread(text: &str) -> InitialThread {
    InitialThread { events: Some(vec![ChatEvent::message(text)]), properties: None }
}

/// Pages through a chat's threads, newest first; each page's threads are oldest first
/// (protocol.md §8.1).
pub struct ChatHistory {
    client: Client,
    chat_id: String,
    next_page: Option<String>,
    done: bool,
}

/// Events asked for per history page.
pub const HISTORY_PAGE_EVENTS: u32 = 25;

impl ChatHistory {
    /// The next (older) page, or `None` when the history is exhausted.
    pub async fn next(&mut self) -> Result<Option<Vec<Thread>>, Error> {
        if self.done {
            return Ok(None);
        }
        let request = match self.next_page.take() {
            Some(page_id) => ListThreadsRequest {
                chat_id: self.chat_id.clone(),
                page_id: Some(page_id),
                sort_order: None,
                limit: None,
                min_events_count: None,
            },
            None => ListThreadsRequest {
                chat_id: self.chat_id.clone(),
                page_id: None,
                sort_order: None,
                limit: None,
                min_events_count: Some(HISTORY_PAGE_EVENTS),
            },
        };
        let page = self.client.list_threads(request).await?;
        self.done = page.next_page_id.is_none();
        self.next_page = page.next_page_id;
        let mut threads = page.threads;
        threads.reverse();
        Ok(Some(threads))
    }
}

/// Runs the core: turns its `Io` into platform calls and platform results into core inputs.
struct Driver<P: Platform> {
    platform: P,
    core: Core,
    calls: mpsc::Receiver<Call>,
    disconnect: Arc<DisconnectFlag>,
    events: mpsc::UnboundedSender<ClientEvent>,
    pending: HashMap<RequestId, oneshot::Sender<Result<Reply, Error>>>,
    socket: Option<Socket>,
}

/// One thing that happened, found by waiting on everything at once.
enum Input {
    /// `None`: every `Client` is gone.
    Call(Option<Call>),
    Disconnect,
    Token(Result<String, String>),
    Opened(Result<Socket, crate::platform::SocketError>),
    Frame(Option<String>),
    Timeout,
}

impl<P: Platform> Driver<P> {
    async fn run(mut self) {
        let mut token_request: Option<crate::platform::BoxFuture<Result<String, String>>> = None;
        let mut opening: Option<crate::platform::BoxFuture<Result<Socket, crate::platform::SocketError>>> = None;
        loop {
            while let Some(io) = self.core.poll_io() {
                match io {
                    Io::FetchToken => {
                        let config = self.core.config();
                        token_request = Some(self.platform.fetch_token(config.token_url(), config.token_request()));
                    }
                    Io::OpenSocket { url } => opening = Some(self.platform.open_socket(url)),
                    Io::CloseSocket => {
                        opening = None;
                        if let Some(mut socket) = self.socket.take() {
                            let _ = socket.outgoing.close().await;
                        }
                    }
                    Io::Send(text) => {
                        let sent = match &mut self.socket {
                            Some(socket) => socket.outgoing.send(text).await.is_ok(),
                            None => false,
                        };
                        if !sent {
                            self.socket = None;
                            self.core.handle_close(self.platform.now());
                        }
                    }
                }
            }
            while let Some(event) = self.core.poll_event() {
                self.deliver(event);
            }

            let now = self.platform.now();
            let input = {
                let call = self.calls.next().map(Input::Call);
                let disconnect = futures::future::poll_fn(|cx| {
                    self.disconnect.driver.register(cx.waker());
                    if self.disconnect.requested.swap(false, Ordering::SeqCst) {
                        Poll::Ready(Input::Disconnect)
                    } else {
                        Poll::Pending
                    }
                });
                let token = optional(token_request.as_mut()).map(Input::Token);
                let opened = optional(opening.as_mut()).map(Input::Opened);
                let frame = match &mut self.socket {
                    Some(socket) => Either::Left(socket.incoming.next()),
                    None => Either::Right(futures::future::pending()),
                }
                .map(Input::Frame);
                let timeout = match self.core.poll_timeout() {
                    Some(at) => Either::Left(self.platform.sleep(at.saturating_sub(now))),
                    None => Either::Right(futures::future::pending()),
                }
                .map(|_| Input::Timeout);
                // Calls before the disconnect flag: a call queued before `disconnect()` is
                // handled before it.
                futures::select_biased! {
                    input = call.fuse() => input,
                    input = disconnect.fuse() => input,
                    input = frame.fuse() => input,
                    input = token.fuse() => input,
                    input = opened.fuse() => input,
                    input = timeout.fuse() => input,
                }
            };

            let now = self.platform.now();
            match input {
                Input::Call(Some((request, reply))) => match self.core.request(*request, now) {
                    Ok(id) => {
                        self.pending.insert(id, reply);
                    }
                    Err(error) => {
                        let _ = reply.send(Err(error));
                    }
                },
                Input::Disconnect => self.core.disconnect(),
                Input::Call(None) => {
                    // Every Client is gone: nobody can ask anything any more.
                    self.core.disconnect();
                    if let Some(mut socket) = self.socket.take() {
                        let _ = socket.outgoing.close().await;
                    }
                    return;
                }
                Input::Token(result) => {
                    token_request = None;
                    self.core.handle_token(parse_token(result), now);
                }
                Input::Opened(Ok(socket)) => {
                    opening = None;
                    self.socket = Some(socket);
                    self.core.handle_open(now);
                }
                Input::Opened(Err(_)) => {
                    opening = None;
                    self.core.handle_close(now);
                }
                Input::Frame(Some(text)) => self.core.handle_text(&text, now),
                Input::Frame(None) => {
                    self.socket = None;
                    self.core.handle_close(now);
                }
                Input::Timeout => self.core.handle_timeout(now),
            }
        }
    }

    /// Hands an event to whoever waits for it: a settled request to its caller, the rest to
    /// `Events`.
    fn deliver(&mut self, event: Event) {
        let now = self.platform.now();
        let event = match event {
            Event::Settled { id, result } => {
                if let Some(reply) = self.pending.remove(&id) {
                    let _ = reply.send(result);
                }
                return;
            }
            Event::Connected { customer, chats, online } => ClientEvent::Connected { customer, chats, online },
            Event::ConnectFailed { error, retry_at } => {
                ClientEvent::ConnectFailed { error, retry_in: retry_at.saturating_sub(now) }
            }
            Event::Disconnected { reason, will_reconnect } => ClientEvent::Disconnected { reason, will_reconnect },
            Event::Push(push) => ClientEvent::Push(push),
        };
        // A dropped `Events` is fine: requests still work.
        let _ = self.events.unbounded_send(event);
    }
}

/// A future that never resolves when there is nothing to wait for.
fn optional<F: std::future::Future + Unpin>(
    future: Option<&mut F>,
) -> impl std::future::Future<Output = F::Output> + '_ {
    match future {
        Some(future) => Either::Left(future),
        None => Either::Right(futures::future::pending()),
    }
}

/// Reads the token endpoint's body (protocol.md §2.2: the body decides, not the status).
fn parse_token(result: Result<String, String>) -> Result<confab_protocol::token::TokenResponse, Error> {
    let body = result.map_err(Error::Token)?;
    match serde_json::from_str::<TokenReply>(&body) {
        Ok(TokenReply::Granted(token)) => Ok(token),
        Ok(TokenReply::Refused(refused)) => Err(Error::Token(
            refused.identity_exception.or(refused.oauth_exception).unwrap_or_else(|| "refused".into()),
        )),
        Err(e) => Err(Error::Token(format!("unreadable token response: {e}"))),
    }
}

/// The driver on a fake platform: a socket made of channels, a token at once, tokio timers.
#[cfg(all(test, feature = "native"))]
mod tests {
    use super::*;
    use crate::platform::{BoxFuture, SocketError};
    use confab_protocol::action::{DynamicConfig, LoginResponse};
    use confab_protocol::entity::Statistics;
    use confab_protocol::frame::ResponseFrame;
    use confab_protocol::{RequestFrame, Response, ServerFrame};
    use std::time::Instant;

    /// The server's end of one socket the client opened.
    struct ServerEnd {
        from_client: mpsc::Receiver<String>,
        to_client: mpsc::UnboundedSender<String>,
    }

    impl ServerEnd {
        /// The next frame the client sends, decoded.
        async fn receive(&mut self) -> RequestFrame {
            let text = self.from_client.next().await.expect("the client sends a frame");
            RequestFrame::decode(&text).expect("a frame the protocol reads")
        }

        fn answer(&self, request: &RequestFrame, response: Response) {
            let frame: ServerFrame = ResponseFrame::ok(request.request_id.clone(), response).into();
            self.to_client.unbounded_send(frame.encode()).expect("the client listens");
        }
    }

    struct Fake {
        epoch: Instant,
        sockets: mpsc::UnboundedSender<ServerEnd>,
    }

    impl Platform for Fake {
        fn now(&self) -> Duration {
            self.epoch.elapsed()
        }

        fn sleep(&self, duration: Duration) -> BoxFuture<()> {
            Box::pin(tokio::time::sleep(duration))
        }

        fn open_socket(&self, _url: String) -> BoxFuture<Result<Socket, SocketError>> {
            let (outgoing, from_client) = mpsc::channel(0);
            let (to_client, incoming) = mpsc::unbounded();
            let _ = self.sockets.unbounded_send(ServerEnd { from_client, to_client });
            let outgoing = outgoing.sink_map_err(|e| SocketError(e.to_string()));
            Box::pin(futures::future::ready(Ok(Socket { incoming: Box::pin(incoming), outgoing: Box::pin(outgoing) })))
        }

        fn fetch_token(&self, _url: String, _body: String) -> BoxFuture<Result<String, String>> {
            let token = r#"{"access_token":"tok-1","entity_id":"cust-1","expires_in":28800,"token_type":"Bearer"}"#;
            Box::pin(futures::future::ready(Ok(token.to_owned())))
        }

        fn random_seed(&self) -> u64 {
            7
        }

        fn spawn(task: BoxFuture<()>) {
            tokio::spawn(task);
        }
    }

    fn login_response() -> Response {
        let customer = Customer { id: "cust-1".into(), statistics: Some(Statistics::default()), ..Customer::default() };
        Response::Login(LoginResponse::new(customer, vec![], DynamicConfig::new(1, vec![1])))
    }

    /// A client logged in on the fake platform, and the server's end of its socket.
    async fn connected() -> (Client, Events, ServerEnd) {
        let (sockets, mut opened) = mpsc::unbounded();
        let (client, mut events) =
            connect(Fake { epoch: Instant::now(), sockets }, Config::new("http://fake", "org-1"));
        let mut server = opened.next().await.expect("a socket is opened");
        let login = server.receive().await;
        server.answer(&login, login_response());
        assert!(matches!(events.next().await, Some(ClientEvent::Connected { .. })));
        (client, events, server)
    }

    #[tokio::test]
    async fn disconnect_fails_the_pending_request_and_asking_twice_is_asking_once() {
        let (client, _events, mut server) = connected().await;
        let waiting = tokio::spawn({
            let client = client.clone();
            async move { client.list_chats(ListChatsRequest::default()).await }
        });
        let request = server.receive().await;
        assert!(matches!(request.request, Request::ListChats(_)), "the request went out first");

        client.disconnect();
        client.disconnect();
        assert_eq!(waiting.await.unwrap().unwrap_err(), Error::ConnectionLost);
        assert_eq!(client.list_chats(ListChatsRequest::default()).await.unwrap_err(), Error::NoConnection);
    }

    #[tokio::test]
    async fn requests_from_many_clones_each_get_their_own_answer() {
        let (client, _events, mut server) = connected().await;
        // More callers than the request queue has slots: the extra ones wait their turn.
        let callers: Vec<_> = (0..2 * REQUEST_QUEUE)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.list_chats(ListChatsRequest::default()).await })
            })
            .collect();
        for n in 0..2 * REQUEST_QUEUE as u64 {
            let request = server.receive().await;
            server.answer(
                &request,
                Response::ListChats(ListChatsResponse {
                    chats_summary: vec![],
                    total_chats: n,
                    next_page_id: None,
                    previous_page_id: None,
                }),
            );
        }
        let mut totals = Vec::new();
        for caller in callers {
            totals.push(caller.await.unwrap().expect("answered").total_chats);
        }
        totals.sort();
        assert_eq!(totals, (0..2 * REQUEST_QUEUE as u64).collect::<Vec<_>>(), "each answer reached one caller");
    }
}
