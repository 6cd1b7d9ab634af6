//! The Agent Chat Web API v3.6 methods beyond reading and replying, over real HTTP: each with
//! valid input and its documented failures, its pushes seen by a real customer socket and by
//! agents' sockets.

mod common;

use common::*;
use confab_server::fanout::hub::EVERY_AGENT;
use serde_json::{Value, json};
use std::time::Duration;

const SAM_TOKEN: &str = "sam-token";

/// A customer with a chat Alex answered (so Alex is one of its users), and its thread.
async fn answered_chat(server: &TestServer) -> (Rtm, String, String, String) {
    let (mut rtm, _, customer_id) = Rtm::logged_in(server).await;
    rtm.send("start_chat", json!({"chat": {"thread": {"events": [{"type":"message","text":"hello"}]}}})).await;
    let response = rtm.recv().await;
    let _incoming_chat = rtm.recv().await;
    let chat_id = response["payload"]["chat_id"].as_str().unwrap().to_owned();
    let thread_id = response["payload"]["thread_id"].as_str().unwrap().to_owned();
    ok(server.agent("send_event", json!({"chat_id": chat_id, "event": {"type": "message", "text": "hi"}})).await);
    assert_eq!(rtm.recv().await["action"], "user_added_to_chat");
    assert_eq!(rtm.recv().await["action"], "incoming_event");
    (rtm, customer_id, chat_id, thread_id)
}

fn ok((status, body): (u16, Value)) -> Value {
    assert_eq!(status, 200, "{body}");
    body
}

fn fails((status, body): (u16, Value), want_status: u16, kind: &str) {
    assert_eq!((status, body["error"]["type"].as_str()), (want_status, Some(kind)), "{body}");
}

async fn as_sam(server: &TestServer, action: &str, body: Value) -> (u16, Value) {
    server.agent_with_token(action, body, Some(SAM_TOKEN)).await
}

#[tokio::test]
async fn an_agent_starts_and_resumes_a_chat_with_a_customer() {
    let server = TestServer::start().await;
    let (mut rtm, _, customer_id) = Rtm::logged_in(&server).await;
    let mut every_agent = AgentSocket::subscribe(&server, EVERY_AGENT);
    let users = json!([{"id": customer_id, "type": "customer"}]);
    let start = json!({"chat": {"users": users, "thread": {"events": [{"type": "message", "text": "Can I help?"}]},
                                "properties": {"routing": {"source": "outbound"}}}});
    let started = ok(server.agent("start_chat", start.clone()).await);
    let chat_id = started["chat_id"].as_str().unwrap().to_owned();
    assert_eq!(started["event_ids"].as_array().map(Vec::len), Some(1), "{started}");

    // The customer learns of the chat, its agent and its first message at once.
    let push = rtm.recv().await;
    assert_eq!(push["action"], "incoming_chat", "{push}");
    let chat = &push["payload"]["chat"];
    assert_eq!(chat["id"], chat_id.as_str());
    assert_eq!(chat["thread"]["events"][0]["text"], "Can I help?");
    assert_eq!(chat["thread"]["active"], true);
    assert!(chat["users"].as_array().unwrap().iter().any(|u| u["id"] == ALEX), "{chat}");
    assert_eq!(every_agent.next().await["action"], "incoming_chat");

    // One chat per customer; a chat needs its customer; users are agents or customers.
    fails(server.agent("start_chat", start).await, 422, "chat_limit_reached");
    fails(server.agent("start_chat", json!({})).await, 400, "validation");
    let two =
        json!({"chat": {"users": [{"id": customer_id, "type": "customer"}, {"id": "other", "type": "customer"}]}});
    fails(server.agent("start_chat", two).await, 400, "validation");
    let bot = json!({"chat": {"users": [{"id": customer_id, "type": "bot"}]}});
    fails(server.agent("start_chat", bot).await, 400, "validation");
    let nobody = json!({"chat": {"users": [{"id": "00000000-0000-4000-8000-000000000000", "type": "customer"}]}});
    fails(server.agent("start_chat", nobody).await, 404, "not_found");
    let fresh = ok(server.agent("create_customer", json!({})).await);
    let ghost_agent = json!({"chat": {"users": [{"id": fresh["customer_id"], "type": "customer"}, {"id": "ghost@x", "type": "agent"}]}});
    fails(server.agent("start_chat", ghost_agent).await, 404, "not_found");

    // Resuming: only an inactive chat, and with the chat's own customer.
    fails(server.agent("resume_chat", json!({"chat": {"id": chat_id}})).await, 422, "chat_already_active");
    ok(server.agent("deactivate_chat", json!({"id": chat_id})).await);
    assert_eq!(rtm.recv().await["action"], "chat_deactivated");
    let stranger = json!({"chat": {"id": chat_id, "users": [{"id": "someone-else", "type": "customer"}]}});
    fails(server.agent("resume_chat", stranger).await, 400, "validation");
    fails(server.agent("resume_chat", json!({"chat": {}})).await, 400, "validation");
    fails(server.agent("resume_chat", json!({"chat": {"id": "NOSUCHCHAT"}})).await, 404, "not_found");
    let resumed = ok(server.agent("resume_chat", json!({"chat": {"id": chat_id}})).await);
    let thread_id = resumed["thread_id"].as_str().unwrap();
    assert!(resumed.get("chat_id").is_none() && resumed.get("event_ids").is_none(), "{resumed}");
    let push = rtm.recv().await;
    assert_eq!(push["action"], "incoming_chat", "{push}");
    assert_eq!(push["payload"]["chat"]["thread"]["id"], thread_id);

    // `active: false` opens a closed thread: nothing to answer.
    ok(server.agent("deactivate_chat", json!({"id": chat_id})).await);
    assert_eq!(rtm.recv().await["action"], "chat_deactivated");
    let closed = ok(server.agent("resume_chat", json!({"chat": {"id": chat_id}, "active": false})).await);
    let chat = ok(server.agent("get_chat", json!({"chat_id": chat_id})).await);
    assert_eq!(
        (chat["thread"]["id"].as_str(), chat["thread"]["active"].as_bool()),
        (closed["thread_id"].as_str(), Some(false))
    );
}

