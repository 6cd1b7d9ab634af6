//! The chat state actions of the customer RTM socket, driven by raw frames: every event type,
//! rich message postbacks, seen markers, sneak peeks, properties (ratings included), and the
//! customer's own fields and page. Each with the push the other party gets (the customer's
//! second socket, an agent through the Agent Web API, or an agent's socket handle on the hub,
//! as agents have no socket of their own yet) and bad input answered in the documented error,
//! the socket serving on.

mod common;

use common::*;
use confab_server::clock::{Clock, Micros};
use serde_json::{Value, json};
use std::time::Duration;

const AGENT: &str = ALEX;
const START: Micros = Micros(1_795_000_000_000_000);

/// A customer with a chat (one message, "hello") and two sockets: `first` started the chat,
/// `second` logged in after (a second tab).
struct Customer {
    first: Rtm,
    second: Rtm,
    id: String,
    chat_id: String,
    thread_id: String,
    visitor: Visitor,
}

impl Customer {
    async fn with_chat(server: &TestServer) -> Self {
        let (mut first, visitor, id) = Rtm::logged_in(server).await;
        first.send("start_chat", json!({"chat": {"thread": {"events": [{"type":"message","text":"hello"}]}}})).await;
        let response = first.recv().await;
        let _incoming_chat = first.recv().await;
        let second = second_socket(server, &visitor).await;
        Customer {
            first,
            second,
            id,
            chat_id: response["payload"]["chat_id"].as_str().unwrap().to_owned(),
            thread_id: response["payload"]["thread_id"].as_str().unwrap().to_owned(),
            visitor,
        }
    }

    /// The agent writes in the chat (and so joins it); both sockets have read what that pushed.
    async fn agent_joins(&mut self, server: &TestServer, event: Value) -> String {
        let (status, sent) = server.agent("send_event", json!({"chat_id": self.chat_id, "event": event})).await;
        assert_eq!(status, 200, "{sent}");
        for rtm in [&mut self.first, &mut self.second] {
            assert_eq!(rtm.recv().await["action"], "user_added_to_chat");
            assert_eq!(rtm.recv().await["action"], "incoming_event");
        }
        sent["event_id"].as_str().unwrap().to_owned()
    }
}

async fn second_socket(server: &TestServer, visitor: &Visitor) -> Rtm {
    let token = visitor.token().await;
    let mut rtm = Rtm::open(&server.ws_url()).await;
    let login =
        rtm.request("login", json!({"token": format!("Bearer {}", token["access_token"].as_str().unwrap())})).await;
    assert_eq!(login["success"], true, "{login}");
    rtm
}

/// Sends a request and asserts it fails with `kind`.
async fn refused(rtm: &mut Rtm, action: &str, payload: Value, kind: &str) {
    let reply = rtm.request(action, payload.clone()).await;
    assert_eq!(reply["success"], false, "{action} {payload}: {reply}");
    assert_eq!(reply["payload"]["error"]["type"], kind, "{action} {payload}: {reply}");
    assert!(reply["payload"]["error"]["message"].is_string());
}

/// Sends a request, asserts it succeeds, and returns the push that follows on the same
/// socket, which must carry the request's id.
async fn ok_then_push(rtm: &mut Rtm, action: &str, payload: Value, push: &str) -> Value {
    let request_id = rtm.send(action, payload).await;
    let response = rtm.recv().await;
    assert_eq!(
        (response["type"].as_str(), response["success"].as_bool(), response["request_id"].as_str()),
        (Some("response"), Some(true), Some(request_id.as_str())),
        "{response}"
    );
    let frame = rtm.recv().await;
    assert_eq!((frame["action"].as_str(), frame["request_id"].as_str()), (Some(push), Some(request_id.as_str())));
    frame
}

/// A push another socket gets: no request id.
async fn pushed(rtm: &mut Rtm, push: &str) -> Value {
    let frame = rtm.recv().await;
    assert_eq!((frame["type"].as_str(), frame["action"].as_str()), (Some("push"), Some(push)), "{frame}");
    assert!(frame.get("request_id").is_none(), "{frame}");
    frame["payload"].clone()
}

async fn still_serving(rtm: &mut Rtm) {
    assert_eq!(rtm.request("ping", json!({})).await["success"], true);
}

fn rich_message(button_url: &str) -> Value {
    json!({"type": "rich_message", "template_id": "cards", "elements": [{
        "title": "Our plans",
        "image": {"url": "https://cdn.example/plans.png"},
        "buttons": [
            {"type": "message", "text": "Pro", "postback_id": "pick_pro", "value": "pro"},
            {"type": "url", "text": "Compare", "postback_id": "compare", "value": button_url}
        ]
    }]})
}

