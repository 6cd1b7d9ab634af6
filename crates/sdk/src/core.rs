//! The sans-IO client core: bytes and `now` in; frames to send, the next deadline and typed
//! events out (the shape of quinn-proto).
//!
//! The core never touches a socket, a clock, a timer or a random source. An adapter drives it:
//!
//! ```text
//! adapter → core:  connect(now) · request(req, now) · handle_token(result, now)
//!                  handle_open(now) · handle_text(text, now) · handle_close(now) · handle_timeout(now)
//! core → adapter:  poll_io() (fetch a token, open/close the socket, send a frame)
//!                  poll_event() (connected, disconnected, pushes, settled requests)
//!                  poll_timeout() (when to call handle_timeout next)
//! ```
//!
//! Time is a `Duration` since an epoch of the adapter's choosing; jitter comes from a seed the
//! adapter passes in. So login timeouts, request deadlines, reconnect backoff and token expiry
//! are tested with a simulated clock, deterministically (tests/core.rs).
//!
//! Behaviour follows protocol.md: login races a 15 s timeout (§4.1); requests answered by a push
//! carrying their `request_id` resolve from that push (§3.4); `customer_disconnected` reasons
//! reconnect, refresh the token or end the client (§6.3). Our additions to §6.6, which has
//! neither: every request has a deadline (`REQUEST_TIMEOUT`; a lost answer would otherwise
//! hang its caller forever), and at most `MAX_PENDING_REQUESTS` are in flight.
//!
//! Every reconnect waits a jittered, growing delay (`Backoff`): socket drops and failed opens
//! `min(1 s·2ⁿ ± 50 %, 5 s)` (§6.1), failed logins `min(300 ms·2ⁿ ± 30 %, 60 s)` (§6.2), a busy
//! server `min(1 s·2ⁿ ± 30 %, 60 s)` (§6.2's slower strategy), and the server sending us away
//! (`customer_disconnected` with `access_token_expired`, `internal_error`, any reason that
//! reconnects) `min(100 ms·2ⁿ ± 50 %, 60 s)`. That last one departs from §6.3's flat 100 ms,
//! which turns a server that logs clients in and at once sends them away into a reconnect storm;
//! the first retry stays as quick, now jittered so that clients sent away together do not all
//! return on the same millisecond.
//!
//! `n` counts the attempts that failed since the connection was last *stable*: logged in and
//! up for `STABLE_CONNECTION`. Neither an open socket (§6.1 resets on it) nor a successful login
//! (§6.2 resets on it) is enough: a server that accepts and then drops or sends us away at once
//! would otherwise be retried at the first, shortest delay forever.
//!
//! Each chat event reaches the app once (`seen.rs`): an `incoming_event` already handed on, by
//! its chat and `seq` (or `id`), is dropped, whether it came as a push, as the push that settled
//! a `send_event` or inside an `incoming_chat`, before or after a reconnect. Events fetched
//! with `get_chat` or `list_threads` are the app's to merge: the core does not decode those.

