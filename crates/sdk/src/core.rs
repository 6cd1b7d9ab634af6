//! The sans-IO client core: bytes and `now` in; frames to send, the next deadline and typed
//! events out (the shape of quinn-proto).
//!
//! The core never touches a socket, a clock, a timer or a random source. An adapter drives it:
//!
//! ```text
//! adapter → core:  connect(now) · request(req, now) · handle_token(result, now)
//!                  handle_open(now) · handle_text(text, now) · handle_close(now) · handle_timeout(now)
//!                  handle_online(now) · handle_offline(now) · disconnect() · destroy()
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
//!
//! Pushes become typed [`ClientEvent`]s here (`on_push`), with what §12 derives from them
//! (`user_data`, `queue_position_updated` from `lc2.queue_pos`, `availability_updated`). Which
//! push settles which request comes from the protocol's action table (`Action::SETTLED_BY`),
//! never from a list of names here.
//!
//! Disconnections (§6.2, §6.3, v4's column): `access_token_expired` and unknown reasons
//! reconnect (the former with a fresh token); `customer_banned`,
//! `customer_temporarily_blocked`, `license_not_found`, `product_version_changed`,
//! `too_many_connections`, `unsupported_version`, `logged_out_remotely` and the login errors
//! `customer_banned`, `wrong_product_version` (and a token naming another customer,
//! `identity_mismatch`) destroy the client; `users_limit_reached` (login) pauses it until
//! `connect()`; `service_temporarily_unavailable` and `too_many_unauthorized_connections` fail
//! pending requests with their own codes and retry at the slower pace; `misdirected_connection`
//! fails them with `MISDIRECTED_CONNECTION` and reconnects without a `Disconnected`.
//! `inactivity_timeout` pauses until `connect()`: the SDK docs say the SDK does not reconnect
//! after it, and we follow the docs (the JS SDK reconnects anyway, protocol.md §14.1).
//!
//! Keep-alive: after `KEEPALIVE_INTERVAL` without sending, a `ping`. Network changes
//! (`handle_offline` / `handle_online`, §6.7): `connection_unstable`; then a `ping` and a
//! `ONLINE_PROBE_TIMEOUT` for any frame, `connection_recovered` or a forced reconnect.

use crate::error::SdkError;
use crate::event::{Availability, ClientEvent, DisconnectOutcome};
use crate::seen::SeenEvents;
use confab_protocol::action::{
    Action, Application, CustomerPage, CustomerUpdate, GetChatRequest, GroupStatus, ListChatsRequest, LoginRequest,
    LoginResponse, PingRequest, SendSneakPeekRequest, UpdateCustomerPageRequest,
};
use confab_protocol::entity::{Agent, Customer, Queue, User};
use confab_protocol::frame::{self, PushFrame, RawBody, RawPayload, RawServerFrame};
use confab_protocol::push::{
    CustomerDisconnected, IncomingMulticast, Push, QueuePositionUpdated, ThreadPropertiesUpdated,
};
use confab_protocol::token::{KeptIdentity, TokenResponse};
use confab_protocol::{ApiError, ErrorType, Request, RequestFrame};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

/// `customer_disconnected` reasons (protocol.md §6.3), and the client's own `connection_lost`.
pub mod reason {
    pub use confab_protocol::push::reason::*;
    /// The socket closed while connected (§6.1).
    pub const CONNECTION_LOST: &str = "connection_lost";
    /// The product version changed; the client destroys itself.
    pub const PRODUCT_VERSION_CHANGED: &str = "product_version_changed";
}

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
/// After this long without sending anything while logged in, the client sends a `ping`.
/// protocol.md §5: the RTM docs ask for one at least every 15 s; SDK 2.0.1 pings after 30 s of
/// silence (or on each 25 s SockJS heartbeat), SDK 4.0.2 never. 15 s satisfies the docs, keeps
/// idle sockets alive through proxies that close quiet ones at 30 s or more, and costs a
/// visitor one small frame per 15 s of silence.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(15);
/// After the browser's `online` event, the time any frame has to arrive (protocol.md §6.7).
pub const ONLINE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Users remembered for `user_data` deduplication, and chats remembered as active. A customer
/// has one chat and a handful of agents; past this the memory starts afresh (a user may then be
/// handed on once more).
pub const MAX_KNOWN: usize = 256;
/// Token refusals that are passing (protocol.md §6.2: `server_error`,
/// `temporarily_unavailable`; Confab's token endpoint adds `too_many_requests` when it rate
/// limits): the client retries. Any other refusal ends it.
pub const RETRYABLE_TOKEN_REFUSALS: &[&str] = &["server_error", "temporarily_unavailable", "too_many_requests"];