#[tokio::test]
async fn send_event_takes_every_event_type_a_client_may_send() {
    let server = TestServer::start().await;
    let mut me = Customer::with_chat(&server).await;
    let chat_id = me.chat_id.clone();
    let send = |event: Value| json!({"chat_id": chat_id, "event": event});

    let message = ok_then_push(
        &mut me.first,
        "send_event",
        send(json!({"type":"message","text":"hi","custom_id":"c-1"})),
        "incoming_event",
    )
    .await;
    assert_eq!(message["payload"]["event"]["custom_id"], "c-1", "custom_id echoed");
    assert_eq!(pushed(&mut me.second, "incoming_event").await["event"]["custom_id"], "c-1");

    let file = json!({"type":"file","url":"https://cdn.example/a.png","name":"a.png","content_type":"image/png",
        "width": 10, "height": 10, "thumbnail_url": "https://cdn.example/a-t.png", "alternative_text": "A"});
    let form = json!({"type":"filled_form","form_id":"prechat","fields":[
        {"id":"1","type":"name","label":"Name","answer":"Ada"},
        {"id":"2","type":"checkbox","label":"Topics","answers":[{"id":"0","label":"Billing"}]}]});
    let with_properties = json!({"type":"message","text":"tagged","properties":{}});
    for event in [file, form, with_properties] {
        let push = ok_then_push(&mut me.first, "send_event", send(event.clone()), "incoming_event").await;
        assert_eq!(push["payload"]["event"]["type"], event["type"]);
        assert_eq!(pushed(&mut me.second, "incoming_event").await["event"]["type"], event["type"]);
    }

    // Rich and system messages are the agents'; bad URLs, empty and oversized bodies refused.
    let many_fields: Vec<Value> = (0..=confab_server::limits::MAX_FORM_FIELDS)
        .map(|i| json!({"type":"question","label": format!("Q{i}"), "answer": "a"}))
        .collect();
    for bad in [
        rich_message("https://shop.example/compare"),
        json!({"type":"system_message","text":"fake"}),
        json!({"type":"file","url":"javascript:alert(1)"}),
        json!({"type":"file","url":"https://cdn.example/a.png","thumbnail_url":"data:image/png;base64,AA"}),
        json!({"type":"filled_form","form_id":"","fields":[]}),
        json!({"type":"filled_form","form_id":"prechat","fields": many_fields}),
        json!({"type":"message","text":""}),
        json!({"type":"message","text":"x","custom_id": "c".repeat(confab_server::limits::MAX_CUSTOM_ID_BYTES + 1)}),
        json!({"type":"message","text":"x","visibility":"agents"}),
        json!({"type":"message","text":"x","properties":{"ns": {"k": {"deep": 1}}}}),
        json!({"type":"annotation","text":"?"}),
        json!({"type":"message"}),
        json!("message"),
    ] {
        refused(&mut me.first, "send_event", send(bad), "validation").await;
    }
    refused(&mut me.first, "send_event", json!({"event": {"type":"message","text":"x"}}), "validation").await;
    refused(
        &mut me.first,
        "send_event",
        json!({"chat_id":"NOSUCHCHAT","event":{"type":"message","text":"x"}}),
        "not_found",
    )
    .await;

    // The agent's rich message: http(s) links only; a good one reaches the customer.
    let (status, body) =
        server.agent("send_event", json!({"chat_id": me.chat_id, "event": rich_message("javascript:alert(1)")})).await;
    assert_eq!((status, body["error"]["type"].as_str()), (400, Some("validation")), "{body}");
    me.agent_joins(&server, rich_message("https://shop.example/compare")).await;

    // attach_to_last_thread: an ended chat takes the event in its last thread only when asked.
    me.first.request("deactivate_chat", json!({"id": me.chat_id})).await;
    assert_eq!(me.first.recv().await["action"], "chat_deactivated");
    assert_eq!(pushed(&mut me.second, "chat_deactivated").await["chat_id"], me.chat_id.as_str());
    let late = json!({"type":"message","text":"one more thing"});
    refused(&mut me.first, "send_event", send(late.clone()), "chat_inactive").await;
    let mut attached = send(late);
    attached["attach_to_last_thread"] = json!(true);
    let push = ok_then_push(&mut me.first, "send_event", attached, "incoming_event").await;
    assert_eq!(push["payload"]["thread_id"], me.thread_id.as_str(), "the last thread");
    assert_eq!(pushed(&mut me.second, "incoming_event").await["event"]["text"], "one more thing");
    still_serving(&mut me.first).await;
}