use crate::error::Error;
use crate::seen::SeenEvents;
use confab_protocol::action::{Application, CustomerPage, CustomerUpdate, LoginChat, LoginRequest, LoginResponse};
use confab_protocol::entity::{Chat, Customer, Event as ChatEvent};
use confab_protocol::frame::{self, PushFrame, RawBody, RawPayload, RawServerFrame};
use confab_protocol::push::{CustomerDisconnected, Push};
use confab_protocol::token::TokenResponse;
use confab_protocol::{ApiError, ErrorType, Request, RequestFrame};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// Login must succeed within this (protocol.md §4.1).
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(15);
/// Every other request must settle within this, or fails with `Error::RequestTimeout`.
/// protocol.md §6.6: the official SDK times only the login (15 s, its `REQUEST_TIMEOUT`) and
/// lets other requests wait forever; we give them the same 15 s. A Confab request is one
/// SQLite transaction, so an answer this late means it was lost (the settling push never
/// sent, a half-dead socket), and the caller deserves an error it can show or retry.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Requests in flight at once; one more fails at once with `Error::TooManyPendingRequests`
/// rather than queueing without bound. protocol.md §6.6: the official SDK has no such limit
/// (only the server's `pending_requests_limit_reached`). 64 is far above what a chat client
/// has in flight (the widget: one send and one load), and caps what a stalled server can make
/// a client hold to 64 callers per `REQUEST_TIMEOUT`.
pub const MAX_PENDING_REQUESTS: usize = 64;
/// A connection that stays logged in this long has proved the server healthy: the failures
/// before it stop counting towards the next delay. Longer than the kick-and-retry cycles it must
/// catch (milliseconds) and than the socket backoff's cap, short enough that a visitor whose
/// network drops every few minutes always reconnects at the first, quickest delay.
pub const STABLE_CONNECTION: Duration = Duration::from_secs(30);
/// A token this close to expiry is refreshed before use.
pub const TOKEN_EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// What the client connects to and as whom.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Confab server's HTTP origin, e.g. `https://chat.example.com`.
    pub server_url: String,
    pub organization_id: String,
    pub client_id: String,
    /// Sent with `login`: the visitor's name, email, session fields.
    pub customer: Option<CustomerUpdate>,
    /// Sent with `login`: the page the visitor is on.
    pub page: Option<CustomerPage>,
    pub referrer: Option<String>,
}

impl Config {
    pub fn new(server_url: impl Into<String>, organization_id: impl Into<String>) -> Self {
        Self {
            server_url: server_url.into().trim_end_matches('/').to_owned(),
            organization_id: organization_id.into(),
            client_id: "confab".into(),
            customer: None,
            page: None,
            referrer: None,
        }
    }

    /// The token endpoint (`POST`).
    pub fn token_url(&self) -> String {
        format!("{}/v2/customer/token", self.server_url)
    }

    /// The RTM socket URL: the server URL with a `ws` scheme.
    pub fn socket_url(&self) -> String {
        let base = if let Some(rest) = self.server_url.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.server_url.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.server_url.clone()
        };
        format!("{base}/v3.5/customer/rtm/ws?organization_id={}", self.organization_id)
    }

    /// The token request body (JSON).
    pub fn token_request(&self) -> String {
        let request = confab_protocol::token::TokenRequest::cookie_grant(&self.organization_id, &self.client_id);
        serde_json::to_string(&request).expect("token requests always encode")
    }
}

/// Identifies a request until it settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

impl RequestId {
    fn wire(self) -> String {
        format!("r{}", self.0)
    }

    fn parse(wire: &str) -> Option<Self> {
        wire.strip_prefix('r')?.parse().ok().map(RequestId)
    }
}

/// What the adapter must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Io {
    /// `POST Config::token_request()` to `Config::token_url()` with credentials (cookies);
    /// report with `handle_token`.
    FetchToken,
    /// Open a WebSocket to `url`; report `handle_open`, or `handle_close` on failure.
    OpenSocket { url: String },
    /// Close the socket; do not report `handle_close` for it.
    CloseSocket,
    /// Send this text frame.
    Send(String),
}

/// The value a request settles with.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `start_chat` / `resume_chat`: the chat from `incoming_chat`.
    Chat(Chat),
    /// `send_event`: the event as stored, from `incoming_event`.
    Event { chat_id: String, thread_id: String, event: ChatEvent },
    /// Every other request: the response payload, decoded by the caller who knows its type.
    Response(RawResponse),
}

/// A response payload as received (JSON text). Decoding it where its type is known keeps
/// decoders of responses a client never asks for out of its build (the widget's wasm, notably).
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub action: String,
    pub payload: RawPayload,
}

