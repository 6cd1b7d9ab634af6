//! `transfer_chat` over real sockets: the visitor's socket hears the transfer, who left and
//! who took over, and the place in the queue when the chat waits; the chat's routing moves with
//! it (the giving agent's load is freed, the target group's queue is drained).
//!
//! The cast: Alex (administrator, group 0, the default `max_chats`), Sam (agent, groups 0 and
//! 1 "Roastery", one chat at most, so that group 1 is full with one chat), and group 2
//! "Wholesale", which has no agent.

mod common;

use common::*;
use confab_server::limits::QUEUE_WAIT_PER_POSITION_SECS;
use serde_json::{Value, json};
use std::time::Duration;

const SAM_TOKEN: &str = "sam-token-0123456789";
const ROASTERY: u32 = 1;
const WHOLESALE: u32 = 2;

async fn server() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let agents = dir.path().join("agents.json");
    let list = json!([{"id": SAM, "name": "Sam Lee", "job_title": "Roaster", "token": SAM_TOKEN, "max_chats": 1}]);
    std::fs::write(&agents, list.to_string()).unwrap();
    let groups = dir.path().join("groups.json");
    let list = json!([
        {"id": ROASTERY, "name": "Roastery", "agents": [SAM]},
        {"id": WHOLESALE, "name": "Wholesale", "agents": []}
    ]);
    std::fs::write(&groups, list.to_string()).unwrap();
    let args = ["--agents-file", agents.to_str().unwrap(), "--groups-file", groups.to_str().unwrap()];
    (TestServer::start_with(&args).await, dir)
}

async fn as_sam(server: &TestServer, action: &str, body: Value) -> (u16, Value) {
    server.agent_with_token(action, body, Some(SAM_TOKEN)).await
}

async fn set_status(server: &TestServer, agent_id: &str, status: &str) {
    let (code, body) = server.agent("set_routing_status", json!({"agent_id": agent_id, "status": status})).await;
    assert_eq!((code, &body), (200, &json!({})));
}

/// A new visitor's socket, logged in with `group`.
async fn visitor_in(server: &TestServer, group: u32) -> Rtm {
    let token = server.visitor().token().await;
    let mut rtm = Rtm::open(&server.ws_url()).await;
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let login = rtm.request("login", json!({"token": bearer, "group_id": group})).await;
    assert_eq!(login["success"], true, "{login}");
    rtm
}

/// The visitor starts a chat, which routing gives to `agent`; its id.
async fn chat_routed_to(rtm: &mut Rtm, agent: &str) -> String {
    let chat = json!({"chat": {"thread": {"events": [{"type": "message", "text": "hello"}]}}});
    let response = rtm.request("start_chat", chat).await;
    assert_eq!(response["success"], true, "{response}");
    assert_eq!(rtm.recv().await["action"], "incoming_chat");
    expect_push(rtm, "user_added_to_chat", |p| assert_eq!(p["user"]["id"], agent)).await;
    response["payload"]["chat_id"].as_str().unwrap().to_owned()
}

/// The next frame is the push `action`; `check` looks at its payload.
async fn expect_push(rtm: &mut Rtm, action: &str, check: impl FnOnce(&Value)) {
    let push = rtm.recv().await;
    assert_eq!((push["type"].as_str(), push["action"].as_str()), (Some("push"), Some(action)), "{push}");
    check(&push["payload"]);
}

async fn transfer(server: &TestServer, body: Value) {
    let (status, reply) = server.agent("transfer_chat", body.clone()).await;
    assert_eq!((status, &reply), (200, &json!({})), "{body}");
}