#[tokio::test]
async fn a_rich_message_postback_reaches_the_agents_and_the_customers_other_sockets() {
    let server = TestServer::start().await;
    let mut me = Customer::with_chat(&server).await;
    let rich_id = me.agent_joins(&server, rich_message("https://shop.example/compare")).await;
    let mut agent = AgentSocket::subscribe(&server, AGENT);

    let postback = json!({"chat_id": me.chat_id, "thread_id": me.thread_id, "event_id": rich_id,
        "postback": {"id": "pick_pro", "toggled": true}});
    let push =
        ok_then_push(&mut me.first, "send_rich_message_postback", postback, "incoming_rich_message_postback").await;
    let expected = json!({"user_id": me.id, "chat_id": me.chat_id, "thread_id": me.thread_id, "event_id": rich_id,
        "postback": {"id": "pick_pro", "toggled": true}});
    assert_eq!(push["payload"], expected);
    assert_eq!(pushed(&mut me.second, "incoming_rich_message_postback").await, expected);
    let theirs = agent.next().await;
    assert_eq!((theirs["action"].as_str(), &theirs["payload"]), (Some("incoming_rich_message_postback"), &expected));

    let hello_id = format!("{}_1", me.thread_id);
    let with = |event_id: &str, id: &str| json!({"chat_id": me.chat_id, "thread_id": me.thread_id, "event_id": event_id, "postback": {"id": id, "toggled": true}});
    refused(&mut me.first, "send_rich_message_postback", with(&rich_id, "no_such_button"), "validation").await;
    refused(&mut me.first, "send_rich_message_postback", with(&hello_id, "pick_pro"), "validation").await;
    refused(&mut me.first, "send_rich_message_postback", with("NOSUCH_1", "pick_pro"), "not_found").await;
    let mut wrong_thread = with(&rich_id, "pick_pro");
    wrong_thread["thread_id"] = json!("NOSUCHTHREAD");
    refused(&mut me.first, "send_rich_message_postback", wrong_thread, "not_found").await;
    let mut wrong_type = with(&rich_id, "pick_pro");
    wrong_type["postback"] = json!("pick_pro");
    refused(&mut me.first, "send_rich_message_postback", wrong_type, "validation").await;
    let mut missing = with(&rich_id, "pick_pro");
    missing.as_object_mut().unwrap().remove("postback");
    refused(&mut me.first, "send_rich_message_postback", missing, "validation").await;
    let (mut mallory, _, _) = Rtm::logged_in(&server).await;
    refused(&mut mallory, "send_rich_message_postback", with(&rich_id, "pick_pro"), "not_found").await;
    agent.silent().await;

    // The choice stands in what a later page reads: the chosen button names who chose it.
    let buttons = |chat: &Value| chat["payload"]["thread"]["events"][1]["elements"][0]["buttons"].clone();
    let chat = me.first.request("get_chat", json!({"chat_id": me.chat_id})).await;
    assert_eq!(buttons(&chat)[0]["user_ids"], json!([me.id]), "{chat}");
    assert!(buttons(&chat)[1].get("user_ids").is_none(), "{chat}");
    let threads = me.first.request("list_threads", json!({"chat_id": me.chat_id})).await;
    let listed = &threads["payload"]["threads"][0]["events"][1]["elements"][0]["buttons"][0];
    assert_eq!(listed["user_ids"], json!([me.id]), "{threads}");
    // Taken back (toggled off): nobody's choice any more.
    let mut undo = with(&rich_id, "pick_pro");
    undo["postback"]["toggled"] = json!(false);
    ok_then_push(&mut me.first, "send_rich_message_postback", undo, "incoming_rich_message_postback").await;
    let chat = me.first.request("get_chat", json!({"chat_id": me.chat_id})).await;
    assert!(buttons(&chat)[0].get("user_ids").is_none(), "{chat}");
    still_serving(&mut me.first).await;
}

/// A server on a manual clock: seen markers and sneak peek rates are exact.
async fn server_on_manual_clock() -> (TestServer, Clock) {
    let clock = Clock::manual(START);
    (TestServer::start_on_clock(&[], clock.clone()).await, clock)
}

#[tokio::test]
async fn mark_events_as_seen_moves_forward_only_and_everyone_hears() {
    let (server, clock) = server_on_manual_clock().await;
    let mut me = Customer::with_chat(&server).await;
    me.agent_joins(&server, json!({"type":"message","text":"Hi, how can I help?"})).await;
    clock.advance(Duration::from_secs(60));
    let seen = Micros(START.0 + 30_000_000).rfc3339();

    let request = json!({"chat_id": me.chat_id, "seen_up_to": seen});
    let push = ok_then_push(&mut me.first, "mark_events_as_seen", request, "events_marked_as_seen").await;
    let expected = json!({"user_id": me.id, "chat_id": me.chat_id, "seen_up_to": seen});
    assert_eq!(push["payload"], expected);
    assert_eq!(pushed(&mut me.second, "events_marked_as_seen").await, expected);

    // Shown on the user in get_chat and list_chats, to the customer and to the agent.
    let chat = me.first.request("get_chat", json!({"chat_id": me.chat_id})).await;
    assert_eq!(chat["payload"]["users"][0]["events_seen_up_to"], seen.as_str());
    let list = me.first.request("list_chats", json!({})).await;
    assert_eq!(list["payload"]["chats_summary"][0]["users"][0]["events_seen_up_to"], seen.as_str());
    let (_, agents_view) = server.agent("get_chat", json!({"chat_id": me.chat_id})).await;
    let customer = agents_view["users"].as_array().unwrap().iter().find(|u| u["type"] == "customer").unwrap();
    assert_eq!(customer["events_seen_up_to"], seen.as_str());

    // An earlier time is accepted and changes nothing: no push.
    let earlier = Micros(START.0 + 1_000_000).rfc3339();
    let reply = me.first.request("mark_events_as_seen", json!({"chat_id": me.chat_id, "seen_up_to": earlier})).await;
    assert_eq!(reply["success"], true);
    me.second.silent(Duration::from_millis(100)).await;
    let chat = me.second.request("get_chat", json!({"chat_id": me.chat_id})).await;
    assert_eq!(chat["payload"]["users"][0]["events_seen_up_to"], seen.as_str());

    for bad in [
        json!({"chat_id": me.chat_id, "seen_up_to": "yesterday"}),
        json!({"chat_id": me.chat_id, "seen_up_to": 5}),
        json!({"chat_id": me.chat_id}),
    ] {
        refused(&mut me.first, "mark_events_as_seen", bad, "validation").await;
    }
    refused(&mut me.first, "mark_events_as_seen", json!({"chat_id": "NOSUCHCHAT", "seen_up_to": seen}), "not_found")
        .await;
    let (mut mallory, _, _) = Rtm::logged_in(&server).await;
    refused(&mut mallory, "mark_events_as_seen", json!({"chat_id": me.chat_id, "seen_up_to": seen}), "not_found").await;
    still_serving(&mut me.first).await;
}