impl RawResponse {
    pub fn decode<T: serde::de::DeserializeOwned>(self) -> Result<T, Error> {
        frame::decode(self.payload.as_deref())
            .map_err(|e| Error::Protocol(format!("unreadable `{}` response: {e}", self.action)))
    }
}

/// Same action and the same JSON text.
impl PartialEq for RawResponse {
    fn eq(&self, other: &Self) -> bool {
        let text = |p: &RawPayload| p.as_deref().map(|raw| raw.get().to_owned());
        self.action == other.action && text(&self.payload) == text(&other.payload)
    }
}

/// What the client user sees.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Logged in (again). `online`: agents are available. Each chat's `has_active_thread` is
    /// filled from the response's own when the server gave none for the chat (§4.3).
    Connected { customer: Customer, chats: Vec<LoginChat>, online: bool },
    /// An attempt to connect failed; the core retries at `retry_at`.
    ConnectFailed { error: Error, retry_at: Duration },
    /// The connection was lost or ended (protocol.md §11.3 reasons: `connection_lost`,
    /// or a `customer_disconnected` reason).
    Disconnected { reason: String, will_reconnect: bool },
    /// A push from the server (not the requester's copy, which settles the request).
    Push(Push),
    /// A request settled.
    Settled { id: RequestId, result: Result<Reply, Error> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Socket {
    Closed,
    Opening,
    Open,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not started, or paused by `disconnect()`.
    Idle,
    /// Getting a token and a socket, then logging in.
    Connecting,
    Connected,
    /// Ended for good (banned, identity changed, …).
    Destroyed,
}

/// How a pending request settles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SettleBy {
    Response,
    /// The push with the request's id: `incoming_chat` or `incoming_event`.
    Push,
}

/// A request sent and not yet settled.
#[derive(Debug, Clone, Copy)]
struct Pending {
    settle_by: SettleBy,
    /// Past this it settles with `Error::RequestTimeout`.
    deadline: Duration,
}

#[derive(Debug, Clone)]
struct Token {
    response: TokenResponse,
    expires_at: Duration,
}

/// The client state machine.
pub struct Core {
    config: Config,
    phase: Phase,
    socket: Socket,
    token: Option<Token>,
    fetching_token: bool,
    customer_id: Option<String>,
    next_id: u64,
    pending: BTreeMap<RequestId, Pending>,
    login: Option<(RequestId, Duration)>,
    reconnect_at: Option<Duration>,
    /// Since when the current connection is logged in.
    connected_at: Option<Duration>,
    /// Connection attempts that failed since the connection was last stable.
    failures: u32,
    rng: u64,
    /// Kept across reconnects: the server may push again what we already handed on.
    seen: SeenEvents,
    io: VecDeque<Io>,
    events: VecDeque<Event>,
}