/// What the client connects to and as whom.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Confab server's HTTP origin, e.g. `https://chat.example.com`.
    pub server_url: String,
    /// The organization (license) whose chat this is.
    pub organization_id: String,
    /// The token request's `client_id`.
    pub client_id: String,
    /// Sent with `login`: the visitor's name, email, session fields.
    pub customer: Option<CustomerUpdate>,
    /// Sent with `login`: the page the visitor is on.
    pub page: Option<CustomerPage>,
    /// Sent with `login`: the page the visitor came from.
    pub referrer: Option<String>,
    /// Sent with `login`: the group to chat with (the customer's group otherwise).
    pub group_id: Option<u32>,
    /// Keep the visitor's identity in the app instead of the server's cookies, for browsers
    /// that block third-party cookies: tokens then return it (`ClientEvent::IdentityKept`).
    pub keep_identity: bool,
    /// The identity kept from an earlier `ClientEvent::IdentityKept`, sent with every token
    /// request (it wins over the cookies).
    pub identity: Option<KeptIdentity>,
}

impl Config {
    /// A config for `organization_id` on the server at `server_url` (no trailing slash needed).
    ///
    /// ```
    /// let config = confab_sdk::Config::new("https://chat.example.com/", "org-1");
    /// assert_eq!(config.socket_url(), "wss://chat.example.com/v3.5/customer/rtm/ws?organization_id=org-1");
    /// ```
    pub fn new(server_url: impl Into<String>, organization_id: impl Into<String>) -> Self {
        Self {
            server_url: server_url.into().trim_end_matches('/').to_owned(),
            organization_id: organization_id.into(),
            client_id: "confab".into(),
            customer: None,
            page: None,
            referrer: None,
            group_id: None,
            keep_identity: false,
            identity: None,
        }
    }

    /// The token endpoint (`POST`).
    pub fn token_url(&self) -> String {
        format!("{}/v2/customer/token", self.server_url)
    }

    /// The ticket form endpoint (`POST`, protocol.md §7.2).
    pub fn ticket_url(&self) -> String {
        format!("{}/v2/tickets/new", self.server_url)
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
        let mut request = confab_protocol::token::TokenRequest::cookie_grant(&self.organization_id, &self.client_id);
        request.keep_identity = self.keep_identity;
        request.identity = self.identity.clone();
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
    OpenSocket {
        /// The socket URL ([`Config::socket_url`]).
        url: String,
    },
    /// Close the socket. Report nothing: the core already counts it closed.
    CloseSocket,
    /// Send this text frame.
    Send(String),
}

/// The value a request settles with.
#[allow(clippy::large_enum_variant)] // Boxing would cost every match; events are few.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Settled by its response: the payload, decoded by the caller who knows its type.
    Response(RawResponse),
    /// Settled by the push carrying its `request_id` (the action's `SETTLED_BY`, protocol.md
    /// §3.4), with the direct response that came before it, if one did.
    Push {
        /// `incoming_chat` for `start_chat`/`resume_chat`, `incoming_event` for `send_event`.
        push: Push,
        /// The successful response that preceded the push.
        response: Option<RawResponse>,
    },
}

/// A response payload as received (JSON text). Decoding it where its type is known keeps
/// decoders of responses a client never asks for out of its build (the widget's wasm, notably).
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The `action` of the response frame.
    pub action: String,
    /// The payload, undecoded.
    pub payload: RawPayload,
}

impl RawResponse {
    /// Decodes the payload as `T`.
    pub fn decode<T: serde::de::DeserializeOwned>(self) -> Result<T, SdkError> {
        frame::decode(self.payload.as_deref())
            .map_err(|e| SdkError::Protocol(format!("unreadable `{}` response: {e}", self.action)))
    }
}

/// Same action and the same JSON text.
impl PartialEq for RawResponse {
    fn eq(&self, other: &Self) -> bool {
        let text = |p: &RawPayload| p.as_deref().map(|raw| raw.get().to_owned());
        self.action == other.action && text(&self.payload) == text(&other.payload)
    }
}

