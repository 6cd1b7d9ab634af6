//! `use_chat`: connects the SDK and keeps a reactive [`ChatState`] and [`Connection`] in step
//! with it; `send` shows a message at once and delivers it in order.
//!
//! Sends go through one queue, handled one at a time, so the first message starts the chat
//! and the ones typed meanwhile follow into it (never two `start_chat`s). The queue waits for
//! the first login, which tells whether the visitor has a chat already (`ChatState::next_send`
//! decides); messages typed while connecting show as "Sending…" meanwhile.
//!
//! The events loop never awaits a request: a login's chats are taken in at once, and the
//! history is fetched in a task of its own.

use crate::config::WidgetConfig;
use crate::state::{ChatState, Connection, SendPlan};
use confab_protocol::action::{InitialChat, InitialThread, ResumeChatRequest, StartChatRequest};
use confab_protocol::entity::Event;
use confab_protocol::push::Push;
use confab_sdk::{Client, ClientEvent, Config, DisconnectOutcome, SdkError as Error};
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
    // Tells the send queue that something it may be waiting for happened (a login, the end).
    // One slot: a nudge already waiting covers the next.
    let (mut nudge, mut nudged) = mpsc::channel::<()>(0);

    let history_client = client.clone();
    spawn_local(async move {
        while let Some(event) = events.next().await {
            match event {
                ClientEvent::Connected { customer, chats, .. } => {
                    state.update(|s| s.logged_in(&customer.id, &chats));
                    connection.set(Connection::Connected);
                    let _ = nudge.try_send(());
                    // Also after a reconnect: catches up on what was missed meanwhile.
                    if let Some(chat_id) = state.with_untracked(|s| s.chat_id.clone()) {
                        let client = history_client.clone();
                        spawn_local(async move {
                            match client.get_chat(&chat_id, None).await {
                                Ok(chat) => state.update(|s| s.load_history(&chat)),
                                Err(e) => {
                                    leptos::logging::warn!("confab: could not load the chat: {e}")
                                }
                            }
                        });
                    }
                }
                ClientEvent::ConnectFailed { retry_in, .. } => {
                    connection.set(Connection::Retrying { retry_in_secs: retry_in.as_secs() });
                }
                ClientEvent::Disconnected { reason, outcome, .. } => {
                    connection.set(if outcome == DisconnectOutcome::Reconnecting {
                        Connection::Reconnecting
                    } else {
                        Connection::Ended { reason }
                    });
                    let _ = nudge.try_send(());
                }
                event => {
                    // The events the chat state follows, as the pushes they came from.
                    let push = match event {
                        ClientEvent::IncomingEvent(incoming) => Push::IncomingEvent(incoming),
                        ClientEvent::IncomingChat(incoming) => Push::IncomingChat(incoming),
                        ClientEvent::UserAddedToChat(added) => Push::UserAddedToChat(added),
                        ClientEvent::ChatDeactivated(deactivated) => Push::ChatDeactivated(deactivated),
                        _ => continue,
                    };
                    if state.try_update(|s| s.apply_push(&push)).unwrap_or(false) {
                        on_new_message.run(());
                    }
                }
            }
        }
    });

    // Unbounded: fed by a synchronous callback, one entry per message the visitor typed (and
    // sees on screen as "Sending…"), so it holds no more than the message list does.
    let (queue, mut outbox) = mpsc::unbounded::<(String, String)>();
    spawn_local(async move {
        while let Some((key, text)) = outbox.next().await {
            let plan = loop {
                if let Some(plan) = connection.with_untracked(|c| state.with_untracked(|s| s.next_send(c))) {
                    break Some(plan);
                }
                if nudged.next().await.is_none() {
                    break None;
                }
            };
            let result = match plan {
                Some(plan) => deliver(&client, state, &key, &text, plan).await,
                // The events loop is over: so is the client.
                None => Err(Error::Destroyed),
            };
            if let Err(error) = result {
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

/// Delivers one message as `plan` says: starts the chat, resumes it, or adds to it.
async fn deliver(
    client: &Client,
    state: RwSignal<ChatState>,
    key: &str,
    text: &str,
    plan: SendPlan,
) -> Result<(), Error> {
    let event = Event::message(text).with_custom_id(key);
    let thread = || Some(InitialThread { events: Some(vec![event.clone()]), properties: None });
    match plan {
        SendPlan::StartChat => {
            let chat = InitialChat { thread: thread(), ..InitialChat::default() };
            let chat = client
                .start_chat_with(StartChatRequest { chat: Some(chat), active: Some(true), continuous: None })
                .await?;
            state.update(|s| s.load_chat(&chat));
        }
        SendPlan::ResumeChat { chat_id } => {
            let chat = InitialChat { id: Some(chat_id), thread: thread(), ..InitialChat::default() };
            let chat = client.activate_chat(ResumeChatRequest { chat, active: Some(true), continuous: None }).await?;
            state.update(|s| s.load_chat(&chat));
        }
        SendPlan::SendEvent { chat_id } => {
            let stored = client.send_event(&chat_id, event).await?;
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
        Error::Destroyed => "Not sent: the chat has ended.".into(),
        // It may have arrived; a retry that did is shown once.
        Error::RequestTimeout => "Not sent: no answer in time.".into(),
        Error::Api(e) => format!("Not sent: {}", e.message),
        other => format!("Not sent: {other}"),
    }
}

/// A `custom_id` for a new message: unique for this visitor.
fn new_key() -> String {
    let random = (js_sys::Math::random() * 1e12) as u64;
    format!("w{}-{random:x}", js_sys::Date::now() as u64)
}
