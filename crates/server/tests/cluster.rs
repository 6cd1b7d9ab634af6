//! Several nodes on one PostgreSQL database, over real sockets: a customer connected to node A
//! and an agent calling node B hold a conversation, pushes cross nodes through LISTEN/NOTIFY,
//! and a node that loses its listener connection resyncs instead of missing pushes.

mod common;

use common::*;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;

async fn two_nodes() -> (TestServer, TestServer, String) {
    let url = postgres::database().await;
    let a = TestServer::start_with(&["--database", &url]).await;
    let b = TestServer::start_with(&["--database", &url]).await;
    (a, b, url)
}

/// Logs a socket of the same visitor into `server` (a token from any node is valid on all).
async fn login_with(server: &TestServer, token: &Value) -> Rtm {
    let mut rtm = Rtm::open(&server.ws_url()).await;
    let login =
        rtm.request("login", json!({"token": format!("Bearer {}", token["access_token"].as_str().unwrap())})).await;
    assert_eq!(login["success"], true, "{login}");
    rtm
}

/// The next frame that is a push named `action`, skipping others.
async fn next_push(rtm: &mut Rtm, action: &str) -> Value {
    loop {
        let frame = rtm.recv().await;
        if frame["type"] == "push" && frame["action"] == action {
            return frame;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_on_one_node_and_an_agent_on_another_hold_a_conversation() {
    let (a, b, _) = two_nodes().await;
    let visitor = a.visitor();
    let token = visitor.token().await;
    let mut on_a = login_with(&a, &token).await;
    let mut on_b = login_with(&b, &token).await;

    on_a.send("start_chat", json!({"chat": {"thread": {"events": [{"type":"message","text":"hello from A"}]}}})).await;
    let started = on_a.recv().await;
    let chat_id = started["payload"]["chat_id"].as_str().unwrap().to_owned();
    let incoming_chat = next_push(&mut on_b, "incoming_chat").await;
    assert_eq!(
        incoming_chat["payload"]["chat"]["id"],
        chat_id.as_str(),
        "the visitor's socket on B learns of the chat"
    );
    assert!(incoming_chat.get("request_id").is_none());

    let (status, sent) =
        b.agent("send_event", json!({"chat_id": chat_id, "event": {"type":"message","text":"Hi, from node B"}})).await;
    assert_eq!(status, 200, "{sent}");
    let joined = next_push(&mut on_a, "user_added_to_chat").await;
    assert_eq!(joined["payload"]["user"]["name"], "Alex Morgan");
    let reply = next_push(&mut on_a, "incoming_event").await;
    assert_eq!(reply["payload"]["event"]["text"], "Hi, from node B");
    assert_eq!(reply["payload"]["event"]["seq"], 2, "the chat's second event");

    on_a.send("send_event", json!({"chat_id": chat_id, "event": {"type":"message","text":"thanks"}})).await;
    // The visitor's socket on B saw the agent's reply, then its own words from A, in order.
    let reply_on_b = next_push(&mut on_b, "incoming_event").await;
    assert_eq!(reply_on_b["payload"]["event"]["text"], "Hi, from node B");
    let echoed = next_push(&mut on_b, "incoming_event").await;
    assert_eq!(echoed["payload"]["event"]["text"], "thanks");
    assert_eq!(echoed["payload"]["event"]["seq"], 3);

    // Both nodes read the same history.
    let (_, chat) = a.agent("get_chat", json!({"chat_id": chat_id})).await;
    let texts: Vec<&str> =
        chat["thread"]["events"].as_array().unwrap().iter().map(|e| e["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["hello from A", "Hi, from node B", "thanks"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_loses_its_listener_resyncs_and_misses_nothing() {
    let (a, b, url) = two_nodes().await;
    let token = a.visitor().token().await;
    let mut on_b = login_with(&b, &token).await;
    on_b.send("start_chat", json!({"chat": {"thread": {"events": [{"type":"message","text":"hi"}]}}})).await;
    let chat_id = on_b.recv().await["payload"]["chat_id"].as_str().unwrap().to_owned();
    let _ = next_push(&mut on_b, "incoming_chat").await;

    // Cut every listener connection (as a database failover or a network blip would), then
    // send while node B is away: its listener waits before reconnecting.
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    let cut: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE query LIKE 'LISTEN%' AND datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert_eq!(cut.len(), 2, "one listener per node");
    let (status, _) = a
        .agent("send_event", json!({"chat_id": chat_id, "event": {"type":"message","text":"sent during the outage"}}))
        .await;
    assert_eq!(status, 200);

    let reply = next_push(&mut on_b, "incoming_event").await;
    assert_eq!(reply["payload"]["event"]["text"], "sent during the outage");
    let resyncs = &b.server.as_ref().unwrap().state.bus.resyncs;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while resyncs.load(Ordering::Relaxed) == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(resyncs.load(Ordering::Relaxed), 1, "node B resynced once");
    // Delivered once, not once by the resync and again by a late notification.
    on_b.silent(Duration::from_millis(500)).await;
}

use sqlx::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_on_one_node_disconnects_the_customer_on_another() {
    let (a, b, _) = two_nodes().await;
    let visitor = a.visitor();
    let token = visitor.token().await;
    let mut on_a = login_with(&a, &token).await;
    let customer_id = token["entity_id"].as_str().unwrap();

    // A greeting sent through B reaches the socket on A, too.
    let (status, sent) = b.agent("send_greeting", json!({"customer_id": customer_id, "text": "Hello from B"})).await;
    assert_eq!(status, 200, "{sent}");
    let greeting = next_push(&mut on_a, "incoming_greeting").await;
    assert_eq!(greeting["payload"]["unique_id"], sent["unique_id"]);

    let (status, body) = b.agent("ban_customer", json!({"id": customer_id, "ban": {"days": 1}})).await;
    assert_eq!((status, body), (200, json!({})));
    on_a.expect_goodbye("customer_banned", 1008, "customer banned").await;
    // Either node refuses the banned customer's login.
    let mut again = Rtm::open(&a.ws_url()).await;
    let login =
        again.request("login", json!({"token": format!("Bearer {}", token["access_token"].as_str().unwrap())})).await;
    assert_eq!(login["payload"]["error"]["type"], "customer_banned", "{login}");
}

#[tokio::test]
async fn routing_pushes_reach_customers_on_every_node() {
    let (a, b, _) = two_nodes().await;
    // A customer of group 0 on node B learns that the agent (set on node A) accepts chats.
    let mut on_b = login_with(&b, &b.visitor().token().await).await;
    let (status, _) = a.agent("set_routing_status", json!({"status": "accepting_chats"})).await;
    assert_eq!(status, 200);
    let push = next_push(&mut on_b, "groups_status_updated").await;
    assert_eq!(push["payload"], json!({"groups": [{"id": 0, "status": "online"}]}));
    // Fill the agent from node A; two more wait, the second on node B.
    let mut served = Vec::new();
    for _ in 0..confab_server::limits::DEFAULT_MAX_CHATS_PER_AGENT {
        let mut rtm = login_with(&a, &a.visitor().token().await).await;
        rtm.send("start_chat", json!({})).await;
        served.push(rtm.recv().await["payload"]["chat_id"].as_str().unwrap().to_owned());
    }
    let full = next_push(&mut on_b, "groups_status_updated").await;
    assert_eq!(full["payload"], json!({"groups": [{"id": 0, "status": "online_for_queue"}]}));
    let mut first = login_with(&a, &a.visitor().token().await).await;
    first.send("start_chat", json!({})).await;
    let first_chat = first.recv().await["payload"]["chat_id"].as_str().unwrap().to_owned();
    on_b.send("start_chat", json!({})).await;
    let waiting = next_push(&mut on_b, "incoming_chat").await;
    assert_eq!(waiting["payload"]["chat"]["thread"]["queue"]["position"], 2, "{waiting}");
    // The agent closes a chat through node A: the first in line is served, the customer on
    // node B moves up.
    let (status, _) = a.agent("deactivate_chat", json!({"id": served[0]})).await;
    assert_eq!(status, 200);
    let moved = next_push(&mut on_b, "queue_position_updated").await;
    assert_eq!(moved["payload"]["queue"]["position"], 1, "{moved}");
    let added = next_push(&mut first, "user_added_to_chat").await;
    assert_eq!(added["payload"]["chat_id"], first_chat.as_str());
}
