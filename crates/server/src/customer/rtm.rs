//! The customer RTM socket: `GET /v3.5/customer/rtm/ws?organization_id=<uuid>`.
//!
//! One task per socket. Its loop reads frames, writes what its queue holds (responses and
//! pushes alike, so they leave in the order they were queued), and runs the socket's requests
//! one at a time, in order, beside the reading: a slow query delays that socket's answers, but
//! never its reading, its pings, or other sockets. At most `MAX_PENDING_REQUESTS` wait; more are
//! answered `too_many_requests`, as are frames beyond the socket's rate.
//!
//! Before `login` only `login` and `ping` are served; a socket that has not logged in within
//! `LOGIN_TIMEOUT` gets `customer_disconnected` (`connection_timeout`) and is closed, and so is
//! a socket whose token expires (`access_token_expired`: clients fetch a new token and
//! reconnect, protocol.md §6.3). Every bad frame is answered in the protocol's error shape; the
//! socket stays up.
//!
//! State changes go through `domain`; their domain events go to `fanout`, which gives the
//! requester's socket the push that settles its request (protocol.md §3.4: `start_chat`,
//! `resume_chat`, `send_event`, and v3.2's `deactivate_chat`) with its `request_id`.

use crate::clock::Micros;
use crate::domain::{DomainEvent, Requester, Started};
use crate::error::{Error, Result};
use crate::fanout::Origin;
use crate::fanout::hub::{SocketHandle, SocketQueue};
use crate::limits::{
    CUSTOMER_LIST_CHATS_DEFAULT, CUSTOMER_LIST_CHATS_MAX, LIST_THREADS_DEFAULT, LIST_THREADS_MAX, MAX_FRAME_BYTES,
    MAX_PENDING_REQUESTS, MIN_EVENTS_COUNT_MAX, RTM_FRAME_BURST, RTM_FRAMES_PER_SECOND, WS_READ_BUFFER_BYTES,
    WS_WRITE_BUFFER_BYTES,
};
use crate::rate::TokenBucket;
use crate::store::Page;
use crate::AppState;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use confab_protocol::action::{
    DynamicConfig, ListChatsRequest, ListChatsResponse, ListThreadsRequest, ListThreadsResponse, LoginRequest,
    LoginResponse, SendEventResponse, StartChatResponse,
};
use confab_protocol::frame::{PushFrame, ResponseFrame};
use confab_protocol::push::{self, CustomerDisconnected, Push};
use confab_protocol::{ApiError, DecodeError, ErrorType, Request, RequestFrame, Response, ServerFrame};
use futures::future::BoxFuture;
use futures::{FutureExt, SinkExt, StreamExt};
use serde::Deserialize;
use std::collections::VecDeque;

/// The only group until groups exist; it is "online" whenever the server runs.
const DEFAULT_GROUP: u32 = 0;

#[derive(Debug, Deserialize)]
pub struct RtmQuery {
    organization_id: Option<String>,
    /// v3.2 clients name the account by license instead.
    license_id: Option<u64>,
}

/// Checks the organization and the Origin, then upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    Query(query): Query<RtmQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<HttpResponse> {
    match (&query.organization_id, query.license_id) {
        (Some(org), _) if *org == state.settings.organization_id => {}
        (None, Some(_)) => {}
        _ => return Err(Error::new(ErrorType::Other("license_not_found".into()), "Unknown organization_id")),
    }
    state.settings.check_origin(&headers)?;
    let shutdown = state.shutdown.clone();
    Ok(ws
        .read_buffer_size(WS_READ_BUFFER_BYTES)
        .write_buffer_size(WS_WRITE_BUFFER_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| shutdown.track(run(socket, state))))
}

/// Why a socket ends, and what it is told.
struct Goodbye {
    reason: Option<&'static str>,
    code: u16,
    text: &'static str,
}

/// What a finished request leaves for the socket's loop to do.
enum Outcome {
    Done,
    /// The socket logged in: subscribe it, then send `response`.
    LoggedIn { customer_id: String, expires_at: Micros, response: Box<ServerFrame> },
}

