//! Properties of chats, threads and events: `update_*_properties`, `delete_*_properties`.

use super::{Call, not_yet};
use crate::error::Result;
use confab_protocol::action::{
    DeleteChatPropertiesRequest, DeleteEventPropertiesRequest, DeleteThreadPropertiesRequest,
    UpdateChatPropertiesRequest, UpdateEventPropertiesRequest, UpdateThreadPropertiesRequest,
};

pub async fn update_chat_properties(_call: &Call, _req: UpdateChatPropertiesRequest) -> Result<()> {
    Err(not_yet::<UpdateChatPropertiesRequest>())
}

pub async fn delete_chat_properties(_call: &Call, _req: DeleteChatPropertiesRequest) -> Result<()> {
    Err(not_yet::<DeleteChatPropertiesRequest>())
}

pub async fn update_thread_properties(_call: &Call, _req: UpdateThreadPropertiesRequest) -> Result<()> {
    Err(not_yet::<UpdateThreadPropertiesRequest>())
}

pub async fn delete_thread_properties(_call: &Call, _req: DeleteThreadPropertiesRequest) -> Result<()> {
    Err(not_yet::<DeleteThreadPropertiesRequest>())
}

pub async fn update_event_properties(_call: &Call, _req: UpdateEventPropertiesRequest) -> Result<()> {
    Err(not_yet::<UpdateEventPropertiesRequest>())
}

pub async fn delete_event_properties(_call: &Call, _req: DeleteEventPropertiesRequest) -> Result<()> {
    Err(not_yet::<DeleteEventPropertiesRequest>())
}
