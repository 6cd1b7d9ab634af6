//! Chats (Agent Chat Web API v3.6 "Chats"): `list_chats`, `list_threads`, `get_chat`,
//! `list_archives`, `start_chat`, `resume_chat`, `deactivate_chat`, `follow_chat`, `unfollow_chat`.
//!
//! Listings page as the reference says: the first request carries `filters`, `sort_order`
//! and `limit`; its page ids remember them, and a request with a `page_id` and any of them
//! is a `validation` error.

use super::{AgentCall, answer, done};
use crate::domain::ArchiveQuery;
use crate::error::{Error, Result};
use crate::limits::{AGENT_LIST_CHATS_DEFAULT, AGENT_LIST_CHATS_MAX, MAX_ARCHIVE_THREAD_IDS, MAX_FILTER_GROUP_IDS};
use crate::store::{ChatFilters, Filtered, Page, list_threads_page};
use confab_protocol::action::{ListThreadsRequest, ListThreadsResponse};
use confab_protocol::agent::{
    DeactivateChatRequest, GetChatRequest, IdRequest, ListChatsRequest, ListChatsResponse, ResumeChatRequest,
    ResumeChatResponse, StartChatRequest, StartChatResponse,
};
use confab_protocol::archive::{ListArchivesRequest, ListArchivesResponse};
use serde_json::Value;

fn page_id_alone() -> Error {
    Error::validation("`filters`, `limit` and `sort_order` can't be used with `page_id`")
}

/// At most `MAX_FILTER_GROUP_IDS` group ids in a filter.
pub(super) fn check_group_filter(group_ids: Option<&[u32]>) -> Result<()> {
    match group_ids {
        Some(ids) if ids.len() > MAX_FILTER_GROUP_IDS => {
            Err(Error::validation(format!("`filters.group_ids` holds at most {MAX_FILTER_GROUP_IDS} ids")))
        }
        _ => Ok(()),
    }
}

pub async fn list_chats(call: &AgentCall<'_>, req: ListChatsRequest) -> Result<Value> {
    let cursor = match req.page_id {
        Some(_) if req.filters.is_some() || req.limit.is_some() || req.sort_order.is_some() => {
            return Err(page_id_alone());
        }
        Some(page_id) => Filtered::decode(&page_id)?,
        None => {
            let filters = req.filters.unwrap_or_default();
            check_group_filter(filters.group_ids.as_deref())?;
            let filters = ChatFilters {
                active: filters.active,
                group_ids: filters.group_ids,
                without_threadless: filters.include_chats_without_threads == Some(false),
                properties: filters.properties,
            };
            let page = Page::first(req.limit, AGENT_LIST_CHATS_DEFAULT, AGENT_LIST_CHATS_MAX, req.sort_order)?;
            Filtered { page, filters }
        }
    };
    let (chats_summary, total) = call.domain().list_chats(call.me(), cursor.page, &cursor.filters).await?;
    let (next_page_id, previous_page_id) = cursor.links(chats_summary.len() as u32, total);
    answer(ListChatsResponse { chats_summary, found_chats: total, next_page_id, previous_page_id })
}

pub async fn list_threads(call: &AgentCall<'_>, req: ListThreadsRequest) -> Result<Value> {
    if req.page_id.is_some() && (req.limit.is_some() || req.sort_order.is_some() || req.min_events_count.is_some()) {
        return Err(Error::validation("`limit`, `sort_order` and `min_events_count` can't be used with `page_id`"));
    }
    let page = list_threads_page(&req)?;
    let (threads, total) = call.domain().list_threads(call.me(), &req.chat_id, page).await?;
    let (next_page_id, previous_page_id) = page.links(threads.len() as u32, total);
    answer(ListThreadsResponse { threads, found_threads: total, next_page_id, previous_page_id })
}