/// One socket: who logged in on it, and its requests.
struct Session {
    state: AppState,
    socket: SocketHandle,
    customer_id: Option<String>,
    bucket: TokenBucket,
    waiting: VecDeque<(Option<String>, Request)>,
    running: Option<BoxFuture<'static, Outcome>>,
}

fn deadline(state: &AppState, at: Micros) -> BoxFuture<'static, ()> {
    let clock = state.domain.clock.clone();
    async move { clock.sleep_until(at).await }.boxed()
}

async fn run(socket: WebSocket, state: AppState) {
    let (mut sink, mut stream) = socket.split();
    let (handle, SocketQueue { mut frames, overflowed }) = state.fanout.hub.open_socket();
    let now = state.domain.clock.now();
    let mut session = Session {
        state: state.clone(),
        socket: handle,
        customer_id: None,
        bucket: TokenBucket::new(RTM_FRAMES_PER_SECOND, RTM_FRAME_BURST, now),
        waiting: VecDeque::new(),
        running: None,
    };
    // Before login: the login timeout. After: the expiry of the token it logged in with.
    let mut deadline_at = deadline(&state, now.plus(state.settings.login_timeout));

    let goodbye = loop {
        tokio::select! {
            biased;
            _ = state.shutdown.signalled() => break Some(Goodbye {
                reason: Some(push::reason::SERVICE_TEMPORARILY_UNAVAILABLE),
                code: close_code::AWAY,
                text: "server shutting down",
            }),
            _ = overflowed.cancelled() => break Some(Goodbye {
                reason: None,
                code: close_code::AGAIN,
                text: "client too slow",
            }),
            _ = &mut deadline_at => break Some(if session.customer_id.is_none() {
                Goodbye { reason: Some(push::reason::CONNECTION_TIMEOUT), code: close_code::POLICY, text: "login timeout" }
            } else {
                Goodbye { reason: Some(push::reason::ACCESS_TOKEN_EXPIRED), code: close_code::POLICY, text: "access token expired" }
            }),
            Some(frame) = frames.recv() => {
                if sink.send(frame.into_message()).await.is_err() {
                    break None;
                }
            }
            outcome = async { session.running.as_mut().expect("guarded").await }, if session.running.is_some() => {
                session.running = None;
                if let Outcome::LoggedIn { customer_id, expires_at, response } = outcome {
                    state.fanout.hub.subscribe(&customer_id, &session.socket);
                    session.customer_id = Some(customer_id);
                    session.socket.send_frame(*response);
                    deadline_at = deadline(&state, expires_at);
                }
                session.start_next();
            }
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => session.receive(&text),
                Some(Ok(Message::Binary(_))) => session.socket.send_frame(ResponseFrame::error(
                    None, "unknown", ApiError::validation("Frames must be JSON text"),
                )),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
            },
        }
    };

    if let Some(customer_id) = &session.customer_id {
        state.fanout.hub.unsubscribe(customer_id, session.socket.id);
    }
    if let Some(goodbye) = goodbye {
        // What was queued before the goodbye still goes out first.
        while let Ok(frame) = frames.try_recv() {
            if sink.send(frame.into_message()).await.is_err() {
                return;
            }
        }
        if let Some(reason) = goodbye.reason {
            let push = Push::CustomerDisconnected(CustomerDisconnected { reason: reason.into(), data: None });
            let frame = ServerFrame::Push(PushFrame { request_id: None, push });
            let _ = sink.send(Message::Text(frame.encode().into())).await;
        }
        let close = CloseFrame { code: goodbye.code, reason: Utf8Bytes::from_static(goodbye.text) };
        let _ = sink.send(Message::Close(Some(close))).await;
    }
}

