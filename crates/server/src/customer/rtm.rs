//! The customer RTM socket: `GET /v3.5/customer/rtm/ws?organization_id=<uuid>` (and `/v3.2/`).
//!
//! One task per socket. Its loop reads frames, writes what its queue holds (responses and
//! pushes alike, so they leave in the order they were queued), and runs the socket's requests
//! one at a time, in order, beside the reading: a slow query delays that socket's answers, but
//! never its reading, its pings, or other sockets. At most `MAX_PENDING_REQUESTS` wait; more are
//! answered `too_many_requests`, as are frames beyond the socket's rate.
//!
//! Before `login` only `login` and `ping` are served. Every bad frame is answered in the
//! protocol's error shape; the socket stays up. A socket ends with `customer_disconnected`
//! (protocol.md §6.3) and a close frame, for one of these reasons:
//!
//! | reason | when | close code |
//! |---|---|---|
//! | `connection_timeout` | no login within `LOGIN_TIMEOUT` | 1008 policy |
//! | `access_token_expired` | the token it logged in with expired (clients reconnect) | 1008 policy |
//! | `service_temporarily_unavailable` | the server shuts down | 1001 going away |
//! | `customer_banned` | an agent banned the customer (`ban_customer`), on any node | 1008 policy |
//! | `logged_out_remotely` | an agent ended the customer's sessions (`logout_customer`), on any node | 1000 normal |
//! | `too_many_connections` | a login beyond `MAX_CONNECTIONS_PER_CUSTOMER` sockets on this node (the newest goes) | 1008 policy |
//! | `customer_temporarily_blocked` | a login within `TEMPORARY_BLOCK` after `TOO_MANY_CONNECTIONS_STRIKES` such refusals in `TOO_MANY_CONNECTIONS_PERIOD` | 1013 try again later |
//! | `too_many_unauthorized_connections` | a socket beyond `MAX_UNAUTHORIZED_CONNECTIONS_PER_ADDRESS` (or `--max-unauthorized-connections-per-address`) not logged in from one client address | 1013 try again later |
//! | `inactivity_timeout` | `INACTIVITY_TIMEOUT` without a request (pings aside) or a push | 1000 normal |
//! | `unsupported_version` | a path version (`/v3.1/…`) or a login `version` this server does not speak | 1008 policy |
//! | `license_not_found` | an `organization_id` that is not this server's | 1008 policy |
//!
//! The last three refusals happen after the upgrade, not as an HTTP error: a client only
//! stops retrying (destroys itself, §6.3) when it hears the reason. `misdirected_connection`
//! is never sent: it names another region (`data.region`) for the client to move to, and a
//! Confab deployment is one region, every node of which serves every customer (a node that
//! shuts down sends `service_temporarily_unavailable`, and clients come back through the
//! load balancer to another node).
//!
//! This file is the socket: frames, login, limits, goodbyes. What each action does is in
//! `actions/`, one file per group of actions.

use super::actions::{self, Call};
use crate::AppState;
use crate::clock::Micros;
use crate::error::{Error, Result};
use crate::fanout::hub::SocketFlags;
use crate::fanout::hub::{SocketHandle, SocketQueue};
use crate::limits::{
    INACTIVITY_TIMEOUT, MAX_CONNECTIONS_PER_CUSTOMER, MAX_PENDING_REQUESTS, RTM_FRAME_BURST, RTM_FRAMES_PER_SECOND,
    SNEAK_PEEK_BURST, SNEAK_PEEKS_PER_SECOND,
};
use crate::rate::{PendingSocket, TokenBucket};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use confab_protocol::action::{DynamicConfig, LoginRequest, LoginResponse};
use confab_protocol::frame::{PushFrame, ResponseFrame};
use confab_protocol::push::{CustomerDisconnected, Push, reason};
use confab_protocol::{ApiError, DecodeError, ErrorType, Request, RequestFrame, Response, ServerFrame};
use futures::future::BoxFuture;
use futures::{FutureExt, SinkExt, StreamExt};
use serde::Deserialize;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The Customer Chat API versions this server speaks: in the socket's path (`/v3.5/…`) and in
/// `login`'s top-level `version`.
pub const SUPPORTED_VERSIONS: [&str; 2] = ["3.5", "3.2"];

