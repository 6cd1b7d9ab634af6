//! The customer RTM socket: `GET /v3.5/customer/rtm/ws?organization_id=<uuid>`.
//!
//! One task per socket. It reads frames, answers each request in order, and writes pushes that
//! the hub queues for it. Before `login` only `login` and `ping` are served; a socket that has
//! not logged in within `LOGIN_TIMEOUT` gets `customer_disconnected` (`connection_timeout`) and
//! is closed, and so is a socket whose token expires (`access_token_expired`: clients fetch a
//! new token and reconnect, protocol.md §6.3). Every bad frame is answered with the protocol's error shape; the socket stays up.
//!
//! Requests that clients resolve from a push (protocol.md §3.4: `start_chat`, `resume_chat`,
//! `send_event`, and v3.2's `deactivate_chat`) get their response and then the push carrying
//! their `request_id`; the
//! customer's other sockets and the chat's other users get the same push without it.

use crate::error::{Error, Result};
use crate::hub::{SocketHandle, SocketQueue};
use crate::limits::{
    CUSTOMER_LIST_CHATS_DEFAULT, CUSTOMER_LIST_CHATS_MAX, LIST_THREADS_DEFAULT, LIST_THREADS_MAX,
    MAX_FRAME_BYTES, RTM_FRAMES_PER_SECOND, RTM_FRAME_BURST, MIN_EVENTS_COUNT_MAX, WS_READ_BUFFER_BYTES, WS_WRITE_BUFFER_BYTES,
};
use crate::rate::TokenBucket;
use crate::store::{self, Page, Requester, Started};
use crate::AppState;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response as HttpResponse;
use confab_protocol::action::{
    CustomerGroups, DynamicConfig, ListChatsRequest, ListChatsResponse, ListThreadsRequest,
    ListThreadsResponse, LoginRequest, LoginResponse, MonitoringGroup, SendEventResponse,
    StartChatResponse,
};
use confab_protocol::entity::TaggedCustomer;
use confab_protocol::frame::{PushFrame, ResponseFrame};
use confab_protocol::push::{self, ChatDeactivated, CustomerDisconnected, IncomingChat, IncomingEvent, Push};
use confab_protocol::{ApiError, DecodeError, ErrorType, Request, RequestFrame, Response, ServerFrame};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use std::time::{Duration, Instant};

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

async fn run(socket: WebSocket, state: AppState) {
    let (mut sink, mut stream) = socket.split();
    let (handle, SocketQueue { mut frames, overflowed }) = state.hub.open_socket();
    let mut session = Session {
        state: state.clone(),
        socket: handle,
        customer_id: None,
        token_expires_at: None,
        bucket: TokenBucket::new(RTM_FRAMES_PER_SECOND, RTM_FRAME_BURST, Instant::now()),
    };
    // Before login: the login timeout. After: the expiry of the token it logged in with.
    let deadline = tokio::time::sleep(state.settings.login_timeout);
    tokio::pin!(deadline);

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
            _ = &mut deadline => break Some(if session.customer_id.is_none() {
                Goodbye { reason: Some(push::reason::CONNECTION_TIMEOUT), code: close_code::POLICY, text: "login timeout" }
            } else {
                Goodbye { reason: Some(push::reason::ACCESS_TOKEN_EXPIRED), code: close_code::POLICY, text: "access token expired" }
            }),
            Some(frame) = frames.recv() => {
                if sink.send(Message::Text(frame)).await.is_err() {
                    break None;
                }
            }
            message = stream.next() => {
                let replies = match message {
                    Some(Ok(Message::Text(text))) => {
                        let logged_in = session.customer_id.is_some();
                        let replies = session.handle(&text).await;
                        if let (false, Some(expires_at)) = (logged_in, session.token_expires_at) {
                            let left = (expires_at - store::unix_now()).max(0) as u64;
                            deadline.as_mut().reset(tokio::time::Instant::now() + Duration::from_secs(left));
                        }
                        replies
                    }
                    Some(Ok(Message::Binary(_))) => vec![ResponseFrame::error(
                        None, "unknown", ApiError::validation("Frames must be JSON text"),
                    ).into()],
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
                };
                for reply in replies {
                    if sink.send(Message::Text(reply.encode().into())).await.is_err() {
                        break;
                    }
                }
            }
        }
    };

    if let Some(customer_id) = &session.customer_id {
        state.hub.unsubscribe(customer_id, session.socket.id);
    }
    if let Some(goodbye) = goodbye {
        if let Some(reason) = goodbye.reason {
            let push = Push::CustomerDisconnected(CustomerDisconnected { reason: reason.into(), data: None });
            let frame = ServerFrame::Push(PushFrame { request_id: None, push });
            let _ = sink.send(Message::Text(frame.encode().into())).await;
        }
        let close = CloseFrame { code: goodbye.code, reason: Utf8Bytes::from_static(goodbye.text) };
        let _ = sink.send(Message::Close(Some(close))).await;
    }
}

