//! The sans-IO `Core` driven like an adapter would drive it, on a simulated clock: no sockets,
//! no sleeping, no runtime. Proves the behaviour protocol.md asks of a client: connecting and
//! logging in (§4), matching answers to requests, including the ones settled by a push (§3.4),
//! the login timeout and every request's deadline, login retries and socket reconnects with
//! their backoff, the `customer_disconnected` reasons, identity checks (§2.3, §6) and the
//! client's own errors (§11.2); and what core.rs adds: every reconnect backs off, and each chat
//! event reaches the app once. Backoff jitter comes from the seed, so every delay here is reproducible.

use confab_protocol::action::Action;
use confab_protocol::action::{
    DynamicConfig, GetChatRequest, ListChatsRequest, ListChatsResponse, LoginChat, LoginRequest, LoginResponse,
    SendEventRequest, SendEventResponse, StartChatRequest, StartChatResponse,
};
use confab_protocol::entity::{Agent, Customer, EventBody, Statistics, User};
use confab_protocol::frame::{PushFrame, ResponseFrame};
use confab_protocol::push::{CustomerDisconnected, IncomingChat, IncomingEvent, Push, QueuePositionUpdated};
use confab_protocol::token::{KeptIdentity, TokenRequest, TokenResponse};
use confab_protocol::{ApiError, Chat, ErrorType, Request, RequestFrame, Response, ServerFrame};
use confab_sdk::core::{
    Config, Core, Io, KEEPALIVE_INTERVAL, MAX_PENDING_REQUESTS, Output, REQUEST_TIMEOUT, RawResponse, Reply, RequestId,
    STABLE_CONNECTION,
};
use confab_sdk::{Availability, ClientEvent, DisconnectOutcome, SdkError as Error};
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const CUSTOMER: &str = "cust-1";
const SEED: u64 = 0x05ee_d0fc_0f4b;
/// Comfortably longer than any test runs, in seconds (8 h, the server's default).
const TOKEN_LIFETIME: u64 = 28_800;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn config() -> Config {
    Config::new("https://chat.example.com", "org-1")
}

fn token(access_token: &str, entity_id: &str) -> TokenResponse {
    TokenResponse {
        access_token: access_token.into(),
        entity_id: entity_id.into(),
        expires_in: TOKEN_LIFETIME,
        token_type: "Bearer".into(),
        client_id: None,
        organization_id: None,
        identity: None,
    }
}

/// A login answer; `online_groups` is `online_groups_ids`, the customer's group is 3.
fn login_response(online_groups: Vec<u32>) -> Response {
    let customer = Customer { id: CUSTOMER.into(), statistics: Some(Statistics::default()), ..Customer::default() };
    Response::Login(LoginResponse::new(customer, vec![], DynamicConfig::new(3, online_groups)))
}

fn chat(id: &str) -> Chat {
    Chat { id: id.into(), users: vec![], properties: None, access: None, thread: None }
}

fn incoming_chat(id: &str) -> Push {
    Push::IncomingChat(IncomingChat { chat: chat(id), requester_id: None, transferred_from: None })
}

fn stored_message(id: &str, text: &str) -> confab_protocol::Event {
    let mut event = confab_protocol::Event::message(text);
    event.id = Some(id.into());
    event.author_id = Some(CUSTOMER.into());
    event.created_at = Some("2025-01-01T00:00:00.000000Z".into());
    event
}

/// An `incoming_event` in `chat_id`: a stored message with `id` and, if given, `seq`.
fn incoming_event(chat_id: &str, id: &str, seq: Option<u64>) -> Push {
    let mut event = stored_message(id, "hello");
    event.seq = seq;
    Push::IncomingEvent(IncomingEvent { chat_id: chat_id.into(), thread_id: "thread-1".into(), event })
}

fn start_chat() -> StartChatRequest {
    StartChatRequest::default()
}

fn send_message(text: &str) -> SendEventRequest {
    SendEventRequest {
        chat_id: "chat-1".into(),
        event: confab_protocol::Event::message(text),
        attach_to_last_thread: None,
    }
}

fn list_chats() -> ListChatsRequest {
    ListChatsRequest::default()
}

fn list_chats_response(total: u64) -> Response {
    Response::ListChats(ListChatsResponse {
        chats_summary: vec![],
        total_chats: total,
        next_page_id: None,
        previous_page_id: None,
    })
}

fn get_chat(id: &str) -> GetChatRequest {
    GetChatRequest { chat_id: id.into(), thread_id: None }
}

/// `Disconnected` without data: reconnecting, or destroyed.
fn disconnected(reason: &str, will_reconnect: bool) -> Output {
    let outcome = if will_reconnect { DisconnectOutcome::Reconnecting } else { DisconnectOutcome::Destroyed };
    Output::Event(ClientEvent::Disconnected { reason: reason.into(), data: None, outcome })
}

/// The app event an `incoming_chat` or `incoming_event` push becomes.
fn pushed(push: Push) -> Output {
    Output::Event(match push {
        Push::IncomingChat(incoming) => ClientEvent::IncomingChat(incoming),
        Push::IncomingEvent(incoming) => ClientEvent::IncomingEvent(incoming),
        other => panic!("not a push these tests map: {other:?}"),
    })
}

/// A request settled by `push`, with no response before it.
fn by_push(push: Push) -> Reply {
    Reply::Push { push, response: None }
}

fn chat_reply(chat: Chat) -> Reply {
    by_push(Push::IncomingChat(IncomingChat { chat, requester_id: None, transferred_from: None }))
}

/// A response payload as the core hands it on: undecoded.
fn raw(action: &str, response: Response) -> RawResponse {
    RawResponse { action: action.into(), payload: response.payload() }
}

fn settled(id: RequestId, result: Result<Reply, Error>) -> Output {
    Output::Settled { id, result }
}

/// The inclusive range of `min(base ± percent %, cap)`, in ms.
fn backoff_range(base: u64, percent: u64, cap: u64) -> (u64, u64) {
    let span = base * percent / 100;
    ((base - span).min(cap), (base + span).min(cap))
}

/// The login retry delay after `n` earlier consecutive failures (protocol.md §6.2).
fn login_backoff_range(n: u32) -> (u64, u64) {
    backoff_range(300 << n, 30, 60_000)
}

/// The socket reconnect delay after `n` earlier failed opens (protocol.md §6.1).
fn socket_backoff_range(n: u32) -> (u64, u64) {
    backoff_range(1000 << n, 50, 5_000)
}

/// The reconnect delay after the server sent a logged-in client away `n` times before
/// (core.rs: §6.3's 100 ms, growing).
fn sent_away_backoff_range(n: u32) -> (u64, u64) {
    backoff_range(100 << n, 50, 60_000)
}

/// The reconnect delay after `service_temporarily_unavailable` with `n` failures before (§6.2's
/// slower strategy).
fn busy_server_backoff_range(n: u32) -> (u64, u64) {
    backoff_range(1000 << n, 30, 60_000)
}

fn assert_within(delay: Duration, (lo, hi): (u64, u64), what: &str) {
    assert!(ms(lo) <= delay && delay <= ms(hi), "{what}: {delay:?} not within {lo}..={hi} ms");
}

fn is_ping(io: &Io) -> bool {
    matches!(io, Io::Send(text) if RequestFrame::decode(text).is_ok_and(|frame| matches!(frame.request, Request::Ping(_))))
}

/// A core, the simulated clock, and the adapter's side of the conversation.
struct Harness {
    core: Core,
    now: Duration,
}

impl Harness {
    fn new() -> Self {
        Self::with_seed(SEED)
    }

    fn with_seed(seed: u64) -> Self {
        Self { core: Core::new(config(), seed), now: Duration::ZERO }
    }

    /// Logged in as `CUSTOMER` with token `tok-1`; IO and events drained.
    fn connected() -> Self {
        let mut h = Self::new();
        h.connect_until_login();
        let login = h.expect_login().0;
        h.login_ok(&login);
        assert!(matches!(h.drain_events()[..], [Output::Event(ClientEvent::Connected { .. })]));
        h
    }

    /// Moves the clock forward by `n` ms. Every deadline that falls due on the way is handled
    /// at its own instant, as a timer would fire it.
    fn advance(&mut self, n: u64) {
        let target = self.now + ms(n);
        for _ in 0..1000 {
            match self.core.poll_timeout() {
                Some(at) if at <= target => {
                    self.now = self.now.max(at);
                    self.core.handle_timeout(self.now);
                }
                _ => {
                    self.now = target;
                    return;
                }
            }
        }
        panic!("handle_timeout keeps its deadline due");
    }

    fn advance_to(&mut self, at: Duration) {
        assert!(at >= self.now, "time runs forward: {at:?} < {:?}", self.now);
        self.advance((at - self.now).as_millis() as u64);
    }

    /// Jumps to the next deadline and handles it; returns that deadline.
    fn fire_timeout(&mut self) -> Duration {
        let at = self.core.poll_timeout().expect("a deadline is set");
        self.advance_to(at);
        at
    }

    /// The IO queued, keep-alive pings left out (`keep_alive_*` tests read those with
    /// `poll_io`).
    fn drain_io(&mut self) -> Vec<Io> {
        std::iter::from_fn(|| self.core.poll_io()).filter(|io| !is_ping(io)).collect()
    }

    fn drain_events(&mut self) -> Vec<Output> {
        // `customer_id` comes with the first token; `customer_id_comes_once_with_the_first_token`
        // checks it, the rest ignore it.
        std::iter::from_fn(|| self.core.poll_event())
            .filter(|output| !matches!(output, Output::Event(ClientEvent::CustomerId(_))))
            .collect()
    }

    /// Nothing to do and nothing to tell.
    fn assert_quiet(&mut self) {
        assert_eq!(self.drain_io(), vec![]);
        assert_eq!(self.drain_events(), vec![]);
    }

    fn token(&mut self, response: TokenResponse) {
        self.core.handle_token(Ok(response), self.now);
    }

    fn open(&mut self) {
        self.core.handle_open(self.now);
    }

    fn close(&mut self) {
        self.core.handle_close(self.now);
    }

    /// `connect`, then the token `tok-1` and the socket arrive: the login frame is queued.
    fn connect_until_login(&mut self) {
        self.core.connect(self.now);
        assert_eq!(self.drain_io(), vec![Io::FetchToken, Io::OpenSocket { url: config().socket_url() }]);
        self.token(token("tok-1", CUSTOMER));
        self.open();
    }

    /// The one queued IO is the login frame: its request_id, payload and top-level version.
    fn expect_login(&mut self) -> (String, LoginRequest, Option<String>) {
        let io = self.drain_io();
        let [Io::Send(text)] = &io[..] else { panic!("expected one login frame, got {io:?}") };
        let frame = RequestFrame::decode(text).expect("the core sends frames the protocol reads");
        let Request::Login(login) = frame.request else { panic!("expected login, got {text}") };
        (frame.request_id.expect("login has a request_id"), login, frame.version)
    }

    /// Makes a request that must be accepted; returns its id and its wire request_id.
    fn request<A: Action>(&mut self, request: A) -> (RequestId, String) {
        let id = self.core.request(request, self.now).expect("the core is connected");
        let io = self.drain_io();
        let [Io::Send(text)] = &io[..] else { panic!("expected one frame, got {io:?}") };
        let frame = RequestFrame::decode(text).expect("the core sends frames the protocol reads");
        (id, frame.request_id.expect("requests have a request_id"))
    }