#[derive(Debug, Deserialize)]
pub struct RtmQuery {
    organization_id: Option<String>,
    /// v3.2 clients name the account by license instead.
    license_id: Option<u64>,
}

/// Checks the Origin, then upgrades; a socket this server will not serve (an unsupported
/// version, an unknown organization, too many sockets not logged in from its address) hears
/// why and is closed.
pub async fn upgrade(
    State(state): State<AppState>,
    Path(version): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<RtmQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<HttpResponse> {
    state.settings.check_origin(&headers)?;
    let known_organization = match (&query.organization_id, query.license_id) {
        (Some(org), _) => *org == state.settings.organization_id,
        (None, Some(_)) => true,
        (None, None) => false,
    };
    let supported = version.strip_prefix('v').is_some_and(|v| SUPPORTED_VERSIONS.contains(&v));
    let admitted = if !supported {
        Err(reason::UNSUPPORTED_VERSION)
    } else if !known_organization {
        Err(reason::LICENSE_NOT_FOUND)
    } else {
        let client = state.settings.client_address(peer, &headers);
        state
            .pending_sockets
            .try_open(client, state.settings.max_unauthorized_connections_per_address)
            .ok_or(reason::TOO_MANY_UNAUTHORIZED_CONNECTIONS)
    };
    let shutdown = state.shutdown.clone();
    Ok(crate::bounded_socket(ws).on_upgrade(move |socket| {
        shutdown.track(async move {
            match admitted {
                Ok(pending) => run(socket, state, pending).await,
                Err(reason) => refuse(socket, reason).await,
            }
        })
    }))
}

/// Tells a socket that will not be served why, and closes it.
async fn refuse(socket: WebSocket, reason: &'static str) {
    let (mut sink, _stream) = socket.split();
    say_goodbye(&mut sink, Goodbye::because(reason)).await;
}

/// Why a socket ends, and what it is told.
struct Goodbye {
    reason: Option<&'static str>,
    code: u16,
    text: &'static str,
}

impl Goodbye {
    /// The goodbye for a `customer_disconnected` reason, with its close code (see the table
    /// at the top).
    fn because(reason: &'static str) -> Self {
        let (code, text) = match reason {
            reason::CONNECTION_TIMEOUT => (close_code::POLICY, "login timeout"),
            reason::ACCESS_TOKEN_EXPIRED => (close_code::POLICY, "access token expired"),
            reason::SERVICE_TEMPORARILY_UNAVAILABLE => (close_code::AWAY, "server shutting down"),
            reason::CUSTOMER_BANNED => (close_code::POLICY, "customer banned"),
            reason::LOGGED_OUT_REMOTELY => (close_code::NORMAL, "logged out remotely"),
            reason::TOO_MANY_CONNECTIONS => (close_code::POLICY, "too many connections"),
            reason::CUSTOMER_TEMPORARILY_BLOCKED => (close_code::AGAIN, "customer temporarily blocked"),
            reason::TOO_MANY_UNAUTHORIZED_CONNECTIONS => (close_code::AGAIN, "too many unauthorized connections"),
            reason::INACTIVITY_TIMEOUT => (close_code::NORMAL, "inactivity timeout"),
            reason::UNSUPPORTED_VERSION => (close_code::POLICY, "unsupported version"),
            reason::LICENSE_NOT_FOUND => (close_code::POLICY, "license not found"),
            _ => (close_code::ERROR, "internal error"),
        };
        Goodbye { reason: Some(reason), code, text }
    }
}

/// Sends the goodbye: `customer_disconnected` (when it has a reason), then the close frame.
async fn say_goodbye<S>(sink: &mut S, goodbye: Goodbye)
where
    S: futures::Sink<Message> + Unpin,
{
    if let Some(reason) = goodbye.reason {
        let push = Push::CustomerDisconnected(CustomerDisconnected { reason: reason.into(), data: None });
        let frame = ServerFrame::Push(PushFrame { request_id: None, push });
        let _ = sink.send(Message::Text(frame.encode().into())).await;
    }
    let close = CloseFrame { code: goodbye.code, reason: Utf8Bytes::from_static(goodbye.text) };
    let _ = sink.send(Message::Close(Some(close))).await;
}

/// What a finished request leaves for the socket's loop to do.
enum Outcome {
    Done,
    /// The socket logged in: subscribe it, then send `response`.
    LoggedIn {
        customer_id: String,
        group_id: u32,
        expires_at: Micros,
        response: Box<ServerFrame>,
    },
    /// The socket may not log in: it ends with this reason.
    Refused(&'static str),
}

/// One socket: who logged in on it, and its requests.
struct Session {
    state: AppState,
    socket: SocketHandle,
    customer_id: Option<String>,
    /// The group the customer logged in with.
    group_id: u32,
    bucket: TokenBucket,
    sneak_peeks: Arc<Mutex<TokenBucket>>,
    waiting: VecDeque<(Option<String>, Request)>,
    running: Option<BoxFuture<'static, Outcome>>,
    /// This socket's place among its address's sockets not logged in yet (until login).
    pending: Option<PendingSocket>,
    /// The last request (pings aside) or push seen: the inactivity timeout counts from it.
    last_active: Micros,
    flags: Arc<SocketFlags>,
}

fn deadline(state: &AppState, at: Micros) -> BoxFuture<'static, ()> {
    let clock = state.domain.clock.clone();
    async move { clock.sleep_until(at).await }.boxed()
}

async fn run(socket: WebSocket, state: AppState, pending: PendingSocket) {
    let (mut sink, mut stream) = socket.split();
    let (handle, SocketQueue { mut frames, overflowed, flags }) = state.fanout.hub.open_socket();
    let now = state.domain.clock.now();
    let mut session = Session {
        state: state.clone(),
        socket: handle,
        customer_id: None,
        group_id: crate::domain::DEFAULT_GROUP,
        bucket: TokenBucket::new(RTM_FRAMES_PER_SECOND, RTM_FRAME_BURST, now),
        sneak_peeks: Arc::new(Mutex::new(TokenBucket::new(SNEAK_PEEKS_PER_SECOND, SNEAK_PEEK_BURST, now))),
        waiting: VecDeque::new(),
        running: None,
        pending: Some(pending),
        last_active: now,
        flags,
    };
    // Before login: the login timeout. After: the expiry of the token it logged in with.
    let mut deadline_at = deadline(&state, now.plus(state.settings.login_timeout));
    // After login: when the customer will have been inactive too long, unless active meanwhile.
    let mut idle_at: BoxFuture<'static, ()> = std::future::pending().boxed();

    let goodbye = loop {
        tokio::select! {
            biased;
            _ = state.shutdown.signalled() => break Some(Goodbye::because(reason::SERVICE_TEMPORARILY_UNAVAILABLE)),
            _ = overflowed.cancelled() => break Some(match session.flags.ended_for() {
                Some(reason) => Goodbye::because(reason),
                None => Goodbye { reason: None, code: close_code::AGAIN, text: "client too slow" },
            }),
            _ = &mut deadline_at => break Some(Goodbye::because(if session.customer_id.is_none() {
                reason::CONNECTION_TIMEOUT
            } else {
                reason::ACCESS_TOKEN_EXPIRED
            })),
            _ = &mut idle_at => {
                let now = state.domain.clock.now();
                if session.flags.take_pushed() {
                    session.last_active = now;
                }
                let due = session.last_active.plus(INACTIVITY_TIMEOUT);
                if due <= now {
                    break Some(Goodbye::because(reason::INACTIVITY_TIMEOUT));
                }
                idle_at = deadline(&state, due);
            }
            Some(frame) = frames.recv() => {
                if session.flags.take_pushed() {
                    // A push is chat activity, as of when it goes out.
                    session.last_active = state.domain.clock.now();
                }
                if sink.send(frame.into_message()).await.is_err() {
                    break None;
                }
            }
            outcome = async { session.running.as_mut().expect("guarded").await }, if session.running.is_some() => {
                session.running = None;
                match outcome {
                    Outcome::Done => {}
                    Outcome::Refused(reason) => break Some(Goodbye::because(reason)),
                    Outcome::LoggedIn { customer_id, group_id, expires_at, response } => {
                        let now = state.domain.clock.now();
                        if !state.fanout.hub.try_subscribe(&customer_id, &session.socket, MAX_CONNECTIONS_PER_CUSTOMER) {
                            state.connection_strikes.strike(&customer_id, now);
                            break Some(Goodbye::because(reason::TOO_MANY_CONNECTIONS));
                        }
                        state.fanout.hub.subscribe_group(group_id, &session.socket);
                        session.customer_id = Some(customer_id);
                        session.group_id = group_id;
                        session.pending = None;
                        session.socket.send_frame(*response);
                        deadline_at = deadline(&state, expires_at);
                        session.last_active = now;
                        idle_at = deadline(&state, now.plus(INACTIVITY_TIMEOUT));
                    }
                }
                session.start_next();
            }
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    if let Some(goodbye) = session.receive(&text) {
                        break Some(goodbye);
                    }
                }
                Some(Ok(Message::Binary(_))) => session.socket.send_frame(ResponseFrame::error(
                    None, "unknown", ApiError::validation("Frames must be JSON text"),
                )),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Err(e)) => break is_oversized(e).then_some(Goodbye {
                    reason: None,
                    code: close_code::SIZE,
                    text: crate::limits::OVERSIZED_FRAME_CLOSE_TEXT,
                }),
                Some(Ok(Message::Close(_))) | None => break None,
            },
        }
    };

    if let Some(customer_id) = &session.customer_id {
        state.fanout.hub.unsubscribe(customer_id, session.socket.id);
        state.fanout.hub.unsubscribe_group(session.group_id, session.socket.id);
    }
    drop(session.pending.take());
    if let Some(goodbye) = goodbye {
        // What was queued before the goodbye still goes out first.
        while let Ok(frame) = frames.try_recv() {
            if sink.send(frame.into_message()).await.is_err() {
                return;
            }
        }
        say_goodbye(&mut sink, goodbye).await;
    }
}