/// One socket's state: who logged in on it, until when, and how fast it may send.
struct Session {
    state: AppState,
    socket: SocketHandle,
    customer_id: Option<String>,
    /// Unix seconds; the socket is closed then (`access_token_expired`).
    token_expires_at: Option<i64>,
    bucket: TokenBucket,
}

impl Session {
    /// Answers one text frame: the frames to send back on this socket, in order.
    async fn handle(&mut self, text: &str) -> Vec<ServerFrame> {
        let frame = match RequestFrame::decode(text) {
            Ok(frame) => frame,
            Err(e) => {
                let action = e.action().unwrap_or("unknown").to_owned();
                let error = match &e {
                    DecodeError::UnknownAction { action, .. } => ApiError::validation(format!("Unknown action `{action}`")),
                    _ => ApiError::validation(e.to_string()),
                };
                return vec![ResponseFrame::error(e.request_id().map(str::to_owned), action, error).into()];
            }
        };
        let request_id = frame.request_id.clone();
        let action = frame.request.name();
        if !self.bucket.take(Instant::now()) {
            let error = Error::new(ErrorType::TooManyRequests, "Too many requests; slow down");
            return vec![ResponseFrame::error(request_id, action, error.to_api()).into()];
        }
        match self.dispatch(frame.request, request_id.clone()).await {
            Ok(frames) => frames,
            Err(e) => vec![ResponseFrame::error(request_id, action, e.to_api()).into()],
        }
    }

    async fn dispatch(&mut self, request: Request, request_id: Option<String>) -> Result<Vec<ServerFrame>> {
        let ok = |response: Response| vec![ResponseFrame::ok(request_id.clone(), response).into()];
        let (customer_id, request) = match (&self.customer_id, request) {
            (_, Request::Ping(_)) => return Ok(ok(Response::Ping(Default::default()))),
            (None, Request::Login(login)) => return Ok(ok(self.login(login).await?)),
            (None, _) => return Err(Error::authentication("Log in first: send `login` with a customer access token")),
            (Some(_), Request::Login(_)) => return Err(Error::validation("This socket is already logged in")),
            (Some(id), request) => (id.clone(), request),
        };
        let store = &self.state.store;
        let me = Requester::Customer(&customer_id);
        match request {
            Request::StartChat(req) => {
                let started = store.start_chat(&customer_id, &req.chat.unwrap_or_default()).await?;
                self.chat_started(request_id, started, Response::StartChat).await
            }
            Request::ResumeChat(req) => {
                let started = store.resume_chat(&customer_id, &req.chat).await?;
                self.chat_started(request_id, started, Response::ResumeChat).await
            }
            Request::ActivateChat(req) => {
                let started = store.resume_chat(&customer_id, &req.chat).await?;
                self.chat_started(request_id, started, Response::ActivateChat).await
            }
            Request::SendEvent(req) => {
                let attach = req.attach_to_last_thread.unwrap_or(false);
                let added = store.add_event(me, &req.chat_id, req.event, attach).await?;
                let event_id = added.event.id.clone().unwrap_or_default();
                let push = Push::IncomingEvent(IncomingEvent {
                    chat_id: req.chat_id.clone(),
                    thread_id: added.thread_id,
                    event: added.event,
                });
                let mut frames = ok(Response::SendEvent(SendEventResponse { event_id }));
                frames.push(self.fan_out(&req.chat_id, request_id, push).await?);
                Ok(frames)
            }
            Request::GetChat(req) => {
                let chat = store.get_chat(me, &req.chat_id, req.thread_id.as_deref()).await?;
                Ok(ok(Response::GetChat(chat)))
            }
            Request::ListChats(req) => Ok(ok(Response::ListChats(self.list_chats(&customer_id, req).await?))),
            Request::ListThreads(req) => Ok(ok(Response::ListThreads(self.list_threads(&customer_id, req).await?))),
            Request::Login(_) | Request::Ping(_) => unreachable!("handled above"),
            Request::DeactivateChat(req) => {
                // v3.5 names the chat `id`, v3.2 `chat_id`.
                let chat_id = req.id.or(req.chat_id).ok_or_else(|| Error::validation("`id` is required"))?;
                let thread_id = store.deactivate_chat(me, &chat_id).await?;
                let push = Push::ChatDeactivated(ChatDeactivated {
                    chat_id: chat_id.clone(),
                    thread_id,
                    user_id: Some(customer_id.clone()),
                });
                let mut frames = ok(Response::DeactivateChat(Default::default()));
                frames.push(self.fan_out(&chat_id, request_id, push).await?);
                Ok(frames)
            }
            other @ (Request::UpdateThreadProperties(_) | Request::MarkEventsAsSeen(_)) => {
                Err(Error::new(ErrorType::NotAllowed, format!("`{}` is not supported by this server yet", other.name())))
            }
        }
    }