    fn feed(&mut self, frame: impl Into<ServerFrame>) {
        let text = frame.into().encode();
        self.core.handle_text(&text, self.now);
    }

    fn respond(&mut self, request_id: &str, response: Response) {
        self.feed(ResponseFrame::ok(Some(request_id.into()), response));
    }

    fn respond_error(&mut self, request_id: &str, action: &str, kind: ErrorType) -> ApiError {
        let error = ApiError::new(kind, "refused by the test server");
        self.feed(ResponseFrame::error(Some(request_id.into()), action, error.clone()));
        error
    }

    fn push(&mut self, request_id: Option<&str>, push: Push) {
        self.feed(PushFrame { request_id: request_id.map(str::to_owned), push });
    }

    fn customer_disconnected(&mut self, reason: &str) {
        self.push(None, Push::CustomerDisconnected(CustomerDisconnected { reason: reason.into(), data: None }));
    }

    fn login_ok(&mut self, request_id: &str) {
        self.respond(request_id, login_response(vec![1, 3]));
    }

    /// The one event is `ConnectFailed`: its error and the retry delay from now.
    fn expect_connect_failed(&mut self) -> (Error, Duration) {
        let events = self.drain_events();
        let [Output::Event(ClientEvent::ConnectFailed { error, retry_in })] = &events[..] else {
            panic!("expected one ConnectFailed, got {events:?}")
        };
        assert_eq!(self.core.poll_timeout(), Some(self.now + *retry_in), "the retry is the next deadline");
        (error.clone(), *retry_in)
    }
}

/// Logins refused `count` times in a row (a retryable server error); the retry delays in ms.
fn login_failure_delays(seed: u64, count: u32) -> Vec<u64> {
    let mut h = Harness::with_seed(seed);
    h.connect_until_login();
    let mut delays = vec![];
    for n in 0..count {
        if n > 0 {
            h.fire_timeout();
            assert_eq!(h.drain_io(), vec![Io::OpenSocket { url: config().socket_url() }]);
            h.open();
        }
        let login = h.expect_login().0;
        h.respond_error(&login, "login", ErrorType::Internal);
        assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
        delays.push(h.expect_connect_failed().1.as_millis() as u64);
    }
    delays
}

/// A connected socket drops, then `count - 1` opens fail in a row; the reconnect delays in ms.
fn socket_failure_delays(seed: u64, count: u32) -> Vec<u64> {
    let mut h = Harness::with_seed(seed);
    h.connect_until_login();
    let login = h.expect_login().0;
    h.login_ok(&login);
    h.drain_events();
    h.close();
    h.drain_events();
    let mut delays = vec![(h.core.poll_timeout().unwrap() - h.now).as_millis() as u64];
    for _ in 1..count {
        h.fire_timeout();
        assert_eq!(h.drain_io(), vec![Io::OpenSocket { url: config().socket_url() }]);
        h.close();
        delays.push(h.expect_connect_failed().1.as_millis() as u64);
    }
    delays
}

/// `count` times in a row, the client logs in and the server at once sends it away with
/// `reason` (then closes the socket); the delays before each next attempt, in ms.
fn sent_away_delays(seed: u64, reason: &str, count: u32) -> Vec<u64> {
    let mut h = Harness::with_seed(seed);
    h.connect_until_login();
    let mut delays = vec![];
    for n in 0..count {
        if n > 0 {
            h.fire_timeout();
            let io = h.drain_io();
            assert!(io.contains(&Io::OpenSocket { url: config().socket_url() }), "attempt {n}: {io:?}");
            if io.contains(&Io::FetchToken) {
                h.token(token("tok-1", CUSTOMER));
            }
            h.open();
        }
        let login = h.expect_login().0;
        h.login_ok(&login);
        assert!(matches!(h.drain_events()[..], [Output::Event(ClientEvent::Connected { .. })]));
        h.customer_disconnected(reason);
        assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
        // A busy server's reasons reach the app as the socket's close (§6.3).
        let seen_as = match reason {
            "service_temporarily_unavailable" | "too_many_unauthorized_connections" => "connection_lost",
            reason => reason,
        };
        assert_eq!(h.drain_events(), vec![disconnected(seen_as, true)]);
        delays.push((h.core.poll_timeout().expect("a reconnect is scheduled") - h.now).as_millis() as u64);
    }
    delays
}