#[tokio::test]
async fn sneak_peeks_reach_agents_only_at_a_bounded_rate() {
    use confab_server::limits::SNEAK_PEEK_BURST;
    let (server, clock) = server_on_manual_clock().await;
    let mut me = Customer::with_chat(&server).await;
    me.agent_joins(&server, json!({"type":"message","text":"Hi"})).await;
    let mut agent = AgentSocket::subscribe(&server, AGENT);
    let mut customer_handle = AgentSocket::subscribe(&server, &me.id);

    let peek = |text: &str| json!({"chat_id": me.chat_id, "sneak_peek_text": text});
    let reply = me.first.request("send_sneak_peek", peek("what is the price")).await;
    assert_eq!(reply["success"], true, "{reply}");
    let frame = agent.next().await;
    assert_eq!(frame["action"], "incoming_sneak_peek");
    assert_eq!(
        frame["payload"],
        json!({"chat_id": me.chat_id, "thread_id": me.thread_id,
            "sneak_peek": {"author_id": me.id, "text": "what is the price", "timestamp": START.unix_seconds()}})
    );
    // Never to customers: neither the typing socket, nor the customer's others.
    me.first.silent(Duration::from_millis(100)).await;
    me.second.silent(Duration::from_millis(100)).await;
    customer_handle.silent().await;
    let chat = me.first.request("get_chat", json!({"chat_id": me.chat_id})).await;
    assert_eq!(chat["payload"]["thread"]["events"].as_array().unwrap().len(), 2, "not stored as an event");

    // A named rate per socket: the burst, then too_many_requests until the clock moves.
    for n in 1..SNEAK_PEEK_BURST {
        assert_eq!(me.first.request("send_sneak_peek", peek(&format!("t{n}"))).await["success"], true);
        agent.next().await;
    }
    refused(&mut me.first, "send_sneak_peek", peek("too fast"), "too_many_requests").await;
    agent.silent().await;
    clock.advance(Duration::from_secs(1));
    assert_eq!(me.first.request("send_sneak_peek", peek("again")).await["success"], true);
    assert_eq!(agent.next().await["payload"]["sneak_peek"]["text"], "again");

    // Bad input; another customer's chat; an ended chat.
    refused(&mut me.second, "send_sneak_peek", json!({"chat_id": me.chat_id}), "validation").await;
    refused(&mut me.second, "send_sneak_peek", json!({"chat_id": me.chat_id, "sneak_peek_text": 7}), "validation")
        .await;
    let long = "x".repeat(confab_server::limits::MAX_SNEAK_PEEK_TEXT_BYTES + 1);
    refused(&mut me.second, "send_sneak_peek", json!({"chat_id": me.chat_id, "sneak_peek_text": long}), "validation")
        .await;
    let (mut mallory, _, _) = Rtm::logged_in(&server).await;
    refused(&mut mallory, "send_sneak_peek", json!({"chat_id": me.chat_id, "sneak_peek_text": "x"}), "not_found").await;
    me.second.request("deactivate_chat", json!({"id": me.chat_id})).await;
    assert_eq!(me.second.recv().await["action"], "chat_deactivated");
    refused(&mut me.second, "send_sneak_peek", peek("after"), "chat_inactive").await;
    still_serving(&mut me.second).await;
}