impl Core {
    /// `seed` feeds backoff jitter; any value works, a random one spreads reconnects out.
    pub fn new(config: Config, seed: u64) -> Self {
        Self {
            config,
            phase: Phase::Idle,
            socket: Socket::Closed,
            token: None,
            fetching_token: false,
            customer_id: None,
            next_id: 1,
            pending: BTreeMap::new(),
            login: None,
            reconnect_at: None,
            connected_at: None,
            failures: 0,
            rng: splitmix64(seed).max(1),
            seen: SeenEvents::default(),
            io: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn is_connected(&self) -> bool {
        self.phase == Phase::Connected
    }

    /// The customer id, once a token named it.
    pub fn customer_id(&self) -> Option<&str> {
        self.customer_id.as_deref()
    }

    pub fn poll_io(&mut self) -> Option<Io> {
        self.io.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When `handle_timeout` must be called next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let requests = self.pending.values().map(|pending| pending.deadline);
        [self.login.map(|(_, at)| at), self.reconnect_at].into_iter().flatten().chain(requests).min()
    }

    /// Starts connecting: a token and a socket in parallel, then `login`.
    pub fn connect(&mut self, now: Duration) {
        if matches!(self.phase, Phase::Idle) {
            self.phase = Phase::Connecting;
            self.attempt(now);
        }
    }

    /// Stops, without a `Disconnected` event; `connect` starts again, afresh (no backoff from
    /// earlier failures). Pending requests fail with `ConnectionLost`.
    pub fn disconnect(&mut self) {
        if self.phase == Phase::Destroyed {
            return;
        }
        self.phase = Phase::Idle;
        self.reconnect_at = None;
        self.connected_at = None;
        self.failures = 0;
        self.close_socket();
        self.fail_pending(Error::ConnectionLost);
    }

    /// Queues a request. Fails at once when not connected (`NO_CONNECTION`, protocol.md §4.1)
    /// or when `MAX_PENDING_REQUESTS` are already in flight. It settles within
    /// `REQUEST_TIMEOUT` of `now`, one way or another.
    pub fn request(&mut self, request: Request, now: Duration) -> Result<RequestId, Error> {
        match self.phase {
            Phase::Connected => {}
            Phase::Destroyed => return Err(Error::Destroyed),
            _ => return Err(Error::NoConnection),
        }
        if self.pending.len() >= MAX_PENDING_REQUESTS {
            return Err(Error::TooManyPendingRequests);
        }
        let settle_by = match request {
            Request::StartChat(_) | Request::ResumeChat(_) | Request::ActivateChat(_) | Request::SendEvent(_) => {
                SettleBy::Push
            }
            _ => SettleBy::Response,
        };
        let id = self.send(request, None);
        self.pending.insert(id, Pending { settle_by, deadline: now + REQUEST_TIMEOUT });
        Ok(id)
    }

    fn send(&mut self, request: Request, version: Option<&str>) -> RequestId {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        let mut frame = RequestFrame::new(id.wire(), request);
        frame.version = version.map(str::to_owned);
        self.io.push_back(Io::Send(frame.encode()));
        id
    }

    pub fn handle_token(&mut self, result: Result<TokenResponse, Error>, now: Duration) {
        self.fetching_token = false;
        if self.phase != Phase::Connecting {
            return;
        }
        match result {
            Ok(response) => {
                if let Some(known) = &self.customer_id
                    && *known != response.entity_id
                {
                    return self.destroy("identity_mismatch");
                }
                self.customer_id = Some(response.entity_id.clone());
                let expires_at = now + Duration::from_secs(response.expires_in);
                self.token = Some(Token { response, expires_at });
                self.maybe_login(now);
            }
            Err(error) => {
                self.close_socket();
                let delay = self.backoff(LOGIN_BACKOFF);
                self.retry_later(error, now, delay);
            }
        }
    }

    pub fn handle_open(&mut self, now: Duration) {
        if self.socket != Socket::Opening {
            return;
        }
        // An open socket does not reset the backoff: see `STABLE_CONNECTION`.
        self.socket = Socket::Open;
        self.maybe_login(now);
    }

    /// The socket closed (or failed to open) without the core asking.
    pub fn handle_close(&mut self, now: Duration) {
        if self.socket == Socket::Closed {
            return;
        }
        let was_open = self.socket == Socket::Open;
        self.socket = Socket::Closed;
        self.login = None;
        self.fail_pending(Error::ConnectionLost);
        match self.phase {
            Phase::Connected => {
                self.connection_ended(now);
                self.phase = Phase::Connecting;
                self.events.push_back(Event::Disconnected { reason: "connection_lost".into(), will_reconnect: true });
                let delay = self.backoff(SOCKET_BACKOFF);
                self.schedule(now + delay);
            }
            Phase::Connecting if self.reconnect_at.is_none() => {
                let delay = self.backoff(SOCKET_BACKOFF);
                let error = if was_open { Error::ConnectionLost } else { Error::NoConnection };
                self.retry_later(error, now, delay);
            }
            _ => {}
        }
    }

    pub fn handle_text(&mut self, text: &str, now: Duration) {
        // Frames we cannot read are ignored, as official clients do.
        let Ok(RawServerFrame { request_id, action, body }) = RawServerFrame::decode(text) else {
            return;
        };
        match body {
            RawBody::Response(result) => self.on_response(request_id, action, result, now),
            RawBody::Push(payload) => {
                // So are pushes we do not know.
                if let Ok(push) = Push::from_parts(&action, payload.as_deref()) {
                    self.on_push(PushFrame { request_id, push }, now);
                }
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Duration) {
        let overdue: Vec<RequestId> =
            self.pending.iter().filter(|(_, pending)| now >= pending.deadline).map(|(id, _)| *id).collect();
        for id in overdue {
            // Its answer, should it come after all, finds nothing pending and is ignored; a
            // settling push then reaches the app as an ordinary push (the event did happen).
            self.settle(id, Err(Error::RequestTimeout));
        }
        if let Some((_, at)) = self.login
            && now >= at
        {
            self.login = None;
            self.close_socket();
            let delay = self.backoff(LOGIN_BACKOFF);
            self.retry_later(Error::RequestTimeout, now, delay);
        }
        if let Some(at) = self.reconnect_at
            && now >= at
        {
            self.reconnect_at = None;
            if self.phase == Phase::Connecting {
                self.attempt(now);
            }
        }
    }

    /// One connection attempt: a token if we lack a fresh one, and a socket.
    fn attempt(&mut self, now: Duration) {
        let fresh = self.token.as_ref().is_some_and(|t| now + TOKEN_EXPIRY_MARGIN < t.expires_at);
        if !fresh {
            self.token = None;
            if !self.fetching_token {
                self.fetching_token = true;
                self.io.push_back(Io::FetchToken);
            }
        }
        if self.socket == Socket::Closed {
            self.socket = Socket::Opening;
            self.io.push_back(Io::OpenSocket { url: self.config.socket_url() });
        }
        self.maybe_login(now);
    }

    fn maybe_login(&mut self, now: Duration) {
        if self.phase != Phase::Connecting || self.socket != Socket::Open || self.login.is_some() {
            return;
        }
        let Some(token) = &self.token else { return };
        let login = LoginRequest {
            token: token.response.login_token(),
            customer: self.config.customer.clone(),
            application: Some(Application {
                name: "confab_sdk".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                channel_type: None,
            }),
            customer_page: self.config.page.clone(),
            referrer: self.config.referrer.clone(),
            ..LoginRequest::default()
        };
        let id = self.send(Request::Login(login), Some(confab_protocol::API_VERSION));
        self.login = Some((id, now + LOGIN_TIMEOUT));
    }

    fn on_response(
        &mut self,
        request_id: Option<String>,
        action: String,
        result: Result<RawPayload, ApiError>,
        now: Duration,
    ) {
        let Some(id) = request_id.as_deref().and_then(RequestId::parse) else {
            return;
        };
        if self.login.is_some_and(|(login, _)| login == id) {
            let login = match result {
                Ok(payload) => match frame::decode::<LoginResponse>(payload.as_deref()) {
                    Ok(login) => Ok(login),
                    // Unreadable: ignored like any unreadable frame; the login timeout retries
                    // (what official clients do, protocol.md §4.3).
                    Err(_) => return,
                },
                Err(error) => Err(error),
            };
            self.login = None;
            return self.on_login(login, now);
        }
        let Some(settle_by) = self.pending.get(&id).map(|pending| pending.settle_by) else {
            return;
        };
        match (result, settle_by) {
            (Err(error), _) => self.settle(id, Err(Error::Api(error))),
            (Ok(payload), SettleBy::Response) => self.settle(id, Ok(Reply::Response(RawResponse { action, payload }))),
            // Settled by the push that follows (protocol.md §3.4).
            (Ok(_), SettleBy::Push) => {}
        }
    }

    fn on_login(&mut self, result: Result<LoginResponse, ApiError>, now: Duration) {
        match result {
            Ok(login) => {
                self.phase = Phase::Connected;
                self.connected_at = Some(now);
                // §4.3: a chat's `has_active_thread` falls back to the response's own.
                let mut chats = login.chats;
                for chat in &mut chats {
                    chat.has_active_thread = chat.has_active_thread.or(login.has_active_thread);
                }
                self.events.push_back(Event::Connected {
                    customer: login.customer.0,
                    chats,
                    online: login.__priv_dynamic_config.is_online(),
                });
            }
            Err(error) => match error.kind {
                ErrorType::CustomerBanned => self.destroy("customer_banned"),
                ErrorType::Other(ref kind) if kind == "wrong_product_version" => self.destroy("wrong_product_version"),
                _ => {
                    if error.kind == ErrorType::Authentication {
                        // The token was refused: get a new one.
                        self.token = None;
                    }
                    self.close_socket();
                    let delay = self.backoff(LOGIN_BACKOFF);
                    self.retry_later(Error::Api(error), now, delay);
                }
            },
        }
    }

    fn on_push(&mut self, frame: PushFrame, now: Duration) {
        let first_sighting = self.record_events(&frame.push);
        let id = frame.request_id.as_deref().and_then(RequestId::parse);
        if let Some(id) =
            id.filter(|id| self.pending.get(id).is_some_and(|pending| pending.settle_by == SettleBy::Push))
        {
            match frame.push {
                Push::IncomingChat(incoming) => {
                    return self.settle(id, Ok(Reply::Chat(incoming.chat)));
                }
                Push::IncomingEvent(incoming) => {
                    return self.settle(
                        id,
                        Ok(Reply::Event {
                            chat_id: incoming.chat_id,
                            thread_id: incoming.thread_id,
                            event: incoming.event,
                        }),
                    );
                }
                _ => {}
            }
        }
        match frame.push {
            Push::CustomerDisconnected(disconnected) => self.on_customer_disconnected(disconnected, now),
            // A copy of an event already handed on. (A copy that settles a request still
            // settles it, above: its caller waits for it.)
            Push::IncomingEvent(_) if !first_sighting => {}
            push => self.events.push_back(Event::Push(push)),
        }
    }

    /// Records the chat events `push` carries; false for an `incoming_event` seen before.
    fn record_events(&mut self, push: &Push) -> bool {
        match push {
            Push::IncomingEvent(incoming) => self.seen.first_sighting(&incoming.chat_id, &incoming.event),
            Push::IncomingChat(incoming) => {
                let chat = &incoming.chat;
                for event in chat.thread.iter().flat_map(|thread| &thread.events) {
                    self.seen.first_sighting(&chat.id, event);
                }
                true
            }
            _ => true,
        }
    }

    /// protocol.md §6.3.
    fn on_customer_disconnected(&mut self, push: CustomerDisconnected, now: Duration) {
        const DESTROYING: &[&str] = &[
            "customer_banned",
            "customer_temporarily_blocked",
            "license_not_found",
            "product_version_changed",
            "too_many_connections",
            "unsupported_version",
            "logged_out_remotely",
        ];
        let reason = push.reason;
        if DESTROYING.contains(&reason.as_str()) {
            return self.destroy(&reason);
        }
        let was_connected = self.phase == Phase::Connected;
        if was_connected {
            self.connection_ended(now);
        }
        let delay = match reason.as_str() {
            // The server is busy or restarting.
            "service_temporarily_unavailable" | "too_many_unauthorized_connections" => {
                self.backoff(BUSY_SERVER_BACKOFF)
            }
            "access_token_expired" => {
                self.token = None;
                self.backoff(SENT_AWAY_BACKOFF)
            }
            _ => self.backoff(SENT_AWAY_BACKOFF),
        };
        self.close_socket();
        self.fail_pending(Error::ConnectionLost);
        self.phase = Phase::Connecting;
        if was_connected {
            self.events.push_back(Event::Disconnected { reason, will_reconnect: true });
        }
        self.schedule(now + delay);
    }

    fn settle(&mut self, id: RequestId, result: Result<Reply, Error>) {
        if self.pending.remove(&id).is_some() {
            self.events.push_back(Event::Settled { id, result });
        }
    }

    fn fail_pending(&mut self, error: Error) {
        for id in std::mem::take(&mut self.pending).into_keys() {
            self.events.push_back(Event::Settled { id, result: Err(error.clone()) });
        }
    }

    fn close_socket(&mut self) {
        self.login = None;
        if self.socket != Socket::Closed {
            self.socket = Socket::Closed;
            self.io.push_back(Io::CloseSocket);
        }
    }

    fn destroy(&mut self, reason: &str) {
        self.close_socket();
        self.fail_pending(Error::Destroyed);
        self.phase = Phase::Destroyed;
        self.reconnect_at = None;
        self.events.push_back(Event::Disconnected { reason: reason.into(), will_reconnect: false });
    }

    fn retry_later(&mut self, error: Error, now: Duration, delay: Duration) {
        self.schedule(now + delay);
        self.events.push_back(Event::ConnectFailed { error, retry_at: now + delay });
    }

    fn schedule(&mut self, at: Duration) {
        self.reconnect_at = Some(at);
    }

    /// The logged-in connection ended: if it lasted, the failures before it are forgiven.
    fn connection_ended(&mut self, now: Duration) {
        if let Some(since) = self.connected_at.take()
            && now.saturating_sub(since) >= STABLE_CONNECTION
        {
            self.failures = 0;
        }
    }

    /// The delay before the next attempt, which counts as one more failure.
    fn backoff(&mut self, backoff: Backoff) -> Duration {
        let n = self.failures.min(16);
        self.failures = self.failures.saturating_add(1);
        // Jitter first, then cap: capping first would keep long outages at (cap ± jitter)
        // instead of settling on the cap.
        let base = (backoff.base.as_millis() as u64).saturating_mul(1 << n);
        let jittered = self.jitter(base, backoff.jitter_percent);
        Duration::from_millis(jittered).min(backoff.cap)
    }

    /// `value ± up to percent %`, from the seeded xorshift generator.
    fn jitter(&mut self, value: u64, percent: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let span = value * percent / 100;
        if span == 0 {
            return value;
        }
        let offset = self.rng % (2 * span + 1);
        value - span + offset
    }
}

/// A reconnect delay: `min(base · 2ⁿ ± up to jitter_percent %, cap)`.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    base: Duration,
    jitter_percent: u64,
    cap: Duration,
}

/// protocol.md §6.1: the socket dropped or would not open.
const SOCKET_BACKOFF: Backoff =
    Backoff { base: Duration::from_millis(1000), jitter_percent: 50, cap: Duration::from_secs(5) };
/// protocol.md §6.2: the login failed or timed out, or no token.
const LOGIN_BACKOFF: Backoff =
    Backoff { base: Duration::from_millis(300), jitter_percent: 30, cap: Duration::from_secs(60) };
/// protocol.md §6.2, v4's slower strategy: `service_temporarily_unavailable`,
/// `too_many_unauthorized_connections`.
const BUSY_SERVER_BACKOFF: Backoff =
    Backoff { base: Duration::from_millis(1000), jitter_percent: 30, cap: Duration::from_secs(60) };
/// `customer_disconnected` with a reason that reconnects (protocol.md §6.3 says a flat 100 ms;
/// see the module's notes): the first retry as quick, the cap of a failed login, since a server
/// that sends a logged-in client away has in effect refused it.
const SENT_AWAY_BACKOFF: Backoff =
    Backoff { base: Duration::from_millis(100), jitter_percent: 50, cap: Duration::from_secs(60) };

/// Spreads any seed (0, 1, 2, … included) over the generator's whole state (splitmix64).
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce5_e9b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
