//! The native SDK adapter against the real server: connect, chat, pushes, history.

mod common;

use common::*;
use confab_sdk::protocol::entity::Event;
use confab_sdk::{Availability, ClientEvent, Config, DisconnectOutcome, Events};
use futures::StreamExt;
use serde_json::json;

/// The next event, `customer_id` and `user_data` (checked where they matter) left out.
async fn next_event(events: &mut Events) -> ClientEvent {
    loop {
        match tokio::time::timeout(WAIT, events.next()).await.expect("an event in time").expect("events open") {
            ClientEvent::CustomerId(_) | ClientEvent::UserData(_) => continue,
            event => return event,
        }
    }
}

async fn connected(server: &TestServer) -> (confab_sdk::Client, Events) {
    let (client, mut events) = confab_sdk::native::connect(Config::new(&server.url, ORG));
    match next_event(&mut events).await {
        ClientEvent::Connected { customer, chats, availability, .. } => {
            assert!(!customer.id.is_empty());
            assert!(chats.is_empty());
            // No agent accepts chats in these tests: the group is offline, and chats still
            // start (the visitor leaves a message; customer_routing.rs covers routing).
            assert_eq!(availability, Availability::Offline);
        }
        other => panic!("expected Connected, got {other:?}"),
    }
    (client, events)
}

#[tokio::test]
async fn a_visitor_chats_with_an_agent_through_the_sdk() {
    let server = TestServer::start().await;
    let (client, mut events) = connected(&server).await;

    let chat = client.start_chat(Some("hello")).await.expect("chat starts");
    let thread = chat.thread.expect("a thread");
    assert_eq!(thread.events[0].text(), Some("hello"));

    let sent = client.send_event(&chat.id, Event::message("second").with_custom_id("c-2")).await.unwrap();
    assert_eq!(sent.custom_id.as_deref(), Some("c-2"));
    assert!(sent.id.is_some() && sent.created_at.is_some());

    let (status, _) = server
        .agent("send_event", json!({"chat_id": chat.id, "event": {"type":"message","text":"Hi! How can I help?"}}))
        .await;
    assert_eq!(status, 200);
    match next_event(&mut events).await {
        ClientEvent::UserAddedToChat(added) => {
            assert_eq!(added.user.id(), "alex@confab.example")
        }
        other => panic!("expected the agent to join, got {other:?}"),
    }
    match next_event(&mut events).await {
        ClientEvent::IncomingEvent(incoming) => {
            assert_eq!(incoming.chat_id, chat.id);
            assert_eq!(incoming.event.text(), Some("Hi! How can I help?"));
            assert_eq!(incoming.event.author_id.as_deref(), Some("alex@confab.example"));
        }
        other => panic!("expected the agent's message, got {other:?}"),
    }

    let fetched = client.get_chat(&chat.id, None).await.unwrap();
    assert_eq!(fetched.thread.unwrap().events.len(), 3);
    let list = client.list_chats(Default::default()).await.unwrap();
    assert_eq!(list.total_chats, 1);

    let mut history = client.get_chat_history(&chat.id);
    let page = history.next().await.unwrap().expect("one page");
    let texts: Vec<_> = page[0].events.iter().filter_map(|e| e.text()).collect();
    assert_eq!(texts, ["hello", "second", "Hi! How can I help?"]);
    assert_eq!(history.next().await.unwrap(), None, "history exhausted");
}

#[tokio::test]
async fn server_errors_surface_with_their_type() {
    let server = TestServer::start().await;
    let (client, _events) = connected(&server).await;
    let error = client.send_event("NOSUCHCHAT", Event::message("x")).await.unwrap_err();
    assert_eq!(error.code(), "NOT_FOUND");
    client.start_chat(None).await.unwrap();
    assert_eq!(client.start_chat(None).await.unwrap_err().code(), "CHAT_LIMIT_REACHED");
}

