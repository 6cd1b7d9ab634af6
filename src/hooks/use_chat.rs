//! `use_chat`: connects the SDK and keeps a reactive [`ChatState`] and [`Connection`] in step
//! with it; `send` shows a message at once and delivers it in order.
//!
//! Sends go through one queue, handled one at a time, so the first message starts the chat
//! and the ones typed meanwhile follow into it (never two `start_chat`s). The queue waits for
//! the first login, which tells whether the visitor has a chat already (`ChatState::next_send`
//! decides); messages typed while connecting show as "Sending…" meanwhile.
//!
//! Everything else the visitor or the host page asks (older history, a rating, a sneak peek,
//! the customer's name, the page) goes through a second queue, so it never waits behind a
//! message stuck in sending; the host's commands wait for the first login.
//!
//! The events loop never awaits a request: a login's chats are taken in at once, and the
//! history is fetched in a task of its own.

use crate::config::WidgetConfig;
use crate::hooks::outbox::SavedOutbox;
use crate::hooks::stored::Stored;
use crate::hooks::use_host::{HostCommand, HostEvent, UseHost};
use crate::hooks::use_link_preview::LinkPreviews;
use crate::hooks::use_visibility::use_visibility;
use crate::i18n::Strings;
use crate::state::{Answers, ButtonAction, ChatState, Choice, Connection, RatingState, RichButton, SendPlan};
use confab_protocol::action::{
    CustomerUpdate, FormType, GetFormResponse, InitialChat, InitialThread, Postback, ResumeChatRequest,
    SendEventRequest, StartChatRequest,
};
use confab_protocol::entity::{Event, EventBody, FilledFormBody};
use confab_protocol::push::Push;
use confab_protocol::token::KeptIdentity;
use confab_sdk::ticket::TicketForm;
use confab_sdk::{
    Availability, CancelUpload, ChatHistory, Client, ClientEvent, Config, DisconnectOutcome, Rating, SdkError as Error,
    UploadFile, Uploaded,
};
use futures::StreamExt;
use futures::channel::mpsc;
use leptos::callback::UnsyncCallback;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Copy)]
pub struct UseChat {
    pub state: RwSignal<ChatState>,
    pub connection: RwSignal<Connection>,
    /// Whether earlier conversations are being fetched.
    pub loading_older: RwSignal<bool>,
    /// Sends a message typed by the visitor.
    pub send: Callback<String>,
    /// Sends a failed message again, by key.
    pub retry: Callback<String>,
    /// Fetches the next page of earlier conversations.
    pub load_older: Callback<()>,
    /// Rates the ended conversation: 1 good, 0 bad, with an optional comment.
    pub rate: Callback<(u8, Option<String>)>,
    /// Declines the rating, or takes a rating back.
    pub decline_rating: Callback<()>,
    /// What the visitor is typing (sent as a sneak peek when the site opted in).
    pub typing: Callback<String>,
    /// Connects again after the connection was paused (inactivity).
    pub reconnect: Callback<()>,
    /// Uploads a file the visitor attached (picked, pasted or dropped) and sends it.
    pub attach: UnsyncCallback<web_sys::File>,
    /// Cancels an upload under way, by key.
    pub cancel_upload: Callback<String>,
    /// Starts the first chat with the filled pre-chat form.
    pub send_prechat: Callback<Answers>,
    /// Leaves a ticket (the group is offline); `ticket_error` says why it failed.
    pub send_ticket: Callback<Answers>,
    pub ticket_error: RwSignal<Option<String>>,
    /// Sends the post-chat survey into the conversation that ended; `survey_error` says why it
    /// failed (the answers stay in the form).
    pub send_survey: Callback<Answers>,
    /// Link previews, looked up through this chat's connection.
    pub previews: LinkPreviews,
    pub skip_survey: Callback<()>,
    pub survey_error: RwSignal<Option<String>>,
    /// Takes up the greeting shown: its chat starts.
    pub accept_greeting: Callback<()>,
    /// Closes the greeting shown.
    pub cancel_greeting: Callback<()>,
    /// The visitor chose a rich message's button (by the message's key).
    pub choose: Callback<(String, RichButton)>,
}

