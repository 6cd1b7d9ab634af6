//! Who is in a chat (Agent Chat Web API v3.6 "Chat access" and "Chat users"):
//! `transfer_chat`, `add_user_to_chat`, `remove_user_from_chat`, `list_agents_for_transfer`;
//! and `multicast`, chat-unrelated content for chosen users.

use super::{AgentCall, answer, done};
use crate::domain::chat_users::{Target, TransferOptions};
use crate::error::{Error, Result};
use confab_protocol::agent::{
    AddUserToChatRequest, AgentForTransfer, ListAgentsForTransferRequest, MulticastRequest, RemoveUserFromChatRequest,
    TransferChatRequest, TransferTarget,
};
use serde_json::Value;

pub async fn add_user_to_chat(call: &AgentCall<'_>, req: AddUserToChatRequest) -> Result<Value> {
    let ignore = req.ignore_requester_presence.unwrap_or(false);
    let events = call
        .domain()
        .add_user_to_chat(&call.agent.id, &req.chat_id, &req.user_id, &req.user_type, &req.visibility, ignore)
        .await?;
    call.fan_out(&events);
    done()
}

pub async fn remove_user_from_chat(call: &AgentCall<'_>, req: RemoveUserFromChatRequest) -> Result<Value> {
    let ignore = req.ignore_requester_presence.unwrap_or(false);
    let events =
        call.domain().remove_user_from_chat(&call.agent.id, &req.chat_id, &req.user_id, &req.user_type, ignore).await?;
    call.fan_out(&events);
    done()
}

pub async fn transfer_chat(call: &AgentCall<'_>, req: TransferChatRequest) -> Result<Value> {
    let target = req.target.map(target).transpose()?;
    let options = TransferOptions {
        ignore_agents_availability: req.ignore_agents_availability.unwrap_or(false),
        ignore_requester_presence: req.ignore_requester_presence.unwrap_or(false),
    };
    let events = call.domain().transfer_chat(&call.agent.id, &req.id, target, options).await?;
    call.fan_out(&events);
    done()
}

/// `{chat_id}` → `[{agent_id, total_active_chats}]`, fewest active chats first.
pub async fn list_agents_for_transfer(call: &AgentCall<'_>, req: ListAgentsForTransferRequest) -> Result<Value> {
    let agents = call.domain().agents_for_transfer(&req.chat_id).await?;
    answer(
        agents
            .into_iter()
            .map(|(agent_id, total_active_chats)| AgentForTransfer { agent_id, total_active_chats })
            .collect::<Vec<_>>(),
    )
}

pub async fn multicast(call: &AgentCall<'_>, req: MulticastRequest) -> Result<Value> {
    let events = call.domain().multicast(&call.agent.id, &req.recipients, req.content, req.kind).await?;
    call.fan_out(&events);
    done()
}

/// `target`: `group` with group numbers, or `agent` with agent ids.
fn target(target: TransferTarget) -> Result<Target> {
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