#[tokio::test]
async fn deactivating_needs_the_requester_in_the_chat_unless_told_otherwise() {
    let server = TestServer::start().await;
    with_sam(&server).await;
    let (mut rtm, _, chat_id, _) = answered_chat(&server).await;
    fails(as_sam(&server, "deactivate_chat", json!({"id": chat_id})).await, 403, "missing_access");
    rtm.silent(Duration::from_millis(100)).await;
    ok(as_sam(&server, "deactivate_chat", json!({"id": chat_id, "ignore_requester_presence": true})).await);
    let push = rtm.recv().await;
    assert_eq!((push["action"].as_str(), push["payload"]["user_id"].as_str()), (Some("chat_deactivated"), Some(SAM)));
    fails(server.agent("deactivate_chat", json!({"id": chat_id})).await, 422, "chat_inactive");
    fails(server.agent("deactivate_chat", json!({"id": "NOSUCHCHAT"})).await, 404, "not_found");
    fails(server.agent("deactivate_chat", json!({"id": 5})).await, 400, "validation");
}

#[tokio::test]
async fn following_a_chat_brings_its_pushes_until_unfollowed() {
    let server = TestServer::start().await;
    with_sam(&server).await;
    let (mut rtm, _, chat_id, _) = answered_chat(&server).await;
    let mut sam = AgentSocket::subscribe(&server, SAM);

    ok(as_sam(&server, "follow_chat", json!({"id": chat_id})).await);
    ok(as_sam(&server, "follow_chat", json!({"id": chat_id})).await);
    rtm.request("send_event", json!({"chat_id": chat_id, "event": {"type": "message", "text": "still there?"}})).await;
    let push = sam.next().await;
    assert_eq!(
        (push["action"].as_str(), push["payload"]["event"]["text"].as_str()),
        (Some("incoming_event"), Some("still there?"))
    );
    // Following is not joining: the customer still sees only Alex.
    let chat = ok(server.agent("get_chat", json!({"chat_id": chat_id})).await);
    assert!(!chat["users"].as_array().unwrap().iter().any(|u| u["id"] == SAM), "{chat}");
    let _ = rtm.recv().await; // the event's push to the customer

    // Chat members cannot unfollow; unknown chats are not found.
    fails(server.agent("unfollow_chat", json!({"id": chat_id})).await, 400, "validation");
    fails(as_sam(&server, "follow_chat", json!({"id": "NOSUCHCHAT"})).await, 404, "not_found");
    fails(as_sam(&server, "unfollow_chat", json!({})).await, 400, "validation");

    ok(as_sam(&server, "unfollow_chat", json!({"id": chat_id})).await);
    assert_eq!(sam.next().await["action"], "chat_unfollowed");
    rtm.request("send_event", json!({"chat_id": chat_id, "event": {"type": "message", "text": "hello?"}})).await;
    sam.silent().await;
}