/// Frames no client can use; those that carry a request_id carry `request_id`.
fn unreadable_frames(request_id: &str) -> Vec<String> {
    let with_id = |action: &str, kind: &str, payload: &str| {
        format!(
            r#"{{"request_id":"{request_id}","action":"{action}","type":"{kind}","success":true,"payload":{payload}}}"#
        )
    };
    vec![
        String::new(),
        "garbage".into(),
        "{}".into(),
        "[1, 2, 3]".into(),
        r#"{"action":"brand_new_push","type":"push","payload":{"x":1}}"#.into(),
        with_id("brand_new_push", "push", "{}"),
        with_id("brand_new_action", "response", "{}"),
        with_id("login", "response", r#"{"customer":7}"#),
        with_id("incoming_chat", "push", r#"{"no_chat":true}"#),
        with_id("start_chat", "weird", "{}"),
    ]
}

// ---------------------------------------------------------------------------------------------
// Connecting and logging in (§4)
// ---------------------------------------------------------------------------------------------

#[test]
fn connect_fetches_token_and_opens_socket_in_parallel_and_logs_in_once_both_are_ready() {
    // Either may come first; the login waits for the other.
    for token_first in [true, false] {
        let mut h = Harness::new();
        h.core.connect(h.now);
        assert_eq!(h.drain_io(), vec![Io::FetchToken, Io::OpenSocket { url: config().socket_url() }]);
        assert_eq!(h.core.poll_timeout(), None, "nothing is due before the login is sent");

        h.advance(40);
        if token_first {
            h.token(token("tok-1", CUSTOMER));
        } else {
            h.open();
        }
        h.assert_quiet();
        assert!(!h.core.is_connected());

        h.advance(40);
        if token_first {
            h.open();
        } else {
            h.token(token("tok-1", CUSTOMER));
        }
        let io = h.drain_io();
        let [Io::Send(text)] = &io[..] else { panic!("expected the login frame, got {io:?}") };
        let raw: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(raw["action"], "login");
        assert_eq!(raw["version"], "3.5", "`version` is top-level: {text}");
        assert!(raw["payload"].get("version").is_none(), "`version` is not in the payload: {text}");
        let frame = RequestFrame::decode(text).unwrap();
        let Request::Login(login) = frame.request else { unreachable!() };
        assert_eq!(login.token, "Bearer tok-1");
        assert_eq!(h.core.customer_id(), Some(CUSTOMER));
        assert_eq!(h.drain_events(), vec![], "not connected before the login answer");

        h.login_ok(&frame.request_id.unwrap());
        let events = h.drain_events();
        let [Output::Event(ClientEvent::Connected { customer, chats, availability, .. })] = &events[..] else {
            panic!("{events:?}")
        };
        assert_eq!(customer.id, CUSTOMER);
        assert_eq!(chats, &vec![]);
        assert_eq!(*availability, Availability::Online, "online_groups_ids [1, 3] contains the monitoring group 3");
        assert!(h.core.is_connected());
        assert_eq!(
            h.core.poll_timeout(),
            Some(h.now + KEEPALIVE_INTERVAL),
            "only the keep-alive is due once connected"
        );
        assert_eq!(h.drain_io(), vec![]);
    }
}

#[test]
fn connected_is_offline_when_the_customer_group_is_not_among_the_online_groups() {
    let mut h = Harness::new();
    h.connect_until_login();
    let login = h.expect_login().0;
    h.respond(&login, login_response(vec![1, 2]));
    assert!(matches!(
        h.drain_events()[..],
        [Output::Event(ClientEvent::Connected { availability: Availability::Offline, .. })]
    ));
}

#[test]
fn connected_lists_the_customer_s_chats_with_whether_each_is_active() {
    let mut h = Harness::new();
    h.connect_until_login();
    let login = h.expect_login().0;
    let Response::Login(mut response) = login_response(vec![3]) else { unreachable!() };
    let chat = |id: &str, active: Option<bool>| LoginChat {
        chat_id: id.into(),
        has_unread_events: false,
        has_active_thread: active,
    };
    response.chats = vec![chat("chat-1", Some(false)), chat("chat-2", None)];
    response.has_active_thread = Some(true);
    h.respond(&login, Response::Login(response));
    let events = h.drain_events();
    let [Output::Event(ClientEvent::Connected { chats, .. })] = &events[..] else { panic!("{events:?}") };
    assert_eq!(
        chats,
        &vec![chat("chat-1", Some(false)), chat("chat-2", Some(true))],
        "a chat's own flag, else the response's (§4.3)"
    );
}

#[test]
fn requests_before_login_fail_at_once_with_no_connection() {
    let mut h = Harness::new();
    assert_eq!(h.core.request(list_chats(), h.now), Err(Error::NoConnection), "before connect");

    h.core.connect(h.now);
    h.drain_io();
    assert_eq!(h.core.request(start_chat(), h.now), Err(Error::NoConnection), "while connecting");

    h.token(token("tok-1", CUSTOMER));
    h.open();
    let login = h.expect_login().0;
    assert_eq!(h.core.request(send_message("hi"), h.now), Err(Error::NoConnection), "while logging in");
    assert_eq!(h.drain_io(), vec![], "refused requests send nothing");
    assert_eq!(h.drain_events(), vec![], "refused requests settle nothing later");

    h.login_ok(&login);
    h.drain_events();
    h.request(list_chats());
}

// ---------------------------------------------------------------------------------------------
// Requests and answers (§3)
// ---------------------------------------------------------------------------------------------

#[test]
fn responses_settle_requests_by_request_id_in_any_order_and_unknown_ids_are_ignored() {
    let mut h = Harness::connected();
    let (first, first_wire) = h.request(list_chats());
    let (second, second_wire) = h.request(get_chat("chat-7"));
    assert_ne!(first_wire, second_wire);

    // Answers nobody asked for change nothing.
    h.respond("no-such-request", list_chats_response(9));
    h.respond("r999", list_chats_response(9));
    h.feed(ResponseFrame::ok(None, list_chats_response(9)));
    h.assert_quiet();

    h.respond(&second_wire, Response::GetChat(chat("chat-7")));
    assert_eq!(
        h.drain_events(),
        vec![settled(second, Ok(Reply::Response(raw("get_chat", Response::GetChat(chat("chat-7"))))))]
    );

    h.respond(&first_wire, list_chats_response(2));
    assert_eq!(h.drain_events(), vec![settled(first, Ok(Reply::Response(raw("list_chats", list_chats_response(2)))))]);

    // A second answer to a settled request is ignored too.
    h.respond(&first_wire, list_chats_response(3));
    h.assert_quiet();
}

#[test]
fn start_chat_and_send_event_settle_from_the_push_carrying_their_request_id() {
    let mut h = Harness::connected();

    // start_chat: the successful response is not the answer; incoming_chat is.
    let (start, start_wire) = h.request(start_chat());
    h.respond(
        &start_wire,
        Response::StartChat(StartChatResponse {
            chat_id: "chat-1".into(),
            thread_id: "thread-1".into(),
            event_ids: None,
        }),
    );
    assert_eq!(h.drain_events(), vec![], "the response frame does not settle start_chat");

    h.push(None, incoming_chat("chat-other"));
    h.push(Some("r999"), incoming_chat("chat-other"));
    assert_eq!(
        h.drain_events(),
        vec![pushed(incoming_chat("chat-other")), pushed(incoming_chat("chat-other"))],
        "pushes without our request_id are ordinary pushes"
    );

    h.push(Some(&start_wire), incoming_chat("chat-1"));
    let response = raw(
        "start_chat",
        Response::StartChat(StartChatResponse {
            chat_id: "chat-1".into(),
            thread_id: "thread-1".into(),
            event_ids: None,
        }),
    );
    assert_eq!(
        h.drain_events(),
        vec![settled(start, Ok(Reply::Push { push: incoming_chat("chat-1"), response: Some(response) }))],
        "and not also a Push"
    );

    // send_event: settled by incoming_event with its request_id, as stored by the server.
    let (send, send_wire) = h.request(send_message("hello"));
    h.respond(&send_wire, Response::SendEvent(SendEventResponse { event_id: "ev-1".into() }));
    assert_eq!(h.drain_events(), vec![], "the response frame does not settle send_event");

    let event = |id: &str| {
        Push::IncomingEvent(IncomingEvent {
            chat_id: "chat-1".into(),
            thread_id: "thread-1".into(),
            event: stored_message(id, "hello"),
        })
    };
    h.push(None, event("ev-0"));
    assert_eq!(h.drain_events(), vec![pushed(event("ev-0"))]);
    h.push(Some(&send_wire), event("ev-1"));
    assert_eq!(
        h.drain_events(),
        vec![settled(
            send,
            Ok(Reply::Push {
                push: event("ev-1"),
                response: Some(raw("send_event", Response::SendEvent(SendEventResponse { event_id: "ev-1".into() }))),
            })
        )]
    );

    // An error response settles them at once.
    let (start, start_wire) = h.request(start_chat());
    let error = h.respond_error(&start_wire, "start_chat", ErrorType::ChatLimitReached);
    assert_eq!(h.drain_events(), vec![settled(start, Err(Error::Api(error)))]);
    h.push(Some(&start_wire), incoming_chat("chat-2"));
    assert_eq!(h.drain_events(), vec![pushed(incoming_chat("chat-2"))], "a push after the error is a push");

    let (send, send_wire) = h.request(send_message("again"));
    let error = h.respond_error(&send_wire, "send_event", ErrorType::ChatInactive);
    assert_eq!(h.drain_events(), vec![settled(send, Err(Error::Api(error)))]);
    assert_eq!(h.drain_io(), vec![]);
}

// ---------------------------------------------------------------------------------------------
// Request deadlines (our addition to §6.6)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_request_never_answered_fails_with_request_timeout_after_exactly_15_s_and_a_late_answer_is_ignored() {
    let mut h = Harness::connected();
    h.advance(2_000);
    let sent_at = h.now;
    let (listing, listing_wire) = h.request(list_chats());
    assert_eq!(h.core.poll_timeout(), Some(sent_at + REQUEST_TIMEOUT), "the deadline is the next timeout");
    assert_eq!(REQUEST_TIMEOUT, Duration::from_secs(15));

    h.advance(14_999);
    h.assert_quiet();
    h.advance(1);
    assert_eq!(h.drain_events(), vec![settled(listing, Err(Error::RequestTimeout))]);
    assert_eq!(Error::RequestTimeout.code(), "REQUEST_TIMEOUT");
    assert_eq!(h.core.poll_timeout(), Some(h.now + KEEPALIVE_INTERVAL), "only the keep-alive is left to wait for");

    // The answer turns up after all: nobody waits for it any more.
    h.respond(&listing_wire, list_chats_response(1));
    h.assert_quiet();
    // One slow answer is no reason to drop a connection that works.
    assert!(h.core.is_connected());
    h.request(list_chats());
}

#[test]
fn requests_settled_by_a_push_time_out_when_the_push_never_comes_and_a_late_push_is_an_ordinary_push() {
    let mut h = Harness::connected();
    let (send, send_wire) = h.request(send_message("hello"));
    h.respond(&send_wire, Response::SendEvent(SendEventResponse { event_id: "ev-1".into() }));
    h.advance(15_000);
    assert_eq!(h.drain_events(), vec![settled(send, Err(Error::RequestTimeout))]);

    // The event was stored after all: the app learns of it as it would from any push, and the
    // request does not settle a second time.
    let late = Push::IncomingEvent(IncomingEvent {
        chat_id: "chat-1".into(),
        thread_id: "thread-1".into(),
        event: stored_message("ev-1", "hello"),
    });
    h.push(Some(&send_wire), late.clone());
    assert_eq!(h.drain_events(), vec![pushed(late)]);
}

#[test]
fn each_request_times_out_at_its_own_deadline() {
    let mut h = Harness::connected();
    let (first, _) = h.request(list_chats());
    h.advance(5_000);
    let (second, second_wire) = h.request(start_chat());
    h.advance(5_000);
    let (third, _) = h.request(get_chat("chat-7"));
    assert_eq!(h.core.poll_timeout(), Some(ms(15_000)), "the earliest deadline first");

    h.advance(5_000);
    assert_eq!(h.drain_events(), vec![settled(first, Err(Error::RequestTimeout))]);
    assert_eq!(h.core.poll_timeout(), Some(ms(20_000)));

    // Answered in time, the second one no longer has a deadline.
    h.push(Some(&second_wire), incoming_chat("chat-1"));
    assert_eq!(h.drain_events(), vec![settled(second, Ok(chat_reply(chat("chat-1"))))]);
    assert_eq!(h.core.poll_timeout(), Some(ms(25_000)));

    h.advance(9_999);
    h.assert_quiet();
    h.advance(1);
    assert_eq!(h.drain_events(), vec![settled(third, Err(Error::RequestTimeout))]);
}

#[test]
fn a_request_beyond_max_pending_requests_fails_at_once_and_a_settled_one_frees_its_slot() {
    let mut h = Harness::connected();
    let waiting: Vec<(RequestId, String)> = (0..MAX_PENDING_REQUESTS).map(|_| h.request(list_chats())).collect();

    assert_eq!(h.core.request(list_chats(), h.now), Err(Error::TooManyPendingRequests));
    assert_eq!(h.core.request(send_message("one too many"), h.now), Err(Error::TooManyPendingRequests));
    assert_eq!(Error::TooManyPendingRequests.code(), "PENDING_REQUESTS_LIMIT_REACHED");
    assert_eq!(h.drain_io(), vec![], "a refused request is not sent");
    assert_eq!(h.drain_events(), vec![], "nor settled later");

    let (first, first_wire) = &waiting[0];
    h.respond(first_wire, list_chats_response(0));
    assert_eq!(h.drain_events(), vec![settled(*first, Ok(Reply::Response(raw("list_chats", list_chats_response(0)))))]);
    h.request(list_chats());
    assert_eq!(h.core.request(list_chats(), h.now), Err(Error::TooManyPendingRequests));

    // Timing out frees every slot too.
    h.advance(REQUEST_TIMEOUT.as_millis() as u64);
    assert_eq!(h.drain_events().len(), MAX_PENDING_REQUESTS);
    h.request(list_chats());
}

// ---------------------------------------------------------------------------------------------
// Each event reaches the app once (seen.rs)
// ---------------------------------------------------------------------------------------------

#[test]
fn an_event_pushed_twice_reaches_the_app_once() {
    let mut h = Harness::connected();
    h.push(None, incoming_event("chat-1", "ev-1", Some(1)));
    h.push(None, incoming_event("chat-1", "ev-1", Some(1)));
    h.push(None, incoming_event("chat-1", "ev-2", Some(2)));
    h.push(None, incoming_event("chat-1", "ev-2", Some(2)));
    assert_eq!(
        h.drain_events(),
        vec![pushed(incoming_event("chat-1", "ev-1", Some(1))), pushed(incoming_event("chat-1", "ev-2", Some(2)))]
    );

    // The same seq in another chat is another event.
    h.push(None, incoming_event("chat-2", "ev-9", Some(1)));
    assert_eq!(h.drain_events(), vec![pushed(incoming_event("chat-2", "ev-9", Some(1)))]);

    // Without a seq, the event id tells.
    h.push(None, incoming_event("chat-3", "ev-7", None));
    h.push(None, incoming_event("chat-3", "ev-7", None));
    assert_eq!(h.drain_events(), vec![pushed(incoming_event("chat-3", "ev-7", None))]);

    // Without either, nothing tells: handed on every time.
    let anonymous = Push::IncomingEvent(IncomingEvent {
        chat_id: "chat-3".into(),
        thread_id: "thread-1".into(),
        event: confab_protocol::Event::message("who am I"),
    });
    h.push(None, anonymous.clone());
    h.push(None, anonymous.clone());
    assert_eq!(h.drain_events(), vec![pushed(anonymous.clone()), pushed(anonymous)]);
}

#[test]
fn an_event_arriving_late_with_a_lower_seq_is_handed_on_and_its_copies_are_not() {
    let mut h = Harness::connected();
    for seq in [3, 1, 2, 1, 2, 3] {
        h.push(None, incoming_event("chat-1", &format!("ev-{seq}"), Some(seq)));
    }
    let seqs: Vec<u64> = h
        .drain_events()
        .into_iter()
        .map(|event| match event {
            Output::Event(ClientEvent::IncomingEvent(incoming)) => incoming.event.seq.unwrap(),
            other => panic!("expected an incoming_event, got {other:?}"),
        })
        .collect();
    assert_eq!(seqs, [3, 1, 2], "in arrival order, each once (the app orders by seq)");
}

#[test]
fn the_copy_of_an_event_that_settled_send_event_is_dropped() {
    let mut h = Harness::connected();
    let (send, send_wire) = h.request(send_message("hello"));
    h.push(Some(&send_wire), incoming_event("chat-1", "ev-5", Some(5)));
    let Push::IncomingEvent(stored) = incoming_event("chat-1", "ev-5", Some(5)) else { unreachable!() };
    let reply = by_push(Push::IncomingEvent(stored));
    assert_eq!(h.drain_events(), vec![settled(send, Ok(reply.clone()))]);

    // The same event again, as a plain push or with the same request_id: already handed on.
    h.push(None, incoming_event("chat-1", "ev-5", Some(5)));
    h.push(Some(&send_wire), incoming_event("chat-1", "ev-5", Some(5)));
    h.assert_quiet();

    // A plain copy that overtakes the settling one is handed on, and the request still settles.
    let (send, send_wire) = h.request(send_message("hello"));
    let Push::IncomingEvent(stored) = incoming_event("chat-1", "ev-6", Some(6)) else { unreachable!() };
    h.push(None, incoming_event("chat-1", "ev-6", Some(6)));
    h.push(Some(&send_wire), incoming_event("chat-1", "ev-6", Some(6)));
    let reply = by_push(Push::IncomingEvent(stored));
    assert_eq!(h.drain_events(), vec![pushed(incoming_event("chat-1", "ev-6", Some(6))), settled(send, Ok(reply))]);
}

#[test]
fn events_handed_on_before_a_reconnect_are_not_handed_on_again_after_it() {
    let mut h = Harness::connected();
    h.push(None, incoming_event("chat-1", "ev-1", Some(1)));
    h.push(None, incoming_event("chat-1", "ev-2", None));
    assert_eq!(h.drain_events().len(), 2);

    h.close();
    assert_eq!(h.drain_events(), vec![disconnected("connection_lost", true)]);
    h.fire_timeout();
    assert_eq!(h.drain_io(), vec![Io::OpenSocket { url: config().socket_url() }]);
    h.open();
    let login = h.expect_login().0;
    h.login_ok(&login);
    assert!(matches!(h.drain_events()[..], [Output::Event(ClientEvent::Connected { .. })]));

    h.push(None, incoming_event("chat-1", "ev-1", Some(1)));
    h.push(None, incoming_event("chat-1", "ev-2", None));
    h.assert_quiet();
    h.push(None, incoming_event("chat-1", "ev-3", Some(3)));
    assert_eq!(h.drain_events(), vec![pushed(incoming_event("chat-1", "ev-3", Some(3)))]);
}

#[test]
fn events_that_came_inside_an_incoming_chat_count_as_handed_on() {
    let mut h = Harness::connected();
    let (start, start_wire) = h.request(start_chat());
    let mut first = stored_message("ev-1", "hello");
    first.seq = Some(1);
    let mut started = chat("chat-1");
    started.thread = Some(confab_protocol::entity::Thread {
        id: "thread-1".into(),
        created_at: "2025-01-01T00:00:00.000000Z".into(),
        active: true,
        user_ids: vec![CUSTOMER.into()],
        events: vec![first],
        ..Default::default()
    });
    let push = Push::IncomingChat(IncomingChat { chat: started.clone(), requester_id: None, transferred_from: None });
    h.push(Some(&start_wire), push);
    assert_eq!(h.drain_events(), vec![settled(start, Ok(chat_reply(started)))]);

    h.push(None, incoming_event("chat-1", "ev-1", Some(1)));
    h.assert_quiet();
}

#[test]
fn an_event_of_a_type_this_sdk_does_not_know_settles_send_event_and_keeps_its_json() {
    let mut h = Harness::connected();
    let fields =
        serde_json::json!({"type": "carousel_of_the_future", "template_id": "cards", "elements": [{"title": "A"}]});
    let serde_json::Value::Object(fields) = fields else { unreachable!() };
    let card = confab_protocol::Event::outgoing(EventBody::Unknown(fields));
    let (send, send_wire) =
        h.request(SendEventRequest { chat_id: "chat-1".into(), event: card, attach_to_last_thread: None });

    let stored = r#"{"id":"ev-4","seq":4,"author_id":"cust-1","created_at":"2025-01-01T00:00:00.000000Z","type":"carousel_of_the_future","template_id":"cards","elements":[{"title":"A"}]}"#;
    let push = |request_id: &str| {
        format!(
            r#"{{{request_id}"action":"incoming_event","type":"push","payload":{{"chat_id":"chat-1","thread_id":"thread-1","event":{stored}}}}}"#
        )
    };
    h.core.handle_text(&push(&format!(r#""request_id":"{send_wire}","#)), h.now);
    let events = h.drain_events();
    let [
        Output::Settled { id, result: Ok(Reply::Push { push: Push::IncomingEvent(IncomingEvent { event, .. }), .. }) },
    ] = &events[..]
    else {
        panic!("expected send_event settled with the stored event, got {events:?}")
    };
    assert_eq!(*id, send);
    assert_eq!((event.id.as_deref(), event.seq, event.body.kind()), (Some("ev-4"), Some(4), "carousel_of_the_future"));
    let EventBody::Unknown(kept) = &event.body else { panic!("{event:?}") };
    assert_eq!(kept["elements"], serde_json::json!([{"title": "A"}]), "its JSON is kept");

    // Its copy is dropped like any other; another unknown event reaches the app.
    h.core.handle_text(&push(""), h.now);
    h.assert_quiet();
    h.core.handle_text(&push("").replace("ev-4", "ev-5").replace(r#""seq":4"#, r#""seq":5"#), h.now);
    let events = h.drain_events();
    assert!(
        matches!(&events[..], [Output::Event(ClientEvent::IncomingEvent(incoming))] if incoming.event.body.kind() == "carousel_of_the_future"),
        "{events:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Login failures and retries (§4.1, §6.2)
// ---------------------------------------------------------------------------------------------

#[test]
fn login_times_out_after_exactly_15_s_then_retries_on_a_new_socket_with_the_same_token() {
    let mut h = Harness::new();
    h.core.connect(h.now);
    h.drain_io();
    h.advance(120);
    h.token(token("tok-1", CUSTOMER));
    h.advance(130);
    h.open();
    let sent_at = h.now;
    let (login, _, _) = h.expect_login();
    assert_eq!(h.core.poll_timeout(), Some(sent_at + Duration::from_secs(15)));

    // Not a millisecond early.
    h.advance(14_999);
    h.assert_quiet();
    assert!(!h.core.is_connected());

    h.advance(1);
    assert_eq!(h.now, sent_at + Duration::from_secs(15));
    assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
    let (error, delay) = h.expect_connect_failed();
    assert_eq!(error, Error::RequestTimeout);
    assert_within(delay, login_backoff_range(0), "first login retry");

    // A late answer to the abandoned login does not connect.
    h.login_ok(&login);
    h.assert_quiet();
    assert!(!h.core.is_connected());

    // The retry opens a new socket; the token is still valid, so it is not fetched again.
    h.advance(delay.as_millis() as u64 - 1);
    h.assert_quiet();
    h.advance(1);
    assert_eq!(h.drain_io(), vec![Io::OpenSocket { url: config().socket_url() }]);
    h.open();
    let (login, request, _) = h.expect_login();
    assert_eq!(request.token, "Bearer tok-1");
    h.login_ok(&login);
    assert!(matches!(h.drain_events()[..], [Output::Event(ClientEvent::Connected { .. })]));
}

#[test]
fn login_refused_for_authentication_drops_the_token_and_fetches_a_new_one_on_retry() {
    let mut h = Harness::new();
    h.connect_until_login();
    let login = h.expect_login().0;
    let error = h.respond_error(&login, "login", ErrorType::Authentication);
    assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
    let (failed, delay) = h.expect_connect_failed();
    assert_eq!(failed, Error::Api(error));
    assert_within(delay, login_backoff_range(0), "retry after a refused token");

    h.fire_timeout();
    assert_eq!(h.drain_io(), vec![Io::FetchToken, Io::OpenSocket { url: config().socket_url() }]);
    h.open();
    assert_eq!(h.drain_io(), vec![], "no login without the new token");
    h.token(token("tok-2", CUSTOMER));
    let (login, request, _) = h.expect_login();
    assert_eq!(request.token, "Bearer tok-2");
    h.login_ok(&login);
    assert!(matches!(h.drain_events()[..], [Output::Event(ClientEvent::Connected { .. })]));
}

#[test]
fn login_refused_for_a_banned_customer_ends_the_client() {
    let mut h = Harness::new();
    h.connect_until_login();
    let login = h.expect_login().0;
    h.respond_error(&login, "login", ErrorType::CustomerBanned);
    assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
    assert_eq!(h.drain_events(), vec![disconnected("customer_banned", false)]);
    assert_eq!(h.core.poll_timeout(), None);
    assert_eq!(h.core.request(list_chats(), h.now), Err(Error::Destroyed));
}

#[test]
fn login_retry_delays_grow_to_60_s_and_reset_once_a_connection_stays_up_30_s() {
    let mut h = Harness::new();
    h.connect_until_login();
    for n in 0..12 {
        if n > 0 {
            h.fire_timeout();
            assert_eq!(h.drain_io(), vec![Io::OpenSocket { url: config().socket_url() }], "retry {n}");
            h.open();
        }
        let login = h.expect_login().0;
        h.respond_error(&login, "login", ErrorType::Internal);
        assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
        let (error, delay) = h.expect_connect_failed();
        assert!(matches!(error, Error::Api(ApiError { kind: ErrorType::Internal, .. })));
        assert_within(delay, login_backoff_range(n), &format!("login retry after {} failures", n + 1));
        if n >= 9 {
            assert_eq!(delay, Duration::from_secs(60), "capped at 60 s");
        }
    }

    // A connection that lasts resets the backoff: the drop that ends it is the first failure
    // again, the login failure after it the second.
    h.fire_timeout();
    h.drain_io();
    h.open();
    let login = h.expect_login().0;
    h.login_ok(&login);
    assert!(matches!(h.drain_events()[..], [Output::Event(ClientEvent::Connected { .. })]));
    h.advance(STABLE_CONNECTION.as_millis() as u64);

    h.close();
    assert_eq!(h.drain_events(), vec![disconnected("connection_lost", true)]);
    let delay = h.core.poll_timeout().unwrap() - h.now;
    assert_within(delay, socket_backoff_range(0), "first failure after a stable connection");
    h.fire_timeout();
    assert_eq!(h.drain_io(), vec![Io::OpenSocket { url: config().socket_url() }]);
    h.open();
    let login = h.expect_login().0;
    h.respond_error(&login, "login", ErrorType::Internal);
    h.drain_io();
    let (_, delay) = h.expect_connect_failed();
    assert_within(delay, login_backoff_range(1), "second failure after a stable connection");
}

// ---------------------------------------------------------------------------------------------
// Disconnections (§6.1, §6.3)
// ---------------------------------------------------------------------------------------------

#[test]
fn socket_drop_fails_pending_requests_and_reconnects_with_a_backoff_capped_at_5_s() {
    let mut h = Harness::connected();
    let (listing, _) = h.request(list_chats());
    let (starting, _) = h.request(start_chat());
    h.advance(1_000);

    h.close();
    assert_eq!(
        h.drain_events(),
        vec![
            settled(listing, Err(Error::ConnectionLost)),
            settled(starting, Err(Error::ConnectionLost)),
            disconnected("connection_lost", true),
        ]
    );
    assert_eq!(h.drain_io(), vec![], "the socket is already gone");
    assert_eq!(h.core.request(list_chats(), h.now), Err(Error::NoConnection), "while reconnecting");
    let delay = h.core.poll_timeout().expect("a reconnect is scheduled") - h.now;
    assert_within(delay, socket_backoff_range(0), "first reconnect");

    // The server stays unreachable: every failed open waits longer, never over 5 s.
    for n in 1..10 {
        h.fire_timeout();
        assert_eq!(h.drain_io(), vec![Io::OpenSocket { url: config().socket_url() }], "attempt {n}, same token");
        h.close();
        let (error, delay) = h.expect_connect_failed();
        assert_eq!(error, Error::NoConnection);
        assert_within(delay, socket_backoff_range(n), &format!("reconnect after {n} failed opens"));
        assert!(delay <= ms(5_000));
    }

    // It comes back: log in again and be connected, with no token fetch.
    h.fire_timeout();
    assert_eq!(h.drain_io(), vec![Io::OpenSocket { url: config().socket_url() }]);
    h.open();
    let (login, request, _) = h.expect_login();
    assert_eq!(request.token, "Bearer tok-1");
    h.login_ok(&login);
    assert!(matches!(h.drain_events()[..], [Output::Event(ClientEvent::Connected { .. })]));
    h.request(list_chats());
}

#[test]
fn access_token_expired_refetches_the_token_and_reconnects_after_about_100_ms() {
    let mut h = Harness::connected();
    h.advance(5_000);
    let (pending, _) = h.request(list_chats());

    h.customer_disconnected("access_token_expired");
    assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
    assert_eq!(
        h.drain_events(),
        vec![settled(pending, Err(Error::ConnectionLost)), disconnected("access_token_expired", true)]
    );
    let delay = h.core.poll_timeout().expect("a reconnect is scheduled") - h.now;
    assert_within(delay, sent_away_backoff_range(0), "100 ms ± 50 %");

    h.advance(delay.as_millis() as u64 - 1);
    h.assert_quiet();
    h.advance(1);
    assert_eq!(h.drain_io(), vec![Io::FetchToken, Io::OpenSocket { url: config().socket_url() }]);
    h.open();
    h.token(token("tok-2", CUSTOMER));
    let (login, request, _) = h.expect_login();
    assert_eq!(request.token, "Bearer tok-2");
    h.login_ok(&login);
    assert!(matches!(h.drain_events()[..], [Output::Event(ClientEvent::Connected { .. })]));
}

#[test]
fn customer_banned_ends_the_client_for_good() {
    let mut h = Harness::connected();
    let (pending, _) = h.request(list_chats());

    h.customer_disconnected("customer_banned");
    assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
    let events = h.drain_events();
    assert_eq!(events.last(), Some(&disconnected("customer_banned", false)));
    assert!(
        matches!(&events[..], [Output::Settled { id, result: Err(_) }, _] if *id == pending),
        "the pending request fails: {events:?}"
    );
    assert!(!h.core.is_connected());
    assert_eq!(h.core.poll_timeout(), None, "no reconnect");

    assert_eq!(h.core.request(list_chats(), h.now), Err(Error::Destroyed));
    assert_eq!(h.core.request(start_chat(), h.now), Err(Error::Destroyed));
    h.core.connect(h.now);
    h.core.handle_close(h.now);
    h.core.handle_token(Ok(token("tok-9", CUSTOMER)), h.now);
    h.core.handle_open(h.now);
    h.advance(10 * 60 * 1000);
    h.core.handle_timeout(h.now);
    assert_eq!(h.drain_io(), vec![], "no more IO");
    assert_eq!(h.drain_events(), vec![]);
    assert_eq!(h.core.poll_timeout(), None);
}

#[test]
fn a_token_for_another_customer_after_reconnecting_ends_the_client_with_identity_mismatch() {
    let mut h = Harness::connected();
    assert_eq!(h.core.customer_id(), Some(CUSTOMER));

    h.customer_disconnected("access_token_expired");
    h.drain_events();
    h.fire_timeout();
    assert_eq!(h.drain_io(), vec![Io::CloseSocket, Io::FetchToken, Io::OpenSocket { url: config().socket_url() }]);
    h.open();
    h.token(token("tok-2", "cust-2"));
    assert_eq!(h.drain_io(), vec![Io::CloseSocket], "no login with the stranger's token");
    assert_eq!(h.drain_events(), vec![disconnected("identity_mismatch", false)]);
    assert_eq!(h.core.customer_id(), Some(CUSTOMER));
    assert_eq!(h.core.poll_timeout(), None);
    assert_eq!(h.core.request(list_chats(), h.now), Err(Error::Destroyed));
}

// ---------------------------------------------------------------------------------------------
// Every reconnect backs off (core.rs: the departures from §6.1–§6.3)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_server_that_sends_every_login_away_with_internal_error_gets_growing_delays_up_to_60_s() {
    let delays = sent_away_delays(SEED, "internal_error", 14);
    for (n, &delay) in delays.iter().enumerate() {
        assert_within(ms(delay), sent_away_backoff_range(n as u32), &format!("retry after {} times sent away", n + 1));
    }
    assert!(delays[0] <= 150, "the first retry stays quick: {delays:?}");
    assert!(delays[5] > delays[0] && delays[9] > delays[5], "delays grow: {delays:?}");
    assert_eq!(delays[13], 60_000, "capped at 60 s: {delays:?}");
}

#[test]
fn every_reason_that_reconnects_backs_off_the_same_way() {
    // §6.3's default branch (any reason we do not know included) and access_token_expired.
    for reason in
        ["internal_error", "connection_timeout", "access_token_expired", "connection_evicted", "brand_new_reason"]
    {
        for (n, delay) in sent_away_delays(SEED, reason, 8).into_iter().enumerate() {
            assert_within(ms(delay), sent_away_backoff_range(n as u32), &format!("{reason}, retry {n}"));
        }
    }
    // A busy server: §6.2's slower strategy.
    for reason in ["service_temporarily_unavailable", "too_many_unauthorized_connections"] {
        for (n, delay) in sent_away_delays(SEED, reason, 8).into_iter().enumerate() {
            assert_within(ms(delay), busy_server_backoff_range(n as u32), &format!("{reason}, retry {n}"));
        }
    }
}

#[test]
fn a_server_that_drops_each_socket_right_after_opening_it_gets_growing_delays() {
    // Dropped before the login answer: an open socket is no success.
    let mut h = Harness::new();
    h.connect_until_login();
    for n in 0..8 {
        if n > 0 {
            h.fire_timeout();
            assert_eq!(h.drain_io(), vec![Io::OpenSocket { url: config().socket_url() }]);
            h.open();
        }
        h.expect_login();
        h.close();
        let (error, delay) = h.expect_connect_failed();
        assert_eq!(error, Error::ConnectionLost);
        assert_within(delay, socket_backoff_range(n), &format!("drop {n} before the login answer"));
    }

    // Dropped right after the login answer: a login is no success either.
    let mut h = Harness::connected();
    for n in 0..8 {
        if n > 0 {
            h.fire_timeout();
            assert_eq!(h.drain_io(), vec![Io::OpenSocket { url: config().socket_url() }]);
            h.open();
            let login = h.expect_login().0;
            h.login_ok(&login);
            assert!(matches!(h.drain_events()[..], [Output::Event(ClientEvent::Connected { .. })]));
        }
        h.advance(10);
        h.close();
        assert_eq!(h.drain_events(), vec![disconnected("connection_lost", true)]);
        let delay = h.core.poll_timeout().unwrap() - h.now;
        assert_within(delay, socket_backoff_range(n), &format!("drop {n} after the login answer"));
    }
}

#[test]
fn only_a_connection_that_stays_up_30_s_resets_the_backoff() {
    let mut h = Harness::connected();
    let sent_away = |h: &mut Harness, after: u64| {
        h.advance(after);
        h.customer_disconnected("internal_error");
        h.drain_io();
        h.drain_events();
        let delay = h.core.poll_timeout().unwrap() - h.now;
        h.fire_timeout();
        h.drain_io();
        h.open();
        let login = h.expect_login().0;
        h.login_ok(&login);
        assert!(matches!(h.drain_events()[..], [Output::Event(ClientEvent::Connected { .. })]));
        delay
    };
    for n in 0..5 {
        let delay = sent_away(&mut h, 0);
        assert_within(delay, sent_away_backoff_range(n), &format!("sent away at once, {n}"));
    }
    let one_ms_short = STABLE_CONNECTION.as_millis() as u64 - 1;
    assert_within(sent_away(&mut h, one_ms_short), sent_away_backoff_range(5), "up 29.999 s: not stable");
    let stable = STABLE_CONNECTION.as_millis() as u64;
    assert_within(sent_away(&mut h, stable), sent_away_backoff_range(0), "up 30 s: stable, the backoff restarts");
    assert_within(sent_away(&mut h, 0), sent_away_backoff_range(1), "and grows again");
}

/// How many clients retry on the busiest millisecond, and on how many distinct milliseconds.
fn crowding(delays: &[u64]) -> (usize, usize) {
    let mut per_ms = std::collections::BTreeMap::new();
    for &delay in delays {
        *per_ms.entry(delay).or_insert(0) += 1;
    }
    (per_ms.values().copied().max().unwrap_or(0), per_ms.len())
}

/// `clients` picking uniformly among `slots` milliseconds: how many distinct ones they pick and
/// how many pick each, on average.
fn uniform_spread(clients: u64, slots: u64) -> (f64, f64) {
    let (clients, slots) = (clients as f64, slots as f64);
    (slots * (1.0 - (1.0 - 1.0 / slots).powf(clients)), clients / slots)
}

#[test]
fn a_thousand_clients_sent_away_together_spread_their_retries() {
    let seeds = 0..1000u64;
    let runs: Vec<Vec<u64>> = seeds.clone().map(|seed| sent_away_delays(seed, "internal_error", 4)).collect();
    for n in 0..4 {
        let delays: Vec<u64> = runs.iter().map(|run| run[n]).collect();
        let (busiest, distinct) = crowding(&delays);
        let (lo, hi) = sent_away_backoff_range(n as u32);
        let (expected_distinct, mean) = uniform_spread(1000, hi - lo + 1);
        assert!(
            distinct as f64 >= 0.9 * expected_distinct,
            "retry {n}: {distinct} distinct ms, ~{expected_distinct} expected"
        );
        assert!((busiest as f64) <= 3.0 * mean + 5.0, "retry {n}: {busiest} clients on the same ms, ~{mean} expected");
    }

    // A server restart that drops every socket: the same spread.
    let drops: Vec<u64> = seeds.map(|seed| socket_failure_delays(seed, 1)[0]).collect();
    let (busiest, distinct) = crowding(&drops);
    let (lo, hi) = socket_backoff_range(0);
    let (expected_distinct, mean) = uniform_spread(1000, hi - lo + 1);
    assert!(distinct as f64 >= 0.9 * expected_distinct, "{distinct} distinct ms, ~{expected_distinct} expected");
    assert!((busiest as f64) <= 3.0 * mean + 5.0, "{busiest} clients on the same ms, ~{mean} expected");
}

// ---------------------------------------------------------------------------------------------
// Determinism and robustness
// ---------------------------------------------------------------------------------------------

#[test]
fn the_same_seed_gives_the_same_delays() {
    assert_eq!(login_failure_delays(SEED, 8), login_failure_delays(SEED, 8));
    assert_eq!(socket_failure_delays(SEED, 6), socket_failure_delays(SEED, 6));
    assert_eq!(sent_away_delays(SEED, "internal_error", 6), sent_away_delays(SEED, "internal_error", 6));

    let seeds = [1, 42, 0xdead_beef, u64::MAX / 3];
    let logins: Vec<_> = seeds.iter().map(|&seed| login_failure_delays(seed, 4)).collect();
    assert!(logins.windows(2).any(|w| w[0] != w[1]), "seeds make no difference: {logins:?}");
    let sockets: Vec<_> = seeds.iter().map(|&seed| socket_failure_delays(seed, 3)).collect();
    assert!(sockets.windows(2).any(|w| w[0] != w[1]), "seeds make no difference: {sockets:?}");
}

#[test]
fn backoff_delays_stay_within_bounds_whatever_the_seed() {
    for seed in (0..200).map(|i: u64| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)) {
        for (n, delay) in login_failure_delays(seed, 12).into_iter().enumerate() {
            assert_within(ms(delay), login_backoff_range(n as u32), &format!("seed {seed}, login retry {n}"));
        }
        for (n, delay) in socket_failure_delays(seed, 8).into_iter().enumerate() {
            assert_within(ms(delay), socket_backoff_range(n as u32), &format!("seed {seed}, reconnect {n}"));
        }
        for (n, delay) in sent_away_delays(seed, "internal_error", 12).into_iter().enumerate() {
            assert_within(ms(delay), sent_away_backoff_range(n as u32), &format!("seed {seed}, sent away {n}"));
        }
    }
}

#[test]
fn unreadable_frames_change_nothing() {
    // While logging in: the login deadline stays, and the login still succeeds.
    let mut h = Harness::new();
    h.connect_until_login();
    let login = h.expect_login().0;
    let deadline = h.core.poll_timeout();
    for text in unreadable_frames(&login) {
        h.core.handle_text(&text, h.now);
        h.assert_quiet();
        assert_eq!(h.core.poll_timeout(), deadline, "{text}");
        assert!(!h.core.is_connected(), "{text}");
    }
    h.login_ok(&login);
    assert!(matches!(h.drain_events()[..], [Output::Event(ClientEvent::Connected { .. })]));

    // While connected, with a request waiting: it still settles from its push afterwards.
    let (start, start_wire) = h.request(start_chat());
    let deadline = h.core.poll_timeout();
    for text in unreadable_frames(&start_wire) {
        h.core.handle_text(&text, h.now);
        h.assert_quiet();
        assert_eq!(h.core.poll_timeout(), deadline, "{text}");
        assert!(h.core.is_connected(), "{text}");
    }
    h.push(Some(&start_wire), incoming_chat("chat-1"));
    assert_eq!(h.drain_events(), vec![settled(start, Ok(chat_reply(chat("chat-1"))))]);
}

// ---------------------------------------------------------------------------------------------
// Every disconnection reason (§6.2, §6.3, v4's column; `inactivity_timeout` per the SDK docs)
// ---------------------------------------------------------------------------------------------

fn customer_disconnected_with(h: &mut Harness, reason: &str, data: Option<serde_json::Value>) {
    h.push(None, Push::CustomerDisconnected(CustomerDisconnected { reason: reason.into(), data }));
}

#[test]
fn customer_id_comes_once_with_the_first_token() {
    let mut h = Harness::new();
    h.core.connect(h.now);
    h.core.poll_io();
    h.core.poll_io();
    h.token(token("tok-1", CUSTOMER));
    assert_eq!(h.core.poll_event(), Some(Output::Event(ClientEvent::CustomerId(CUSTOMER.into()))));
    h.open();
    let login = h.expect_login().0;
    h.login_ok(&login);
    h.customer_disconnected("access_token_expired");
    h.drain_events();
    h.fire_timeout();
    h.drain_io();
    h.token(token("tok-2", CUSTOMER));
    let events: Vec<Output> = std::iter::from_fn(|| h.core.poll_event()).collect();
    assert!(!events.iter().any(|e| matches!(e, Output::Event(ClientEvent::CustomerId(_)))), "{events:?}");
}

#[test]
fn a_kept_identity_is_handed_to_the_app_when_it_changes_and_sent_with_every_later_token_request() {
    let sent = |core: &Core| -> TokenRequest { serde_json::from_str(&core.config().token_request()).unwrap() };
    let kept = |secret: &str| KeptIdentity { entity_id: CUSTOMER.into(), secret: secret.into() };
    let with_identity = |identity: KeptIdentity| TokenResponse { identity: Some(identity), ..token("tok-1", CUSTOMER) };

    let mut h = Harness::new();
    h.core = Core::new(Config { keep_identity: true, ..config() }, SEED);
    let first = sent(&h.core);
    assert!(first.keep_identity && first.identity.is_none(), "a first visit asks for an identity: {first:?}");

    h.core.connect(h.now);
    h.drain_io();
    h.token(with_identity(kept("s-1")));
    let kept_events: Vec<Output> = std::iter::from_fn(|| h.core.poll_event())
        .filter(|output| matches!(output, Output::Event(ClientEvent::IdentityKept(_))))
        .collect();
    assert_eq!(kept_events, vec![Output::Event(ClientEvent::IdentityKept(kept("s-1")))]);
    assert_eq!(sent(&h.core).identity, Some(kept("s-1")), "the next grant names the visitor without cookies");

    // A reconnect's token with the same identity tells the app nothing new.
    h.open();
    let login = h.expect_login().0;
    h.login_ok(&login);
    h.customer_disconnected("access_token_expired");
    h.fire_timeout();
    h.drain_io();
    h.drain_events();
    h.token(with_identity(kept("s-1")));
    let events: Vec<Output> = std::iter::from_fn(|| h.core.poll_event()).collect();
    assert!(!events.iter().any(|e| matches!(e, Output::Event(ClientEvent::IdentityKept(_)))), "{events:?}");

    // Without keep_identity (the Customer SDK's way) nothing is asked for or sent.
    let plain = sent(&Core::new(config(), SEED));
    assert!(!plain.keep_identity && plain.identity.is_none());
    assert!(!Core::new(config(), SEED).config().token_request().contains("identity"), "the wire stays the protocol's");
}

#[test]
fn each_destroying_reason_ends_the_client_without_data_and_fails_pending_requests() {
    let destroying = [
        ("customer_banned", Error::CustomerBanned),
        ("customer_temporarily_blocked", Error::ConnectionLost),
        ("license_not_found", Error::ConnectionLost),
        ("product_version_changed", Error::ConnectionLost),
        ("too_many_connections", Error::ConnectionLost),
        ("unsupported_version", Error::ConnectionLost),
        ("logged_out_remotely", Error::ConnectionLost),
    ];
    for (reason, error) in destroying {
        let mut h = Harness::connected();
        let (pending, _) = h.request(list_chats());
        customer_disconnected_with(&mut h, reason, Some(serde_json::json!({"why": "test"})));
        assert_eq!(h.drain_io(), vec![Io::CloseSocket], "{reason}");
        assert_eq!(h.drain_events(), vec![settled(pending, Err(error)), disconnected(reason, false)], "{reason}");
        assert!(h.core.is_destroyed(), "{reason}");
        assert_eq!(h.core.poll_timeout(), None, "{reason}: nothing more to do");
        assert_eq!(h.core.request(list_chats(), h.now), Err(Error::Destroyed), "{reason}");
        h.core.connect(h.now);
        assert_eq!(h.drain_io(), vec![], "{reason}: connect() cannot revive it");
    }
}

#[test]
fn inactivity_timeout_pauses_until_connect_as_the_sdk_docs_say() {
    let mut h = Harness::connected();
    let (pending, _) = h.request(list_chats());
    let data = serde_json::json!({"idle_secs": 1800});
    customer_disconnected_with(&mut h, "inactivity_timeout", Some(data.clone()));
    assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
    assert_eq!(
        h.drain_events(),
        vec![
            settled(pending, Err(Error::ConnectionLost)),
            Output::Event(ClientEvent::Disconnected {
                reason: "inactivity_timeout".into(),
                data: Some(data),
                outcome: DisconnectOutcome::Paused,
            }),
        ]
    );
    assert_eq!(h.core.poll_timeout(), None, "no automatic reconnect");
    h.advance(600_000);
    h.assert_quiet();
    assert_eq!(h.core.request(list_chats(), h.now), Err(Error::NoConnection), "paused, not destroyed");

    h.core.connect(h.now);
    assert_eq!(h.drain_io(), vec![Io::OpenSocket { url: config().socket_url() }], "the token is still fresh");
    h.open();
    let login = h.expect_login().0;
    h.login_ok(&login);
    assert!(matches!(h.drain_events()[..], [Output::Event(ClientEvent::Connected { .. })]));
}

#[test]
fn users_limit_reached_at_login_pauses_until_connect() {
    let mut h = Harness::new();
    h.connect_until_login();
    let login = h.expect_login().0;
    h.respond_error(&login, "login", ErrorType::UsersLimitReached);
    assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
    assert_eq!(
        h.drain_events(),
        vec![Output::Event(ClientEvent::Disconnected {
            reason: "users_limit_reached".into(),
            data: None,
            outcome: DisconnectOutcome::Paused,
        })]
    );
    assert_eq!(h.core.poll_timeout(), None);
    assert!(!h.core.is_destroyed());
    h.core.connect(h.now);
    assert_eq!(h.drain_io(), vec![Io::OpenSocket { url: config().socket_url() }]);
}

#[test]
fn wrong_product_version_and_customer_banned_at_login_destroy() {
    for (kind, reason) in
        [(ErrorType::WrongProductVersion, "wrong_product_version"), (ErrorType::CustomerBanned, "customer_banned")]
    {
        let mut h = Harness::new();
        h.connect_until_login();
        let login = h.expect_login().0;
        h.respond_error(&login, "login", kind);
        assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
        assert_eq!(h.drain_events(), vec![disconnected(reason, false)]);
        assert!(h.core.is_destroyed());
    }
}

#[test]
fn busy_server_reasons_fail_pending_requests_with_their_own_codes_and_retry_slower() {
    for (reason, error, code) in [
        ("service_temporarily_unavailable", Error::ServiceTemporarilyUnavailable, "SERVICE_TEMPORARILY_UNAVAILABLE"),
        (
            "too_many_unauthorized_connections",
            Error::TooManyUnauthorizedConnections,
            "TOO_MANY_UNAUTHORIZED_CONNECTIONS",
        ),
    ] {
        let mut h = Harness::connected();
        let (pending, _) = h.request(list_chats());
        h.customer_disconnected(reason);
        assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
        assert_eq!(error.code(), code);
        assert_eq!(h.drain_events(), vec![settled(pending, Err(error)), disconnected("connection_lost", true)]);
        let delay = h.core.poll_timeout().unwrap() - h.now;
        assert_within(delay, busy_server_backoff_range(0), reason);
    }
}

#[test]
fn misdirected_connection_fails_pending_requests_remembers_the_region_and_reconnects_silently() {
    let mut h = Harness::connected();
    let (pending, _) = h.request(list_chats());
    customer_disconnected_with(&mut h, "misdirected_connection", Some(serde_json::json!({"region": "fra"})));
    assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
    assert_eq!(h.drain_events(), vec![settled(pending, Err(Error::MisdirectedConnection))], "no Disconnected");
    assert_eq!(Error::MisdirectedConnection.code(), "MISDIRECTED_CONNECTION");
    assert_eq!(h.core.region(), Some("fra"));
    let delay = h.core.poll_timeout().unwrap() - h.now;
    assert_within(delay, sent_away_backoff_range(0), "reconnect");
    h.fire_timeout();
    assert_eq!(h.drain_io(), vec![Io::OpenSocket { url: config().socket_url() }], "the token is kept");
}

#[test]
fn reasons_that_reconnect_hand_on_the_push_data() {
    let data = serde_json::json!({"detail": "node restarting"});
    for reason in ["internal_error", "access_token_expired", "connection_evicted"] {
        let mut h = Harness::connected();
        customer_disconnected_with(&mut h, reason, Some(data.clone()));
        assert_eq!(
            h.drain_events(),
            vec![Output::Event(ClientEvent::Disconnected {
                reason: reason.into(),
                data: Some(data.clone()),
                outcome: DisconnectOutcome::Reconnecting,
            })]
        );
        h.fire_timeout();
        let io = h.drain_io();
        assert_eq!(io.contains(&Io::FetchToken), reason == "access_token_expired", "{reason}: {io:?}");
        assert!(io.contains(&Io::OpenSocket { url: config().socket_url() }), "{reason}: {io:?}");
    }
}

#[test]
fn a_token_refusal_ends_the_client_unless_the_server_says_it_is_passing() {
    for (error, reason) in [
        (Error::SsoIdentityException("unauthorized".into()), "unauthorized"),
        (Error::SsoOauthException("access_denied".into()), "access_denied"),
    ] {
        let mut h = Harness::new();
        h.core.connect(h.now);
        h.drain_io();
        h.core.handle_token(Err(error), h.now);
        assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
        assert_eq!(h.drain_events(), vec![disconnected(reason, false)]);
        assert!(h.core.is_destroyed());
    }
    for message in ["server_error", "temporarily_unavailable", "too_many_requests"] {
        let mut h = Harness::new();
        h.core.connect(h.now);
        h.drain_io();
        h.core.handle_token(Err(Error::SsoOauthException(message.into())), h.now);
        h.drain_io();
        let (error, delay) = h.expect_connect_failed();
        assert_eq!(error.code(), "SSO_OAUTH_EXCEPTION");
        assert_within(delay, login_backoff_range(0), message);
    }
}

#[test]
fn destroy_fails_pending_requests_with_sdk_destroyed_and_emits_nothing() {
    let mut h = Harness::connected();
    let (pending, _) = h.request(list_chats());
    h.core.destroy();
    assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
    assert_eq!(h.drain_events(), vec![settled(pending, Err(Error::Destroyed))]);
    assert_eq!(h.core.request(list_chats(), h.now).map_err(|e| e.code()), Err("SDK_DESTROYED".into()));
    assert_eq!(h.core.poll_timeout(), None);
}

// ---------------------------------------------------------------------------------------------
// Keep-alive and the browser's online / offline events (§5, §6.7)
// ---------------------------------------------------------------------------------------------

/// Every IO queued, pings included.
fn all_io(h: &mut Harness) -> Vec<Io> {
    std::iter::from_fn(|| h.core.poll_io()).collect()
}

#[test]
fn keep_alive_pings_after_15_s_without_sending_and_each_frame_sent_restarts_the_count() {
    let mut h = Harness::connected();
    h.advance(KEEPALIVE_INTERVAL.as_millis() as u64 - 1);
    assert_eq!(all_io(&mut h), vec![]);
    h.advance(1);
    let io = all_io(&mut h);
    assert!(matches!(&io[..], [ping] if is_ping(ping)), "{io:?}");

    h.advance(10_000);
    h.request(list_chats());
    h.advance(14_999);
    assert_eq!(all_io(&mut h), vec![], "the request restarted the count");
    h.advance(1);
    assert!(all_io(&mut h).iter().all(is_ping));

    // Not while disconnected.
    h.close();
    h.drain_events();
    assert!(h.core.poll_timeout().is_some_and(|at| at - h.now < KEEPALIVE_INTERVAL), "only the reconnect is due");
}

#[test]
fn offline_is_connection_unstable_and_online_probes_with_a_ping_then_recovers_on_any_frame() {
    let mut h = Harness::connected();
    h.core.handle_offline(h.now);
    assert_eq!(h.drain_events(), vec![Output::Event(ClientEvent::ConnectionUnstable)]);

    h.core.handle_online(h.now);
    let io = all_io(&mut h);
    assert!(matches!(&io[..], [ping] if is_ping(ping)), "a ping provokes a frame: {io:?}");
    assert_eq!(h.core.poll_timeout(), Some(h.now + ms(2_000)));
    h.advance(1_999);
    h.respond("r999", Response::Ping(Default::default()));
    assert_eq!(h.drain_events(), vec![Output::Event(ClientEvent::ConnectionRecovered)]);
    assert!(h.core.is_connected());
    h.advance(10);
    assert_eq!(h.drain_io(), vec![], "no reconnect");
}

#[test]
fn online_without_any_frame_within_2_s_forces_a_reconnect_without_disconnected() {
    let mut h = Harness::connected();
    let (pending, _) = h.request(list_chats());
    h.core.handle_online(h.now);
    all_io(&mut h);
    h.advance(2_000);
    assert_eq!(h.drain_io(), vec![Io::CloseSocket]);
    assert_eq!(h.drain_events(), vec![settled(pending, Err(Error::ConnectionLost))], "no Disconnected");
    assert!(!h.core.is_connected());
    h.fire_timeout();
    assert_eq!(h.drain_io(), vec![Io::OpenSocket { url: config().socket_url() }]);
    h.open();
    let login = h.expect_login().0;
    h.login_ok(&login);
    assert!(matches!(h.drain_events()[..], [Output::Event(ClientEvent::Connected { .. })]));
}

#[test]
fn network_changes_while_not_connected_do_nothing() {
    let mut h = Harness::new();
    h.core.handle_offline(h.now);
    h.core.handle_online(h.now);
    assert_eq!(all_io(&mut h), vec![]);
    assert_eq!(h.drain_events(), vec![]);
}

// ---------------------------------------------------------------------------------------------
// The history pager (§8.1)
// ---------------------------------------------------------------------------------------------

fn thread(id: &str) -> confab_protocol::entity::Thread {
    confab_protocol::entity::Thread {
        id: id.into(),
        created_at: "2025-01-01T00:00:00.000000Z".into(),
        ..Default::default()
    }
}

#[test]
fn history_asks_for_25_events_then_pages_by_page_id_alone_each_page_oldest_first() {
    use confab_protocol::action::ListThreadsResponse;
    use confab_sdk::history::HistoryPager;
    let mut h = Harness::connected();
    let mut pager = HistoryPager::new("chat-1");
    let mut wire = vec![];
    let mut pages = vec![];
    let answers = [(vec!["t5", "t4"], Some("p2")), (vec!["t3", "t2"], Some("p3")), (vec!["t1"], None)];
    for (threads, next) in answers {
        let request = pager.request().expect("a page to ask for");
        let (id, request_id) = h.request(request.clone());
        wire.push(serde_json::to_value(&request).unwrap());
        // The first answer fails once: the same page is asked again.
        if wire.len() == 1 {
            h.respond_error(&request_id, "list_threads", ErrorType::Internal);
            h.drain_events();
            assert_eq!(pager.request(), Some(request.clone()), "after an error, the same page");
            let (_, again) = h.request(request);
            h.respond(
                &again,
                Response::ListThreads(ListThreadsResponse {
                    threads: threads.iter().map(|id| thread(id)).collect(),
                    found_threads: 5,
                    next_page_id: next.map(str::to_owned),
                    previous_page_id: None,
                }),
            );
        } else {
            h.respond(
                &request_id,
                Response::ListThreads(ListThreadsResponse {
                    threads: threads.iter().map(|id| thread(id)).collect(),
                    found_threads: 5,
                    next_page_id: next.map(str::to_owned),
                    previous_page_id: None,
                }),
            );
        }
        let events = h.drain_events();
        let [Output::Settled { result: Ok(Reply::Response(response)), .. }] = &events[..] else { panic!("{events:?}") };
        let _ = id;
        let page = pager.take(response.clone().decode().unwrap());
        pages.push(page.into_iter().map(|t| t.id).collect::<Vec<_>>());
    }
    assert_eq!(
        wire,
        vec![
            serde_json::json!({"chat_id": "chat-1", "min_events_count": 25}),
            serde_json::json!({"chat_id": "chat-1", "page_id": "p2"}),
            serde_json::json!({"chat_id": "chat-1", "page_id": "p3"}),
        ]
    );
    assert_eq!(pages, vec![vec!["t4", "t5"], vec!["t2", "t3"], vec!["t1"]]);
    assert!(pager.is_done());
    assert_eq!(pager.request(), None, "done: no more requests");
}

// ---------------------------------------------------------------------------------------------
// Every push as its typed event (§12)
// ---------------------------------------------------------------------------------------------

/// Feeds a push frame made of `name` and `payload`; returns what came out.
fn feed_push(h: &mut Harness, name: &str, payload: serde_json::Value) -> Vec<Output> {
    let text = serde_json::json!({"action": name, "type": "push", "payload": payload}).to_string();
    h.core.handle_text(&text, h.now);
    h.drain_events()
}

fn decoded<T: serde::de::DeserializeOwned>(payload: &serde_json::Value) -> T {
    serde_json::from_value(payload.clone()).unwrap()
}

/// How the expected event is made from a push's payload.
type ToEvent = fn(&serde_json::Value) -> ClientEvent;

#[test]
fn every_push_becomes_its_typed_event() {
    use serde_json::json;
    let mut h = Harness::connected();
    let agent = json!({"id": "agent@x", "type": "agent", "name": "Alex", "present": true});
    let message = json!({"id": "ev-1", "type": "message", "text": "hi", "author_id": "agent@x", "created_at": "2025-01-01T00:00:00Z"});
    let one_to_one: Vec<(&str, serde_json::Value, ToEvent)> = vec![
        ("chat_deactivated", json!({"chat_id": "C1", "thread_id": "T1"}), |p| ClientEvent::ChatDeactivated(decoded(p))),
        ("chat_properties_deleted", json!({"chat_id": "C1", "properties": {"a": ["b"]}}), |p| {
            ClientEvent::ChatPropertiesDeleted(decoded(p))
        }),
        ("chat_properties_updated", json!({"chat_id": "C1", "properties": {"a": {"b": 1}}}), |p| {
            ClientEvent::ChatPropertiesUpdated(decoded(p))
        }),
        (
            "chat_transferred",
            json!({"chat_id": "C1", "reason": "manual", "transferred_to": {"group_ids": [2]}, "queue": {"position": 1, "wait_time": 30}}),
            |p| ClientEvent::ChatTransferred(decoded(p)),
        ),
        (
            "customer_page_updated",
            json!({"url": "https://x/a", "title": "A", "opened_at": "2025-01-01T00:00:00Z"}),
            |p| ClientEvent::CustomerPageUpdated(decoded(p)),
        ),
        ("customer_updated", json!({"id": "cust-1", "name": "Jo"}), |p| ClientEvent::CustomerUpdated(decoded(p))),
        (
            "event_properties_deleted",
            json!({"chat_id": "C1", "thread_id": "T1", "event_id": "E1", "properties": {"a": ["b"]}}),
            |p| ClientEvent::EventPropertiesDeleted(decoded(p)),
        ),
        (
            "event_properties_updated",
            json!({"chat_id": "C1", "thread_id": "T1", "event_id": "E1", "properties": {"a": {"b": 1}}}),
            |p| ClientEvent::EventPropertiesUpdated(decoded(p)),
        ),
        (
            "event_updated",
            json!({"chat_id": "C1", "thread_id": "T1", "event": {"id": "E1", "type": "message", "text": "edited"}}),
            |p| ClientEvent::EventUpdated(decoded(p)),
        ),
        (
            "events_marked_as_seen",
            json!({"user_id": "agent@x", "chat_id": "C1", "seen_up_to": "2025-01-01T00:00:00Z"}),
            |p| ClientEvent::EventsMarkedAsSeen(decoded(p)),
        ),
        ("greeting_accepted", json!({"unique_id": "G1"}), |_| ClientEvent::GreetingAccepted { unique_id: "G1".into() }),
        ("greeting_canceled", json!({"unique_id": "G2"}), |_| ClientEvent::GreetingCanceled { unique_id: "G2".into() }),
        (
            "incoming_event",
            json!({"chat_id": "C1", "thread_id": "T1", "event": {"id": "E9", "seq": 9, "type": "message", "text": "x"}}),
            |p| ClientEvent::IncomingEvent(decoded(p)),
        ),
        (
            "incoming_greeting",
            json!({"id": 7, "unique_id": "G3", "displayed_first_time": true, "event": {"id": "E", "type": "message", "text": "Hello"}, "agent": {"id": "agent@x", "name": "Alex"}}),
            |p| ClientEvent::IncomingGreeting(decoded(p)),
        ),
        ("incoming_multicast", json!({"author_id": "agent@x", "type": "custom", "content": {"x": 1}}), |p| {
            ClientEvent::IncomingMulticast(decoded(p))
        }),
        (
            "incoming_rich_message_postback",
            json!({"user_id": "cust-1", "chat_id": "C1", "thread_id": "T1", "event_id": "E1", "postback": {"id": "yes", "toggled": true}}),
            |p| ClientEvent::IncomingRichMessagePostback(decoded(p)),
        ),
        (
            "incoming_typing_indicator",
            json!({"chat_id": "C1", "typing_indicator": {"author_id": "agent@x", "is_typing": true}}),
            |p| ClientEvent::IncomingTypingIndicator(decoded(p)),
        ),
        (
            "queue_position_updated",
            json!({"chat_id": "C1", "thread_id": "T1", "queue": {"position": 2, "wait_time": 60}}),
            |p| ClientEvent::QueuePositionUpdated(decoded(p)),
        ),
        ("thread_properties_deleted", json!({"chat_id": "C1", "thread_id": "T1", "properties": {"a": ["b"]}}), |p| {
            ClientEvent::ThreadPropertiesDeleted(decoded(p))
        }),
        (
            "thread_properties_updated",
            json!({"chat_id": "C1", "thread_id": "T1", "properties": {"a": {"b": 1}}}),
            |p| ClientEvent::ThreadPropertiesUpdated(decoded(p)),
        ),
        ("user_removed_from_chat", json!({"chat_id": "C1", "user_id": "agent@x", "reason": "manual"}), |p| {
            ClientEvent::UserRemovedFromChat(decoded(p))
        }),
    ];
    for (name, payload, expected) in &one_to_one {
        assert_eq!(feed_push(&mut h, name, payload.clone()), vec![Output::Event(expected(payload))], "{name}");
    }

    // incoming_chat and user_added_to_chat: the event, after `user_data` per new user.
    let chat_payload = json!({"chat": {"id": "C2", "users": [agent], "thread": {"id": "T2", "created_at": "2025-01-01T00:00:00Z", "active": true, "events": [message]}}});
    let alex = User::Agent(Agent { id: "agent@x".into(), name: Some("Alex".into()), ..Agent::default() });
    assert_eq!(
        feed_push(&mut h, "incoming_chat", chat_payload.clone()),
        vec![
            Output::Event(ClientEvent::UserData(alex.clone())),
            Output::Event(ClientEvent::IncomingChat(decoded(&chat_payload)))
        ]
    );
    let added = json!({"chat_id": "C2", "user": agent, "reason": "manual"});
    assert_eq!(
        feed_push(&mut h, "user_added_to_chat", added.clone()),
        vec![Output::Event(ClientEvent::UserAddedToChat(decoded(&added)))],
        "Alex was handed on already, unchanged"
    );
    let renamed =
        json!({"chat_id": "C2", "user": {"id": "agent@x", "type": "agent", "name": "Alexandra"}, "reason": "manual"});
    let alexandra = User::Agent(Agent { id: "agent@x".into(), name: Some("Alexandra".into()), ..Agent::default() });
    assert_eq!(
        feed_push(&mut h, "user_added_to_chat", renamed.clone()),
        vec![
            Output::Event(ClientEvent::UserData(alexandra)),
            Output::Event(ClientEvent::UserAddedToChat(decoded(&renamed)))
        ]
    );

    // thread_properties_updated with lc2.queue_pos: also a queue position.
    let queued =
        json!({"chat_id": "C1", "thread_id": "T1", "properties": {"lc2": {"queue_pos": 3, "queue_waiting_time": 120}}});
    let queue: QueuePositionUpdated =
        decoded(&json!({"chat_id": "C1", "thread_id": "T1", "queue": {"position": 3, "wait_time": 120}}));
    assert_eq!(
        feed_push(&mut h, "thread_properties_updated", queued.clone()),
        vec![
            Output::Event(ClientEvent::ThreadPropertiesUpdated(decoded(&queued))),
            Output::Event(ClientEvent::QueuePositionUpdated(queue)),
        ]
    );

    // Availability: v4's groups_status_updated for the customer's group (3), v2's multicast.
    let offline = Output::Event(ClientEvent::AvailabilityUpdated { availability: Availability::Offline });
    let online = Output::Event(ClientEvent::AvailabilityUpdated { availability: Availability::Online });
    assert_eq!(
        feed_push(
            &mut h,
            "groups_status_updated",
            json!({"groups": [{"id": 1, "status": "offline"}, {"id": 3, "status": "offline"}]})
        ),
        vec![offline.clone()]
    );
    assert_eq!(
        feed_push(&mut h, "groups_status_updated", json!({"groups": [{"id": 3, "status": "online_for_queue"}]})),
        vec![online.clone()]
    );
    assert_eq!(
        feed_push(&mut h, "groups_status_updated", json!({"groups": [{"id": 1, "status": "online"}]})),
        vec![],
        "not our group"
    );
    let multicast =
        json!({"type": "lc2", "content": {"name": "groups_update", "groups": [{"id": 3, "status": "offline"}]}});
    assert_eq!(
        feed_push(&mut h, "incoming_multicast", multicast.clone()),
        vec![Output::Event(ClientEvent::IncomingMulticast(decoded(&multicast))), offline]
    );

    // Not events: the agents' sneak peek; side storage, sent back with the next login.
    assert_eq!(
        feed_push(
            &mut h,
            "incoming_sneak_peek",
            json!({"chat_id": "C1", "thread_id": "T1", "sneak_peek": {"author_id": "x", "text": "t", "timestamp": 1}})
        ),
        vec![]
    );
    assert_eq!(
        feed_push(&mut h, "customer_side_storage_updated", json!({"customer_side_storage": {"k": "v"}})),
        vec![]
    );
    h.close();
    h.drain_events();
    h.fire_timeout();
    h.drain_io();
    h.open();
    let (_, login, _) = h.expect_login();
    assert_eq!(login.customer_side_storage, Some(json!({"k": "v"}).as_object().unwrap().clone()));
}

#[test]
fn get_chat_and_list_chats_answers_yield_user_data_and_list_chats_tells_which_chats_are_active() {
    use serde_json::json;
    let mut h = Harness::connected();
    let (_, get) = h.request(get_chat("C1"));
    let jo = json!({"id": "cust-1", "type": "customer", "name": "Jo", "present": true, "events_seen_up_to": "2025-01-01T00:00:00Z"});
    let chat: Chat = decoded(&json!({"id": "C1", "users": [jo]}));
    h.respond(&get, Response::GetChat(chat));
    let events = h.drain_events();
    let jo = User::Customer(Customer { id: "cust-1".into(), name: Some("Jo".into()), ..Customer::default() });
    assert_eq!(events[0], Output::Event(ClientEvent::UserData(jo.clone())), "without per-chat fields");
    assert!(matches!(events[1], Output::Settled { .. }));

    // Sneak peeks go only to a chat known active.
    h.core.sneak_peek("C5", "typing…", h.now);
    assert_eq!(all_io(&mut h), vec![], "C5 is not known active");
    let (_, list) = h.request(list_chats());
    let summaries: ListChatsResponse = decoded(&json!({"chats_summary": [
        {"id": "C5", "active": true, "users": [{"id": "cust-1", "type": "customer", "name": "Jo"}]},
        {"id": "C6", "active": false, "users": []}
    ], "total_chats": 2}));
    h.respond(&list, Response::ListChats(summaries));
    let events = h.drain_events();
    assert!(matches!(&events[..], [Output::Settled { .. }]), "Jo unchanged: no second user_data: {events:?}");
    assert!(h.core.sneak_peek("C5", "typing…", h.now));
    let io = all_io(&mut h);
    let [Io::Send(text)] = &io[..] else { panic!("{io:?}") };
    let frame: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(frame["action"], "send_sneak_peek");
    assert_eq!(frame["payload"], json!({"chat_id": "C5", "sneak_peek_text": "typing…"}));
    assert!(!h.core.sneak_peek("C6", "x", h.now), "C6 is inactive");
    feed_push(&mut h, "chat_deactivated", json!({"chat_id": "C5", "thread_id": "T"}));
    assert!(!h.core.sneak_peek("C5", "x", h.now), "C5 was deactivated");
}

#[test]
fn update_customer_page_is_remembered_for_the_next_login_and_sent_when_connected() {
    use confab_protocol::action::CustomerPage;
    let mut h = Harness::new();
    let page = |url: &str| CustomerPage { url: Some(url.into()), title: None };
    assert_eq!(h.core.update_customer_page(page("https://x/1"), h.now), Ok(None), "not connected: only remembered");
    h.connect_until_login();
    let (login, request, _) = h.expect_login();
    assert_eq!(request.customer_page, Some(page("https://x/1")));

    // Changed while the login was on its way: sent after it.
    h.core.update_customer_page(page("https://x/2"), h.now).unwrap();
    h.login_ok(&login);
    let io = h.drain_io();
    let [Io::Send(text)] = &io[..] else { panic!("{io:?}") };
    assert!(text.contains("update_customer_page") && text.contains("https://x/2"), "{text}");

    let id = h.core.update_customer_page(page("https://x/3"), h.now).unwrap().expect("sent: connected");
    let io = h.drain_io();
    let [Io::Send(text)] = &io[..] else { panic!("{io:?}") };
    let frame = RequestFrame::decode(text).unwrap();
    h.respond(frame.request_id.as_deref().unwrap(), Response::UpdateCustomerPage(Default::default()));
    assert!(
        h.drain_events().iter().any(|e| matches!(e, Output::Settled { id: settled, result: Ok(_) } if *settled == id))
    );
}
