//! The native SDK adapter against the real server: connect, chat, pushes, history.

mod common;

use common::*;
use confab_sdk::protocol::entity::Event;
use confab_sdk::protocol::push::Push;
use confab_sdk::{ClientEvent, Config, Events};
use futures::StreamExt;
use serde_json::json;

async fn next_event(events: &mut Events) -> ClientEvent {
    tokio::time::timeout(WAIT, events.next()).await.expect("an event in time").expect("events open")
}

async fn connected(server: &TestServer) -> (confab_sdk::Client, Events) {
    let (client, mut events) = confab_sdk::native::connect(Config::new(&server.url, ORG));
    match next_event(&mut events).await {
        ClientEvent::Connected { customer, chats, online } => {
            assert!(!customer.id.is_empty());
            assert!(chats.is_empty());
            // No agent accepts chats in these tests: the group is offline, and chats still
            // start (the visitor leaves a message; customer_routing.rs covers routing).
            assert!(!online);
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
        ClientEvent::Push(Push::UserAddedToChat(added)) => {
            assert_eq!(added.user.id(), "alex@confab.example")
        }
        other => panic!("expected the agent to join, got {other:?}"),
    }
    match next_event(&mut events).await {
        ClientEvent::Push(Push::IncomingEvent(incoming)) => {
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
        ClientEvent::Disconnected { reason, will_reconnect } => {
            assert_eq!(reason, "service_temporarily_unavailable");
            assert!(will_reconnect);
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
        ClientEvent::Disconnected { reason, will_reconnect } => {
            assert_eq!(reason, "access_token_expired");
            assert!(will_reconnect);
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    assert!(matches!(next_event(&mut events).await, ClientEvent::Connected { .. }), "with a fresh token");
    client.start_chat(Some("still here")).await.expect("requests work again");
}
