//! The agent RTM socket (`/v3.6/agent/rtm/ws`) over a real listener: login with the agent's
//! bearer token, the Web API's actions as request frames, and the pushes an agent app or bot
//! reacts to, caused by real customer sockets.

mod common;

use common::*;
use confab_server::clock::{Clock, Micros};
use confab_server::limits::LOGIN_TIMEOUT;
use serde_json::{Value, json};
use std::time::Duration;

fn agent_url(server: &TestServer) -> String {
    server.ws_url().replace("/v3.5/customer/rtm/ws", "/v3.6/agent/rtm/ws")
}

/// An agent socket logged in with `token`.
async fn agent_socket(server: &TestServer, token: &str) -> (Rtm, Value) {
    let mut socket = Rtm::open(&agent_url(server)).await;
    let login = socket.request("login", json!({"token": format!("Bearer {token}")})).await;
    assert_eq!(login["success"], true, "{login}");
    (socket, login["payload"].clone())
}

/// The next push named `action`, skipping others (the socket hears every agent's news).
async fn push_named(socket: &mut Rtm, action: &str) -> Value {
    loop {
        let frame = socket.recv().await;
        if frame["type"] == "push" && frame["action"] == action {
            return frame;
        }
    }
}

#[tokio::test]
async fn login_comes_first_with_an_agent_token() {
    let server = TestServer::start().await;
    let mut socket = Rtm::open(&agent_url(&server)).await;
    assert_eq!(socket.request("ping", json!({})).await["success"], true);
    let early = socket.request("list_chats", json!({})).await;
    assert_eq!(
        (early["success"].as_bool(), early["payload"]["error"]["type"].as_str()),
        (Some(false), Some("authentication"))
    );
    for token in ["Bearer wrong", "test-agent-token", ""] {
        let refused = socket.request("login", json!({"token": token})).await;
        assert_eq!(refused["payload"]["error"]["type"], "authentication", "{token}: {refused}");
    }
    let refused = socket.request("login", json!({})).await;
    assert_eq!(refused["payload"]["error"]["type"], "validation", "{refused}");

    let login = socket.request("login", json!({"token": format!("Bearer {AGENT_TOKEN}")})).await;
    let profile = &login["payload"]["my_profile"];
    assert_eq!((profile["id"].as_str(), profile["routing_status"].as_str()), (Some(ALEX), Some("offline")), "{login}");
    let again = socket.request("login", json!({"token": format!("Bearer {AGENT_TOKEN}")})).await;
    assert_eq!(again["payload"]["error"]["type"], "validation");

    // Every Web API action is a request frame; bad ones are answered in the error shape.
    let listed = socket.request("list_chats", json!({})).await;
    assert_eq!((listed["success"].as_bool(), listed["payload"]["found_chats"].as_u64()), (Some(true), Some(0)));
    // Every name of the action table is served on the socket (with `{}`, an answer or a
    // validation error, never "unknown").
    for action in confab_server::agent::actions::ACTIONS {
        let request_id = socket.send(action, json!({})).await;
        let reply = loop {
            let frame = socket.recv().await;
            if frame["request_id"] == request_id.as_str() && frame["type"] == "response" {
                break frame;
            }
        };
        assert_ne!(reply["payload"]["error"]["type"], "not_found", "{action}: {reply}");
    }
    while tokio::time::timeout(Duration::from_millis(100), socket.recv()).await.is_ok() {} // pushes they caused
    let unknown = socket.request("make_coffee", json!({})).await;
    assert_eq!(unknown["payload"]["error"]["type"], "not_found");
    let bad = socket.request("get_chat", json!({"chat_id": 7})).await;
    assert_eq!(bad["payload"]["error"]["type"], "validation");
    socket.send_text("not json").await;
    let garbage = socket.recv().await;
    assert_eq!(
        (garbage["action"].as_str(), garbage["payload"]["error"]["type"].as_str()),
        (Some("unknown"), Some("validation"))
    );
}

