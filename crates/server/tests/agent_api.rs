//! The Agent Chat Web API v3.6 over real HTTP, and its pushes reaching customer sockets.

mod common;

use common::*;
use serde_json::json;

async fn customer_with_chat(server: &TestServer) -> (Rtm, String, String) {
    let (mut rtm, _, customer_id) = Rtm::logged_in(server).await;
    rtm.send("start_chat", json!({"chat": {"thread": {"events": [{"type":"message","text":"hello"}]}}})).await;
    let response = rtm.recv().await;
    let _incoming_chat = rtm.recv().await;
    (rtm, response["payload"]["chat_id"].as_str().unwrap().to_owned(), customer_id)
}

#[tokio::test]
async fn missing_or_wrong_tokens_get_401_in_the_error_shape() {
    let server = TestServer::start().await;
    for token in [None, Some("wrong")] {
        let (status, body) = server.agent_with_token("list_chats", json!({}), token).await;
        assert_eq!(status, 401);
        assert_eq!(body["error"]["type"], "authentication", "{body}");
        assert!(body["error"]["message"].is_string());
    }
}

#[tokio::test]
async fn bad_bodies_unknown_actions_and_unknown_chats_are_reported() {
    let server = TestServer::start().await;
    let (status, body) = server.agent("send_event", json!({"chat_id": "X"})).await;
    assert_eq!((status, body["error"]["type"].as_str()), (400, Some("validation")));
    let (status, body) = server.agent("get_chat", json!({"chat_id": "NOSUCHCHAT"})).await;
    assert_eq!((status, body["error"]["type"].as_str()), (404, Some("not_found")));
    let (status, body) = server.agent("transfer_universe", json!({})).await;
    assert_eq!((status, body["error"]["type"].as_str()), (404, Some("not_found")));
    let (status, body) = server.agent("list_chats", json!({"limit": 1000})).await;
    assert_eq!((status, body["error"]["type"].as_str()), (400, Some("validation")));
    let response = reqwest::Client::new()
        .post(format!("{}/v3.6/agent/action/list_chats", server.url))
        .header("authorization", format!("Bearer {AGENT_TOKEN}"))
        .body("{\"limit\":")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"]["type"], "validation");
}

/// Integrations send fields Confab does not use: they are ignored. A documented field that is
/// missing or of the wrong type is a `validation` error naming it.
#[tokio::test]
async fn unknown_fields_are_ignored_and_bad_fields_are_named() {
    let server = TestServer::start().await;
    let (mut rtm, chat_id, _) = customer_with_chat(&server).await;

    let body = json!({"chat_id": chat_id, "event": {"type": "message", "text": "Hi", "x_crm_ref": 7},
        "x_integration": {"name": "crm"}});
    let (status, sent) = server.agent("send_event", body).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(rtm.recv().await["action"], "user_added_to_chat");
    assert_eq!(rtm.recv().await["payload"]["event"]["text"], "Hi");
    let (status, list) = server.agent("list_chats", json!({"limit": 5, "x_client": "bot"})).await;
    assert_eq!((status, list["found_chats"].as_u64()), (200, Some(1)), "{list}");

    for (body, named) in [
        (json!({"event": {"type": "message", "text": "Hi"}}), "missing field `chat_id`"),
        (json!({"chat_id": 5, "event": {"type": "message", "text": "Hi"}}), "`chat_id`: invalid type: integer `5`"),
        (json!({"chat_id": chat_id, "event": "Hi"}), "`event`"),
        (
            json!({"chat_id": chat_id, "event": {"type": "message", "text": "Hi"}, "attach_to_last_thread": "yes"}),
            "`attach_to_last_thread`: invalid type: string \"yes\", expected a boolean",
        ),
    ] {
        let (status, reply) = server.agent("send_event", body.clone()).await;
        assert_eq!((status, reply["error"]["type"].as_str()), (400, Some("validation")), "{body}");
        let message = reply["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{message:?} names {named:?}");
        assert!(!message.contains(" at line "), "{message:?}");
    }
    let (status, reply) = server.agent("list_chats", json!({"filters": {"group_ids": ["sales"]}})).await;
    assert_eq!(status, 400);
    assert!(reply["error"]["message"].as_str().unwrap().contains("`filters.group_ids[0]`"), "{reply}");
}

