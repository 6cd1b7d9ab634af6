//! Agent Chat Web API v3.6 actions that change who is in a chat, and `multicast`.

use super::parse;
use crate::AppState;
use crate::domain::chat_users::Target;
use crate::error::{Error, Result};
use axum::response::{IntoResponse, Response};
use confab_protocol::agent::{AddUserToChatRequest, MulticastRequest, RemoveUserFromChatRequest, TransferChatRequest};
use confab_protocol::entity::Agent;

/// Serves `action`, or `not_found` if it is none of these.
pub(super) async fn action(state: &AppState, agent: &Agent, action: &str, body: &[u8]) -> Result<Response> {
    let domain = &state.domain;
    let events = match action {
        "add_user_to_chat" => {
            let req: AddUserToChatRequest = parse(body)?;
            let ignore = req.ignore_requester_presence.unwrap_or(false);
            domain
                .add_user_to_chat(&agent.id, &req.chat_id, &req.user_id, &req.user_type, &req.visibility, ignore)
                .await?
        }
        "remove_user_from_chat" => {
            let req: RemoveUserFromChatRequest = parse(body)?;
            let ignore = req.ignore_requester_presence.unwrap_or(false);
            domain.remove_user_from_chat(&agent.id, &req.chat_id, &req.user_id, &req.user_type, ignore).await?
        }
        "transfer_chat" => {
            let req: TransferChatRequest = parse(body)?;
            let target = req.target.map(target).transpose()?;
            domain.transfer_chat(&agent.id, &req.id, target, req.ignore_requester_presence.unwrap_or(false)).await?
        }
        "multicast" => {
            let req: MulticastRequest = parse(body)?;
            domain.multicast(&agent.id, &req.recipients, req.content, req.kind).await?
        }
        other => return Err(Error::not_found(format!("Unknown action `{other}`"))),
    };
    state.fanout.deliver(&events, None);
    Ok(axum::Json(serde_json::json!({})).into_response())
}

/// `target`: `group` with group numbers, or `agent` with agent ids.
fn target(target: confab_protocol::agent::TransferTarget) -> Result<Target> {
    match target.kind.as_str() {
        "group" => target
            .ids
            .iter()
            .map(|id| {
                id.as_u64()
                    .and_then(|id| u32::try_from(id).ok())
                    .ok_or_else(|| Error::validation("Group ids are non-negative numbers"))
            })
            .collect::<Result<_>>()
            .map(Target::Group),
        "agent" => target
            .ids
            .iter()
            .map(|id| id.as_str().map(str::to_owned).ok_or_else(|| Error::validation("Agent ids are strings")))
            .collect::<Result<_>>()
            .map(Target::Agents),
        other => Err(Error::validation(format!("`target.type` must be `group` or `agent`, not `{other}`"))),
    }
}