/// What the send queue delivers: words, or an uploaded file's address.
enum Outgoing {
    Text(String),
    File {
        url: String,
    },
    /// The pre-chat form, which starts the chat.
    Form(FilledFormBody),
}

impl Outgoing {
    fn event(&self) -> Event {
        match self {
            Outgoing::Text(text) => Event::message(text),
            Outgoing::File { url } => Event::file(url),
            Outgoing::Form(form) => Event::outgoing(EventBody::FilledForm(form.clone())),
        }
    }
}

/// What the visitor or the host asks, besides sending messages.
enum Request {
    LoadOlder,
    Rate(Rating),
    DeclineRating,
    SneakPeek(String),
    Reconnect,
    Host(HostCommand),
    /// A login succeeded: the host's commands that waited for it go now.
    LoggedIn,
    Ticket(FilledFormBody),
    /// The post-chat survey's answers, for the conversation that ended.
    Survey(FilledFormBody),
    AcceptGreeting,
    CancelGreeting,
    /// A rich message's button was chosen.
    Postback(Choice, String),
}

/// `on_new_message` runs when a message from someone else arrives.
pub fn use_chat(
    config: &WidgetConfig,
    host: UseHost,
    mut host_commands: mpsc::UnboundedReceiver<HostCommand>,
    strings: &'static Strings,
    on_new_message: Callback<()>,
) -> UseChat {
    let state = RwSignal::new(ChatState::default());
    let connection = RwSignal::new(Connection::Connecting);
    let loading_older = RwSignal::new(false);
    let mut sdk_config = Config::new(&config.server_url, &config.organization_id);
    sdk_config.group_id = config.group;
    // The visitor's identity lives in the widget's (site-partitioned) storage as well as in
    // the server's cookies, so it lasts across the site's pages where third-party cookies are
    // blocked (Safari, Firefox, Chromium's phase-out), which never send the cookies here.
    let kept_identity = Stored::<KeptIdentity>::new(format!("confab:identity:{}", config.organization_id));
    sdk_config.keep_identity = true;
    sdk_config.identity = kept_identity.load();
    let group = config.group.unwrap_or(0);
    let ticket_error = RwSignal::new(None::<String>);
    let survey_error = RwSignal::new(None::<String>);
    // Every tab of the site on one socket (`confab_sdk::tabs`).
    let (client, mut events) = confab_sdk::web::connect_shared(sdk_config);
    // Tells the send queue that something it may be waiting for happened (a login, the end).
    // One slot: a nudge already waiting covers the next.
    let (mut nudge, mut nudged) = mpsc::channel::<()>(0);
    let mut wake_sender = nudge.clone();
    // Unbounded: fed by the visitor's clicks and the host's calls, a handful at a time.
    let (requests, mut requested) = mpsc::unbounded::<Request>();
    let history: Rc<RefCell<Option<ChatHistory>>> = Rc::default();

    let loader = client.clone();
    let pages = history.clone();
    let countdown: Countdown = Rc::default();
    let sender = requests.clone();
    spawn_local(async move {
        while let Some(event) = events.next().await {
            match event {
                ClientEvent::Connected { customer, chats, availability, greeting } => {
                    let first_login = !state.with_untracked(|s| s.logged_in);
                    let online = availability == Availability::Online;
                    state.update(|s| {
                        s.logged_in(&customer.id, &chats);
                        s.offline = !online;
                        if let Some(greeting) = &greeting {
                            s.greeted(greeting);
                        }
                    });
                    connection.set(Connection::Connected);
                    host.emit.run(HostEvent::Availability { online });
                    let _ = nudge.try_send(());
                    let _ = sender.unbounded_send(Request::LoggedIn);
                    if first_login {
                        // The group's forms: asked for once, shown when they apply.
                        let client = loader.clone();
                        spawn_local(async move {
                            for kind in [FormType::Prechat, FormType::Ticket, FormType::Postchat] {
                                match client.get_form(group, kind).await {
                                    Ok(GetFormResponse { enabled: true, form: Some(form) }) => {
                                        state.update(|s| match kind {
                                            FormType::Ticket => s.ticket = Some(form),
                                            FormType::Postchat => s.postchat = Some(form),
                                            _ => s.prechat = Some(form),
                                        })
                                    }
                                    Ok(_) => {}
                                    Err(e) => leptos::logging::warn!("confab: could not load a form: {e}"),
                                }
                            }
                        });
                    }
                    if !chats.is_empty() {
                        host.emit.run(HostEvent::Chatting);
                    }
                    // Also after a reconnect: catches up on what was missed meanwhile.
                    if let Some(chat_id) = state.with_untracked(|s| s.chat_id.clone()) {
                        let first_time = pages.borrow().is_none();
                        if first_time {
                            *pages.borrow_mut() = Some(loader.get_chat_history(&chat_id));
                            let _ = sender.unbounded_send(Request::LoadOlder);
                        }
                        let client = loader.clone();
                        let mut synced = nudge.clone();
                        spawn_local(async move {
                            match client.get_chat(&chat_id, None).await {
                                Ok(chat) => state.update(|s| s.load_history(&chat)),
                                Err(e) => leptos::logging::warn!("confab: could not load the chat: {e}"),
                            }
                            // Kept messages that arrived before their page closed are known now.
                            state.update(|s| s.synced = true);
                            let _ = synced.try_send(());
                        });
                    } else {
                        state.update(|s| {
                            s.history_complete = true;
                            s.synced = true;
                        });
                    }
                }
                ClientEvent::IdentityKept(identity) => kept_identity.save(&identity),
                ClientEvent::ConnectFailed { retry_in, .. } => {
                    connection.set(Connection::Retrying { retry_in_secs: retry_in.as_secs() });
                    count_down(connection, &countdown);
                }
                ClientEvent::Disconnected { reason, outcome, .. } => {
                    // What was missed is fetched after the next login before anything is sent.
                    state.update(|s| s.synced = false);
                    connection.set(match outcome {
                        DisconnectOutcome::Reconnecting => Connection::Reconnecting,
                        DisconnectOutcome::Paused => Connection::Paused { reason },
                        _ => Connection::Ended { reason },
                    });
                    let _ = nudge.try_send(());
                }
                ClientEvent::IncomingGreeting(greeting) => {
                    state.update(|s| s.greeted(&greeting));
                    host.emit.run(HostEvent::Greeting { text: greeting.event.text().unwrap_or_default().to_owned() });
                }
                ClientEvent::GreetingAccepted { unique_id } | ClientEvent::GreetingCanceled { unique_id } => {
                    state.update(|s| s.greeting_gone(&unique_id));
                }
                ClientEvent::AvailabilityUpdated { availability } => {
                    let online = availability == Availability::Online;
                    state.update(|s| s.offline = !online);
                    host.emit.run(HostEvent::Availability { online });
                }
                event => {
                    // The events the chat state follows, as the pushes they came from.
                    let push = match event {
                        ClientEvent::IncomingEvent(incoming) => Push::IncomingEvent(incoming),
                        ClientEvent::IncomingChat(incoming) => Push::IncomingChat(incoming),
                        ClientEvent::UserAddedToChat(added) => Push::UserAddedToChat(added),
                        ClientEvent::UserRemovedFromChat(removed) => Push::UserRemovedFromChat(removed),
                        ClientEvent::ChatDeactivated(deactivated) => Push::ChatDeactivated(deactivated),
                        ClientEvent::ChatTransferred(transferred) => Push::ChatTransferred(transferred),
                        ClientEvent::QueuePositionUpdated(update) => Push::QueuePositionUpdated(update),
                        ClientEvent::IncomingTypingIndicator(typing) => Push::IncomingTypingIndicator(typing),
                        ClientEvent::EventsMarkedAsSeen(seen) => Push::EventsMarkedAsSeen(seen),
                        ClientEvent::ThreadPropertiesUpdated(update) => Push::ThreadPropertiesUpdated(update),
                        _ => continue,
                    };
                    let text = match &push {
                        Push::IncomingEvent(incoming) => incoming.event.text().map(str::to_owned),
                        _ => None,
                    };
                    if state.try_update(|s| s.apply_push(&push)).unwrap_or(false) {
                        on_new_message.run(());
                        host.emit.run(HostEvent::Message { agent: true, text: text.unwrap_or_default() });
                    }
                    // A message may be waiting for this chat (one a greeting started).
                    let _ = nudge.try_send(());
                }
            }
        }
    });

    // Everything but sending: one at a time, in order.
    let worker = client.clone();
    let host_forward = requests.clone();
    let sneak_peek = config.sneak_peek;
    spawn_local(async move {
        // The host's commands wait for the first login; then they join the same queue.
        let forward = host_forward;
        spawn_local(async move {
            while let Some(command) = host_commands.next().await {
                let _ = forward.unbounded_send(Request::Host(command));
            }
        });
        let mut waiting_for_login = Vec::new();
        while let Some(request) = requested.next().await {
            let chat_id = state.with_untracked(|s| s.chat_id.clone());
            let result = match request {
                Request::LoadOlder => {
                    load_older(&history, state, loading_older).await;
                    Ok(())
                }
                Request::Rate(rating) => match chat_id {
                    Some(chat_id) => {
                        let score = rating.score;
                        let result = worker.rate_chat(&chat_id, rating).await;
                        if result.is_ok() {
                            state.update(|s| s.rated(RatingState::Rated { score }));
                        }
                        result
                    }
                    None => Ok(()),
                },
                Request::DeclineRating => {
                    let rated = state.with_untracked(|s| s.ended.as_ref().is_some_and(|e| e.rated_on_server));
                    state.update(|s| s.rated(RatingState::Declined));
                    match chat_id {
                        Some(chat_id) if rated => worker.cancel_rate(&chat_id, &["score", "comment"]).await,
                        _ => Ok(()),
                    }
                }
                Request::SneakPeek(text) => {
                    if let (true, Some(chat_id), true) = (sneak_peek, chat_id, state.with_untracked(|s| s.active)) {
                        worker.set_sneak_peek(&chat_id, &text);
                    }
                    Ok(())
                }
                Request::Reconnect => {
                    connection.set(Connection::Connecting);
                    worker.connect();
                    Ok(())
                }
                Request::Host(command) if !state.with_untracked(|s| s.logged_in) => {
                    waiting_for_login.push(command);
                    Ok(())
                }
                Request::Ticket(filled_form) => {
                    let form = TicketForm { filled_form, group_id: Some(group), time_zone: time_zone() };
                    match worker.send_ticket_form(form).await {
                        Ok(_) => {
                            ticket_error.set(None);
                            state.update(|s| s.ticket_sent = true);
                            Ok(())
                        }
                        Err(error) => {
                            ticket_error.set(Some(describe(strings, &error)));
                            Err(error)
                        }
                    }
                }
                Request::Survey(filled_form) => match chat_id {
                    Some(chat_id) => {
                        // Into the conversation that ended (the chat has no active thread).
                        let request = SendEventRequest {
                            chat_id,
                            event: Event::outgoing(EventBody::FilledForm(filled_form)),
                            attach_to_last_thread: Some(true),
                        };
                        match worker.send_event_with(request).await {
                            Ok(_) => {
                                survey_error.set(None);
                                state.update(ChatState::surveyed);
                                Ok(())
                            }
                            Err(error) => {
                                survey_error.set(Some(describe(strings, &error)));
                                Err(error)
                            }
                        }
                    }
                    None => Ok(()),
                },
                Request::AcceptGreeting => {
                    let result = accept_greeting(&worker, state).await;
                    // A failed accept lets held messages start a chat: wake the send queue.
                    let _ = wake_sender.try_send(());
                    result
                }
                Request::CancelGreeting => match state.try_update(|s| s.greeting.take()).flatten() {
                    Some(greeting) => worker.cancel_greeting(&greeting.unique_id).await,
                    None => Ok(()),
                },
                Request::Postback(Choice { chat_id, thread_id, event_id, previous }, postback_id) => {
                    // The choice taken back first, so agents never see two standing.
                    let mut result = Ok(());
                    if let Some(previous) = previous {
                        let taken_back = Postback { id: previous, toggled: false };
                        result = worker.send_rich_message_postback(&chat_id, &thread_id, &event_id, taken_back).await;
                    }
                    let postback = Postback { id: postback_id, toggled: true };
                    result.and(worker.send_rich_message_postback(&chat_id, &thread_id, &event_id, postback).await)
                }
                Request::LoggedIn | Request::Host(_) => {
                    let command = match request {
                        Request::Host(command) => Some(command),
                        _ => None,
                    };
                    let mut result = Ok(());
                    for command in waiting_for_login.drain(..).chain(command) {
                        result = result.and(match command {
                            HostCommand::Customer(update) => worker.update_customer(update).await,
                            HostCommand::Page(page) => worker.update_customer_page(page).await,
                        });
                    }
                    result
                }
            };
            if let Err(e) = result {
                leptos::logging::warn!("confab: {e}");
            }
        }
    });

    // Unbounded: fed by a synchronous callback, one entry per message the visitor typed (and
    // sees on screen as "Sending…"), so it holds no more than the message list does.
    let (queue, mut outbox) = mpsc::unbounded::<(String, Outgoing)>();
    // Messages an earlier page could not send: shown as sending, and sent first.
    let saved = SavedOutbox::new(&config.organization_id);
    for (key, text) in saved.load() {
        state.update(|s| s.add_pending(&key, &text));
        let _ = queue.unbounded_send((key, Outgoing::Text(text)));
    }
    let delivered = saved.clone();
    let kept = saved.clone();
    let asker = requests;
    let marker = client.clone();
    let previewer = client.clone();
    let previews = LinkPreviews::new(Rc::new(move |url: String| {
        let client = previewer.clone();
        Box::pin(async move { client.get_url_info(&url).await.ok() })
    }));
    let uploader = client.clone();
    spawn_local(async move {
        while let Some((key, outgoing)) = outbox.next().await {
            let result = loop {
                let plan = loop {
                    // The message answers a greeting: accepting starts its chat, which it joins.
                    if state.with_untracked(ChatState::message_answers_greeting)
                        && let Err(e) = accept_greeting(&client, state).await
                    {
                        leptos::logging::warn!("confab: could not accept the greeting: {e}");
                    }
                    if let Some(plan) = connection.with_untracked(|c| state.with_untracked(|s| s.next_send(c))) {
                        break Some(plan);
                    }
                    if nudged.next().await.is_none() {
                        break None;
                    }
                };
                // The events loop is over: so is the client.
                let Some(plan) = plan else { break Err(Error::Destroyed) };
                // Kept from an earlier page, and it had arrived: nothing to send.
                if state.with_untracked(|s| s.is_stored(&key)) {
                    break Ok(());
                }
                match deliver(&client, state, host, &key, &outgoing, plan).await {
                    // Not sent, or its answer lost with the connection: again once connected
                    // (the server keeps one copy per `custom_id`). Waits for news first, so a
                    // connection not yet known to be down is not tried in a loop.
                    Err(Error::NoConnection | Error::ConnectionLost) => {
                        if nudged.next().await.is_none() {
                            break Err(Error::Destroyed);
                        }
                    }
                    other => break other,
                }
            };
            // Either way it leaves the kept outbox: sent, or shown as not sent with Retry (which
            // keeps it again), never resent behind the visitor's back on a later page.
            delivered.remove(&key);
            if let Err(error) = result {
                state.update(|s| s.fail(&key, &describe(strings, &error)));
            }
        }
    });

    // The visitor reads what arrives while the window is open and the tab visible. Marks go out
    // at most every MARK_SEEN_EVERY, each for the newest message read by then: a burst of
    // messages is one request, not one each.
    let visible = use_visibility();
    let (marks, mut to_mark) = mpsc::unbounded::<(String, String)>();
    spawn_local(async move {
        while let Some(mut mark) = to_mark.next().await {
            while let Ok(newer) = to_mark.try_recv() {
                mark = newer;
            }
            let _ = marker.mark_events_as_seen(&mark.0, &mark.1).await;
            sleep(MARK_SEEN_EVERY).await;
        }
    });
    Effect::new(move |marked: Option<Option<String>>| {
        let newest = state.with(|s| s.newest_from_others().map(str::to_owned));
        let marked = marked.flatten();
        if !(host.is_open.get() && visible.get()) || newest.is_none() || newest == marked {
            return marked;
        }
        if let (Some(chat_id), Some(up_to)) = (state.with_untracked(|s| s.chat_id.clone()), newest.clone()) {
            let _ = marks.unbounded_send((chat_id, up_to));
        }
        newest
    });

    let enqueue = queue.clone();
    let send = Callback::new(move |text: String| {
        let text = text.trim().to_owned();
        if text.is_empty() {
            return;
        }
        let key = new_key();
        state.update(|s| s.add_pending(&key, &text));
        saved.put(&key, &text);
        let _ = enqueue.unbounded_send((key, Outgoing::Text(text)));
    });
    let requeue = queue.clone();
    let prechat_queue = queue.clone();
    let retry = Callback::new(move |key: String| {
        if let Some(text) = state.try_update(|s| s.retry(&key)).flatten() {
            kept.put(&key, &text);
            let _ = requeue.unbounded_send((key, Outgoing::Text(text)));
        }
    });
    let uploads: Arc<Mutex<HashMap<String, CancelUpload>>> = Arc::default();
    let cancels = uploads.clone();
    let attach = UnsyncCallback::new(move |file: web_sys::File| {
        let key = new_key();
        state.update(|s| s.add_upload(&key, &file.name()));
        let mut upload = uploader.upload_file(UploadFile::from_file(file));
        uploads.lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone(), upload.canceller());
        let mut progress = upload.progress();
        let progress_key = key.clone();
        spawn_local(async move {
            while let Some(fraction) = progress.next().await {
                state.update(|s| s.upload_progress(&progress_key, fraction));
            }
        });
        let (queue, uploads) = (queue.clone(), uploads.clone());
        spawn_local(async move {
            let result = upload.await;
            uploads.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
            match result {
                Ok(Uploaded { url }) => {
                    state.update(|s| s.upload_progress(&key, 1.0));
                    let _ = queue.unbounded_send((key, Outgoing::File { url }));
                }
                Err(Error::UploadCanceled) => state.update(|s| s.remove_unsent(&key)),
                Err(error) => state.update(|s| s.fail(&key, &describe(strings, &error))),
            }
        });
    });
    let prechat_asker = asker.clone();
    let send_prechat = Callback::new(move |answers: Answers| {
        let Some(form) = state.with_untracked(|s| s.prechat.clone()) else { return };
        let (name, email) = answers.name_and_email(&form);
        if name.is_some() || email.is_some() {
            let update = CustomerUpdate { name, email, avatar: None, session_fields: None };
            let _ = prechat_asker.unbounded_send(Request::Host(HostCommand::Customer(update)));
        }
        state.update(|s| s.prechat_sent = true);
        let _ = prechat_queue.unbounded_send((new_key(), Outgoing::Form(answers.filled(&form))));
    });
    let ticket_asker = asker.clone();
    let send_ticket = Callback::new(move |answers: Answers| {
        if let Some(form) = state.with_untracked(|s| s.ticket.clone()) {
            let _ = ticket_asker.unbounded_send(Request::Ticket(answers.filled(&form)));
        }
    });
    let survey_asker = asker.clone();
    let send_survey = Callback::new(move |answers: Answers| {
        if let Some(form) = state.with_untracked(|s| s.survey().cloned()) {
            let _ = survey_asker.unbounded_send(Request::Survey(answers.filled(&form)));
        }
    });
    let skip_survey = Callback::new(move |()| {
        survey_error.set(None);
        state.update(ChatState::surveyed);
    });
    let cancel_upload = Callback::new(move |key: String| {
        if let Some(cancel) = cancels.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            cancel.cancel();
        }
    });
    let postback_asker = asker.clone();
    let choose = Callback::new(move |(key, button): (String, RichButton)| {
        if let Some(postback_id) = &button.postback_id
            && let Some(choice) = state.try_update(|s| s.choose(&key, postback_id)).flatten()
        {
            let _ = postback_asker.unbounded_send(Request::Postback(choice, postback_id.clone()));
        }
        // A `message` button answers with its words.
        if button.action == ButtonAction::Message {
            send.run(button.text);
        }
    });
    let rate_asker = asker.clone();
    // What the visitor types goes out at most every SNEAK_PEEK_EVERY, the newest text each
    // time (the server takes a few a second; the last words typed are the ones that count).
    let typing_asker = asker.clone();
    let (typed, mut to_peek) = mpsc::unbounded::<String>();
    spawn_local(async move {
        while let Some(mut text) = to_peek.next().await {
            while let Ok(newer) = to_peek.try_recv() {
                text = newer;
            }
            let _ = typing_asker.unbounded_send(Request::SneakPeek(text));
            sleep(SNEAK_PEEK_EVERY).await;
        }
    });
    // Each callback sends one kind of request to the worker.
    let asking = move |make: fn(()) -> Request| {
        let asker = asker.clone();
        Callback::new(move |()| {
            let _ = asker.unbounded_send(make(()));
        })
    };
    UseChat {
        state,
        connection,
        loading_older,
        send,
        retry,
        load_older: asking(|()| Request::LoadOlder),
        rate: Callback::new(move |(score, comment): (u8, Option<String>)| {
            let comment = comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
            let _ = rate_asker.unbounded_send(Request::Rate(Rating { score, comment }));
        }),
        decline_rating: asking(|()| Request::DeclineRating),
        typing: Callback::new(move |text: String| {
            let _ = typed.unbounded_send(text);
        }),
        reconnect: asking(|()| Request::Reconnect),
        attach,
        cancel_upload,
        send_prechat,
        send_ticket,
        ticket_error,
        send_survey,
        previews,
        skip_survey,
        survey_error,
        accept_greeting: asking(|()| Request::AcceptGreeting),
        cancel_greeting: asking(|()| Request::CancelGreeting),
        choose,
    }
}