#[tokio::test]
async fn thread_tags_reach_the_chats_agents() {
    let server = TestServer::start().await;
    let (mut rtm, _, chat_id, thread_id) = answered_chat(&server).await;
    let mut alex = AgentSocket::subscribe(&server, ALEX);
    let tag = |tag: &str| json!({"chat_id": chat_id, "thread_id": thread_id, "tag": tag});

    ok(server.agent("tag_thread", tag("support")).await);
    let push = alex.next().await;
    assert_eq!(push["action"], "thread_tagged");
    assert_eq!(push["payload"], tag("support"));
    ok(server.agent("tag_thread", tag("support")).await);
    alex.silent().await;
    ok(server.agent("untag_thread", tag("support")).await);
    assert_eq!(alex.next().await["action"], "thread_untagged");
    // The customer is not told: the Customer Chat API has no tag pushes.
    rtm.silent(Duration::from_millis(100)).await;

    fails(server.agent("untag_thread", tag("support")).await, 404, "not_found");
    fails(server.agent("tag_thread", tag(" ")).await, 400, "validation");
    fails(server.agent("tag_thread", tag(&"x".repeat(65))).await, 400, "validation");
    fails(
        server.agent("tag_thread", json!({"chat_id": chat_id, "thread_id": "NOSUCH", "tag": "a"})).await,
        404,
        "not_found",
    );
    fails(
        server.agent("tag_thread", json!({"chat_id": "NOSUCH", "thread_id": thread_id, "tag": "a"})).await,
        404,
        "not_found",
    );
    for n in 0..20 {
        ok(server.agent("tag_thread", tag(&format!("t{n}"))).await);
    }
    fails(server.agent("tag_thread", tag("one-too-many")).await, 422, "limit_reached");

    // Agents read a thread's tags in get_chat and list_threads; customers do not.
    let mut expected: Vec<String> = (0..20).map(|n| format!("t{n}")).collect();
    expected.sort();
    let (_, chat) = server.agent("get_chat", json!({"chat_id": chat_id})).await;
    assert_eq!(chat["thread"]["tags"], json!(expected));
    let (_, page) = server.agent("list_threads", json!({"chat_id": chat_id})).await;
    assert_eq!(page["threads"][0]["tags"], json!(expected));
    let customers = rtm.request("get_chat", json!({"chat_id": chat_id})).await;
    assert!(customers["payload"]["thread"].get("tags").is_none(), "{customers}");
}