impl Session {
    /// Takes one text frame: answers pings and bad frames at once, queues the rest.
    fn receive(&mut self, text: &str) {
        let frame = match RequestFrame::decode(text) {
            Ok(frame) => frame,
            Err(e) => {
                let action = e.action().unwrap_or("unknown").to_owned();
                let error = match &e {
                    DecodeError::UnknownAction { action, .. } => ApiError::validation(format!("Unknown action `{action}`")),
                    _ => ApiError::validation(e.to_string()),
                };
                return self.socket.send_frame(ResponseFrame::error(e.request_id().map(str::to_owned), action, error));
            }
        };
        let (request_id, action) = (frame.request_id, frame.request.name());
        if !self.bucket.take(self.state.domain.clock.now()) {
            let error = ApiError::new(ErrorType::TooManyRequests, "Too many requests; slow down");
            return self.socket.send_frame(ResponseFrame::error(request_id, action, error));
        }
        if let Request::Ping(_) = frame.request {
            return self.socket.send_frame(ResponseFrame::ok(request_id, Response::Ping(Default::default())));
        }
        if self.waiting.len() >= MAX_PENDING_REQUESTS {
            let error = ApiError::new(
                ErrorType::TooManyRequests,
                format!("More than {MAX_PENDING_REQUESTS} requests waiting; wait for answers"),
            );
            return self.socket.send_frame(ResponseFrame::error(request_id, action, error));
        }
        self.waiting.push_back((request_id, frame.request));
        self.start_next();
    }

    /// Starts the next waiting request unless one is running.
    fn start_next(&mut self) {
        if self.running.is_some() {
            return;
        }
        if let Some((request_id, request)) = self.waiting.pop_front() {
            let runner = RunningRequest {
                state: self.state.clone(),
                socket: self.socket.clone(),
                customer_id: self.customer_id.clone(),
                request_id,
            };
            self.running = Some(runner.serve(request).boxed());
        }
    }
}

/// One request being served, with everything it needs (it runs beside the socket's loop).
struct RunningRequest {
    state: AppState,
    socket: SocketHandle,
    customer_id: Option<String>,
    request_id: Option<String>,
}

impl RunningRequest {
    async fn serve(self, request: Request) -> Outcome {
        let action = request.name();
        match self.dispatch(request).await {
            Ok(outcome) => outcome,
            Err(e) => {
                self.socket.send_frame(ResponseFrame::error(self.request_id.clone(), action, e.to_api()));
                Outcome::Done
            }
        }
    }

    fn respond(&self, response: Response) {
        self.socket.send_frame(ResponseFrame::ok(self.request_id.clone(), response));
    }

    /// Pushes the domain events; this socket's copies carry the request's id.
    fn fan_out(&self, events: &[DomainEvent]) {
        let origin = Origin { socket: self.socket.clone(), request_id: self.request_id.clone() };
        self.state.fanout.deliver(events, Some(&origin));
    }

    async fn dispatch(&self, request: Request) -> Result<Outcome> {
        let (customer_id, request) = match (&self.customer_id, request) {
            (None, Request::Login(login)) => return self.login(login).await,
            (None, _) => return Err(Error::authentication("Log in first: send `login` with a customer access token")),
            (Some(_), Request::Login(_)) => return Err(Error::validation("This socket is already logged in")),
            (Some(id), request) => (id.as_str(), request),
        };
        let domain = &self.state.domain;
        let me = Requester::Customer(customer_id);
        match request {
            Request::StartChat(req) => {
                let (started, events) = domain.start_chat(customer_id, &req.chat.unwrap_or_default()).await?;
                self.chat_started(started, &events, Response::StartChat);
            }
            Request::ResumeChat(req) => {
                let (started, events) = domain.resume_chat(customer_id, &req.chat).await?;
                self.chat_started(started, &events, Response::ResumeChat);
            }
            Request::ActivateChat(req) => {
                let (started, events) = domain.resume_chat(customer_id, &req.chat).await?;
                self.chat_started(started, &events, Response::ActivateChat);
            }
            Request::SendEvent(req) => {
                let attach = req.attach_to_last_thread.unwrap_or(false);
                let (stored, events) = domain.send_event(me, &req.chat_id, req.event, attach).await?;
                self.respond(Response::SendEvent(SendEventResponse { event_id: stored.id.unwrap_or_default() }));
                self.fan_out(&events);
            }
            Request::GetChat(req) => {
                let chat = domain.get_chat(me, &req.chat_id, req.thread_id.as_deref()).await?;
                self.respond(Response::GetChat(chat));
            }
            Request::ListChats(req) => self.respond(Response::ListChats(self.list_chats(customer_id, req).await?)),
            Request::ListThreads(req) => self.respond(Response::ListThreads(self.list_threads(customer_id, req).await?)),
            Request::DeactivateChat(req) => {
                // v3.5 names the chat `id`, v3.2 `chat_id`.
                let chat_id = req.id.or(req.chat_id).ok_or_else(|| Error::validation("`id` is required"))?;
                let events = domain.deactivate_chat(me, &chat_id).await?;
                self.respond(Response::DeactivateChat(Default::default()));
                self.fan_out(&events);
            }
            Request::Login(_) | Request::Ping(_) => unreachable!("handled before dispatch"),
            other @ (Request::UpdateThreadProperties(_) | Request::MarkEventsAsSeen(_)) => {
                return Err(Error::new(
                    ErrorType::NotAllowed,
                    format!("`{}` is not supported by this server yet", other.name()),
                ));
            }
        }
        Ok(Outcome::Done)
    }