/// Accepts the greeting shown, if any: the server starts its chat (`incoming_chat` brings it).
async fn accept_greeting(client: &Client, state: RwSignal<ChatState>) -> Result<(), Error> {
    let Some((id, unique_id)) = state.try_update(|s| s.accept_greeting()).flatten() else {
        return Ok(());
    };
    let result = client.accept_greeting(id, &unique_id).await;
    if result.is_err() {
        state.update(|s| s.greeting_failed());
    }
    result
}

/// After a page of earlier conversations could not be read, the next try waits this long.
const LOAD_OLDER_RETRY: Duration = Duration::from_secs(1);
/// Messages are marked as seen at most this often (the connection's request rate is limited).
const MARK_SEEN_EVERY: Duration = Duration::from_secs(1);
/// A sneak peek goes out at most this often (the server takes two a second).
const SNEAK_PEEK_EVERY: Duration = Duration::from_millis(600);

/// Resolves after `duration` (a browser timer).
async fn sleep(duration: Duration) {
    let (done, waited) = futures::channel::oneshot::channel();
    set_timeout(
        move || {
            let _ = done.send(());
        },
        duration,
    );
    let _ = waited.await;
}

/// Takes the next page of earlier conversations into the state.
async fn load_older(history: &Rc<RefCell<Option<ChatHistory>>>, state: RwSignal<ChatState>, loading: RwSignal<bool>) {
    // Taken out while awaiting, so no borrow is held across the await.
    let Some(mut pages) = history.borrow_mut().take() else {
        return;
    };
    if state.with_untracked(|s| s.history_complete) {
        *history.borrow_mut() = Some(pages);
        return;
    }
    loading.set(true);
    match pages.next().await {
        Ok(Some(threads)) => state.update(|s| {
            s.load_threads(&threads);
            s.history_complete = pages.is_done();
        }),
        Ok(None) => state.update(|s| s.history_complete = true),
        Err(e) => {
            // Over the connection's request rate, or the connection dropped: the list asks
            // again once this is over, if the visitor is still at the top.
            leptos::logging::warn!("confab: could not load earlier messages: {e}");
            sleep(LOAD_OLDER_RETRY).await;
        }
    }
    loading.set(false);
    *history.borrow_mut() = Some(pages);
}