#[tokio::test]
async fn the_sdk_reconnects_after_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_in(dir.path(), "127.0.0.1:0", &[]).await;
    let addr = server.api_addr;
    let url = format!("http://{addr}");
    let (client, mut events) = confab_sdk::native::connect(Config::new(&url, ORG));
    assert!(matches!(next_event(&mut events).await, ClientEvent::Connected { .. }));
    let chat = client.start_chat(Some("before restart")).await.unwrap();

    server.shutdown().await;
    match next_event(&mut events).await {
        // §6.3 (v4): the busy server's close is what the app sees.
        ClientEvent::Disconnected { reason, outcome, .. } => {
            assert_eq!(reason, "connection_lost");
            assert_eq!(outcome, DisconnectOutcome::Reconnecting);
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }

    // Same address, same database.
    let again = start_in(dir.path(), &addr.to_string(), &[]).await;
    let reconnected = loop {
        match next_event(&mut events).await {
            ClientEvent::ConnectFailed { .. } => continue,
            other => break other,
        }
    };
    match reconnected {
        ClientEvent::Connected { chats, .. } => {
            assert_eq!(chats.len(), 1, "the same customer, with their chat");
            assert_eq!(chats[0].chat_id, chat.id);
        }
        other => panic!("expected Connected, got {other:?}"),
    }
    let fetched = client.get_chat(&chat.id, None).await.unwrap();
    assert_eq!(fetched.thread.unwrap().events[0].text(), Some("before restart"));
    again.shutdown().await;
}

