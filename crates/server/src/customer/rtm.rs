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
//! This file is the socket: frames, login, limits, goodbyes. What each action does is in
//! `actions/`, one file per group of actions.

use super::actions::{self, Call};
use crate::AppState;
use crate::clock::Micros;
use crate::error::{Error, Result};
use crate::fanout::hub::{SocketHandle, SocketQueue};
use crate::limits::{
    MAX_FRAME_BYTES, MAX_PENDING_REQUESTS, RTM_FRAME_BURST, RTM_FRAMES_PER_SECOND, WS_READ_BUFFER_BYTES,
    WS_WRITE_BUFFER_BYTES,
};
use crate::rate::TokenBucket;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use confab_protocol::action::{DynamicConfig, LoginRequest, LoginResponse};
use confab_protocol::frame::{PushFrame, ResponseFrame};
use confab_protocol::push::{self, CustomerDisconnected, Push};
use confab_protocol::{ApiError, DecodeError, ErrorType, Request, RequestFrame, Response, ServerFrame};
use futures::future::BoxFuture;
use futures::{FutureExt, SinkExt, StreamExt};
use serde::Deserialize;
use std::collections::VecDeque;

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
        _ => {
            return Err(Error::new(ErrorType::Other("license_not_found".into()), "Unknown organization_id"));
        }
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
    LoggedIn {
        customer_id: String,
        group_id: u32,
        expires_at: Micros,
        response: Box<ServerFrame>,
    },
}

/// One socket: who logged in on it, and its requests.
struct Session {
    state: AppState,
    socket: SocketHandle,
    customer_id: Option<String>,
    /// The group the customer logged in with.
    group_id: u32,
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
        group_id: crate::domain::DEFAULT_GROUP,
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
                if let Outcome::LoggedIn { customer_id, group_id, expires_at, response } = outcome {
                    state.fanout.hub.subscribe(&customer_id, &session.socket);
                    state.fanout.hub.subscribe_group(group_id, &session.socket);
                    session.customer_id = Some(customer_id);
                    session.group_id = group_id;
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
        state.fanout.hub.unsubscribe_group(session.group_id, session.socket.id);
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
                    DecodeError::UnknownAction { action, .. } => {
                        ApiError::validation(format!("Unknown action `{action}`"))
                    }
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
                call: Call {
                    state: self.state.clone(),
                    socket: self.socket.clone(),
                    customer_id: self.customer_id.clone(),
                    group_id: self.group_id,
                    request_id,
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
        let domain = &self.call.state.domain;
        let claims =
            domain.customer_for_token(token).ok_or_else(|| Error::authentication("Invalid or expired access token"))?;
        // The customer's group: availability is theirs, and so are the group's pushes.
        let group_id = login.group_id.unwrap_or(crate::domain::DEFAULT_GROUP);
        domain.check_groups(&[group_id]).await?;
        let (customer, chats) = domain.login(&claims.customer_id, login.customer.as_ref()).await?;
        let config = DynamicConfig::new(group_id, domain.online_groups().await?);
        let response = Response::Login(LoginResponse::new(customer, chats, config));
        Ok(Outcome::LoggedIn {
            customer_id: claims.customer_id,
            group_id,
            expires_at: Micros::from_unix_seconds(claims.expires_at),
            response: Box::new(ResponseFrame::ok(self.call.request_id.clone(), response).into()),
        })
    }
}