/// Delivers one message as `plan` says: starts the chat, resumes it, or adds to it.
async fn deliver(
    client: &Client,
    state: RwSignal<ChatState>,
    host: UseHost,
    key: &str,
    outgoing: &Outgoing,
    plan: SendPlan,
) -> Result<(), Error> {
    let event = outgoing.event().with_custom_id(key);
    let thread = || Some(InitialThread { events: Some(vec![event.clone()]), properties: None });
    match plan {
        SendPlan::StartChat => {
            let chat = InitialChat { thread: thread(), ..InitialChat::default() };
            let chat = client
                .start_chat_with(StartChatRequest { chat: Some(chat), active: Some(true), continuous: None })
                .await?;
            state.update(|s| {
                s.load_chat(&chat);
                s.history_complete = true;
            });
            host.emit.run(HostEvent::Chatting);
            host.emit.run(HostEvent::ChatStarted);
        }
        SendPlan::ResumeChat { chat_id } => {
            let chat = InitialChat { id: Some(chat_id), thread: thread(), ..InitialChat::default() };
            let chat = client.activate_chat(ResumeChatRequest { chat, active: Some(true), continuous: None }).await?;
            state.update(|s| s.load_chat(&chat));
            host.emit.run(HostEvent::ChatStarted);
        }
        SendPlan::SendEvent { chat_id } => {
            let stored = client.send_event(&chat_id, event).await?;
            state.update(|s| {
                s.upsert(&stored);
            });
        }
    }
    let text = match outgoing {
        Outgoing::Text(text) => text.clone(),
        Outgoing::File { .. } | Outgoing::Form(_) => String::new(),
    };
    host.emit.run(HostEvent::Message { agent: false, text });
    Ok(())
}