#[tokio::test]
async fn chat_thread_and_event_properties_reach_every_member() {
    let server = TestServer::start().await;
    let mut me = Customer::with_chat(&server).await;
    let hello_id = format!("{}_1", me.thread_id);
    let mut agent = AgentSocket::subscribe(&server, AGENT);
    me.agent_joins(&server, json!({"type":"message","text":"Hi"})).await;
    let _user_added = agent.next().await;
    let _incoming_event = agent.next().await;

    // Chat: v3.5 names it `id`, v3.2 `chat_id`.
    let update = json!({"id": me.chat_id, "properties": {"shop": {"cart": "3 items", "vip": false}}});
    let push = ok_then_push(&mut me.first, "update_chat_properties", update, "chat_properties_updated").await;
    let expected = json!({"chat_id": me.chat_id, "properties": {"shop": {"cart": "3 items", "vip": false}}});
    assert_eq!(push["payload"], expected);
    assert_eq!(pushed(&mut me.second, "chat_properties_updated").await, expected);
    assert_eq!(agent.next().await["payload"], expected, "the agent too");
    let delete = json!({"chat_id": me.chat_id, "properties": {"shop": ["vip"]}});
    let push = ok_then_push(&mut me.first, "delete_chat_properties", delete, "chat_properties_deleted").await;
    assert_eq!(push["payload"], json!({"chat_id": me.chat_id, "properties": {"shop": ["vip"]}}));
    assert_eq!(pushed(&mut me.second, "chat_properties_deleted").await["properties"], json!({"shop": ["vip"]}));
    agent.next().await;

    // Thread.
    let update =
        json!({"chat_id": me.chat_id, "thread_id": me.thread_id, "properties": {"shop": {"topic": "billing"}}});
    ok_then_push(&mut me.first, "update_thread_properties", update, "thread_properties_updated").await;
    let push = pushed(&mut me.second, "thread_properties_updated").await;
    assert_eq!(
        push,
        json!({"chat_id": me.chat_id, "thread_id": me.thread_id, "properties": {"shop": {"topic": "billing"}}})
    );
    agent.next().await;

    // Event.
    let update = json!({"chat_id": me.chat_id, "thread_id": me.thread_id, "event_id": hello_id,
        "properties": {"shop": {"flagged": true}}});
    ok_then_push(&mut me.first, "update_event_properties", update, "event_properties_updated").await;
    let push = pushed(&mut me.second, "event_properties_updated").await;
    assert_eq!(
        (push["event_id"].as_str(), &push["properties"]),
        (Some(hello_id.as_str()), &json!({"shop": {"flagged": true}}))
    );
    agent.next().await;

    // Every read shows them.
    let chat = me.second.request("get_chat", json!({"chat_id": me.chat_id})).await["payload"].clone();
    assert_eq!(chat["properties"], json!({"shop": {"cart": "3 items"}}));
    assert_eq!(chat["thread"]["properties"], json!({"shop": {"topic": "billing"}}));
    assert_eq!(chat["thread"]["events"][0]["properties"], json!({"shop": {"flagged": true}}));
    let threads = me.second.request("list_threads", json!({"chat_id": me.chat_id})).await;
    assert_eq!(threads["payload"]["threads"][0]["properties"]["shop"]["topic"], "billing");
    let list = me.second.request("list_chats", json!({})).await;
    assert_eq!(list["payload"]["chats_summary"][0]["properties"]["shop"]["cart"], "3 items");

    let delete = json!({"chat_id": me.chat_id, "thread_id": me.thread_id, "event_id": hello_id, "properties": {"shop": ["flagged"]}});
    ok_then_push(&mut me.first, "delete_event_properties", delete, "event_properties_deleted").await;
    assert_eq!(pushed(&mut me.second, "event_properties_deleted").await["properties"], json!({"shop": ["flagged"]}));
    let delete = json!({"chat_id": me.chat_id, "thread_id": me.thread_id, "properties": {"shop": ["topic"]}});
    ok_then_push(&mut me.first, "delete_thread_properties", delete, "thread_properties_deleted").await;
    assert_eq!(pushed(&mut me.second, "thread_properties_deleted").await["thread_id"], me.thread_id.as_str());
    let chat = me.second.request("get_chat", json!({"chat_id": me.chat_id})).await["payload"].clone();
    assert_eq!((&chat["thread"]["properties"], chat["thread"]["events"][0].get("properties")), (&json!({}), None));

    // Bad input: missing and wrongly typed fields, unknown ids, someone else's chat.
    let p = json!({"shop": {"x": 1}});
    let (c, t) = (me.chat_id.clone(), me.thread_id.clone());
    for (action, bad, kind) in [
        ("update_chat_properties", json!({"properties": p}), "validation"),
        ("update_chat_properties", json!({"id": c, "properties": "shop"}), "validation"),
        ("update_chat_properties", json!({"id": c, "properties": {"shop": {"x": {"deep": 1}}}}), "validation"),
        ("update_chat_properties", json!({"id": c, "properties": {}}), "validation"),
        ("update_chat_properties", json!({"id": c, "properties": {"": {"x": 1}}}), "validation"),
        ("delete_chat_properties", json!({"id": c, "properties": {"shop": "x"}}), "validation"),
        ("delete_chat_properties", json!({"id": c}), "validation"),
        ("update_chat_properties", json!({"id": "NOSUCHCHAT", "properties": p}), "not_found"),
        ("update_thread_properties", json!({"chat_id": c, "properties": p}), "validation"),
        ("update_thread_properties", json!({"chat_id": c, "thread_id": "NOSUCHTHREAD", "properties": p}), "not_found"),
        (
            "delete_thread_properties",
            json!({"chat_id": c, "thread_id": "NOSUCHTHREAD", "properties": {"shop": ["x"]}}),
            "not_found",
        ),
        ("update_event_properties", json!({"chat_id": c, "thread_id": t, "properties": p}), "validation"),
        (
            "update_event_properties",
            json!({"chat_id": c, "thread_id": t, "event_id": "NOPE_1", "properties": p}),
            "not_found",
        ),
        (
            "delete_event_properties",
            json!({"chat_id": c, "thread_id": t, "event_id": "NOPE_1", "properties": {"shop": ["x"]}}),
            "not_found",
        ),
    ] {
        refused(&mut me.first, action, bad, kind).await;
    }
    let (mut mallory, _, _) = Rtm::logged_in(&server).await;
    let bad_start = json!({"chat": {"properties": {"ns": {"x": {"deep": 1}}}}});
    refused(&mut mallory, "start_chat", bad_start, "validation").await;
    let bad_rating = json!({"chat": {"thread": {"properties": {"rating": {"score": 9}}}}});
    refused(&mut mallory, "start_chat", bad_rating, "validation").await;
    for (action, payload) in [
        ("update_chat_properties", json!({"id": c, "properties": p})),
        ("delete_chat_properties", json!({"id": c, "properties": {"shop": ["cart"]}})),
        ("update_thread_properties", json!({"chat_id": c, "thread_id": t, "properties": p})),
        ("update_event_properties", json!({"chat_id": c, "thread_id": t, "event_id": hello_id, "properties": p})),
    ] {
        refused(&mut mallory, action, payload, "not_found").await;
    }
    // An event of another chat's thread is not found in this one.
    let mut other = Customer::with_chat(&server).await;
    let theirs = json!({"chat_id": me.chat_id, "thread_id": me.thread_id, "event_id": format!("{}_1", other.thread_id), "properties": p});
    refused(&mut me.first, "update_event_properties", theirs, "not_found").await;
    refused(
        &mut other.first,
        "update_thread_properties",
        json!({"chat_id": other.chat_id, "thread_id": t, "properties": p}),
        "not_found",
    )
    .await;
    me.second.silent(Duration::from_millis(100)).await;
    still_serving(&mut me.first).await;
}