/// Whether the WebSocket layer refused a frame for its size (`MAX_FRAME_BYTES`): it reads the
/// frame's header and refuses before buffering the body.
fn is_oversized(error: axum::Error) -> bool {
    matches!(error.into_inner().downcast::<tungstenite::Error>().map(|e| *e), Ok(tungstenite::Error::Capacity(_)))
}

impl Session {
    /// Takes one text frame: answers pings and bad frames at once, queues the rest. A login
    /// in a version this server does not speak ends the socket.
    fn receive(&mut self, text: &str) -> Option<Goodbye> {
        let frame = match RequestFrame::decode(text) {
            Ok(frame) => frame,
            Err(e) => {
                let action = e.action().unwrap_or("unknown").to_owned();
                let error = match &e {
                    DecodeError::UnknownAction { action, .. } => {
                        ApiError::validation(format!("Unknown action `{action}`"))
                    }
                    _ => ApiError::validation(e.to_string()),
                };
                self.socket.send_frame(ResponseFrame::error(e.request_id().map(str::to_owned), action, error));
                return None;
            }
        };
        if let (Request::Login(_), Some(version)) = (&frame.request, &frame.version)
            && !SUPPORTED_VERSIONS.contains(&version.as_str())
        {
            return Some(Goodbye::because(reason::UNSUPPORTED_VERSION));
        }
        let (request_id, action) = (frame.request_id, frame.request.name());
        let now = self.state.domain.clock.now();
        if !self.bucket.take(now) {
            let error = ApiError::new(ErrorType::TooManyRequests, "Too many requests; slow down");
            self.socket.send_frame(ResponseFrame::error(request_id, action, error));
            return None;
        }
        if let Request::Ping(_) = frame.request {
            self.socket.send_frame(ResponseFrame::ok(request_id, Response::Ping(Default::default())));
            return None;
        }
        self.last_active = now;
        if self.waiting.len() >= MAX_PENDING_REQUESTS {
            let error = ApiError::new(
                ErrorType::TooManyRequests,
                format!("More than {MAX_PENDING_REQUESTS} requests waiting; wait for answers"),
            );
            self.socket.send_frame(ResponseFrame::error(request_id, action, error));
            return None;
        }
        self.waiting.push_back((request_id, frame.request));
        self.start_next();
        None
    }

