//! `use_chat`: connects the SDK and keeps a reactive [`ChatState`] and [`Connection`] in step
//! with it; `send` shows a message at once and delivers it in order.
//!
//! Sends go through one queue, handled one at a time, so the first message starts the chat
//! and the ones typed meanwhile follow into it (never two `start_chat`s).

use crate::config::WidgetConfig;
use crate::state::{ChatState, Connection};
use confab_protocol::action::{InitialChat, InitialThread, ResumeChatRequest, StartChatRequest};
use confab_protocol::entity::Event;
use confab_sdk::{Client, ClientEvent, Config, Error};
use futures::StreamExt;
use futures::channel::mpsc;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[derive(Clone, Copy)]
pub struct UseChat {
    pub state: RwSignal<ChatState>,
    pub connection: RwSignal<Connection>,
    /// Sends a message typed by the visitor.
    pub send: Callback<String>,
    /// Sends a failed message again, by key.
    pub retry: Callback<String>,
}

/// `on_new_message` runs when a message from someone else arrives.
pub fn use_chat(config: &WidgetConfig, on_new_message: Callback<()>) -> UseChat {
    let state = RwSignal::new(ChatState::default());
    let connection = RwSignal::new(Connection::Connecting);
    let (client, mut events) = confab_sdk::web::connect(Config::new(&config.server_url, &config.organization_id));

    let events_client = client.clone();
    spawn_local(async move {
        while let Some(event) = events.next().await {
            match event {
                ClientEvent::Connected { customer, chats, .. } => {
                    state.update(|s| s.customer_id = Some(customer.id));
                    if let Some(chat) = chats.first() {
                        match events_client.get_chat(&chat.chat_id, None).await {
                            Ok(chat) => state.update(|s| s.load_chat(&chat)),
                            Err(e) => leptos::logging::warn!("confab: could not load the chat: {e}"),
                        }
                    }
                    connection.set(Connection::Connected);
                }
                ClientEvent::ConnectFailed { retry_in, .. } => {
                    connection.set(Connection::Retrying { retry_in_secs: retry_in.as_secs() });
                }
                ClientEvent::Disconnected { reason, will_reconnect } => connection.set(if will_reconnect {
                    Connection::Reconnecting
                } else {
                    Connection::Ended { reason }
                }),
                ClientEvent::Push(push) => {
                    if state.try_update(|s| s.apply_push(&push)).unwrap_or(false) {
                        on_new_message.run(());
                    }
                }
            }
        }
    });

    let (queue, mut outbox) = mpsc::unbounded::<(String, String)>();
    spawn_local(async move {
        while let Some((key, text)) = outbox.next().await {
            if let Err(error) = deliver(&client, state, &key, &text).await {
                state.update(|s| s.fail(&key, &describe(&error)));
            }
        }
    });

    let enqueue = queue.clone();
    let send = Callback::new(move |text: String| {
        let text = text.trim().to_owned();
        if text.is_empty() {
            return;
        }
        let key = new_key();
        state.update(|s| s.add_pending(&key, &text));
        let _ = enqueue.unbounded_send((key, text));
    });
    let retry = Callback::new(move |key: String| {
        if let Some(text) = state.try_update(|s| s.retry(&key)).flatten() {
            let _ = queue.unbounded_send((key, text));
        }
    });
    UseChat { state, connection, send, retry }
}

/// Delivers one message: starts the chat, resumes it, or adds to it.
async fn deliver(client: &Client, state: RwSignal<ChatState>, key: &str, text: &str) -> Result<(), Error> {
    let event = Event::message(text).with_custom_id(key);
    let (chat_id, active) = state.with_untracked(|s| (s.chat_id.clone(), s.active));
    let thread = || Some(InitialThread { events: Some(vec![event.clone()]), properties: None });
    match chat_id {
        None => {
            let chat = InitialChat { thread: thread(), ..InitialChat::default() };
            let chat = client.start_chat_with(StartChatRequest { chat: Some(chat), active: Some(true), continuous: None }).await?;
            state.update(|s| s.load_chat(&chat));
        }
        Some(id) if !active => {
            let chat = InitialChat { id: Some(id), thread: thread(), ..InitialChat::default() };
            let chat = client.resume_chat_with(ResumeChatRequest { chat, active: Some(true), continuous: None }).await?;
            state.update(|s| s.load_chat(&chat));
        }
        Some(id) => {
            let stored = client.send_event(&id, event).await?;
            state.update(|s| {
                s.upsert(&stored);
            });
        }
    }
    Ok(())
}

/// A visitor-friendly reason for a failed send.
fn describe(error: &Error) -> String {
    match error {
        Error::NoConnection | Error::ConnectionLost => "Not sent: no connection.".into(),
        Error::Api(e) => format!("Not sent: {}", e.message),
        other => format!("Not sent: {other}"),
    }
}

/// A `custom_id` for a new message: unique for this visitor.
fn new_key() -> String {
    let random = (js_sys::Math::random() * 1e12) as u64;
    format!("w{}-{random:x}", js_sys::Date::now() as u64)
}