#[tokio::test]
async fn a_customer_rates_the_ended_chat_and_cancels_the_rating() {
    let server = TestServer::start().await;
    let mut me = Customer::with_chat(&server).await;
    me.agent_joins(&server, json!({"type":"message","text":"Anything else?"})).await;
    me.first.request("deactivate_chat", json!({"id": me.chat_id})).await;
    assert_eq!(me.first.recv().await["action"], "chat_deactivated");
    pushed(&mut me.second, "chat_deactivated").await;

    // As the SDK's rateChat does it: the latest thread, then its rating.
    let threads = me.first.request("list_threads", json!({"chat_id": me.chat_id, "sort_order": "desc"})).await;
    let latest = threads["payload"]["threads"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(latest, me.thread_id);
    let rate = json!({"chat_id": me.chat_id, "thread_id": latest, "properties": {"rating": {"score": 1, "comment": "Thanks!"}}});
    ok_then_push(&mut me.first, "update_thread_properties", rate, "thread_properties_updated").await;
    let push = pushed(&mut me.second, "thread_properties_updated").await;
    assert_eq!(push["properties"], json!({"rating": {"score": 1, "comment": "Thanks!"}}));
    let (_, agents_view) = server.agent("get_chat", json!({"chat_id": me.chat_id})).await;
    assert_eq!(agents_view["thread"]["properties"]["rating"]["score"], 1, "the agent sees the rating");
    assert_eq!(agents_view["thread"]["active"], false);

    // A bad rating (the score is 0 or 1, the comment short) changes nothing.
    let long = "x".repeat(confab_server::limits::MAX_RATING_COMMENT_BYTES + 1);
    for rating in [json!({"score": 5}), json!({"score": "good"}), json!({"comment": long}), json!({"stars": 3})] {
        let bad = json!({"chat_id": me.chat_id, "thread_id": latest, "properties": {"rating": rating}});
        refused(&mut me.first, "update_thread_properties", bad, "validation").await;
    }

    // cancelRate: the rating's names deleted.
    let cancel = json!({"chat_id": me.chat_id, "thread_id": latest, "properties": {"rating": ["score", "comment"]}});
    ok_then_push(&mut me.first, "delete_thread_properties", cancel, "thread_properties_deleted").await;
    assert_eq!(
        pushed(&mut me.second, "thread_properties_deleted").await["properties"],
        json!({"rating": ["score", "comment"]})
    );
    let (_, agents_view) = server.agent("get_chat", json!({"chat_id": me.chat_id})).await;
    assert!(agents_view["thread"]["properties"].get("rating").is_none(), "{agents_view}");
    still_serving(&mut me.first).await;
}

#[tokio::test]
async fn get_customer_answers_the_customer_with_statistics() {
    let server = TestServer::start().await;
    let visitor = server.visitor();
    let token = visitor.token().await;
    let mut rtm = Rtm::open(&server.ws_url()).await;
    let login = json!({"token": format!("Bearer {}", token["access_token"].as_str().unwrap()),
        "customer": {"name": "Ada", "session_fields": [{"plan": "free"}]},
        "customer_page": {"url": "https://shop.example/", "title": "Shop"}});
    assert_eq!(rtm.request("login", login).await["success"], true);
    rtm.send("start_chat", json!({"chat": {"thread": {"events": [{"type":"message","text":"hello"}]}}})).await;
    rtm.recv().await;
    rtm.recv().await;
    let page = json!({"url": "https://shop.example/cart", "title": "Cart"});
    ok_then_push(&mut rtm, "update_customer_page", page, "customer_page_updated").await;

    let customer = rtm.request("get_customer", json!({})).await["payload"].clone();
    assert_eq!(customer["type"], "customer");
    assert_eq!(customer["id"], token["entity_id"]);
    assert_eq!(customer["name"], "Ada");
    assert_eq!(customer["session_fields"], json!([{"plan": "free"}]));
    assert_eq!(
        customer["statistics"],
        json!({"chats_count": 1, "threads_count": 1, "visits_count": 1, "page_views_count": 2,
            "greetings_shown_count": 0, "greetings_accepted_count": 0})
    );
    refused(&mut rtm, "get_customer", json!("me"), "validation").await;
    still_serving(&mut rtm).await;
}

#[tokio::test]
async fn update_customer_reaches_the_customers_other_sockets_and_the_agents() {
    let server = TestServer::start().await;
    let mut me = Customer::with_chat(&server).await;
    me.agent_joins(&server, json!({"type":"message","text":"Hi"})).await;
    let mut agent = AgentSocket::subscribe(&server, AGENT);

    let update = json!({"name": "Ada", "email": "ada@example.com", "avatar": "https://cdn.example/ada.png",
        "session_fields": [{"plan": "pro"}]});
    let push = ok_then_push(&mut me.first, "update_customer", update, "customer_updated").await;
    // v3.5: the customer's fields at the top level.
    let expected = json!({"id": me.id, "name": "Ada", "email": "ada@example.com",
        "avatar": "https://cdn.example/ada.png", "session_fields": [{"plan": "pro"}]});
    assert_eq!(push["payload"], expected);
    assert_eq!(pushed(&mut me.second, "customer_updated").await, expected);
    let theirs = agent.next().await;
    assert_eq!((theirs["action"].as_str(), &theirs["payload"]), (Some("customer_updated"), &expected));
    let (_, agents_view) = server.agent("get_chat", json!({"chat_id": me.chat_id})).await;
    let customer = agents_view["users"].as_array().unwrap().iter().find(|u| u["type"] == "customer").unwrap();
    assert_eq!((&customer["name"], &customer["email"]), (&json!("Ada"), &json!("ada@example.com")));

    for bad in [
        json!({"email": "ada"}),
        json!({"email": 7}),
        json!({"avatar": "http://cdn.example/ada.png"}),
        json!({"avatar": "javascript:alert(1)"}),
        json!({"name": ["Ada"]}),
        json!({"name": "A".repeat(confab_server::limits::MAX_CUSTOMER_NAME_BYTES + 1)}),
        json!({"session_fields": {"plan": "pro"}}),
        json!({"session_fields": [{"plan": 1}]}),
    ] {
        refused(&mut me.first, "update_customer", bad, "validation").await;
    }
    agent.silent().await;
    me.second.silent(Duration::from_millis(100)).await;
    still_serving(&mut me.first).await;
}

#[tokio::test]
async fn set_customer_session_fields_merges_by_key_within_a_limit() {
    use confab_server::limits::{MAX_SESSION_FIELD_VALUE_BYTES, MAX_SESSION_FIELDS};
    let server = TestServer::start().await;
    let mut me = Customer::with_chat(&server).await;

    let set = json!({"session_fields": [{"plan": "free"}, {"cart": "2 items"}]});
    let push = ok_then_push(&mut me.first, "set_customer_session_fields", set, "customer_updated").await;
    assert_eq!(push["payload"]["session_fields"], json!([{"plan": "free"}, {"cart": "2 items"}]));
    assert_eq!(pushed(&mut me.second, "customer_updated").await["session_fields"][1], json!({"cart": "2 items"}));
    let set = json!({"session_fields": [{"cart": "3 items"}]});
    ok_then_push(&mut me.first, "set_customer_session_fields", set, "customer_updated").await;
    pushed(&mut me.second, "customer_updated").await;
    let customer = me.first.request("get_customer", json!({})).await;
    assert_eq!(customer["payload"]["session_fields"], json!([{"plan": "free"}, {"cart": "3 items"}]));

    let many: Vec<Value> = (0..MAX_SESSION_FIELDS).map(|i| json!({ format!("k{i}"): "v" })).collect();
    refused(
        &mut me.first,
        "set_customer_session_fields",
        json!({"session_fields": many}),
        "customer_session_fields_limit_reached",
    )
    .await;
    let long = json!({"session_fields": [{"note": "x".repeat(MAX_SESSION_FIELD_VALUE_BYTES + 1)}]});
    refused(&mut me.first, "set_customer_session_fields", long, "customer_session_fields_limit_reached").await;
    for bad in [
        json!({}),
        json!({"session_fields": "plan=pro"}),
        json!({"session_fields": [{"a": "1", "b": "2"}]}),
        json!({"session_fields": [{}]}),
        json!({"session_fields": [{"a": true}]}),
    ] {
        refused(&mut me.first, "set_customer_session_fields", bad, "validation").await;
    }
    let customer = me.first.request("get_customer", json!({})).await;
    assert_eq!(customer["payload"]["session_fields"].as_array().unwrap().len(), 2, "nothing kept of refused ones");
    me.second.silent(Duration::from_millis(100)).await;
    still_serving(&mut me.first).await;
}

#[tokio::test]
async fn update_customer_page_counts_a_view_and_tells_the_agents_and_the_other_tabs() {
    let (server, _clock) = server_on_manual_clock().await;
    let mut me = Customer::with_chat(&server).await;
    me.agent_joins(&server, json!({"type":"message","text":"Hi"})).await;
    let mut agent = AgentSocket::subscribe(&server, AGENT);

    let page = json!({"url": "https://shop.example/cart", "title": "Your cart"});
    let mine = ok_then_push(&mut me.first, "update_customer_page", page, "customer_page_updated").await;
    let frame = agent.next().await;
    assert_eq!(frame["action"], "customer_page_updated");
    let expected = json!({"customer_id": me.id, "url": "https://shop.example/cart", "title": "Your cart", "opened_at": START.rfc3339()});
    assert_eq!(frame["payload"], expected);
    assert_eq!(mine["payload"], expected);
    assert_eq!(pushed(&mut me.second, "customer_page_updated").await, expected);
    let customer = me.second.request("get_customer", json!({})).await;
    assert_eq!(customer["payload"]["statistics"]["page_views_count"], 1);

    for bad in [
        json!({"title": "No URL"}),
        json!({"url": "javascript:alert(1)"}),
        json!({"url": "file:///etc/passwd"}),
        json!({"url": 42}),
        json!({"url": format!("https://shop.example/{}", "x".repeat(confab_server::limits::MAX_URL_BYTES))}),
        json!({"url": "https://shop.example/", "title": "t".repeat(confab_server::limits::MAX_PAGE_TITLE_BYTES + 1)}),
    ] {
        refused(&mut me.first, "update_customer_page", bad, "validation").await;
    }
    agent.silent().await;
    still_serving(&mut me.first).await;
}

#[tokio::test]
async fn login_applies_customer_fields_and_page_by_the_same_rules() {
    let server = TestServer::start().await;
    let mut me = Customer::with_chat(&server).await;
    me.agent_joins(&server, json!({"type":"message","text":"Hi"})).await;
    let mut agent = AgentSocket::subscribe(&server, AGENT);

    // A bad email fails the login in the documented shape; the socket may try again.
    let token = me.visitor.token().await;
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let mut third = Rtm::open(&server.ws_url()).await;
    refused(&mut third, "login", json!({"token": bearer, "customer": {"email": "not-an-email"}}), "validation").await;
    let login = json!({"token": bearer, "customer": {"name": "Ada", "email": "ada@example.com"},
        "customer_page": {"url": "https://shop.example/checkout", "title": "Checkout"}});
    let reply = third.request("login", login).await;
    assert_eq!(reply["payload"]["customer"]["name"], "Ada");
    assert_eq!(reply["payload"]["customer"]["statistics"]["page_views_count"], 1);

    // The same pushes as update_customer and update_customer_page.
    assert_eq!(pushed(&mut me.first, "customer_updated").await["email"], "ada@example.com");
    assert_eq!(pushed(&mut me.second, "customer_updated").await["name"], "Ada");
    assert_eq!(agent.next().await["action"], "customer_updated");
    let page = agent.next().await;
    assert_eq!(
        (page["action"].as_str(), page["payload"]["url"].as_str()),
        (Some("customer_page_updated"), Some("https://shop.example/checkout"))
    );

    // A page that is not a web page (a local file) is not counted and fails nothing.
    let mut fourth = Rtm::open(&server.ws_url()).await;
    let login = json!({"token": bearer, "customer_page": {"url": "file:///C:/test.html"}});
    let reply = fourth.request("login", login).await;
    assert_eq!(reply["success"], true);
    assert_eq!(reply["payload"]["customer"]["statistics"]["page_views_count"], 1);
    agent.silent().await;
    still_serving(&mut third).await;
}