    async fn login(&mut self, login: LoginRequest) -> Result<Response> {
        let token = login
            .token
            .strip_prefix("Bearer ")
            .ok_or_else(|| Error::authentication("The token must be `Bearer <access_token>`"))?;
        let store = &self.state.store;
        let (customer_id, expires_at) = store
            .customer_for_token(token)
            .await?
            .ok_or_else(|| Error::authentication("Invalid or expired access token"))?;
        let customer = store.login_customer(&customer_id, login.customer.as_ref()).await?;
        let chats = store.login_chats(&customer_id).await?;
        self.state.hub.subscribe(&customer_id, &self.socket);
        self.customer_id = Some(customer_id);
        self.token_expires_at = Some(expires_at);
        Ok(Response::Login(LoginResponse {
            customer: TaggedCustomer(customer),
            has_active_thread: Some(chats.iter().any(|c| c.has_active_thread == Some(true))),
            chats,
            greeting: None,
            __priv_dynamic_config: DynamicConfig {
                online_groups_ids: Some(vec![DEFAULT_GROUP]),
                customer_groups: Some(CustomerGroups {
                    monitoring: MonitoringGroup { id: DEFAULT_GROUP, config: Default::default() },
                }),
            },
        }))
    }

    /// The response to `start_chat`/`resume_chat`, then `incoming_chat` for everyone.
    async fn chat_started(
        &self,
        request_id: Option<String>,
        started: Started,
        respond: fn(StartChatResponse) -> Response,
    ) -> Result<Vec<ServerFrame>> {
        let response = respond(StartChatResponse {
            chat_id: started.chat.id.clone(),
            thread_id: started.thread_id,
            event_ids: Some(started.event_ids),
        });
        let chat_id = started.chat.id.clone();
        let push = Push::IncomingChat(IncomingChat { chat: started.chat, requester_id: self.customer_id.clone(), transferred_from: None });
        Ok(vec![
            ResponseFrame::ok(request_id.clone(), response).into(),
            self.fan_out(&chat_id, request_id, push).await?,
        ])
    }

    /// Queues `push` for the chat's users on every other socket, and returns the requester's
    /// copy, which carries its `request_id`.
    async fn fan_out(&self, chat_id: &str, request_id: Option<String>, push: Push) -> Result<ServerFrame> {
        let users = self.state.store.chat_user_ids(chat_id).await?;
        self.state.hub.push(&users, &push, Some(self.socket.id));
        Ok(ServerFrame::Push(PushFrame { request_id, push }))
    }

    async fn list_chats(&self, customer_id: &str, req: ListChatsRequest) -> Result<ListChatsResponse> {
        let page = match req.page_id {
            Some(page_id) => Page::decode(&page_id)?,
            None => Page::first(req.limit, CUSTOMER_LIST_CHATS_DEFAULT, CUSTOMER_LIST_CHATS_MAX, req.sort_order)?,
        };
        let (chats_summary, total) = self.state.store.list_chats(Requester::Customer(customer_id), page).await?;
        let (next_page_id, previous_page_id) = page.links(chats_summary.len() as u32, total);
        Ok(ListChatsResponse { chats_summary, total_chats: total, next_page_id, previous_page_id })
    }

    async fn list_threads(&self, customer_id: &str, req: ListThreadsRequest) -> Result<ListThreadsResponse> {
        let page = list_threads_page(&req)?;
        let me = Requester::Customer(customer_id);
        let (threads, total) = self.state.store.list_threads(me, &req.chat_id, page).await?;
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
