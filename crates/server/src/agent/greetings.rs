//! `send_greeting`: a Confab extension of the Agent Chat Web API v3.6.
//!
//! `POST /v3.6/agent/action/send_greeting` `{"customer_id", "text", "subtype"?}` shows the
//! customer a greeting from the calling agent at once: every socket they have open, on any
//! node, gets `incoming_greeting` (and `greeting_canceled` for the one it replaces); a socket
//! that logs in later finds it in `login`'s `greeting` until it is accepted or canceled.
//! Answers `{"greeting_id", "unique_id"}`; `not_found` for a customer who never logged in,
//! `validation` for empty or oversized text or an unknown subtype.

use super::parse;
use crate::AppState;
use crate::error::Result;
use confab_protocol::agent::{SendGreetingRequest, SendGreetingResponse};
use confab_protocol::entity::Agent;

pub async fn send_greeting(state: &AppState, agent: &Agent, body: &[u8]) -> Result<SendGreetingResponse> {
    let req: SendGreetingRequest = parse(body)?;
    let (greeting, events) =
        state.domain.send_greeting(&agent.id, &req.customer_id, &req.text, req.subtype.as_deref()).await?;
    state.fanout.deliver(&events, None);
    Ok(SendGreetingResponse { greeting_id: greeting.id, unique_id: greeting.unique_id })
}