/// A visitor-friendly reason for a failed send.
fn describe(strings: &Strings, error: &Error) -> String {
    match error {
        Error::NoConnection | Error::ConnectionLost => strings.not_sent_offline.into(),
        Error::Destroyed => strings.not_sent_ended.into(),
        // It may have arrived; a retry that did is shown once.
        Error::RequestTimeout => strings.not_sent_timeout.into(),
        Error::Api(e) => (strings.not_sent)(&e.message),
        Error::TooBigFile { .. } => strings.file_too_big.into(),
        other => (strings.not_sent)(&other.to_string()),
    }
}

/// The interval counting a `Retrying` notice down, if one runs.
type Countdown = Rc<RefCell<Option<IntervalHandle>>>;

/// Counts a `Retrying` notice down each second, so the visitor sees the next attempt coming;
/// stops at zero or when the connection's state moves on. One at a time: a new failure
/// replaces the count.
fn count_down(connection: RwSignal<Connection>, countdown: &Countdown) {
    if let Some(previous) = countdown.borrow_mut().take() {
        previous.clear();
    }
    let own = countdown.clone();
    let tick = move || {
        let next = connection.with_untracked(|c| match c {
            Connection::Retrying { retry_in_secs } if *retry_in_secs > 0 => Some(retry_in_secs - 1),
            _ => None,
        });
        match next {
            Some(secs) => connection.set(Connection::Retrying { retry_in_secs: secs }),
            None => {
                if let Some(handle) = own.borrow_mut().take() {
                    handle.clear();
                }
            }
        }
    };
    if let Ok(started) = set_interval_with_handle(tick, Duration::from_secs(1)) {
        *countdown.borrow_mut() = Some(started);
    }
}

/// The visitor's time zone (IANA), for the times in a ticket.
fn time_zone() -> Option<String> {
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new()).resolved_options();
    js_sys::Reflect::get(&options, &"timeZone".into()).ok()?.as_string()
}

/// A `custom_id` for a new message: unique for this visitor.
fn new_key() -> String {
    let random = (js_sys::Math::random() * 1e12) as u64;
    format!("w{}-{random:x}", js_sys::Date::now() as u64)
}