#[tokio::test]
async fn customers_are_created_read_updated_and_followed() {
    let server = TestServer::start().await;
    with_sam(&server).await;
    let mut every_agent = AgentSocket::subscribe(&server, EVERY_AGENT);
    let created = ok(server
        .agent(
            "create_customer",
            json!({"name": "Thomas Anderson", "email": "t.anderson@example.com",
        "session_fields": [{"plan": "pro"}]}),
        )
        .await);
    let created_id = created["customer_id"].as_str().unwrap();
    let push = every_agent.next().await;
    assert_eq!(
        (push["action"].as_str(), push["payload"]["id"].as_str()),
        (Some("incoming_customer"), Some(created_id))
    );
    let customer = ok(server.agent("get_customer", json!({"id": created_id})).await);
    assert_eq!((customer["type"].as_str(), customer["name"].as_str()), (Some("customer"), Some("Thomas Anderson")));
    assert_eq!(customer["session_fields"], json!([{"plan": "pro"}]));
    assert!(customer["statistics"].is_object() && customer.get("chat_ids").is_none(), "{customer}");
    fails(server.agent("create_customer", json!({"email": "not an email"})).await, 400, "validation");

    // A customer with a chat: its id shows; an update reaches their socket and their chat's
    // agents; a follower hears of their pages.
    let (mut rtm, customer_id, chat_id, _) = answered_chat(&server).await;
    let customer = ok(server.agent("get_customer", json!({"id": customer_id})).await);
    assert_eq!(customer["chat_ids"], json!([chat_id]));
    fails(server.agent("get_customer", json!({"id": "nobody"})).await, 404, "not_found");
    fails(server.agent("update_customer", json!({"id": customer_id})).await, 400, "validation");
    fails(server.agent("update_customer", json!({"id": "nobody", "name": "X"})).await, 404, "not_found");
    ok(server.agent("update_customer", json!({"id": customer_id, "name": "Neo"})).await);
    let push = rtm.recv().await;
    assert_eq!((push["action"].as_str(), push["payload"]["name"].as_str()), (Some("customer_updated"), Some("Neo")));

    let mut sam = AgentSocket::subscribe(&server, SAM);
    ok(as_sam(&server, "follow_customer", json!({"id": customer_id})).await);
    rtm.send("update_customer_page", json!({"url": "https://shop.example/pricing", "title": "Pricing"})).await;
    let push = sam.next().await;
    assert_eq!(
        (push["action"].as_str(), push["payload"]["url"].as_str()),
        (Some("customer_page_updated"), Some("https://shop.example/pricing"))
    );
    ok(as_sam(&server, "unfollow_customer", json!({"id": customer_id})).await);
    rtm.send("update_customer_page", json!({"url": "https://shop.example/", "title": "Home"})).await;
    sam.silent().await;
    fails(as_sam(&server, "follow_customer", json!({"id": "nobody"})).await, 404, "not_found");
}

#[tokio::test]
async fn properties_postbacks_and_seen_markers_from_agents_reach_the_customer() {
    let server = TestServer::start().await;
    let (mut rtm, _, chat_id, thread_id) = answered_chat(&server).await;
    let chat = ok(server.agent("get_chat", json!({"chat_id": chat_id})).await);
    let event_id = chat["thread"]["events"][0]["id"].as_str().unwrap().to_owned();
    let props = json!({"crm": {"lead": true}});

    for (action, body, push) in [
        ("update_chat_properties", json!({"id": chat_id, "properties": props}), "chat_properties_updated"),
        ("delete_chat_properties", json!({"id": chat_id, "properties": {"crm": ["lead"]}}), "chat_properties_deleted"),
        (
            "update_thread_properties",
            json!({"chat_id": chat_id, "thread_id": thread_id, "properties": props}),
            "thread_properties_updated",
        ),
        (
            "delete_thread_properties",
            json!({"chat_id": chat_id, "thread_id": thread_id, "properties": {"crm": ["lead"]}}),
            "thread_properties_deleted",
        ),
        (
            "update_event_properties",
            json!({"chat_id": chat_id, "thread_id": thread_id, "event_id": event_id, "properties": props}),
            "event_properties_updated",
        ),
        (
            "delete_event_properties",
            json!({"chat_id": chat_id, "thread_id": thread_id, "event_id": event_id, "properties": {"crm": ["lead"]}}),
            "event_properties_deleted",
        ),
        (
            "mark_events_as_seen",
            json!({"chat_id": chat_id, "seen_up_to": "2030-01-01T00:00:00Z"}),
            "events_marked_as_seen",
        ),
    ] {
        ok(server.agent(action, body).await);
        let frame = rtm.recv().await;
        assert_eq!(frame["action"], push, "{action}: {frame}");
    }
    fails(server.agent("update_chat_properties", json!({"properties": props})).await, 400, "validation");
    fails(
        server
            .agent(
                "update_event_properties",
                json!({"chat_id": chat_id, "thread_id": thread_id, "event_id": "NOSUCH", "properties": props}),
            )
            .await,
        404,
        "not_found",
    );
    fails(
        server.agent("mark_events_as_seen", json!({"chat_id": chat_id, "seen_up_to": "yesterday"})).await,
        400,
        "validation",
    );

    // A postback on a rich message is for the chat's agents, not for the customer.
    let rich = json!({"type": "rich_message", "template_id": "quick_replies", "elements": [{"title": "Solved?",
        "buttons": [{"type": "message", "text": "Yes", "postback_id": "yes", "value": "yes"}]}]});
    let sent = ok(server.agent("send_event", json!({"chat_id": chat_id, "event": rich})).await);
    let _ = rtm.recv().await;
    let event_id = sent["event_id"].as_str().unwrap();
    let postback = json!({"chat_id": chat_id, "thread_id": thread_id, "event_id": event_id, "postback": {"id": "yes", "toggled": true}});
    let mut alex = AgentSocket::subscribe(&server, ALEX);
    ok(server.agent("send_rich_message_postback", postback).await);
    assert_eq!(alex.next().await["action"], "incoming_rich_message_postback");
    rtm.silent(Duration::from_millis(100)).await;
    let no_toggle =
        json!({"chat_id": chat_id, "thread_id": thread_id, "event_id": event_id, "postback": {"id": "yes"}});
    fails(server.agent("send_rich_message_postback", no_toggle).await, 400, "validation");
}

