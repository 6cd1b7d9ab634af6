//! Properties of chats, threads and events: `update_*_properties`, `delete_*_properties`.
//! A rating is `update_thread_properties` with `{"rating": {"score", "comment"}}` (the SDK's
//! `rateChat`), its cancelling `delete_thread_properties` (`cancelRate`).

use super::Call;
use crate::error::{Error, Result};
use confab_protocol::action::{
    DeleteChatPropertiesRequest, DeleteEventPropertiesRequest, DeleteThreadPropertiesRequest,
    UpdateChatPropertiesRequest, UpdateEventPropertiesRequest, UpdateThreadPropertiesRequest,
};

/// v3.5 names the chat `id`, v3.2 `chat_id`.
fn chat_field(chat: Option<&str>) -> Result<String> {
    chat.map(str::to_owned).ok_or_else(|| Error::validation("`id` is required"))
}

pub async fn update_chat_properties(call: &Call, req: UpdateChatPropertiesRequest) -> Result<()> {
    let chat_id = chat_field(req.chat())?;
    let events = call.domain().update_chat_properties(call.me(), &chat_id, req.properties).await?;
    call.respond::<UpdateChatPropertiesRequest>(Default::default());
    call.fan_out(&events);
    Ok(())
}

pub async fn delete_chat_properties(call: &Call, req: DeleteChatPropertiesRequest) -> Result<()> {
    let chat_id = chat_field(req.chat())?;
    let events = call.domain().delete_chat_properties(call.me(), &chat_id, req.properties).await?;
    call.respond::<DeleteChatPropertiesRequest>(Default::default());
    call.fan_out(&events);
    Ok(())
}

pub async fn update_thread_properties(call: &Call, req: UpdateThreadPropertiesRequest) -> Result<()> {
    let events =
        call.domain().update_thread_properties(call.me(), &req.chat_id, &req.thread_id, req.properties).await?;
    call.respond::<UpdateThreadPropertiesRequest>(Default::default());
    call.fan_out(&events);
    Ok(())
}

pub async fn delete_thread_properties(call: &Call, req: DeleteThreadPropertiesRequest) -> Result<()> {
    let events =
        call.domain().delete_thread_properties(call.me(), &req.chat_id, &req.thread_id, req.properties).await?;
    call.respond::<DeleteThreadPropertiesRequest>(Default::default());
    call.fan_out(&events);
    Ok(())
}

pub async fn update_event_properties(call: &Call, req: UpdateEventPropertiesRequest) -> Result<()> {
    let events = call
        .domain()
        .update_event_properties(call.me(), &req.chat_id, &req.thread_id, &req.event_id, req.properties)
        .await?;
    call.respond::<UpdateEventPropertiesRequest>(Default::default());
    call.fan_out(&events);
    Ok(())
}

pub async fn delete_event_properties(call: &Call, req: DeleteEventPropertiesRequest) -> Result<()> {
    let events = call
        .domain()
        .delete_event_properties(call.me(), &req.chat_id, &req.thread_id, &req.event_id, req.properties)
        .await?;
    call.respond::<DeleteEventPropertiesRequest>(Default::default());
    call.fan_out(&events);
    Ok(())
}