#[tokio::test]
async fn an_agent_hears_of_chats_messages_typing_and_pages_as_they_happen() {
    let server = TestServer::start().await;
    with_sam(&server).await;
    let (mut alex, _) = agent_socket(&server, AGENT_TOKEN).await;
    let (mut sam, _) = agent_socket(&server, "sam-token").await;

    let status = alex.request("set_routing_status", json!({"status": "accepting_chats"})).await;
    assert_eq!(status["success"], true, "{status}");
    let push = push_named(&mut sam, "routing_status_set").await;
    assert_eq!(push["payload"], json!({"agent_id": ALEX, "status": "accepting_chats"}));

    // A visitor starts a chat: every agent hears of it, once each; Alex takes it.
    let (mut visitor, _, customer_id) = Rtm::logged_in(&server).await;
    visitor.send("start_chat", json!({"chat": {"thread": {"events": [{"type": "message", "text": "hello"}]}}})).await;
    let incoming = push_named(&mut alex, "incoming_chat").await;
    let chat_id = incoming["payload"]["chat"]["id"].as_str().unwrap().to_owned();
    assert_eq!(push_named(&mut sam, "incoming_chat").await["payload"]["chat"]["id"], chat_id.as_str());
    let _ = push_named(&mut alex, "user_added_to_chat").await;
    let _ = (visitor.recv().await, visitor.recv().await, visitor.recv().await);

    // What the visitor does reaches the agent of the chat.
    visitor
        .send("send_event", json!({"chat_id": chat_id, "event": {"type": "message", "text": "my order is late"}}))
        .await;
    let push = push_named(&mut alex, "incoming_event").await;
    assert_eq!(push["payload"]["event"]["text"], "my order is late");
    visitor.send("send_sneak_peek", json!({"chat_id": chat_id, "sneak_peek_text": "it was ord"})).await;
    let push = push_named(&mut alex, "incoming_sneak_peek").await;
    assert_eq!(push["payload"]["sneak_peek"]["text"], "it was ord");
    visitor.send("update_customer_page", json!({"url": "https://shop.example/orders", "title": "Orders"})).await;
    let push = push_named(&mut alex, "customer_page_updated").await;
    assert_eq!(
        (push["payload"]["customer_id"].as_str(), push["payload"]["url"].as_str()),
        (Some(customer_id.as_str()), Some("https://shop.example/orders"))
    );

    // The agent answers over the socket: the response, then the push its request caused,
    // carrying the request's id; the visitor gets it too.
    let request_id =
        alex.send("send_event", json!({"chat_id": chat_id, "event": {"type": "message", "text": "on it"}})).await;
    let response = alex.recv().await;
    assert_eq!(
        (response["type"].as_str(), response["request_id"].as_str()),
        (Some("response"), Some(request_id.as_str())),
        "{response}"
    );
    assert!(response["payload"]["event_id"].is_string(), "{response}");
    let own = push_named(&mut alex, "incoming_event").await;
    assert_eq!(own["request_id"], request_id.as_str());
    loop {
        let frame = visitor.recv().await;
        if frame["action"] == "incoming_event" && frame["payload"]["event"]["author_id"] == ALEX {
            assert_eq!(frame["payload"]["event"]["text"], "on it");
            break;
        }
    }

    // Sam joins and types: Alex sees it.
    let joined = sam
        .request(
            "add_user_to_chat",
            json!({"chat_id": chat_id, "user_id": SAM, "user_type": "agent",
        "visibility": "agents", "ignore_requester_presence": true}),
        )
        .await;
    assert_eq!(joined["success"], true, "{joined}");
    // After the answer, the push it caused, with the request's id.
    assert_eq!(push_named(&mut sam, "user_added_to_chat").await["request_id"], joined["request_id"]);
    sam.request("send_typing_indicator", json!({"chat_id": chat_id, "is_typing": true, "visibility": "agents"})).await;
    let push = push_named(&mut alex, "incoming_typing_indicator").await;
    assert_eq!(push["payload"]["typing_indicator"]["author_id"], SAM);

    // The visitor closes the chat: every agent hears of it.
    visitor.send("deactivate_chat", json!({"id": chat_id})).await;
    assert_eq!(push_named(&mut alex, "chat_deactivated").await["payload"]["chat_id"], chat_id.as_str());
    assert_eq!(push_named(&mut sam, "chat_deactivated").await["payload"]["chat_id"], chat_id.as_str());
}

#[tokio::test]
async fn a_socket_that_never_logs_in_is_told_and_closed() {
    let clock = Clock::manual(Micros(1_795_000_000_000_000));
    let server = TestServer::start_on_clock(&[], clock.clone()).await;
    let mut socket = Rtm::open(&agent_url(&server)).await;
    clock.advance(LOGIN_TIMEOUT - Duration::from_secs(1));
    socket.silent(Duration::from_millis(100)).await;
    clock.advance(Duration::from_secs(1));
    let (frames, close) = socket.closed().await;
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(
        (frames[0]["action"].as_str(), frames[0]["payload"]["reason"].as_str()),
        (Some("agent_disconnected"), Some("connection_timeout"))
    );
    assert_eq!(close.map(|(code, _)| code), Some(1008));
}

#[tokio::test]
async fn a_foreign_page_cannot_open_an_agent_socket() {
    let server = TestServer::start().await;
    assert_eq!(Rtm::open_with_origin(&agent_url(&server), "https://evil.example").await.err(), Some(403));
}

#[tokio::test]
async fn a_flood_of_frames_is_answered_too_many_requests() {
    // The server's clock stands still: the bucket does not refill during the flood.
    let server = TestServer::start_on_clock(&[], Clock::manual(Micros(1_795_000_000_000_000))).await;
    let (mut socket, _) = agent_socket(&server, AGENT_TOKEN).await;
    let burst = confab_server::limits::AGENT_CALL_BURST as usize + 20;
    for _ in 0..burst {
        socket.send("ping", json!({})).await;
    }
    let mut refused = 0;
    for _ in 0..burst {
        let frame = socket.recv().await;
        if frame["payload"]["error"]["type"] == "too_many_requests" {
            refused += 1;
        }
    }
    assert!(refused >= 19, "{refused} refused");
}