/// Threads with their chats, filtered (`domain::archives` says what each filter means). A
/// `page_id` goes alone; its first request's filters, order, size and highlights go on.
pub async fn list_archives(call: &AgentCall<'_>, req: ListArchivesRequest) -> Result<Value> {
    let first = req.filters.is_some() || req.limit.is_some() || req.sort_order.is_some() || req.highlights.is_some();
    let cursor = match req.page_id {
        Some(_) if first => {
            return Err(Error::validation(
                "`filters`, `limit`, `sort_order` and `highlights` can't be used with `page_id`",
            ));
        }
        Some(page_id) => Filtered::decode(&page_id)?,
        None => {
            let query = ArchiveQuery { filters: req.filters.unwrap_or_default(), highlights: req.highlights };
            query.check()?;
            // Named threads come in one page (the reference: no paging with `thread_ids`).
            let default = if query.filters.thread_ids.is_some() {
                MAX_ARCHIVE_THREAD_IDS as u32
            } else {
                AGENT_LIST_CHATS_DEFAULT
            };
            let page = Page::first(req.limit, default, AGENT_LIST_CHATS_MAX, req.sort_order)?;
            Filtered { page, filters: query }
        }
    };
    let (chats, found_chats) = call.domain().list_archives(&call.agent.id, &cursor.filters, cursor.page).await?;
    let (next_page_id, previous_page_id) = match cursor.filters.filters.thread_ids {
        Some(_) => (None, None),
        None => cursor.links(chats.len() as u32, found_chats),
    };
    answer(ListArchivesResponse { chats, found_chats, next_page_id, previous_page_id })
}

pub async fn get_chat(call: &AgentCall<'_>, req: GetChatRequest) -> Result<Value> {
    answer(call.domain().get_chat(call.me(), &req.chat_id, req.thread_id.as_deref()).await?)
}

/// `{chat?: {users, access?, properties?, thread?}, active?, continuous?}` → `{chat_id,
/// thread_id, event_ids?}`; `incoming_chat` for the customer and the agents. `continuous`
/// ("online group is not required") is how every agent's chat starts here: the agent takes
/// the thread whatever the group's status, so the field changes nothing.
pub async fn start_chat(call: &AgentCall<'_>, req: StartChatRequest) -> Result<Value> {
    let chat = req.chat.unwrap_or_default();
    let (started, events) = call.domain().agent_start_chat(&call.agent.id, &chat, req.active.unwrap_or(true)).await?;
    call.fan_out(&events);
    let event_ids = (!started.event_ids.is_empty()).then_some(started.event_ids);
    answer(StartChatResponse { chat_id: started.chat.id, thread_id: started.thread_id, event_ids })
}

/// `{chat: {id, users?, …}, active?}` → `{thread_id, event_ids?}`.
pub async fn resume_chat(call: &AgentCall<'_>, req: ResumeChatRequest) -> Result<Value> {
    let active = req.active.unwrap_or(true);
    let (started, events) = call.domain().agent_resume_chat(&call.agent.id, &req.chat, active).await?;
    call.fan_out(&events);
    let event_ids = (!started.event_ids.is_empty()).then_some(started.event_ids);
    answer(ResumeChatResponse { thread_id: started.thread_id, event_ids })
}

pub async fn deactivate_chat(call: &AgentCall<'_>, req: DeactivateChatRequest) -> Result<Value> {
    let ignore = req.ignore_requester_presence.unwrap_or(false);
    let events = call.domain().deactivate_chat(call.me(), &req.id, ignore).await?;
    call.fan_out(&events);
    done()
}

pub async fn follow_chat(call: &AgentCall<'_>, req: IdRequest) -> Result<Value> {
    call.domain().follow_chat(&call.agent.id, &req.id).await?;
    done()
}

pub async fn unfollow_chat(call: &AgentCall<'_>, req: IdRequest) -> Result<Value> {
    let events = call.domain().unfollow_chat(&call.agent.id, &req.id).await?;
    call.fan_out(&events);
    done()
}