#[tokio::test]
async fn the_sdk_renews_an_expired_token_and_carries_on() {
    // Expiry has whole-second precision: 2 s leaves at least 1 s to work in after each login.
    let server = TestServer::start_with(&["--customer-token-ttl-secs", "2"]).await;
    let (client, mut events) = connected(&server).await;
    match next_event(&mut events).await {
        ClientEvent::Disconnected { reason, outcome, .. } => {
            assert_eq!(reason, "access_token_expired");
            assert_eq!(outcome, DisconnectOutcome::Reconnecting);
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    assert!(matches!(next_event(&mut events).await, ClientEvent::Connected { .. }), "with a fresh token");
    client.start_chat(Some("still here")).await.expect("requests work again");
}

/// The next event of the kind `pick` accepts, skipping others.
async fn next_matching<T>(events: &mut Events, mut pick: impl FnMut(ClientEvent) -> Option<T>) -> T {
    loop {
        let event = tokio::time::timeout(WAIT, events.next()).await.expect("an event in time").expect("events open");
        if let Some(found) = pick(event) {
            return found;
        }
    }
}

#[tokio::test]
async fn every_method_the_server_serves_today_through_the_sdk() {
    use confab_sdk::protocol::action::{ListThreadsRequest, ResumeChatRequest, SortOrder};
    let server = TestServer::start().await;
    let (client, mut events) = connected(&server).await;

    // customer_id came first, with the first token.
    let chat = client.start_chat(Some("first thread")).await.expect("chat starts");
    let first_thread = chat.thread.clone().expect("a thread").id;
    client
        .send_event_with(confab_sdk::protocol::action::SendEventRequest {
            chat_id: chat.id.clone(),
            event: Event::message("attached").with_custom_id("c-1"),
            attach_to_last_thread: Some(true),
        })
        .await
        .expect("sent");

    // deactivate_chat: a direct response; the push reaches the app as an event.
    client.deactivate_chat(&chat.id).await.expect("deactivated");
    let deactivated = next_matching(&mut events, |event| match event {
        ClientEvent::ChatDeactivated(deactivated) => Some(deactivated),
        _ => None,
    })
    .await;
    assert_eq!(deactivated.chat_id, chat.id);
    assert_eq!(client.send_event(&chat.id, Event::message("closed")).await.unwrap_err().code(), "CHAT_INACTIVE");

    // activate_chat (resume_chat): a second thread.
    let resumed = client
        .activate_chat(ResumeChatRequest {
            chat: confab_sdk::protocol::action::InitialChat {
                id: Some(chat.id.clone()),
                thread: Some(confab_sdk::protocol::action::InitialThread {
                    events: Some(vec![Event::message("second thread")]),
                    properties: None,
                }),
                ..Default::default()
            },
            active: Some(true),
            continuous: None,
        })
        .await
        .expect("resumed");
    let second_thread = resumed.thread.expect("a thread").id;
    assert_ne!(second_thread, first_thread);

    // get_chat: the latest thread, or the one asked for.
    assert_eq!(client.get_chat(&chat.id, None).await.unwrap().thread.unwrap().id, second_thread);
    let old = client.get_chat(&chat.id, Some(&first_thread)).await.unwrap().thread.unwrap();
    let texts: Vec<_> = old.events.iter().filter_map(|e| e.text()).collect();
    assert_eq!(texts, ["first thread", "attached"]);

    // list_chats: one chat; a limit over 25 never leaves the client.
    let list = client.list_chats(Default::default()).await.unwrap();
    assert_eq!((list.total_chats, list.chats_summary[0].id.as_str()), (1, chat.id.as_str()));
    let too_many = confab_sdk::protocol::action::ListChatsRequest { limit: Some(26), ..Default::default() };
    assert_eq!(client.list_chats(too_many).await.unwrap_err().code(), "VALIDATION");

    // list_threads: newest first.
    let threads = client
        .list_threads(ListThreadsRequest {
            chat_id: chat.id.clone(),
            sort_order: Some(SortOrder::Desc),
            limit: Some(10),
            page_id: None,
            min_events_count: None,
        })
        .await
        .unwrap();
    let ids: Vec<_> = threads.threads.iter().map(|t| t.id.clone()).collect();
    assert_eq!(ids, [second_thread.clone(), first_thread.clone()]);

    // The history iterator: the oldest thread is in the last page, each page oldest first.
    let mut history = client.get_chat_history(&chat.id);
    let mut seen = vec![];
    while let Some(page) = history.next().await.unwrap() {
        seen.extend(page.into_iter().map(|t| t.id));
    }
    assert!(seen.contains(&first_thread) && seen.contains(&second_thread), "{seen:?}");

    // destroy: every later call fails with SDK_DESTROYED, and the events end.
    client.destroy();
    loop {
        match tokio::time::timeout(WAIT, events.next()).await.expect("the events end in time") {
            None => break,
            Some(ClientEvent::Disconnected { .. }) => panic!("destroy() emits no Disconnected"),
            Some(_) => {}
        }
    }
    assert_eq!(client.get_chat(&chat.id, None).await.unwrap_err().code(), "SDK_DESTROYED");
}

#[tokio::test]
async fn connected_carries_the_customer_id_first_and_user_data_for_the_agent() {
    let server = TestServer::start().await;
    let (client, mut events) = confab_sdk::native::connect(Config::new(&server.url, ORG));
    let first = tokio::time::timeout(WAIT, events.next()).await.unwrap().unwrap();
    let ClientEvent::CustomerId(id) = first else { panic!("expected customer_id first, got {first:?}") };
    let customer = next_matching(&mut events, |event| match event {
        ClientEvent::Connected { customer, .. } => Some(customer),
        _ => None,
    })
    .await;
    assert_eq!(customer.id, id);

    let chat = client.start_chat(Some("hello")).await.unwrap();
    let (status, _) =
        server.agent("send_event", json!({"chat_id": chat.id, "event": {"type":"message","text":"Hi"}})).await;
    assert_eq!(status, 200);
    let user = next_matching(&mut events, |event| match event {
        ClientEvent::UserData(user) if user.id() == "alex@confab.example" => Some(user),
        _ => None,
    })
    .await;
    let confab_sdk::protocol::User::Agent(agent) = user else { panic!("an agent") };
    assert_eq!(agent.present, None, "user_data drops per-chat fields");
}
