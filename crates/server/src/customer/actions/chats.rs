//! Chats: `start_chat`, `resume_chat` (and v3.2's `activate_chat`), `deactivate_chat`,
//! `get_chat`, `list_chats`, `list_threads`.

use super::Call;
use crate::domain::Started;
use crate::error::{Error, Result};
use crate::limits::{CUSTOMER_LIST_CHATS_DEFAULT, CUSTOMER_LIST_CHATS_MAX};
use crate::store::{Page, list_threads_page};
use confab_protocol::action::{
    Action, ActivateChatRequest, DeactivateChatRequest, GetChatRequest, ListChatsRequest, ListChatsResponse,
    ListThreadsRequest, ListThreadsResponse, ResumeChatRequest, StartChatRequest, StartChatResponse,
};

pub async fn start_chat(call: &Call, req: StartChatRequest) -> Result<()> {
    let initial = req.chat.unwrap_or_default();
    let (started, events) = call.domain().start_chat_in(call.customer_id(), call.group_id, &initial).await?;
    call.respond::<StartChatRequest>(started_response(started));
    call.fan_out(&events);
    Ok(())
}

pub async fn resume_chat(call: &Call, req: ResumeChatRequest) -> Result<()> {
    resume::<ResumeChatRequest>(call, req).await
}

pub async fn activate_chat(call: &Call, req: ActivateChatRequest) -> Result<()> {
    resume::<ActivateChatRequest>(call, req.0).await
}

async fn resume<A: Action<Response = StartChatResponse>>(call: &Call, req: ResumeChatRequest) -> Result<()> {
    let (started, events) = call.domain().resume_chat(call.customer_id(), &req.chat).await?;
    call.respond::<A>(started_response(started));
    call.fan_out(&events);
    Ok(())
}

/// The direct answer to `start_chat`/`resume_chat`; `incoming_chat` follows for everyone.
fn started_response(started: Started) -> StartChatResponse {
    StartChatResponse { chat_id: started.chat.id, thread_id: started.thread_id, event_ids: Some(started.event_ids) }
}

pub async fn deactivate_chat(call: &Call, req: DeactivateChatRequest) -> Result<()> {
    // v3.5 names the chat `id`, v3.2 `chat_id`.
    let chat_id = req.id.or(req.chat_id).ok_or_else(|| Error::validation("`id` is required"))?;
    let events = call.domain().deactivate_chat(call.me(), &chat_id, false).await?;
    call.respond::<DeactivateChatRequest>(Default::default());
    call.fan_out(&events);
    Ok(())
}

pub async fn get_chat(call: &Call, req: GetChatRequest) -> Result<()> {
    let chat = call.domain().get_chat(call.me(), &req.chat_id, req.thread_id.as_deref()).await?;
    call.respond::<GetChatRequest>(chat);
    Ok(())
}

pub async fn list_chats(call: &Call, req: ListChatsRequest) -> Result<()> {
    let page = match req.page_id {
        Some(page_id) => Page::decode(&page_id)?,
        None => Page::first(req.limit, CUSTOMER_LIST_CHATS_DEFAULT, CUSTOMER_LIST_CHATS_MAX, req.sort_order)?,
    };
    let (chats_summary, total) = call.domain().list_chats(call.me(), page, &Default::default()).await?;
    let (next_page_id, previous_page_id) = page.links(chats_summary.len() as u32, total);
    call.respond::<ListChatsRequest>(ListChatsResponse {
        chats_summary,
        total_chats: total,
        next_page_id,
        previous_page_id,
    });
    Ok(())
}

pub async fn list_threads(call: &Call, req: ListThreadsRequest) -> Result<()> {
    let page = list_threads_page(&req)?;
    let (threads, total) = call.domain().list_threads(call.me(), &req.chat_id, page).await?;
    let (next_page_id, previous_page_id) = page.links(threads.len() as u32, total);
    call.respond::<ListThreadsRequest>(ListThreadsResponse {
        threads,
        found_threads: total,
        next_page_id,
        previous_page_id,
    });
    Ok(())
}
