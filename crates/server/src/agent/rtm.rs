//! The agent RTM socket: `GET /v3.6/agent/rtm/ws`, the Agent Chat RTM API's equivalent of the
//! Web API, so that an agent app or a bot reacts at once instead of polling.
//!
//! Frames are the Customer Chat API's: `{"action", "request_id", "payload"}` in;
//! `{"action", "request_id", "type": "response", "success", "payload"}` and
//! `{"action", "type": "push", "payload"}` out.
//!
//! - `login` `{"token": "Bearer <agent access token>"}` first, within `LOGIN_TIMEOUT`; it is
//!   answered `{"my_profile": {id, name, job_title, routing_status}}`. Before it only `ping`
//!   is served.
//! - Then every action of the Web API ([`super::actions::ACTIONS`]), with the same body as
//!   `payload` and the same answer, run one at a time in order. At most
//!   `MAX_PENDING_REQUESTS` wait; frames beyond `AGENT_CALLS_PER_SECOND` are answered
//!   `too_many_requests`.
//! - Pushes: whatever the agent's chats (and the chats and customers they follow) push to
//!   their users — `incoming_event`, `incoming_typing_indicator`, `incoming_sneak_peek`,
//!   `customer_page_updated`, `user_added_to_chat`, … — and what every agent hears:
//!   `incoming_chat`, `chat_deactivated`, `chat_transferred`, `incoming_customer`,
//!   `routing_status_set`. A push the socket's own request caused carries its `request_id`.
//! - The socket ends with `agent_disconnected` `{"reason"}` and a close frame:
//!   `connection_timeout` (no login in time, 1008), `service_temporarily_unavailable` (the
//!   server shuts down, 1001); a reader too slow for its queue is closed (1013).
//!
//! The Origin is checked as for customers; the agent's token is the authentication.

use super::actions::{self, AgentCall};
use crate::AppState;
use crate::error::{Error, Result};
use crate::fanout::Origin;
use crate::fanout::hub::{EVERY_AGENT, Frame, SocketHandle, SocketQueue};
use crate::limits::{AGENT_CALL_BURST, AGENT_CALLS_PER_SECOND, MAX_PENDING_REQUESTS};
use crate::rate::TokenBucket;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use confab_protocol::entity::Agent;
use confab_protocol::frame::{push_text, response_text};
use confab_protocol::{ApiError, ErrorType};
use futures::future::BoxFuture;
use futures::{FutureExt, SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::VecDeque;

/// One request frame; the payload stays raw until its action's handler reads it.
#[derive(Deserialize)]
struct RequestFrame<'a> {
    #[serde(default)]
    request_id: Option<String>,
    action: String,
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct LoginRequest {
    token: String,
}

#[derive(Serialize)]
struct LoginResponse {
    my_profile: MyProfile,
}

#[derive(Serialize)]
struct MyProfile {
    #[serde(flatten)]
    agent: Agent,
    routing_status: String,
}

#[derive(Serialize)]
struct AgentDisconnected {
    reason: &'static str,
}

pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Result<HttpResponse> {
    state.settings.check_origin(&headers)?;
    let shutdown = state.shutdown.clone();
    Ok(crate::bounded_socket(ws).on_upgrade(move |socket| shutdown.track(run(socket, state))))
}

/// What a finished request leaves for the socket's loop.
enum Outcome {
    Done,
    LoggedIn(Agent),
}

async fn run(socket: WebSocket, state: AppState) {
    let (mut sink, mut stream) = socket.split();
    let (handle, SocketQueue { mut frames, overflowed, .. }) = state.fanout.hub.open_socket();
    let clock = state.domain.clock.clone();
    let mut session = Session {
        state: state.clone(),
        socket: handle,
        agent: None,
        bucket: TokenBucket::new(AGENT_CALLS_PER_SECOND, AGENT_CALL_BURST, clock.now()),
        waiting: VecDeque::new(),
        running: None,
    };
    let login_by = clock.now().plus(state.settings.login_timeout);
    let mut login_timeout: BoxFuture<'static, ()> = {
        let clock = clock.clone();
        async move { clock.sleep_until(login_by).await }.boxed()
    };
    let goodbye = loop {
        tokio::select! {
            biased;
            _ = state.shutdown.signalled() => break Some(("service_temporarily_unavailable", close_code::AWAY)),
            _ = overflowed.cancelled() => break Some(("", close_code::AGAIN)),
            _ = &mut login_timeout, if session.agent.is_none() => break Some(("connection_timeout", close_code::POLICY)),
            Some(frame) = frames.recv() => {
                if sink.send(frame.into_message()).await.is_err() {
                    break None;
                }
            }
            outcome = async { session.running.as_mut().expect("guarded").await }, if session.running.is_some() => {
                session.running = None;
                if let Outcome::LoggedIn(agent) = outcome {
                    state.fanout.hub.subscribe(&agent.id, &session.socket);
                    state.fanout.hub.subscribe(EVERY_AGENT, &session.socket);
                    session.agent = Some(agent);
                }
                session.start_next();
            }
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => session.receive(&text),
                Some(Ok(Message::Binary(_))) => session.answer(None, "unknown", Err(&ApiError::validation("Frames must be JSON text"))),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
            },
        }
    };
    if let Some(agent) = &session.agent {
        state.fanout.hub.unsubscribe(&agent.id, session.socket.id);
        state.fanout.hub.unsubscribe(EVERY_AGENT, session.socket.id);
    }
    if let Some((reason, code)) = goodbye {
        while let Ok(frame) = frames.try_recv() {
            if sink.send(frame.into_message()).await.is_err() {
                return;
            }
        }
        if !reason.is_empty() {
            let text = push_text("agent_disconnected", &AgentDisconnected { reason });
            let _ = sink.send(Frame::new(text).into_message()).await;
        }
        let close = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(if reason.is_empty() { "client too slow" } else { reason }),
        };
        let _ = sink.send(Message::Close(Some(close))).await;
    }
}