#[tokio::test]
async fn page_ids_remember_the_filters_of_the_first_request() {
    let server = TestServer::start().await;
    let mut active = Vec::new();
    for _ in 0..3 {
        let (rtm, _, chat_id, _) = answered_chat(&server).await;
        active.push((rtm, chat_id));
    }
    let (_rtm, _, closed, _) = answered_chat(&server).await;
    ok(server.agent("deactivate_chat", json!({"id": closed})).await);

    let first = ok(server.agent("list_chats", json!({"filters": {"active": true}, "limit": 2})).await);
    assert_eq!(first["found_chats"], 3, "{first}");
    let page_id = first["next_page_id"].as_str().unwrap();
    fails(server.agent("list_chats", json!({"page_id": page_id, "limit": 2})).await, 400, "validation");
    fails(server.agent("list_chats", json!({"page_id": page_id, "filters": {}})).await, 400, "validation");
    let second = ok(server.agent("list_chats", json!({"page_id": page_id})).await);
    let ids: Vec<&str> = first["chats_summary"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["chats_summary"].as_array().unwrap())
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{second}");
    assert!(!ids.contains(&closed.as_str()));
    assert!(second.get("next_page_id").is_none() && second["previous_page_id"].is_string());

    let inactive = ok(server.agent("list_chats", json!({"filters": {"active": false}})).await);
    assert_eq!(inactive["chats_summary"].as_array().unwrap().len(), 1);
    assert_eq!(inactive["chats_summary"][0]["id"], closed.as_str());
    let elsewhere = ok(server.agent("list_chats", json!({"filters": {"group_ids": [7]}})).await);
    assert_eq!(elsewhere["found_chats"], 0);
    let many: Vec<u32> = (0..201).collect();
    fails(server.agent("list_chats", json!({"filters": {"group_ids": many}})).await, 400, "validation");
    fails(server.agent("list_chats", json!({"page_id": "garbage"})).await, 400, "validation");
    fails(server.agent("list_chats", json!({"limit": 101})).await, 400, "validation");

    // list_threads: a page id alone, and each thread once.
    let chat_id = &active[0].1;
    let threads = ok(server.agent("list_threads", json!({"chat_id": chat_id, "limit": 1})).await);
    assert_eq!((threads["found_threads"].as_u64(), threads["threads"].as_array().map(Vec::len)), (Some(1), Some(1)));
    fails(
        server.agent("list_threads", json!({"chat_id": chat_id, "page_id": "x", "limit": 1})).await,
        400,
        "validation",
    );
    fails(server.agent("list_threads", json!({"chat_id": "NOSUCH"})).await, 404, "not_found");
}