    /// Starts the next waiting request unless one is running.
    fn start_next(&mut self) {
        if self.running.is_some() {
            return;
        }
        if let Some((request_id, request)) = self.waiting.pop_front() {
            if self.waiting.is_empty() {
                // An idle socket keeps no queue: requests are large, and most sockets idle.
                self.waiting = VecDeque::new();
            }
            let runner = RunningRequest {
                call: Call {
                    state: self.state.clone(),
                    socket: self.socket.clone(),
                    customer_id: self.customer_id.clone(),
                    group_id: self.group_id,
                    request_id,
                    sneak_peeks: self.sneak_peeks.clone(),
                },
            };
            self.running = Some(runner.serve(request).boxed());
        }
    }
}

/// One request being served, with everything it needs (it runs beside the socket's loop).
struct RunningRequest {
    call: Call,
}

impl RunningRequest {
    async fn serve(self, request: Request) -> Outcome {
        let action = request.name();
        let result = match (&self.call.customer_id, request) {
            (None, Request::Login(login)) => self.login(login).await,
            (None, _) => Err(Error::authentication("Log in first: send `login` with a customer access token")),
            (Some(_), Request::Login(_)) => Err(Error::validation("This socket is already logged in")),
            (Some(_), request) => actions::dispatch(&self.call, request).await.map(|()| Outcome::Done),
        };
        result.unwrap_or_else(|e| {
            self.call.socket.send_frame(ResponseFrame::error(self.call.request_id.clone(), action, e.to_api()));
            Outcome::Done
        })
    }