/// One socket: the agent logged in on it, and its requests.
struct Session {
    state: AppState,
    socket: SocketHandle,
    agent: Option<Agent>,
    bucket: TokenBucket,
    waiting: VecDeque<(Option<String>, String, Box<RawValue>)>,
    running: Option<BoxFuture<'static, Outcome>>,
}

impl Session {
    fn answer(
        &self,
        request_id: Option<String>,
        action: &str,
        result: std::result::Result<&serde_json::Value, &ApiError>,
    ) {
        self.socket.send(Frame::new(response_text(request_id, action, result)));
    }

    /// Takes one text frame: answers pings and bad frames at once, queues the rest.
    fn receive(&mut self, text: &str) {
        let frame: RequestFrame = match serde_json::from_str(text) {
            Ok(frame) => frame,
            Err(e) => {
                let error = ApiError::validation(format!("Invalid frame: {e}"));
                return self.answer(None, "unknown", Err(&error));
            }
        };
        if !self.bucket.take(self.state.domain.clock.now()) {
            let error = ApiError::new(ErrorType::TooManyRequests, "Too many requests; slow down");
            return self.answer(frame.request_id, &frame.action, Err(&error));
        }
        if frame.action == "ping" {
            return self.answer(frame.request_id, "ping", Ok(&serde_json::json!({})));
        }
        if self.waiting.len() >= MAX_PENDING_REQUESTS {
            let error = ApiError::new(
                ErrorType::TooManyRequests,
                format!("More than {MAX_PENDING_REQUESTS} requests waiting; wait for answers"),
            );
            return self.answer(frame.request_id, &frame.action, Err(&error));
        }
        let payload =
            frame.payload.map(RawValue::to_owned).unwrap_or_else(|| RawValue::from_string("{}".into()).expect("valid"));
        self.waiting.push_back((frame.request_id, frame.action, payload));
        self.start_next();
    }

    /// Starts the next waiting request unless one is running.
    fn start_next(&mut self) {
        if self.running.is_some() {
            return;
        }
        let Some((request_id, action, payload)) = self.waiting.pop_front() else { return };
        let (state, socket, agent) = (self.state.clone(), self.socket.clone(), self.agent.clone());
        self.running = Some(
            async move {
                let (result, outcome) = match (&agent, action.as_str()) {
                    (None, "login") => match login(&state, payload.get()).await {
                        Ok(agent) => (answer_login(&state, &agent).await, Outcome::LoggedIn(agent)),
                        Err(e) => (Err(e), Outcome::Done),
                    },
                    (None, _) => (
                        Err(Error::authentication("Log in first: send `login` with an agent access token")),
                        Outcome::Done,
                    ),
                    (Some(_), "login") => (Err(Error::validation("This socket is already logged in")), Outcome::Done),
                    (Some(agent), action) => {
                        let origin = Some(Origin { socket: socket.clone(), request_id: request_id.clone() });
                        let call = AgentCall::new(&state, agent, origin);
                        let result =
                            super::within_time(&state, actions::dispatch(&call, action, payload.get().as_bytes()))
                                .await;
                        answer(&socket, request_id, action, &result);
                        call.push_caused();
                        return Outcome::Done;
                    }
                };
                answer(&socket, request_id, &action, &result);
                outcome
            }
            .boxed(),
        );
    }
}

/// Queues the answer to a request.
fn answer(socket: &SocketHandle, request_id: Option<String>, action: &str, result: &Result<serde_json::Value>) {
    let text = match result {
        Ok(value) => response_text(request_id, action, Ok(value)),
        Err(e) => response_text(request_id, action, Err::<&serde_json::Value, _>(&e.to_api())),
    };
    socket.send(Frame::new(text));
}

/// The agent a `login` payload's token belongs to.
async fn login(state: &AppState, payload: &str) -> Result<Agent> {
    let login: LoginRequest = super::parse(payload.as_bytes())?;
    let token = login
        .token
        .strip_prefix("Bearer ")
        .ok_or_else(|| Error::authentication("The token must be `Bearer <access_token>`"))?;
    state
        .domain
        .agent_for_token(token.trim())
        .await?
        .ok_or_else(|| Error::authentication("Invalid or expired access token"))
}

async fn answer_login(state: &AppState, agent: &Agent) -> Result<serde_json::Value> {
    let routing_status = state.domain.routing_status_of(&agent.id).await?;
    let response = LoginResponse {
        my_profile: MyProfile { agent: agent.clone(), routing_status: routing_status.as_str().to_owned() },
    };
    Ok(serde_json::to_value(response).expect("responses always encode"))
}