async fn refused(server: &TestServer, body: Value, status: u16, kind: &str) {
    let (got, reply) = server.agent("transfer_chat", body.clone()).await;
    assert_eq!((got, reply["error"]["type"].as_str()), (status, Some(kind)), "{body}: {reply}");
    assert!(reply["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{reply}");
}

/// The chat's agents, and its group.
async fn agents_and_group(server: &TestServer, chat_id: &str) -> (Vec<String>, Value) {
    let (status, chat) = server.agent("get_chat", json!({"chat_id": chat_id})).await;
    assert_eq!(status, 200, "{chat}");
    let agents = chat["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["type"] == "agent")
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    (agents, chat["access"]["group_ids"].clone())
}

/// `(agent_id, total_active_chats)` of the online agents not in the chat.
async fn loads_beside(server: &TestServer, chat_id: &str) -> Vec<(String, u64)> {
    let (status, list) = server.agent("list_agents_for_transfer", json!({"chat_id": chat_id})).await;
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| (a["agent_id"].as_str().unwrap().to_owned(), a["total_active_chats"].as_u64().unwrap()))
        .collect()
}

#[tokio::test]
async fn a_chat_transferred_to_a_group_goes_to_its_agent_with_room_and_frees_the_giver() {
    let (server, _dir) = server().await;
    set_status(&server, ALEX, "accepting_chats").await;
    let mut visitor = visitor_in(&server, 0).await;
    let chat_id = chat_routed_to(&mut visitor, ALEX).await;
    set_status(&server, SAM, "accepting_chats").await;

    transfer(&server, json!({"id": chat_id, "target": {"type": "group", "ids": [ROASTERY]}})).await;
    expect_push(&mut visitor, "chat_transferred", |p| {
        assert_eq!((p["chat_id"].as_str(), p["requester_id"].as_str()), (Some(chat_id.as_str()), Some(ALEX)));
        assert_eq!(p["reason"], "manual");
        assert_eq!(p["transferred_to"], json!({"group_ids": [ROASTERY]}));
        assert!(p.get("queue").is_none(), "taken at once, never queued: {p}");
    })
    .await;
    expect_push(&mut visitor, "user_removed_from_chat", |p| assert_eq!(p["user_id"], ALEX)).await;
    expect_push(&mut visitor, "user_added_to_chat", |p| {
        assert_eq!((p["user"]["id"].as_str(), p["user"]["name"].as_str()), (Some(SAM), Some("Sam Lee")));
    })
    .await;
    visitor.silent(Duration::from_millis(100)).await;
    assert_eq!(agents_and_group(&server, &chat_id).await, (vec![SAM.to_owned()], json!([ROASTERY])));
    // Alex's chat went with it.
    assert_eq!(loads_beside(&server, &chat_id).await, [(ALEX.to_owned(), 0)]);
    // Within the group, Sam alone in it: nobody else can take it.
    let (status, reply) = as_sam(&server, "transfer_chat", json!({"id": chat_id})).await;
    assert_eq!((status, reply["error"]["type"].as_str()), (400, Some("group_unavailable")), "{reply}");
}

#[tokio::test]
async fn a_chat_transferred_to_a_full_group_waits_in_its_queue_until_an_agent_has_room() {
    let (server, _dir) = server().await;
    set_status(&server, ALEX, "accepting_chats").await;
    // Sam's one chat, with a visitor of group 1 (whose socket is not read again).
    set_status(&server, SAM, "accepting_chats").await;
    let mut regular = visitor_in(&server, ROASTERY).await;
    let regular_chat = chat_routed_to(&mut regular, SAM).await;
    let mut visitor = visitor_in(&server, 0).await;
    let chat_id = chat_routed_to(&mut visitor, ALEX).await;

    // Nobody of group 1 has room: refused unless the chat may wait, and nothing changes.
    let mut body = json!({"id": chat_id, "target": {"type": "group", "ids": [ROASTERY]}});
    refused(&server, body.clone(), 400, "group_unavailable").await;
    visitor.silent(Duration::from_millis(100)).await;
    assert_eq!(agents_and_group(&server, &chat_id).await, (vec![ALEX.to_owned()], json!([0])));

    body["ignore_agents_availability"] = json!(true);
    transfer(&server, body).await;
    expect_push(&mut visitor, "chat_transferred", |p| {
        assert_eq!(p["transferred_to"], json!({"group_ids": [ROASTERY]}));
        let queue = &p["queue"];
        assert_eq!(
            (queue["position"].as_u64(), queue["wait_time"].as_u64()),
            (Some(1), Some(QUEUE_WAIT_PER_POSITION_SECS.into()))
        );
        assert!(queue["queued_at"].as_str().is_some_and(|at| at.ends_with('Z')), "{p}");
    })
    .await;
    expect_push(&mut visitor, "user_removed_from_chat", |p| assert_eq!(p["user_id"], ALEX)).await;
    visitor.silent(Duration::from_millis(100)).await;
    let (status, chat) = server.agent("get_chat", json!({"chat_id": chat_id})).await;
    assert_eq!(status, 200);
    assert_eq!(chat["thread"]["queue"]["position"], 1, "{chat}");
    assert_eq!(agents_and_group(&server, &chat_id).await, (vec![], json!([ROASTERY])));
    assert_eq!(loads_beside(&server, &chat_id).await, [(ALEX.to_owned(), 0), (SAM.to_owned(), 1)]);

    // Sam closes his chat: routing hands him the waiting one.
    let (status, reply) = as_sam(&server, "deactivate_chat", json!({"id": regular_chat})).await;
    assert_eq!(status, 200, "{reply}");
    expect_push(&mut visitor, "user_added_to_chat", |p| assert_eq!(p["user"]["id"], SAM)).await;
    let (_, chat) = server.agent("get_chat", json!({"chat_id": chat_id})).await;
    assert!(chat["thread"].get("queue").is_none(), "{chat}");
    assert_eq!(agents_and_group(&server, &chat_id).await, (vec![SAM.to_owned()], json!([ROASTERY])));
}

#[tokio::test]
async fn a_chat_transferred_to_an_agent_is_theirs_and_bad_targets_are_refused() {
    let (server, _dir) = server().await;
    set_status(&server, ALEX, "accepting_chats").await;
    let mut visitor = visitor_in(&server, 0).await;
    let chat_id = chat_routed_to(&mut visitor, ALEX).await;
    // A chat of group 2 (which Sam is not in), started by Alex.
    let (_, customer) = server.agent("create_customer", json!({"name": "Buyer"})).await;
    let users = json!([{"id": customer["customer_id"], "type": "customer"}]);
    let body = json!({"chat": {"users": users, "access": {"group_ids": [WHOLESALE]}}});
    let (status, started) = server.agent("start_chat", body).await;
    assert_eq!(status, 200, "{started}");
    let wholesale_chat = started["chat_id"].as_str().unwrap().to_owned();

    let to = |kind: &str, ids: Value| json!({"id": chat_id, "target": {"type": kind, "ids": ids}});
    let too_many: Vec<u32> = (0..=confab_server::limits::MAX_TRANSFER_TARGETS as u32).collect();
    for (body, status, kind) in [
        (to("group", json!([7])), 404, "group_not_found"),
        (to("group", json!([ROASTERY, 7])), 404, "group_not_found"),
        (to("group", json!(too_many)), 400, "validation"),
        (to("agent", json!(["nobody@x"])), 404, "not_found"),
        // Sam is offline.
        (to("agent", json!([SAM])), 400, "agent_offline"),
        // Nobody of group 2 accepts chats.
        (to("group", json!([WHOLESALE])), 400, "group_offline"),
    ] {
        refused(&server, body, status, kind).await;
    }
    set_status(&server, SAM, "not_accepting_chats").await;
    // Online, but not in group 2: he may not have its chat.
    let body = json!({"id": wholesale_chat, "target": {"type": "agent", "ids": [SAM]}});
    refused(&server, body, 403, "missing_access").await;
    visitor.silent(Duration::from_millis(100)).await;

    // Not accepting chats, Sam still takes a chat handed to him.
    transfer(&server, to("agent", json!([SAM, SAM]))).await;
    expect_push(&mut visitor, "chat_transferred", |p| {
        assert_eq!(p["transferred_to"], json!({"agent_ids": [SAM]}));
        assert!(p.get("queue").is_none(), "{p}");
    })
    .await;
    expect_push(&mut visitor, "user_added_to_chat", |p| assert_eq!(p["user"]["id"], SAM)).await;
    expect_push(&mut visitor, "user_removed_from_chat", |p| assert_eq!(p["user_id"], ALEX)).await;
    assert_eq!(agents_and_group(&server, &chat_id).await, (vec![SAM.to_owned()], json!([0])));
    // The chat counts as Sam's now, no longer Alex's (who keeps the group 2 chat).
    assert_eq!(loads_beside(&server, &chat_id).await, [(ALEX.to_owned(), 1)]);
    assert_eq!(loads_beside(&server, &wholesale_chat).await, [(SAM.to_owned(), 1)]);
    let (status, reply) =
        as_sam(&server, "send_event", json!({"chat_id": chat_id, "event": {"type": "message", "text": "Sam here."}}))
            .await;
    assert_eq!(status, 200, "{reply}");
    expect_push(&mut visitor, "incoming_event", |p| assert_eq!(p["event"]["author_id"], SAM)).await;
}
