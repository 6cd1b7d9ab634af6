//! Agent actions whose effects reach the visitor: `remove_user_from_chat`, `add_user_to_chat`,
//! `transfer_chat`, `multicast`, over real HTTP, with the pushes read off a customer socket.

mod common;

use common::*;
use serde_json::{Value, json};
use std::time::Duration;

/// A customer's socket and chat, which Alex has joined by writing in it.
async fn chat_with_alex(server: &TestServer) -> (Rtm, String, String) {
    let (mut rtm, _, customer_id) = Rtm::logged_in(server).await;
    rtm.send("start_chat", json!({"chat": {"thread": {"events": [{"type":"message","text":"hello"}]}}})).await;
    let response = rtm.recv().await;
    let chat_id = response["payload"]["chat_id"].as_str().unwrap().to_owned();
    assert_eq!(rtm.recv().await["action"], "incoming_chat");
    let body = json!({"chat_id": chat_id, "event": {"type":"message","text":"Hi!"}});
    assert_eq!(server.agent("send_event", body).await.0, 200);
    assert_eq!(rtm.recv().await["action"], "user_added_to_chat");
    assert_eq!(rtm.recv().await["action"], "incoming_event");
    (rtm, chat_id, customer_id)
}

async fn agent_ids(server: &TestServer, chat_id: &str) -> Vec<String> {
    let (_, chat) = server.agent("get_chat", json!({"chat_id": chat_id})).await;
    chat["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["type"] == "agent")
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn expect_error(server: &TestServer, action: &str, body: Value, status: u16, kind: &str) {
    let (got, reply) = server.agent(action, body.clone()).await;
    assert_eq!((got, reply["error"]["type"].as_str()), (status, Some(kind)), "{action} {body}: {reply}");
}

#[tokio::test]
async fn a_removed_agent_leaves_the_chat_and_the_visitor_is_told() {
    let server = TestServer::start().await;
    let (mut rtm, chat_id, _) = chat_with_alex(&server).await;

    for (body, status, kind) in [
        (json!({"chat_id": chat_id, "user_id": ALEX}), 400, "validation"),
        (json!({"chat_id": chat_id, "user_id": ALEX, "user_type": "customer"}), 400, "validation"),
        (json!({"chat_id": "NOSUCHCHAT", "user_id": ALEX, "user_type": "agent"}), 404, "not_found"),
        (json!({"chat_id": chat_id, "user_id": SAM, "user_type": "agent"}), 404, "not_found"),
    ] {
        expect_error(&server, "remove_user_from_chat", body, status, kind).await;
    }

    let body = json!({"chat_id": chat_id, "user_id": ALEX, "user_type": "agent"});
    let (status, reply) = server.agent("remove_user_from_chat", body.clone()).await;
    assert_eq!((status, &reply), (200, &json!({})));
    let push = rtm.recv().await;
    assert_eq!(push["action"], "user_removed_from_chat", "{push}");
    let payload = &push["payload"];
    assert_eq!((payload["chat_id"].as_str(), payload["user_id"].as_str()), (Some(chat_id.as_str()), Some(ALEX)));
    assert_eq!((payload["reason"].as_str(), payload["requester_id"].as_str()), (Some("manual"), Some(ALEX)));
    assert!(payload["thread_id"].is_string());
    assert!(agent_ids(&server, &chat_id).await.is_empty());

    // No longer a user of the chat: acting needs `ignore_requester_presence`.
    expect_error(&server, "remove_user_from_chat", body, 403, "missing_access").await;
    rtm.silent(Duration::from_millis(100)).await;

    expect_error(&server, "deactivate_chat", json!({"id": chat_id}), 403, "missing_access").await;
    let close = json!({"id": chat_id, "ignore_requester_presence": true});
    assert_eq!(server.agent("deactivate_chat", close).await.0, 200);
    assert_eq!(rtm.recv().await["action"], "chat_deactivated");
    let body = json!({"chat_id": chat_id, "user_id": ALEX, "user_type": "agent", "ignore_requester_presence": true});
    expect_error(&server, "remove_user_from_chat", body, 422, "chat_inactive").await;
}

#[tokio::test]
async fn an_added_agent_is_announced_to_the_visitor_unless_added_for_agents_only() {
    let server = TestServer::start().await;
    with_sam(&server).await;
    let (mut rtm, chat_id, _) = chat_with_alex(&server).await;

    for (body, status, kind) in [
        (json!({"chat_id": chat_id, "user_id": SAM, "user_type": "agent"}), 400, "validation"),
        (
            json!({"chat_id": chat_id, "user_id": SAM, "user_type": "agent", "visibility": "everyone"}),
            400,
            "validation",
        ),
        (json!({"chat_id": chat_id, "user_id": SAM, "user_type": "customer", "visibility": "all"}), 400, "validation"),
        (
            json!({"chat_id": chat_id, "user_id": "nobody@x", "user_type": "agent", "visibility": "all"}),
            404,
            "not_found",
        ),
        (json!({"chat_id": "NOSUCHCHAT", "user_id": SAM, "user_type": "agent", "visibility": "all"}), 404, "not_found"),
        (json!({"chat_id": chat_id, "user_id": ALEX, "user_type": "agent", "visibility": "all"}), 400, "validation"),
    ] {
        expect_error(&server, "add_user_to_chat", body, status, kind).await;
    }

    let body = json!({"chat_id": chat_id, "user_id": SAM, "user_type": "agent", "visibility": "all"});
    assert_eq!(server.agent("add_user_to_chat", body).await.0, 200);
    let push = rtm.recv().await;
    assert_eq!(push["action"], "user_added_to_chat", "{push}");
    assert_eq!(push["payload"]["user"]["id"], SAM);
    assert_eq!(push["payload"]["user"]["name"], "Sam Lee");
    assert_eq!(
        (push["payload"]["reason"].as_str(), push["payload"]["requester_id"].as_str()),
        (Some("manual"), Some(ALEX))
    );
    assert_eq!(agent_ids(&server, &chat_id).await, [ALEX, SAM]);

    // Removed, then added back for agents only: the visitor hears of the removal only.
    let body = json!({"chat_id": chat_id, "user_id": SAM, "user_type": "agent"});
    assert_eq!(server.agent("remove_user_from_chat", body).await.0, 200);
    assert_eq!(rtm.recv().await["action"], "user_removed_from_chat");
    let body = json!({"chat_id": chat_id, "user_id": SAM, "user_type": "agent", "visibility": "agents"});
    assert_eq!(server.agent("add_user_to_chat", body).await.0, 200);
    rtm.silent(Duration::from_millis(100)).await;

    assert_eq!(server.agent("deactivate_chat", json!({"id": chat_id})).await.0, 200);
    let body = json!({"chat_id": chat_id, "user_id": SAM, "user_type": "agent", "visibility": "all"});
    expect_error(&server, "add_user_to_chat", body, 422, "chat_inactive").await;
}

#[tokio::test]
async fn a_transfer_moves_the_chat_and_the_visitor_sees_who_took_over() {
    let server = TestServer::start().await;
    with_sam(&server).await;
    let (mut rtm, chat_id, _) = chat_with_alex(&server).await;

    for (body, status, kind) in [
        (json!({}), 400, "validation"),
        (json!({"id": chat_id, "target": {"type": "team", "ids": [SAM]}}), 400, "validation"),
        (json!({"id": chat_id, "target": {"type": "agent", "ids": []}}), 400, "validation"),
        (json!({"id": chat_id, "target": {"type": "agent", "ids": [1]}}), 400, "validation"),
        (json!({"id": chat_id, "target": {"type": "group", "ids": [19]}}), 404, "group_not_found"),
        (json!({"id": chat_id, "target": {"type": "agent", "ids": ["nobody@x"]}}), 404, "not_found"),
        (json!({"id": "NOSUCHCHAT", "target": {"type": "agent", "ids": [SAM]}}), 404, "not_found"),
        // Sam is offline: nobody to hand the chat to.
        (json!({"id": chat_id, "target": {"type": "agent", "ids": [SAM]}}), 400, "agent_offline"),
    ] {
        expect_error(&server, "transfer_chat", body, status, kind).await;
    }
    rtm.silent(Duration::from_millis(100)).await;
    assert_eq!(agent_ids(&server, &chat_id).await, [ALEX], "a refused transfer changes nothing");
    // Online, though not accepting chats: routing passes him by, a transfer does not.
    let online = json!({"agent_id": SAM, "status": "not_accepting_chats"});
    assert_eq!(server.agent("set_routing_status", online).await.0, 200);

    let (status, reply) =
        server.agent("transfer_chat", json!({"id": chat_id, "target": {"type": "agent", "ids": [SAM]}})).await;
    assert_eq!((status, &reply), (200, &json!({})));
    let push = rtm.recv().await;
    assert_eq!(push["action"], "chat_transferred", "{push}");
    let payload = &push["payload"];
    assert_eq!(payload["chat_id"], chat_id.as_str());
    assert_eq!((payload["reason"].as_str(), payload["requester_id"].as_str()), (Some("manual"), Some(ALEX)));
    assert_eq!(payload["transferred_to"], json!({"agent_ids": [SAM]}));
    assert!(payload["thread_id"].is_string());
    let added = rtm.recv().await;
    assert_eq!(
        (added["action"].as_str(), added["payload"]["user"]["id"].as_str()),
        (Some("user_added_to_chat"), Some(SAM))
    );
    let removed = rtm.recv().await;
    assert_eq!(
        (removed["action"].as_str(), removed["payload"]["user_id"].as_str()),
        (Some("user_removed_from_chat"), Some(ALEX))
    );
    assert_eq!(agent_ids(&server, &chat_id).await, [SAM]);

    // Alex left: transferring again needs `ignore_requester_presence`. To group 0, where
    // nobody accepts chats, only with `ignore_agents_availability`: Sam leaves, nobody joins.
    expect_error(&server, "transfer_chat", json!({"id": chat_id}), 403, "missing_access").await;
    let mut body = json!({"id": chat_id, "target": {"type": "group", "ids": [0]}, "ignore_requester_presence": true});
    expect_error(&server, "transfer_chat", body.clone(), 400, "group_offline").await;
    body["ignore_agents_availability"] = json!(true);
    assert_eq!(server.agent("transfer_chat", body).await.0, 200);
    let push = rtm.recv().await;
    assert_eq!(
        (push["action"].as_str(), &push["payload"]["transferred_to"]),
        (Some("chat_transferred"), &json!({"group_ids": [0]}))
    );
    assert_eq!(rtm.recv().await["payload"]["user_id"], SAM);
    assert!(agent_ids(&server, &chat_id).await.is_empty());

    let close = json!({"id": chat_id, "ignore_requester_presence": true});
    assert_eq!(server.agent("deactivate_chat", close).await.0, 200);
    let body = json!({"id": chat_id, "target": {"type": "agent", "ids": [SAM]}, "ignore_requester_presence": true});
    expect_error(&server, "transfer_chat", body, 422, "chat_inactive").await;
}

#[tokio::test]
async fn a_multicast_reaches_the_chosen_visitors_only() {
    let server = TestServer::start().await;
    let (mut chosen, _, chosen_id) = Rtm::logged_in(&server).await;
    let (mut other, _, _) = Rtm::logged_in(&server).await;

    for (body, status, kind) in [
        (json!({"content": {"a": 1}}), 400, "validation"),
        (json!({"recipients": {}, "content": {"a": 1}}), 400, "validation"),
        (json!({"recipients": {"customers": {"ids": []}}, "content": 1}), 400, "validation"),
        (json!({"recipients": {"customers": {"ids": [chosen_id]}}}), 400, "validation"),
        (json!({"recipients": {"agents": {"groups": [7]}}, "content": 1}), 404, "group_not_found"),
        (
            json!({"recipients": {"customers": {"ids": [chosen_id]}}, "content": "x".repeat(20_000)}),
            413,
            "entity_too_large",
        ),
    ] {
        expect_error(&server, "multicast", body, status, kind).await;
    }

    let body = json!({"recipients": {"customers": {"ids": [chosen_id]}}, "content": {"example": {"nested": "json"}}, "type": "promo"});
    let (status, reply) = server.agent("multicast", body).await;
    assert_eq!((status, &reply), (200, &json!({})));
    let push = chosen.recv().await;
    assert_eq!(push["action"], "incoming_multicast", "{push}");
    assert_eq!(
        push["payload"],
        json!({"author_id": ALEX, "type": "promo", "content": {"example": {"nested": "json"}}})
    );
    other.silent(Duration::from_millis(100)).await;

    let body = json!({"recipients": {"customers": {"all": true}}, "content": "hello everyone"});
    assert_eq!(server.agent("multicast", body).await.0, 200);
    for rtm in [&mut chosen, &mut other] {
        let push = rtm.recv().await;
        assert_eq!(
            (push["action"].as_str(), push["payload"]["content"].as_str()),
            (Some("incoming_multicast"), Some("hello everyone"))
        );
    }
    // Agents only: no visitor gets it.
    let body = json!({"recipients": {"agents": {"all": true}}, "content": 1});
    assert_eq!(server.agent("multicast", body).await.0, 200);
    chosen.silent(Duration::from_millis(100)).await;
}
