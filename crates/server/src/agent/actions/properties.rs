//! Properties of chats, threads and events (Agent Chat Web API v3.6 "Properties"), and
//! thread tags (`tag_thread`, `untag_thread`). The same rules as the customer's: the domain
//! decides who may write which namespace.

use super::{AgentCall, done};
use crate::domain::DomainEvent;
use crate::error::{Error, Result};
use confab_protocol::action::{
    DeleteChatPropertiesRequest, DeleteEventPropertiesRequest, DeleteThreadPropertiesRequest,
    UpdateChatPropertiesRequest, UpdateEventPropertiesRequest, UpdateThreadPropertiesRequest,
};
use confab_protocol::agent::TagThreadRequest;
use serde_json::Value;

/// v3.6 names the chat `id`.
fn chat_field(chat: Option<&str>) -> Result<&str> {
    chat.ok_or_else(|| Error::validation("Invalid request body: missing field `id`"))
}

fn pushed(call: &AgentCall<'_>, events: Vec<DomainEvent>) -> Result<Value> {
    call.fan_out(&events);
    done()
}

pub async fn update_chat_properties(call: &AgentCall<'_>, req: UpdateChatPropertiesRequest) -> Result<Value> {
    let chat_id = chat_field(req.chat())?.to_owned();
    pushed(call, call.domain().update_chat_properties(call.me(), &chat_id, req.properties).await?)
}

pub async fn delete_chat_properties(call: &AgentCall<'_>, req: DeleteChatPropertiesRequest) -> Result<Value> {
    let chat_id = chat_field(req.chat())?.to_owned();
    pushed(call, call.domain().delete_chat_properties(call.me(), &chat_id, req.properties).await?)
}

pub async fn update_thread_properties(call: &AgentCall<'_>, req: UpdateThreadPropertiesRequest) -> Result<Value> {
    let domain = call.domain();
    pushed(call, domain.update_thread_properties(call.me(), &req.chat_id, &req.thread_id, req.properties).await?)
}

pub async fn delete_thread_properties(call: &AgentCall<'_>, req: DeleteThreadPropertiesRequest) -> Result<Value> {
    let domain = call.domain();
    pushed(call, domain.delete_thread_properties(call.me(), &req.chat_id, &req.thread_id, req.properties).await?)
}

pub async fn update_event_properties(call: &AgentCall<'_>, req: UpdateEventPropertiesRequest) -> Result<Value> {
    let events = call
        .domain()
        .update_event_properties(call.me(), &req.chat_id, &req.thread_id, &req.event_id, req.properties)
        .await?;
    pushed(call, events)
}

pub async fn delete_event_properties(call: &AgentCall<'_>, req: DeleteEventPropertiesRequest) -> Result<Value> {
    let events = call
        .domain()
        .delete_event_properties(call.me(), &req.chat_id, &req.thread_id, &req.event_id, req.properties)
        .await?;
    pushed(call, events)
}

pub async fn tag_thread(call: &AgentCall<'_>, req: TagThreadRequest) -> Result<Value> {
    pushed(call, call.domain().tag_thread(&call.agent.id, &req.chat_id, &req.thread_id, &req.tag, true).await?)
}

pub async fn untag_thread(call: &AgentCall<'_>, req: TagThreadRequest) -> Result<Value> {
    pushed(call, call.domain().tag_thread(&call.agent.id, &req.chat_id, &req.thread_id, &req.tag, false).await?)
}
