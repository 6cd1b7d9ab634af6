//! Events: `send_event`, `send_rich_message_postback`, `mark_events_as_seen`,
//! `send_sneak_peek`.

use super::Call;
use crate::error::{Error, Result};
use confab_protocol::ErrorType;
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

pub async fn send_rich_message_postback(call: &Call, req: SendRichMessagePostbackRequest) -> Result<()> {
    let events = call
        .domain()
        .send_rich_message_postback(call.me(), &req.chat_id, &req.thread_id, &req.event_id, req.postback)
        .await?;
    call.respond::<SendRichMessagePostbackRequest>(Default::default());
    call.fan_out(&events);
    Ok(())
}

pub async fn mark_events_as_seen(call: &Call, req: MarkEventsAsSeenRequest) -> Result<()> {
    let (_, events) = call.domain().mark_events_as_seen(call.me(), &req.chat_id, &req.seen_up_to).await?;
    call.respond::<MarkEventsAsSeenRequest>(Default::default());
    call.fan_out(&events);
    Ok(())
}

/// Beyond the socket's sneak peek rate (`SNEAK_PEEKS_PER_SECOND`), answered
/// `too_many_requests` unprocessed; the SDK ignores the answer, and the next one gets through.
pub async fn send_sneak_peek(call: &Call, req: SendSneakPeekRequest) -> Result<()> {
    if !call.take_sneak_peek() {
        return Err(Error::new(ErrorType::TooManyRequests, "Too many sneak peeks; send fewer"));
    }
    let events = call.domain().send_sneak_peek(call.customer_id(), &req.chat_id, &req.sneak_peek_text).await?;
    call.respond::<SendSneakPeekRequest>(Default::default());
    call.fan_out(&events);
    Ok(())
}