/// What the core tells its driver.
#[allow(clippy::large_enum_variant)] // Boxing would cost every match; events are few.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Something for the app's event stream.
    Event(ClientEvent),
    /// A request settled: its caller gets `result`.
    Settled {
        /// The request, as `request` returned it.
        id: RequestId,
        /// Its value or error.
        result: Result<Reply, SdkError>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Socket {
    Closed,
    Opening,
    Open,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not started, or paused (`disconnect()`, `users_limit_reached`, `inactivity_timeout`).
    Idle,
    /// Getting a token and a socket, then logging in.
    Connecting,
    Connected,
    /// Ended for good (banned, identity changed, `destroy()`, …).
    Destroyed,
}

/// A request sent and not yet settled.
#[derive(Debug, Clone)]
struct Pending {
    /// The push that settles it (`Action::SETTLED_BY`); `None`: its response does.
    settled_by: Option<&'static str>,
    /// Past this it settles with `SdkError::RequestTimeout`.
    deadline: Duration,
    /// A push-settled request's successful response, kept until the push comes.
    response: Option<RawResponse>,
    /// The request's action: only a response of that name is its answer.
    action: &'static str,
}

#[derive(Debug, Clone)]
struct Token {
    response: TokenResponse,
    expires_at: Duration,
}

/// A `users` list, read from a response without decoding the rest (`get_chat`).
#[derive(serde::Deserialize)]
struct UsersOnly {
    #[serde(default)]
    users: Vec<User>,
}

/// `list_chats`, read only for its users and which chats are active.
#[derive(serde::Deserialize)]
struct SummariesOnly {
    #[serde(default)]
    chats_summary: Vec<SummaryOnly>,
}

#[derive(serde::Deserialize)]
struct SummaryOnly {
    id: String,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    users: Vec<User>,
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
    /// The page the login in flight (or the last one) carried.
    login_page: Option<CustomerPage>,
    reconnect_at: Option<Duration>,
    /// Since when the current connection is logged in.
    connected_at: Option<Duration>,
    /// When the last frame was sent (keep-alive).
    last_sent: Duration,
    /// After an `online` signal: the deadline for any frame to arrive.
    probe: Option<Duration>,
    /// Connection attempts that failed since the connection was last stable.
    failures: u32,
    rng: u64,
    /// The customer's group (`customer_groups.monitoring.id` of the last login).
    group: Option<u32>,
    /// The region the server last sent us to (`misdirected_connection`'s `data.region`).
    region: Option<String>,
    /// From `customer_side_storage_updated`; sent back with each login.
    side_storage: Option<Map<String, Value>>,
    /// Chats known active (from `incoming_chat`, `list_chats`, `chat_deactivated`).
    active_chats: BTreeSet<String>,
    /// Users handed on as `user_data`, as handed on.
    users: BTreeMap<String, User>,
    /// Kept across reconnects: the server may push again what we already handed on.
    seen: SeenEvents,
    io: VecDeque<Io>,
    events: VecDeque<Output>,
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
            login_page: None,
            reconnect_at: None,
            connected_at: None,
            last_sent: Duration::ZERO,
            probe: None,
            failures: 0,
            rng: splitmix64(seed).max(1),
            group: None,
            region: None,
            side_storage: None,
            active_chats: BTreeSet::new(),
            users: BTreeMap::new(),
            seen: SeenEvents::default(),
            io: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// What the client connects to (the page as `update_customer_page` last set it).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Logged in now.
    pub fn is_connected(&self) -> bool {
        self.phase == Phase::Connected
    }

    /// Ended for good: every request fails with `SDK_DESTROYED`, no IO follows.
    pub fn is_destroyed(&self) -> bool {
        self.phase == Phase::Destroyed
    }

    /// The customer id, once a token named it.
    pub fn customer_id(&self) -> Option<&str> {
        self.customer_id.as_deref()
    }

    /// The region named by the last `misdirected_connection`, if any.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The current access token, if the core holds one that has not expired at `now`.
    pub fn access_token(&self, now: Duration) -> Option<&TokenResponse> {
        self.token.as_ref().filter(|t| now < t.expires_at).map(|t| &t.response)
    }

    /// The next thing the adapter must do.
    pub fn poll_io(&mut self) -> Option<Io> {
        self.io.pop_front()
    }

    /// The next event or settled request.
    pub fn poll_event(&mut self) -> Option<Output> {
        self.events.pop_front()
    }

    /// When `handle_timeout` must be called next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let requests = self.pending.values().map(|pending| pending.deadline);
        [self.login.map(|(_, at)| at), self.reconnect_at, self.probe, self.keepalive_at()]
            .into_iter()
            .flatten()
            .chain(requests)
            .min()
    }

    fn keepalive_at(&self) -> Option<Duration> {
        (self.phase == Phase::Connected && self.socket == Socket::Open).then(|| self.last_sent + KEEPALIVE_INTERVAL)
    }

    /// Starts connecting: a token and a socket in parallel, then `login`. Also resumes after
    /// `disconnect()` or a pause (`users_limit_reached`, `inactivity_timeout`). Does nothing
    /// when connecting, connected or destroyed.
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
        self.pause_quietly();
        self.fail_pending(SdkError::ConnectionLost);
    }

    /// Ends the client for good, without a `Disconnected` event: pending requests fail with
    /// `SDK_DESTROYED`, and so does every later request.
    pub fn destroy(&mut self) {
        if self.phase == Phase::Destroyed {
            return;
        }
        self.close_socket();
        self.fail_pending(SdkError::Destroyed);
        self.phase = Phase::Destroyed;
        self.reconnect_at = None;
        self.probe = None;
    }

    /// Queues a typed request: the action's `SETTLED_BY` says whether its response or a push
    /// settles it. See [`Core::request_raw`].
    pub fn request<A: Action>(&mut self, request: A, now: Duration) -> Result<RequestId, SdkError> {
        self.request_raw(request.into_request(), A::SETTLED_BY, now)
    }

    /// Queues a request. Fails at once when not connected (`NO_CONNECTION`, protocol.md §4.1),
    /// destroyed (`SDK_DESTROYED`) or when `MAX_PENDING_REQUESTS` are already in flight. It
    /// settles within `REQUEST_TIMEOUT` of `now`, one way or another: by its response, or
    /// (`settled_by`) by the push of that name carrying its `request_id`.
    pub fn request_raw(
        &mut self,
        request: Request,
        settled_by: Option<&'static str>,
        now: Duration,
    ) -> Result<RequestId, SdkError> {
        match self.phase {
            Phase::Connected => {}
            Phase::Destroyed => return Err(SdkError::Destroyed),
            _ => return Err(SdkError::NoConnection),
        }
        if self.pending.len() >= MAX_PENDING_REQUESTS {
            return Err(SdkError::TooManyPendingRequests);
        }
        let action = request.name();
        let id = self.send(request, None, now);
        self.pending.insert(id, Pending { settled_by, deadline: now + REQUEST_TIMEOUT, response: None, action });
        Ok(id)
    }

    /// `set_sneak_peek`: sent only when connected and the chat is known active (from
    /// `incoming_chat`, `list_chats`, `chat_deactivated`); its answer is ignored. Returns
    /// whether it was sent.
    pub fn sneak_peek(&mut self, chat_id: &str, text: &str, now: Duration) -> bool {
        if self.phase != Phase::Connected || !self.active_chats.contains(chat_id) {
            return false;
        }
        let request = SendSneakPeekRequest { chat_id: chat_id.to_owned(), sneak_peek_text: text.to_owned() };
        self.send(request.into_request(), None, now);
        true
    }

    /// `update_customer_page`: remembered for every later login's `customer_page`, and sent
    /// now when connected (then it settles like any request; `Ok(None)` otherwise).
    pub fn update_customer_page(&mut self, page: CustomerPage, now: Duration) -> Result<Option<RequestId>, SdkError> {
        if self.phase == Phase::Destroyed {
            return Err(SdkError::Destroyed);
        }
        self.config.page = Some(page.clone());
        if self.phase != Phase::Connected {
            return Ok(None);
        }
        // The login already carried it when it is the page the login had.
        self.login_page = Some(page.clone());
        self.request(UpdateCustomerPageRequest(page), now).map(Some)
    }

    /// The browser went offline (protocol.md §6.7): `connection_unstable` when connected.
    pub fn handle_offline(&mut self, _now: Duration) {
        if self.phase == Phase::Connected && self.socket == Socket::Open {
            self.emit(ClientEvent::ConnectionUnstable);
        }
    }

    /// The browser came back online (protocol.md §6.7): when connected, a `ping` goes out and
    /// any frame within `ONLINE_PROBE_TIMEOUT` means `connection_recovered`; none means the
    /// socket is dead, and the core reconnects (a new login, `Connected` again, no
    /// `Disconnected`).
    pub fn handle_online(&mut self, now: Duration) {
        if self.phase == Phase::Connected && self.socket == Socket::Open && self.probe.is_none() {
            self.probe = Some(now + ONLINE_PROBE_TIMEOUT);
            self.ping(now);
        }
    }

    fn ping(&mut self, now: Duration) {
        self.send(PingRequest::default().into_request(), None, now);
    }

    fn send(&mut self, request: Request, version: Option<&str>, now: Duration) -> RequestId {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        let mut frame = RequestFrame::new(id.wire(), request);
        frame.version = version.map(str::to_owned);
        self.io.push_back(Io::Send(frame.encode()));
        self.last_sent = now;
        id
    }

    /// The token endpoint's answer, or why there is none.
    pub fn handle_token(&mut self, result: Result<TokenResponse, SdkError>, now: Duration) {
        self.fetching_token = false;
        if self.phase != Phase::Connecting {
            return;
        }
        match result {
            Ok(response) => {
                match &self.customer_id {
                    Some(known) if *known != response.entity_id => {
                        return self.end("identity_mismatch", SdkError::IdentityMismatch);
                    }
                    Some(_) => {}
                    None => {
                        self.customer_id = Some(response.entity_id.clone());
                        self.emit(ClientEvent::CustomerId(response.entity_id.clone()));
                    }
                }
                if let Some(kept) = &response.identity
                    && self.config.identity.as_ref() != Some(kept)
                {
                    self.config.identity = Some(kept.clone());
                    self.emit(ClientEvent::IdentityKept(kept.clone()));
                }
                let expires_at = now + Duration::from_secs(response.expires_in);
                self.token = Some(Token { response, expires_at });
                self.maybe_login(now);
            }
            // §6.2: a refusal ends the client unless the server says it is passing.
            Err(SdkError::SsoIdentityException(message) | SdkError::SsoOauthException(message))
                if !RETRYABLE_TOKEN_REFUSALS.contains(&message.as_str()) =>
            {
                self.end(&message, SdkError::Destroyed)
            }
            Err(error) => {
                self.close_socket();
                let delay = self.backoff(LOGIN_BACKOFF);
                self.retry_later(error, now, delay);
            }
        }
    }

    /// The socket the core asked for is open.
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
        self.probe = None;
        self.fail_pending(SdkError::ConnectionLost);
        match self.phase {
            Phase::Connected => {
                self.connection_ended(now);
                self.phase = Phase::Connecting;
                self.disconnected(reason::CONNECTION_LOST, None, DisconnectOutcome::Reconnecting);
                let delay = self.backoff(SOCKET_BACKOFF);
                self.schedule(now + delay);
            }
            Phase::Connecting if self.reconnect_at.is_none() => {
                let delay = self.backoff(SOCKET_BACKOFF);
                let error = if was_open { SdkError::ConnectionLost } else { SdkError::NoConnection };
                self.retry_later(error, now, delay);
            }
            _ => {}
        }
    }

    /// A text frame arrived.
    pub fn handle_text(&mut self, text: &str, now: Duration) {
        if self.probe.take().is_some() {
            // Any frame proves the socket alive (§6.7).
            self.emit(ClientEvent::ConnectionRecovered);
        }
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

    /// A deadline from `poll_timeout` has come.
    pub fn handle_timeout(&mut self, now: Duration) {
        let overdue: Vec<RequestId> =
            self.pending.iter().filter(|(_, pending)| now >= pending.deadline).map(|(id, _)| *id).collect();
        for id in overdue {
            // Its answer, should it come after all, finds nothing pending and is ignored; a
            // settling push then reaches the app as an ordinary push (the event did happen).
            self.settle(id, Err(SdkError::RequestTimeout));
        }
        if let Some((_, at)) = self.login
            && now >= at
        {
            self.login = None;
            self.close_socket();
            let delay = self.backoff(LOGIN_BACKOFF);
            self.retry_later(SdkError::RequestTimeout, now, delay);
        }
        if let Some(at) = self.probe
            && now >= at
        {
            // Nothing came back after the network returned: the socket is dead. Reconnect
            // without a `Disconnected` (§6.7).
            self.probe = None;
            self.connection_ended(now);
            self.close_socket();
            self.fail_pending(SdkError::ConnectionLost);
            self.phase = Phase::Connecting;
            let delay = self.backoff(SENT_AWAY_BACKOFF);
            self.schedule(now + delay);
        }
        if let Some(at) = self.keepalive_at()
            && now >= at
        {
            self.ping(now);
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
            customer_side_storage: self.side_storage.clone(),
            application: Some(Application {
                name: "confab_sdk".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                channel_type: None,
            }),
            group_id: self.config.group_id,
            customer_page: self.config.page.clone(),
            referrer: self.config.referrer.clone(),
            ..LoginRequest::default()
        };
        self.login_page = self.config.page.clone();
        let id = self.send(login.into_request(), Some(confab_protocol::API_VERSION), now);
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
        let Some(pending) = self.pending.get_mut(&id) else {
            return;
        };
        match result {
            Err(error) => self.settle(id, Err(SdkError::Api(error))),
            // Settled by the push that follows (protocol.md §3.4).
            Ok(payload) if pending.settled_by.is_some() => {
                if action == pending.action {
                    pending.response = Some(RawResponse { action, payload });
                }
            }
            Ok(payload) => {
                self.learn_from_response(&action, &payload);
                self.settle(id, Ok(Reply::Response(RawResponse { action, payload })));
            }
        }
    }

    /// `user_data` and active chats from the responses that carry them (§9.2, §7 setSneakPeek).
    fn learn_from_response(&mut self, action: &str, payload: &RawPayload) {
        if action == GetChatRequest::NAME {
            if let Ok(chat) = frame::decode::<UsersOnly>(payload.as_deref()) {
                chat.users.iter().for_each(|user| self.user_data(user));
            }
        } else if action == ListChatsRequest::NAME
            && let Ok(list) = frame::decode::<SummariesOnly>(payload.as_deref())
        {
            for summary in &list.chats_summary {
                match summary.active {
                    Some(true) => self.chat_active(&summary.id, true),
                    Some(false) => self.chat_active(&summary.id, false),
                    None => {}
                }
                summary.users.iter().for_each(|user| self.user_data(user));
            }
        }
    }

    fn on_login(&mut self, result: Result<LoginResponse, ApiError>, now: Duration) {
        match result {
            Ok(login) => {
                self.phase = Phase::Connected;
                self.connected_at = Some(now);
                let config = &login.__priv_dynamic_config;
                self.group = config.customer_groups.as_ref().map(|groups| groups.monitoring.id);
                let availability = if config.is_online() { Availability::Online } else { Availability::Offline };
                // §4.3: a chat's `has_active_thread` falls back to the response's own.
                let mut chats = login.chats;
                for chat in &mut chats {
                    chat.has_active_thread = chat.has_active_thread.or(login.has_active_thread);
                }
                let greeting = login.greeting.and_then(|greeting| serde_json::from_value(greeting).ok());
                // §4.1: the page changed while the login was on its way.
                if self.config.page.is_some() && self.config.page != self.login_page {
                    let page = self.config.page.clone().unwrap_or_default();
                    self.login_page = Some(page.clone());
                    self.send(UpdateCustomerPageRequest(page).into_request(), None, now);
                }
                self.emit(ClientEvent::Connected { customer: login.customer.0, availability, greeting, chats });
            }
            Err(error) => match error.kind {
                ErrorType::CustomerBanned => self.end("customer_banned", SdkError::CustomerBanned),
                ErrorType::WrongProductVersion => self.end("wrong_product_version", SdkError::Destroyed),
                // v4: pause; `connect()` tries again.
                ErrorType::UsersLimitReached => self.pause("users_limit_reached", None),
                _ => {
                    let backoff = match error.kind {
                        // The token was refused: get a new one.
                        ErrorType::Authentication => {
                            self.token = None;
                            LOGIN_BACKOFF
                        }
                        ErrorType::ServiceUnavailable => BUSY_SERVER_BACKOFF,
                        ErrorType::Other(ref kind) if kind == reason::SERVICE_TEMPORARILY_UNAVAILABLE => {
                            BUSY_SERVER_BACKOFF
                        }
                        _ => LOGIN_BACKOFF,
                    };
                    self.close_socket();
                    let delay = self.backoff(backoff);
                    self.retry_later(SdkError::Api(error), now, delay);
                }
            },
        }
    }

    fn on_push(&mut self, frame: PushFrame, now: Duration) {
        let first_sighting = self.record_events(&frame.push);
        let id = frame.request_id.as_deref().and_then(RequestId::parse);
        if let Some(id) = id
            && self.pending.get(&id).is_some_and(|pending| pending.settled_by == Some(frame.push.name()))
        {
            self.learn_from_push(&frame.push);
            let response = self.pending.get_mut(&id).and_then(|pending| pending.response.take());
            return self.settle(id, Ok(Reply::Push { push: frame.push, response }));
        }
        self.learn_from_push(&frame.push);
        let event = match frame.push {
            Push::CustomerDisconnected(disconnected) => return self.on_customer_disconnected(disconnected, now),
            Push::IncomingEvent(incoming) => {
                // A copy of an event already handed on. (A copy that settles a request still
                // settles it, above: its caller waits for it.)
                if !first_sighting {
                    return;
                }
                ClientEvent::IncomingEvent(incoming)
            }
            Push::IncomingChat(incoming) => ClientEvent::IncomingChat(incoming),
            Push::ChatDeactivated(push) => ClientEvent::ChatDeactivated(push),
            Push::ChatTransferred(push) => ClientEvent::ChatTransferred(push),
            Push::UserAddedToChat(push) => ClientEvent::UserAddedToChat(push),
            Push::UserRemovedFromChat(push) => ClientEvent::UserRemovedFromChat(push),
            Push::EventUpdated(push) => ClientEvent::EventUpdated(push),
            Push::IncomingRichMessagePostback(push) => ClientEvent::IncomingRichMessagePostback(push),
            Push::ChatPropertiesUpdated(push) => ClientEvent::ChatPropertiesUpdated(push),
            Push::ChatPropertiesDeleted(push) => ClientEvent::ChatPropertiesDeleted(push),
            Push::ThreadPropertiesUpdated(push) => {
                let queue = queue_from_properties(&push);
                self.emit(ClientEvent::ThreadPropertiesUpdated(push));
                match queue {
                    Some(queue) => ClientEvent::QueuePositionUpdated(queue),
                    None => return,
                }
            }
            Push::ThreadPropertiesDeleted(push) => ClientEvent::ThreadPropertiesDeleted(push),
            Push::EventPropertiesUpdated(push) => ClientEvent::EventPropertiesUpdated(push),
            Push::EventPropertiesDeleted(push) => ClientEvent::EventPropertiesDeleted(push),
            Push::EventsMarkedAsSeen(push) => ClientEvent::EventsMarkedAsSeen(push),
            Push::IncomingTypingIndicator(push) => ClientEvent::IncomingTypingIndicator(push),
            Push::CustomerUpdated(push) => ClientEvent::CustomerUpdated(push),
            Push::CustomerPageUpdated(push) => ClientEvent::CustomerPageUpdated(push),
            Push::IncomingMulticast(push) => {
                let availability = availability_from_multicast(&push);
                self.emit(ClientEvent::IncomingMulticast(push));
                match availability {
                    Some(availability) => ClientEvent::AvailabilityUpdated { availability },
                    None => return,
                }
            }
            Push::IncomingGreeting(greeting) => ClientEvent::IncomingGreeting(greeting),
            Push::GreetingAccepted(push) => ClientEvent::GreetingAccepted { unique_id: push.unique_id },
            Push::GreetingCanceled(push) => ClientEvent::GreetingCanceled { unique_id: push.unique_id },
            Push::QueuePositionUpdated(push) => ClientEvent::QueuePositionUpdated(push),
            Push::GroupsStatusUpdated(push) => {
                let Some(group) = self.group else { return };
                let Some(entry) = push.groups.iter().find(|entry| entry.id == group) else { return };
                let availability = match entry.status {
                    GroupStatus::Offline => Availability::Offline,
                    GroupStatus::Online | GroupStatus::OnlineForQueue => Availability::Online,
                };
                ClientEvent::AvailabilityUpdated { availability }
            }
            // Kept for the next login (learned above), not an event (§12).
            Push::CustomerSideStorageUpdated(_) => return,
            // For agents; a customer has no use for it.
            Push::IncomingSneakPeek(_) => return,
        };
        self.emit(event);
    }

    /// What a push teaches the core, whether or not it becomes an event: users, active chats,
    /// side storage.
    fn learn_from_push(&mut self, push: &Push) {
        match push {
            Push::IncomingChat(incoming) => {
                let active = incoming.chat.thread.as_ref().map(|thread| thread.active).unwrap_or(true);
                self.chat_active(&incoming.chat.id, active);
                incoming.chat.users.iter().for_each(|user| self.user_data(user));
            }
            Push::ChatDeactivated(push) => self.chat_active(&push.chat_id, false),
            Push::UserAddedToChat(push) => self.user_data(&push.user),
            Push::CustomerSideStorageUpdated(push) => self.side_storage = Some(push.customer_side_storage.clone()),
            _ => {}
        }
    }

    fn chat_active(&mut self, chat_id: &str, active: bool) {
        if !active {
            self.active_chats.remove(chat_id);
        } else if !self.active_chats.contains(chat_id) {
            if self.active_chats.len() >= MAX_KNOWN {
                self.active_chats.pop_first();
            }
            self.active_chats.insert(chat_id.to_owned());
        }
    }

    /// `user_data` for `user`, unless handed on before as it is now.
    fn user_data(&mut self, user: &User) {
        let user = without_chat_fields(user);
        if self.users.get(user.id()) == Some(&user) {
            return;
        }
        if self.users.len() >= MAX_KNOWN {
            self.users.clear();
        }
        self.users.insert(user.id().to_owned(), user.clone());
        self.emit(ClientEvent::UserData(user));
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

    /// protocol.md §6.3, v4's column, with `inactivity_timeout` as the SDK docs have it.
    fn on_customer_disconnected(&mut self, push: CustomerDisconnected, now: Duration) {
        let CustomerDisconnected { reason, data } = push;
        match reason.as_str() {
            reason::CUSTOMER_BANNED => return self.end(&reason, SdkError::CustomerBanned),
            reason::CUSTOMER_TEMPORARILY_BLOCKED
            | reason::LICENSE_NOT_FOUND
            | reason::PRODUCT_VERSION_CHANGED
            | reason::TOO_MANY_CONNECTIONS
            | reason::UNSUPPORTED_VERSION
            | reason::LOGGED_OUT_REMOTELY => return self.end(&reason, SdkError::ConnectionLost),
            // The SDK docs: no automatic reconnect (the JS SDK reconnects anyway, §14.1).
            reason::INACTIVITY_TIMEOUT => return self.pause(&reason, data),
            _ => {}
        }
        let was_connected = self.phase == Phase::Connected;
        if was_connected {
            self.connection_ended(now);
        }
        // Which error the pending requests get, the delay, and what the app hears.
        let (error, backoff, event) = match reason.as_str() {
            reason::MISDIRECTED_CONNECTION => {
                self.region = data.as_ref().and_then(|d| d.get("region")).and_then(Value::as_str).map(str::to_owned);
                (SdkError::MisdirectedConnection, SENT_AWAY_BACKOFF, None)
            }
            // The server is busy or restarting: the close that follows is what the app sees.
            reason::TOO_MANY_UNAUTHORIZED_CONNECTIONS => {
                (SdkError::TooManyUnauthorizedConnections, BUSY_SERVER_BACKOFF, Some((reason::CONNECTION_LOST, None)))
            }
            reason::SERVICE_TEMPORARILY_UNAVAILABLE => {
                (SdkError::ServiceTemporarilyUnavailable, BUSY_SERVER_BACKOFF, Some((reason::CONNECTION_LOST, None)))
            }
            reason::ACCESS_TOKEN_EXPIRED => {
                self.token = None;
                (SdkError::ConnectionLost, SENT_AWAY_BACKOFF, Some((reason.as_str(), data)))
            }
            _ => (SdkError::ConnectionLost, SENT_AWAY_BACKOFF, Some((reason.as_str(), data))),
        };
        let delay = self.backoff(backoff);
        self.close_socket();
        self.probe = None;
        self.fail_pending(error);
        self.phase = Phase::Connecting;
        if was_connected && let Some((reason, data)) = event {
            let reason = reason.to_owned();
            self.disconnected(&reason, data, DisconnectOutcome::Reconnecting);
        }
        self.schedule(now + delay);
    }

    fn settle(&mut self, id: RequestId, result: Result<Reply, SdkError>) {
        if self.pending.remove(&id).is_some() {
            self.events.push_back(Output::Settled { id, result });
        }
    }

    fn fail_pending(&mut self, error: SdkError) {
        for id in std::mem::take(&mut self.pending).into_keys() {
            self.events.push_back(Output::Settled { id, result: Err(error.clone()) });
        }
    }

    fn emit(&mut self, event: ClientEvent) {
        self.events.push_back(Output::Event(event));
    }

    fn disconnected(&mut self, reason: &str, data: Option<Value>, outcome: DisconnectOutcome) {
        self.emit(ClientEvent::Disconnected { reason: reason.to_owned(), data, outcome });
    }

    fn close_socket(&mut self) {
        self.login = None;
        if self.socket != Socket::Closed {
            self.socket = Socket::Closed;
            self.io.push_back(Io::CloseSocket);
        }
    }

    /// Idle, as after `disconnect()`, pending requests untouched.
    fn pause_quietly(&mut self) {
        self.phase = Phase::Idle;
        self.reconnect_at = None;
        self.connected_at = None;
        self.probe = None;
        self.failures = 0;
        self.close_socket();
    }

    /// Idle until `connect()`, telling the app why.
    fn pause(&mut self, reason: &str, data: Option<Value>) {
        self.pause_quietly();
        self.fail_pending(SdkError::ConnectionLost);
        self.disconnected(reason, data, DisconnectOutcome::Paused);
    }

    /// Ended for good by the server or the identity: pending requests fail with `error`.
    fn end(&mut self, reason: &str, error: SdkError) {
        self.close_socket();
        self.fail_pending(error);
        self.phase = Phase::Destroyed;
        self.reconnect_at = None;
        self.probe = None;
        self.disconnected(reason, None, DisconnectOutcome::Destroyed);
    }

    /// The attempt failed: the next one at `now + delay`.
    fn retry_later(&mut self, error: SdkError, now: Duration, delay: Duration) {
        self.schedule(now + delay);
        self.emit(ClientEvent::ConnectFailed { error, retry_in: delay });
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

/// A user as `user_data` hands it on: without what belongs to one chat.
fn without_chat_fields(user: &User) -> User {
    match user {
        User::Customer(customer) => {
            User::Customer(Customer { present: None, events_seen_up_to: None, ..customer.clone() })
        }
        User::Agent(agent) => User::Agent(Agent { present: None, events_seen_up_to: None, ..agent.clone() }),
        User::Unknown(fields) => {
            let mut fields = fields.clone();
            fields.remove("present");
            fields.remove("events_seen_up_to");
            User::Unknown(fields)
        }
    }
}

/// §12: `thread_properties_updated` with `lc2.queue_pos` is also a queue position.
fn queue_from_properties(push: &ThreadPropertiesUpdated) -> Option<QueuePositionUpdated> {
    let lc2 = push.properties.get("lc2")?;
    let number = |value: &Value| value.as_u64().or_else(|| value.as_str()?.parse().ok());
    let position = number(lc2.get("queue_pos")?)?;
    let wait_time = lc2.get("queue_waiting_time").and_then(number).unwrap_or(0);
    Some(QueuePositionUpdated {
        chat_id: push.chat_id.clone(),
        thread_id: push.thread_id.clone(),
        queue: Queue {
            position: u32::try_from(position).unwrap_or(u32::MAX),
            wait_time: u32::try_from(wait_time).unwrap_or(u32::MAX),
            queued_at: None,
        },
    })
}

/// §12: v2's availability, an `lc2` multicast named `groups_update`.
fn availability_from_multicast(push: &IncomingMulticast) -> Option<Availability> {
    if push.kind.as_deref() != Some("lc2") || push.content.get("name")?.as_str()? != "groups_update" {
        return None;
    }
    let first = push.content.get("groups")?.as_array()?.first()?;
    Some(match first.get("status").and_then(Value::as_str) {
        Some("offline") => Availability::Offline,
        _ => Availability::Online,
    })
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
