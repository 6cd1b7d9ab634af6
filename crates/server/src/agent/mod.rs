//! The Agent Chat Web API v3.6: `POST /v3.6/agent/action/<action>` with
//! `Authorization: Bearer <token>` (reference: livechat-agent-chat-web-api-v3.6.txt).
//!
//! Served: `list_chats`, `get_chat`, `send_event`, `deactivate_chat`, `send_typing_indicator`;
//! in [`chat_users`] `add_user_to_chat`, `remove_user_from_chat`, `transfer_chat`, `multicast`;
//! in [`routing`] `set_routing_status`, `list_routing_statuses`; `ban_customer`
//! (`customers.rs`), and Confab's extensions `send_greeting` (`greetings.rs`) and
//! `logout_customer` (`customers.rs`). Every failure is `{"error": {"type", "message"}}` with a
//! matching status.

mod chat_users;
mod customers;
mod greetings;

mod routing;

use crate::domain::Requester;
use crate::error::{Error, Result};
use crate::limits::{AGENT_LIST_CHATS_DEFAULT, AGENT_LIST_CHATS_MAX};
use crate::store::Page;
use crate::{AppState, Body};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use confab_protocol::agent::{
    DeactivateChatRequest, GetChatRequest, ListChatsRequest, ListChatsResponse, SendEventRequest, SendEventResponse,
    SendTypingIndicatorRequest,
};
use confab_protocol::entity::Agent;
use serde::de::DeserializeOwned;

/// The agent a request's bearer token belongs to.
pub struct AuthenticatedAgent(pub Agent);

impl FromRequestParts<AppState> for AuthenticatedAgent {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| Error::authentication("Missing `Authorization: Bearer <token>` header"))?;
        let agent = state
            .domain
            .agent_for_token(token.trim())
            .await?
            .ok_or_else(|| Error::authentication("Invalid or expired access token"))?;
        Ok(Self(agent))
    }
}

/// Reads a JSON body; an empty body is `{}`. Fields Confab does not use are ignored (real
/// integrations send them); a missing or wrongly typed field is a `validation` error that
/// names it (`event.text: invalid type: integer `5`, expected a string`).
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    let body = if body.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { body };
    let mut json = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // serde_json says where in the text; the field's path says more to a caller.
        let what = inner.to_string();
        let what = match what.rsplit_once(" at line ") {
            Some((what, _)) if inner.line() > 0 => what.to_owned(),
            _ => what,
        };
        match path.as_str() {
            "." | "" => Error::validation(format!("Invalid request body: {what}")),
            field => Error::validation(format!("Invalid request body: `{field}`: {what}")),
        }
    })
}

pub async fn action(
    State(state): State<AppState>,
    Path(action): Path<String>,
    AuthenticatedAgent(agent): AuthenticatedAgent,
    Body(body): Body,
) -> Result<Response> {
    let me = Requester::Agent(&agent.id);
    let domain = &state.domain;
    match action.as_str() {
        "list_chats" => {
            let req: ListChatsRequest = parse(&body)?;
            if req.page_id.is_some() && (req.filters.is_some() || req.limit.is_some() || req.sort_order.is_some()) {
                return Err(Error::validation("filters, limit and sort_order can't be used with page_id"));
            }
            let page = match req.page_id {
                Some(page_id) => Page::decode(&page_id)?,
                None => Page::first(req.limit, AGENT_LIST_CHATS_DEFAULT, AGENT_LIST_CHATS_MAX, req.sort_order)?,
            };
            let (chats_summary, total) = domain.list_chats(me, page).await?;
            let (next_page_id, previous_page_id) = page.links(chats_summary.len() as u32, total);
            Ok(axum::Json(ListChatsResponse { chats_summary, found_chats: total, next_page_id, previous_page_id })
                .into_response())
        }
        "get_chat" => {
            let req: GetChatRequest = parse(&body)?;
            Ok(axum::Json(domain.get_chat(me, &req.chat_id, req.thread_id.as_deref()).await?).into_response())
        }
        "send_event" => {
            let req: SendEventRequest = parse(&body)?;
            let attach = req.attach_to_last_thread.unwrap_or(false);
            let (stored, events) = domain.send_event(me, &req.chat_id, req.event, attach).await?;
            state.fanout.deliver(&events, None);
            Ok(axum::Json(SendEventResponse { event_id: stored.id.unwrap_or_default() }).into_response())
        }
        "deactivate_chat" => {
            let req: DeactivateChatRequest = parse(&body)?;
            let events = domain.deactivate_chat(me, &req.id).await?;
            state.fanout.deliver(&events, None);
            Ok(axum::Json(serde_json::json!({})).into_response())
        }
        "send_typing_indicator" => {
            let req: SendTypingIndicatorRequest = parse(&body)?;
            let agents_only = match req.visibility.as_deref() {
                None | Some("all") => false,
                Some("agents") => true,
                Some(other) => {
                    return Err(Error::validation(format!("`visibility` must be `all` or `agents`, not `{other}`")));
                }
            };
            let events = domain.send_typing_indicator(&agent.id, &req.chat_id, req.is_typing, agents_only).await?;
            state.fanout.deliver(&events, None);
            Ok(axum::Json(serde_json::json!({})).into_response())
        }
        "send_greeting" => Ok(axum::Json(greetings::send_greeting(&state, &agent, &body).await?).into_response()),
        "ban_customer" => {
            customers::ban_customer(&state, &body).await?;
            Ok(axum::Json(serde_json::json!({})).into_response())
        }
        "logout_customer" => {
            customers::logout_customer(&state, &body).await?;
            Ok(axum::Json(serde_json::json!({})).into_response())
        }
        "set_routing_status" => routing::set_routing_status(&state, me, &body).await,
        "list_routing_statuses" => routing::list_routing_statuses(&state, &body).await,
        other => chat_users::action(&state, &agent, other, &body).await,
    }
}
