//! Events (Agent Chat Web API v3.6 "Events" and "Other"): `send_event`,
//! `send_rich_message_postback`, `mark_events_as_seen`, `send_typing_indicator`.

use super::{AgentCall, answer, done};
use crate::error::{Error, Result};
use confab_protocol::action::{MarkEventsAsSeenRequest, SendRichMessagePostbackRequest};
use confab_protocol::agent::{SendEventRequest, SendEventResponse, SendTypingIndicatorRequest};
use serde_json::Value;

/// An agent who writes joins the chat (`user_added_to_chat`) and takes an unassigned thread.
pub async fn send_event(call: &AgentCall<'_>, req: SendEventRequest) -> Result<Value> {
    let attach = req.attach_to_last_thread.unwrap_or(false);
    let (stored, events) = call.domain().send_event(call.me(), &req.chat_id, req.event, attach).await?;
    call.fan_out(&events);
    answer(SendEventResponse { event_id: stored.id.unwrap_or_default() })
}

pub async fn send_rich_message_postback(call: &AgentCall<'_>, req: SendRichMessagePostbackRequest) -> Result<Value> {
    let events = call
        .domain()
        .send_rich_message_postback(call.me(), &req.chat_id, &req.thread_id, &req.event_id, req.postback)
        .await?;
    call.fan_out(&events);
    done()
}

/// The agent's seen marker moves forward (`events_marked_as_seen`, for the customer too).
pub async fn mark_events_as_seen(call: &AgentCall<'_>, req: MarkEventsAsSeenRequest) -> Result<Value> {
    let (_, events) = call.domain().mark_events_as_seen(call.me(), &req.chat_id, &req.seen_up_to).await?;
    call.fan_out(&events);
    done()
}

/// `visibility`: `all` (default; the customer sees it) or `agents`.
pub async fn send_typing_indicator(call: &AgentCall<'_>, req: SendTypingIndicatorRequest) -> Result<Value> {
    let agents_only = match req.visibility.as_deref() {
        None | Some("all") => false,
        Some("agents") => true,
        Some(other) => return Err(Error::validation(format!("`visibility` must be `all` or `agents`, not `{other}`"))),
    };
    let events = call.domain().send_typing_indicator(&call.agent.id, &req.chat_id, req.is_typing, agents_only).await?;
    call.fan_out(&events);
    done()
}