#[tokio::test]
async fn an_agent_reply_reaches_the_visitors_socket_immediately() {
    let server = TestServer::start().await;
    let (mut rtm, chat_id, customer_id) = customer_with_chat(&server).await;

    let (status, list) = server.agent("list_chats", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(list["found_chats"], 1);
    assert_eq!(list["chats_summary"][0]["id"], chat_id.as_str());
    assert_eq!(list["chats_summary"][0]["last_thread_summary"]["active"], true);

    let (status, sent) = server
        .agent(
            "send_event",
            json!({"chat_id": chat_id, "event": {"type":"message","text":"Hi! How can I help?","visibility":"all"}}),
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    let joined = rtm.recv().await;
    assert_eq!(joined["action"], "user_added_to_chat", "the visitor learns who joined first");
    assert_eq!(joined["payload"]["user"]["name"], "Alex Morgan");
    let push = rtm.recv().await;
    assert_eq!(push["action"], "incoming_event");
    assert_eq!(push["payload"]["event"]["text"], "Hi! How can I help?");
    assert_eq!(push["payload"]["event"]["author_id"], "alex@confab.example");
    assert_eq!(push["payload"]["event"]["id"], sent["event_id"]);

    let (_, chat) = server.agent("get_chat", json!({"chat_id": chat_id})).await;
    let users: Vec<&str> = chat["users"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(users, [customer_id.as_str(), "alex@confab.example"]);
    assert_eq!(chat["users"][1]["type"], "agent");
    assert_eq!(chat["users"][1]["name"], "Alex Morgan");
    assert_eq!(chat["thread"]["events"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_agent_closes_the_chat_and_the_visitor_is_told() {
    let server = TestServer::start().await;
    let (mut rtm, chat_id, _) = customer_with_chat(&server).await;
    // Alex is not one of the chat's users (nobody accepted chats when it started).
    let (status, body) = server.agent("deactivate_chat", json!({"id": chat_id})).await;
    assert_eq!((status, body["error"]["type"].as_str()), (403, Some("missing_access")), "{body}");
    rtm.silent(std::time::Duration::from_millis(100)).await;
    let body = json!({"id": chat_id, "ignore_requester_presence": true});
    let (status, _) = server.agent("deactivate_chat", body).await;
    assert_eq!(status, 200);
    let push = rtm.recv().await;
    assert_eq!(push["action"], "chat_deactivated");
    assert_eq!(push["payload"]["user_id"], "alex@confab.example");
    let (status, body) =
        server.agent("deactivate_chat", json!({"id": chat_id, "ignore_requester_presence": true})).await;
    assert_eq!((status, body["error"]["type"].as_str()), (422, Some("chat_inactive")));
}

#[tokio::test]
async fn internal_notes_stay_with_agents() {
    let server = TestServer::start().await;
    let (mut rtm, chat_id, _) = customer_with_chat(&server).await;
    let (status, _) = server
        .agent(
            "send_event",
            json!({"chat_id": chat_id, "event": {"type":"message","text":"VIP customer","visibility":"agents"}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(rtm.recv().await["action"], "user_added_to_chat");
    let seen = rtm.request("get_chat", json!({"chat_id": chat_id})).await;
    let texts: Vec<&str> =
        seen["payload"]["thread"]["events"].as_array().unwrap().iter().map(|e| e["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["hello"]);
    let (_, chat) = server.agent("get_chat", json!({"chat_id": chat_id})).await;
    assert_eq!(chat["thread"]["events"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn agents_page_through_chats() {
    let server = TestServer::start().await;
    for _ in 0..3 {
        customer_with_chat(&server).await;
    }
    let (_, first) = server.agent("list_chats", json!({"limit": 2})).await;
    assert_eq!(first["chats_summary"].as_array().unwrap().len(), 2);
    assert_eq!(first["found_chats"], 3);
    let page_id = first["next_page_id"].as_str().unwrap();
    let (_, second) = server.agent("list_chats", json!({"page_id": page_id})).await;
    assert_eq!(second["chats_summary"].as_array().unwrap().len(), 1);
    assert!(second.get("next_page_id").is_none());
    assert!(second["previous_page_id"].is_string());
    let (status, _) = server.agent("list_chats", json!({"page_id": page_id, "limit": 2})).await;
    assert_eq!(status, 400, "page_id cannot be combined with limit");
}

#[tokio::test]
async fn an_agent_typing_reaches_the_customer_unless_meant_for_agents_only() {
    let server = TestServer::start().await;
    let (mut rtm, chat_id, _) = customer_with_chat(&server).await;

    let (status, body) = server.agent("send_typing_indicator", json!({"chat_id": chat_id, "is_typing": true})).await;
    assert_eq!(status, 200, "{body}");
    let push = rtm.recv().await;
    assert_eq!(push["action"], "incoming_typing_indicator", "{push}");
    assert_eq!(push["payload"]["chat_id"], chat_id.as_str());
    let typing = &push["payload"]["typing_indicator"];
    assert_eq!((typing["is_typing"].as_bool(), typing["recipients"].as_str()), (Some(true), Some("all")));
    assert!(typing["author_id"].is_string());

    let body = json!({"chat_id": chat_id, "is_typing": false, "visibility": "agents", "a_field_we_do_not_use": 1});
    assert_eq!(server.agent("send_typing_indicator", body).await.0, 200);
    rtm.silent(std::time::Duration::from_millis(200)).await;

    for (body, status, kind) in [
        (json!({"chat_id": chat_id, "is_typing": true, "visibility": "everyone"}), 400, "validation"),
        (json!({"chat_id": chat_id}), 400, "validation"),
        (json!({"chat_id": "NOSUCHCHAT", "is_typing": true}), 404, "not_found"),
    ] {
        let (got, reply) = server.agent("send_typing_indicator", body).await;
        assert_eq!((got, reply["error"]["type"].as_str()), (status, Some(kind)), "{reply}");
    }
    let close = json!({"id": chat_id, "ignore_requester_presence": true});
    assert_eq!(server.agent("deactivate_chat", close).await.0, 200);
    let (status, reply) = server.agent("send_typing_indicator", json!({"chat_id": chat_id, "is_typing": true})).await;
    assert_eq!((status, reply["error"]["type"].as_str()), (422, Some("chat_inactive")), "{reply}");
}

#[tokio::test]
async fn a_flood_of_calls_is_answered_too_many_requests() {
    use confab_server::clock::{Clock, Micros};
    // The server's clock stands still: the bucket does not refill during the flood.
    let clock = Clock::manual(Micros(1_795_000_000_000_000));
    let server = TestServer::start_on_clock(&[], clock.clone()).await;
    let burst = confab_server::limits::AGENT_CALL_BURST as usize;
    // One connection, one call after another (no refill: the clock stands still).
    let http = reqwest::Client::new();
    let mut statuses: Vec<(u16, serde_json::Value)> = Vec::new();
    for _ in 0..burst + 100 {
        let response = http
            .post(format!("{}/v3.6/agent/action/list_chats", server.url))
            .bearer_auth(AGENT_TOKEN)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        statuses.push((response.status().as_u16(), response.json().await.unwrap()));
    }
    let refused: Vec<_> = statuses.iter().filter(|(status, _)| *status == 429).collect();
    assert_eq!(refused.len(), 100);
    assert_eq!(refused[0].1["error"]["type"], "too_many_requests");
    clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(server.agent("list_chats", json!({})).await.0, 200, "a second later, calls pass again");
}

#[tokio::test]
async fn an_action_that_cannot_finish_in_time_is_answered_request_timeout() {
    use confab_server::clock::{Clock, Micros};
    let clock = Clock::manual(Micros(1_795_000_000_000_000));
    let server = TestServer::start_on_clock(&[], clock.clone()).await;
    let (_rtm, chat_id, _) = customer_with_chat(&server).await;
    // Another writer holds the database: the reply waits, and the server's clock runs out.
    let held = server.server.as_ref().unwrap().state.domain.store.write().await.unwrap();
    let url = format!("{}/v3.6/agent/action/send_event", server.url);
    let body = json!({"chat_id": chat_id, "event": {"type": "message", "text": "late"}});
    let reply = tokio::spawn(async move {
        let response = reqwest::Client::new().post(url).bearer_auth(AGENT_TOKEN).json(&body).send().await.unwrap();
        (response.status().as_u16(), response.json::<serde_json::Value>().await.unwrap())
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    clock.advance(confab_server::limits::AGENT_REQUEST_TIMEOUT);
    let (status, body) = reply.await.unwrap();
    assert_eq!((status, body["error"]["type"].as_str()), (408, Some("request_timeout")), "{body}");
    drop(held);
    // Nothing was written: the chat still holds the visitor's message only.
    let (_, chat) = server.agent("get_chat", json!({"chat_id": chat_id})).await;
    assert_eq!(chat["thread"]["events"].as_array().map(Vec::len), Some(1), "{chat}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_entity_too_large() {
    let server = TestServer::start().await;
    let text = "x".repeat(confab_server::limits::MAX_HTTP_BODY_BYTES);
    let (status, body) =
        server.agent("send_event", json!({"chat_id": "X", "event": {"type": "message", "text": text}})).await;
    assert_eq!((status, body["error"]["type"].as_str()), (413, Some("entity_too_large")), "{body}");
}