    async fn login(&self, login: LoginRequest) -> Result<Outcome> {
        let token = login
            .token
            .strip_prefix("Bearer ")
            .ok_or_else(|| Error::authentication("The token must be `Bearer <access_token>`"))?;
        let state = &self.call.state;
        let domain = &state.domain;
        let claims =
            domain.customer_for_token(token).ok_or_else(|| Error::authentication("Invalid or expired access token"))?;
        if state.connection_strikes.is_blocked(&claims.customer_id, domain.clock.now()) {
            return Ok(Outcome::Refused(reason::CUSTOMER_TEMPORARILY_BLOCKED));
        }
        // The customer's group: availability is theirs, and so are the group's pushes.
        let group_id = login.group_id.unwrap_or(crate::domain::DEFAULT_GROUP);
        domain.check_groups(&[group_id]).await?;
        let (customer, chats, events) =
            domain.login(&claims.customer_id, login.customer.as_ref(), login.customer_page.as_ref()).await?;
        // The customer's other sockets and the agents of their chat learn of the new fields
        // and page; this socket is not subscribed yet (its login response comes first).
        state.fanout.deliver(&events, None);
        // The greeting rules for the page the customer logs in on; the greeting shown now (if
        // any) rides on the response, the customer's other sockets get it pushed.
        let page_url = login.customer_page.as_ref().and_then(|page| page.url.as_deref());
        let greetings = domain.greet_on_page(&claims.customer_id, page_url).await?;
        state.fanout.deliver(&greetings.events, None);
        if let Some(at) = greetings.next_due {
            state.greeter.schedule(&claims.customer_id, at);
        }
        let config = DynamicConfig::new(group_id, domain.online_groups().await?);
        let mut login_response = LoginResponse::new(customer, chats, config);
        login_response.greeting = greetings.current.map(|g| serde_json::to_value(g).expect("greetings always encode"));
        let response = Response::Login(login_response);
        Ok(Outcome::LoggedIn {
            customer_id: claims.customer_id,
            group_id,
            expires_at: Micros::from_unix_seconds(claims.expires_at),
            response: Box::new(ResponseFrame::ok(self.call.request_id.clone(), response).into()),
        })
    }
}