#[tokio::test]
async fn agents_for_transfer_are_the_available_ones_fewest_chats_first() {
    let server = TestServer::start().await;
    with_sam(&server).await;
    let (_rtm, _, chat_id, _) = answered_chat(&server).await;
    // Alex is in the chat; Sam is offline until they set a status.
    let list = ok(server.agent("list_agents_for_transfer", json!({"chat_id": chat_id})).await);
    assert_eq!(list, json!([]));
    ok(as_sam(&server, "set_routing_status", json!({"status": "not_accepting_chats"})).await);
    let list = ok(server.agent("list_agents_for_transfer", json!({"chat_id": chat_id})).await);
    assert_eq!(list, json!([{"agent_id": SAM, "total_active_chats": 0}]));
    fails(server.agent("list_agents_for_transfer", json!({"chat_id": "NOSUCH"})).await, 404, "not_found");
    fails(server.agent("list_agents_for_transfer", json!({})).await, 400, "validation");
}

#[tokio::test]
async fn archives_page_with_their_first_requests_filters_and_highlights() {
    let server = TestServer::start().await;
    let mut threads = Vec::new();
    for text in ["I need help with billing", "refund please", "more HELP wanted"] {
        let (mut rtm, _, _) = Rtm::logged_in(&server).await;
        let started = rtm
            .request("start_chat", json!({"chat": {"thread": {"events": [{"type": "message", "text": text}]}}}))
            .await;
        threads.push(started["payload"]["thread_id"].as_str().unwrap().to_owned());
    }
    let first = ok(server
        .agent(
            "list_archives",
            json!({"filters": {"query": "help", "a_filter_confab_does_not_know": 1}, "limit": 1,
                   "highlights": {"pre_tag": "[", "post_tag": "]"}, "sort_order": "asc"}),
        )
        .await);
    assert_eq!(first["found_chats"], 2, "{first}");
    let chat = &first["chats"][0];
    assert_eq!(chat["thread"]["id"], threads[0].as_str(), "oldest first");
    assert_eq!(chat["thread"]["events"][0]["text"], "I need help with billing");
    assert_eq!(chat["thread"]["highlight"][0]["highlight"], "I need [help] with billing");
    assert_eq!(chat["thread"]["highlight"][0]["type"], "event.message");
    assert_eq!(chat["thread"]["tags"], json!([]));
    assert_eq!((chat["is_followed"].as_bool(), chat["access"]["group_ids"][0].as_u64()), (Some(false), Some(0)));
    assert_eq!(chat["users"][0]["type"], "customer");
    assert!(first.get("previous_page_id").is_none());

    // The next page: the same query, order, size and highlights, from the page id alone.
    let page_id = first["next_page_id"].as_str().unwrap();
    let second = ok(server.agent("list_archives", json!({"page_id": page_id})).await);
    assert_eq!(second["chats"][0]["thread"]["id"], threads[2].as_str());
    assert_eq!(second["chats"][0]["thread"]["highlight"][0]["highlight"], "more [HELP] wanted");
    assert!(second.get("next_page_id").is_none() && second["previous_page_id"].is_string(), "{second}");
    fails(server.agent("list_archives", json!({"page_id": page_id, "filters": {}})).await, 400, "validation");
    fails(server.agent("list_archives", json!({"page_id": "garbage"})).await, 400, "validation");

    // Named threads come alone, in one page.
    let named = ok(server.agent("list_archives", json!({"filters": {"thread_ids": [threads[1], threads[2]]}})).await);
    assert_eq!((named["found_chats"].as_u64(), named.get("next_page_id")), (Some(2), None));
    for bad in [
        json!({"filters": {"thread_ids": [threads[0]], "query": "help"}}),
        json!({"filters": {"thread_ids": (0..21).map(|n| n.to_string()).collect::<Vec<_>>()}}),
        json!({"filters": {"from": "yesterday"}}),
        json!({"filters": {"tags": {"exists": true, "values": ["a"]}}}),
        json!({"filters": {"properties": {"ns": {"p": {"values": [{"nested": 1}]}}}}}),
        json!({"filters": {"surveys": [{"type": "during_chat"}]}}),
        json!({"filters": {"group_ids": "0"}}),
        json!({"highlights": {"pre_tag": "<b>"}}),
        json!({"limit": 101}),
    ] {
        fails(server.agent("list_archives", bad.clone()).await, 400, "validation");
    }
    let (_, error) = server.agent("list_archives", json!({"filters": {"from": "yesterday"}})).await;
    assert!(error["error"]["message"].as_str().unwrap().contains("filters.from"), "{error}");
}
