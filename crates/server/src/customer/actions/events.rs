//! Events: `send_event`, `send_rich_message_postback`, `mark_events_as_seen`,
//! `send_sneak_peek`.

use super::{Call, not_yet};
use crate::error::Result;
use confab_protocol::action::{
    MarkEventsAsSeenRequest, SendEventRequest, SendEventResponse, SendRichMessagePostbackRequest, SendSneakPeekRequest,
};

pub async fn send_event(call: &Call, req: SendEventRequest) -> Result<()> {
    let attach = req.attach_to_last_thread.unwrap_or(false);
    let (stored, events) = call.domain().send_event(call.me(), &req.chat_id, req.event, attach).await?;
    call.respond::<SendEventRequest>(SendEventResponse { event_id: stored.id.unwrap_or_default() });
    call.fan_out(&events);
    Ok(())
}

pub async fn send_rich_message_postback(_call: &Call, _req: SendRichMessagePostbackRequest) -> Result<()> {
    Err(not_yet::<SendRichMessagePostbackRequest>())
}

pub async fn mark_events_as_seen(_call: &Call, _req: MarkEventsAsSeenRequest) -> Result<()> {
    Err(not_yet::<MarkEventsAsSeenRequest>())
}

pub async fn send_sneak_peek(_call: &Call, _req: SendSneakPeekRequest) -> Result<()> {
    Err(not_yet::<SendSneakPeekRequest>())
}