    async fn login(&self, login: LoginRequest) -> Result<Outcome> {
        let token = login
            .token
            .strip_prefix("Bearer ")
            .ok_or_else(|| Error::authentication("The token must be `Bearer <access_token>`"))?;
        let domain = &self.state.domain;
        let claims = domain.customer_for_token(token).ok_or_else(|| Error::authentication("Invalid or expired access token"))?;
        let (customer, chats) = domain.login(&claims.customer_id, login.customer.as_ref()).await?;
        let config = DynamicConfig::new(DEFAULT_GROUP, vec![DEFAULT_GROUP]);
        let response = Response::Login(LoginResponse::new(customer, chats, config));
        Ok(Outcome::LoggedIn {
            customer_id: claims.customer_id,
            expires_at: Micros::from_unix_seconds(claims.expires_at),
            response: Box::new(ResponseFrame::ok(self.request_id.clone(), response).into()),
        })
    }

    /// The response to `start_chat`/`resume_chat`, then `incoming_chat` for everyone.
    fn chat_started(&self, started: Started, events: &[DomainEvent], respond: fn(StartChatResponse) -> Response) {
        self.respond(respond(StartChatResponse {
            chat_id: started.chat.id.clone(),
            thread_id: started.thread_id,
            event_ids: Some(started.event_ids),
        }));
        self.fan_out(events);
    }

    async fn list_chats(&self, customer_id: &str, req: ListChatsRequest) -> Result<ListChatsResponse> {
        let page = match req.page_id {
            Some(page_id) => Page::decode(&page_id)?,
            None => Page::first(req.limit, CUSTOMER_LIST_CHATS_DEFAULT, CUSTOMER_LIST_CHATS_MAX, req.sort_order)?,
        };
        let (chats_summary, total) = self.state.domain.list_chats(Requester::Customer(customer_id), page).await?;
        let (next_page_id, previous_page_id) = page.links(chats_summary.len() as u32, total);
        Ok(ListChatsResponse { chats_summary, total_chats: total, next_page_id, previous_page_id })
    }

    async fn list_threads(&self, customer_id: &str, req: ListThreadsRequest) -> Result<ListThreadsResponse> {
        let page = list_threads_page(&req)?;
        let me = Requester::Customer(customer_id);
        let (threads, total) = self.state.domain.list_threads(me, &req.chat_id, page).await?;
        let (next_page_id, previous_page_id) = page.links(threads.len() as u32, total);
        Ok(ListThreadsResponse { threads, found_threads: total, next_page_id, previous_page_id })
    }
}

/// The page a `list_threads` request asks for (RTM reference `list_threads`).
pub fn list_threads_page(req: &ListThreadsRequest) -> Result<Page> {
    if let Some(page_id) = &req.page_id {
        return Page::decode(page_id);
    }
    let order = req.sort_order.unwrap_or_default();
    match (req.limit, req.min_events_count) {
        (Some(_), Some(_)) => Err(Error::validation("limit and min_events_count cannot be used together")),
        (_, Some(min)) if !(1..=MIN_EVENTS_COUNT_MAX).contains(&min) => {
            Err(Error::validation(format!("min_events_count must be 1–{MIN_EVENTS_COUNT_MAX}")))
        }
        (_, Some(min)) => Ok(Page { offset: 0, order, size: min, by_events: true }),
        (limit, None) => Page::first(limit, LIST_THREADS_DEFAULT, LIST_THREADS_MAX, Some(order)),
    }
}
