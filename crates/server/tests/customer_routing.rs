//! Groups, availability, routing and the queue over real sockets: the customer's `login`,
//! `list_group_statuses`, `get_predicted_agent`, `get_form`, `start_chat` routing, the
//! `groups_status_updated` and `queue_position_updated` pushes, the Agent Web API's
//! `set_routing_status` / `list_routing_statuses`, and the ticket form endpoint.

mod common;

use common::*;
use confab_server::limits::{DEFAULT_MAX_CHATS_PER_AGENT, QUEUE_WAIT_PER_POSITION_SECS};
use serde_json::{Value, json};

async fn set_status(server: &TestServer, status: &str) {
    let (code, body) = server.agent("set_routing_status", json!({"status": status})).await;
    assert_eq!((code, &body), (200, &json!({})));
}

/// A logged-in socket for a new visitor, in `group` (none: the default).
async fn login_in(server: &TestServer, group: Option<u32>) -> (Rtm, Value) {
    let token = server.visitor().token().await;
    let mut rtm = Rtm::open(&server.ws_url()).await;
    let mut payload = json!({"token": format!("Bearer {}", token["access_token"].as_str().unwrap())});
    if let Some(group) = group {
        payload["group_id"] = json!(group);
    }
    let login = rtm.request("login", payload).await;
    assert_eq!(login["success"], true, "{login}");
    (rtm, login["payload"].clone())
}

/// Starts a chat; returns the response and the `incoming_chat` push.
async fn start(rtm: &mut Rtm, chat: Value) -> (Value, Value) {
    let request_id = rtm.send("start_chat", json!({"chat": chat})).await;
    let response = rtm.recv().await;
    assert_eq!(
        (response["request_id"].as_str(), response["success"].as_bool()),
        (Some(request_id.as_str()), Some(true)),
        "{response}"
    );
    let incoming = rtm.recv().await;
    assert_eq!(incoming["action"], "incoming_chat", "{incoming}");
    (response, incoming)
}

/// A ping's answer: everything queued for the socket before it has been read.
async fn ping(rtm: &mut Rtm) {
    let reply = rtm.request("ping", json!({})).await;
    assert_eq!(reply["success"], true);
}

fn error_type(frame: &Value) -> &str {
    assert_eq!(frame["success"], false, "{frame}");
    frame["payload"]["error"]["type"].as_str().unwrap()
}

fn groups_file(json: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("groups.json");
    std::fs::write(&path, json).unwrap();
    let path = path.to_str().unwrap().to_owned();
    (dir, path)
}

#[tokio::test]
async fn login_carries_the_availability_of_the_customers_group() {
    let (_dir, path) = groups_file(r#"[{"id": 1, "name": "Sales", "agents": []}]"#);
    let server = TestServer::start_with(&["--groups-file", &path]).await;
    // Nobody accepts chats yet: offline.
    let (_, login) = login_in(&server, None).await;
    let config = &login["__priv_dynamic_config"];
    assert_eq!(config["online_groups_ids"], json!([]));
    assert_eq!(config["customer_groups"]["monitoring"]["id"], 0);
    set_status(&server, "accepting_chats").await;
    let (_, login) = login_in(&server, None).await;
    assert_eq!(login["__priv_dynamic_config"]["online_groups_ids"], json!([0]));
    // Group 1 has no agent: its customers see it offline.
    let (_, login) = login_in(&server, Some(1)).await;
    let config = &login["__priv_dynamic_config"];
    assert_eq!(
        (config["customer_groups"]["monitoring"]["id"].as_u64(), &config["online_groups_ids"]),
        (Some(1), &json!([0]))
    );
    // An unknown group is refused; the socket may log in again.
    let token = server.visitor().token().await;
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let mut rtm = Rtm::open(&server.ws_url()).await;
    let reply = rtm.request("login", json!({"token": bearer, "group_id": 42})).await;
    assert_eq!(error_type(&reply), "group_not_found");
    let reply = rtm.request("login", json!({"token": bearer, "group_id": "zero"})).await;
    assert_eq!(error_type(&reply), "validation");
    let reply = rtm.request("login", json!({"token": bearer})).await;
    assert_eq!(reply["success"], true, "{reply}");
}

#[tokio::test]
async fn customers_of_the_group_see_groups_status_updated_when_the_only_agent_comes_and_goes() {
    let (_dir, path) = groups_file(r#"[{"id": 1, "name": "Sales", "agents": []}]"#);
    let server = TestServer::start_with(&["--groups-file", &path]).await;
    let (mut general, _) = login_in(&server, None).await;
    let (mut sales, _) = login_in(&server, Some(1)).await;
    for (status, availability) in [("accepting_chats", "online"), ("offline", "offline")] {
        set_status(&server, status).await;
        let push = general.recv().await;
        assert_eq!(push["action"], "groups_status_updated", "{push}");
        assert_eq!(push["type"], "push");
        assert_eq!(push["payload"], json!({"groups": [{"id": 0, "status": availability}]}));
        assert!(push.get("request_id").is_none());
        // Group 1's customers are not told of group 0.
        ping(&mut sales).await;
    }
    // No change, no push: the next frame is the ping's answer.
    set_status(&server, "not_accepting_chats").await;
    ping(&mut general).await;
}

#[tokio::test]
async fn list_group_statuses_answers_by_group() {
    let (_dir, path) = groups_file(r#"[{"id": 3, "name": "Billing", "agents": ["alex@confab.example"]}]"#);
    let server = TestServer::start_with(&["--groups-file", &path]).await;
    let (mut rtm, _) = login_in(&server, None).await;
    let reply = rtm.request("list_group_statuses", json!({"all": true})).await;
    assert_eq!(reply["payload"], json!({"groups_status": {"0": "offline", "3": "offline"}}));
    set_status(&server, "accepting_chats").await;
    let _push = rtm.recv().await; // groups_status_updated
    let reply = rtm.request("list_group_statuses", json!({"group_ids": [3]})).await;
    assert_eq!(reply["payload"], json!({"groups_status": {"3": "online"}}));
    let reply = rtm.request("list_group_statuses", json!({"group_ids": [3, 7]})).await;
    assert_eq!(error_type(&reply), "group_not_found");
    let too_many: Vec<u32> = (0..=confab_server::limits::MAX_GROUPS as u32).collect();
    for bad in [
        json!({}),
        json!({"group_ids": "3"}),
        json!({"all": true, "group_ids": [0]}),
        json!({"all": "yes"}),
        json!({"group_ids": too_many}),
    ] {
        let reply = rtm.request("list_group_statuses", bad.clone()).await;
        assert_eq!(error_type(&reply), "validation", "{bad}");
    }
    ping(&mut rtm).await;
}

#[tokio::test]
async fn get_form_gives_the_groups_forms() {
    let server = TestServer::start().await;
    let (mut rtm, _) = login_in(&server, None).await;
    let reply = rtm.request("get_form", json!({"group_id": 0, "type": "prechat"})).await;
    assert_eq!(reply["payload"], json!({"enabled": false}));
    let reply = rtm.request("get_form", json!({"group_id": 0, "type": "ticket"})).await;
    let form = &reply["payload"]["form"];
    assert_eq!((reply["payload"]["enabled"].as_bool(), form["id"].as_str()), (Some(true), Some("ticket")));
    let types: Vec<&str> = form["fields"].as_array().unwrap().iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["header", "name", "email", "textarea"]);
    let reply = rtm.request("get_form", json!({"group_id": 0, "type": "postchat"})).await;
    assert_eq!(reply["payload"]["form"]["fields"][0]["type"], "rating");
    assert_eq!(reply["payload"]["form"]["fields"][0]["comment_label"], "Leave a comment");
    let reply = rtm.request("get_form", json!({"group_id": 8, "type": "ticket"})).await;
    assert_eq!(error_type(&reply), "group_not_found");
    for bad in
        [json!({"group_id": 0, "type": "survey"}), json!({"type": "ticket"}), json!({"group_id": -1, "type": "ticket"})]
    {
        let reply = rtm.request("get_form", bad.clone()).await;
        assert_eq!(error_type(&reply), "validation", "{bad}");
    }
    ping(&mut rtm).await;
}

#[tokio::test]
async fn get_predicted_agent_names_who_would_answer() {
    let server = TestServer::start().await;
    let (mut rtm, _) = login_in(&server, None).await;
    let reply = rtm.request("get_predicted_agent", json!({})).await;
    assert_eq!(error_type(&reply), "group_offline");
    set_status(&server, "accepting_chats").await;
    let _push = rtm.recv().await; // groups_status_updated
    let reply = rtm.request("get_predicted_agent", json!({"group_id": 0})).await;
    assert_eq!(reply["payload"]["agent"]["id"], ALEX, "{reply}");
    assert_eq!(reply["payload"]["agent"]["name"], "Alex Morgan");
    assert_eq!(reply["payload"]["queue"], false);
    let reply = rtm.request("get_predicted_agent", json!({"group_id": 12})).await;
    assert_eq!(error_type(&reply), "group_not_found");
    let reply = rtm.request("get_predicted_agent", json!({"group_id": "0"})).await;
    assert_eq!(error_type(&reply), "validation");
    ping(&mut rtm).await;
}

#[tokio::test]
async fn a_chat_goes_to_the_accepting_agent_at_once() {
    let server = TestServer::start().await;
    set_status(&server, "accepting_chats").await;
    let (mut rtm, _) = login_in(&server, None).await;
    let (response, incoming) =
        start(&mut rtm, json!({"thread": {"events": [{"type": "message", "text": "hi"}]}})).await;
    let chat = &incoming["payload"]["chat"];
    let users: Vec<&str> = chat["users"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert!(users.contains(&ALEX), "{chat}");
    assert!(chat["thread"].get("queue").is_none());
    assert_eq!(chat["access"], json!({"group_ids": [0]}));
    let added = rtm.recv().await;
    assert_eq!(added["action"], "user_added_to_chat", "{added}");
    assert_eq!(
        (added["payload"]["user"]["id"].as_str(), added["payload"]["chat_id"].as_str()),
        (Some(ALEX), response["payload"]["chat_id"].as_str())
    );
    // A group that does not exist is refused.
    let (mut other, _) = login_in(&server, None).await;
    other.send("start_chat", json!({"chat": {"access": {"group_ids": [77]}}})).await;
    assert_eq!(error_type(&other.recv().await), "group_not_found");
    ping(&mut other).await;
}

#[tokio::test]
async fn queued_customers_see_their_place_and_queue_position_updated_as_it_moves() {
    let server = TestServer::start().await;
    set_status(&server, "accepting_chats").await;
    let mut served = Vec::new();
    for _ in 0..DEFAULT_MAX_CHATS_PER_AGENT {
        let (mut rtm, _) = login_in(&server, None).await;
        let (response, _) = start(&mut rtm, json!({})).await;
        served.push(response["payload"]["chat_id"].as_str().unwrap().to_owned());
    }
    // The agent is full: the next two wait, first and second.
    let mut waiting = Vec::new();
    for position in [1, 2] {
        let (mut rtm, _) = login_in(&server, None).await;
        let (response, incoming) = start(&mut rtm, json!({})).await;
        let queue = &incoming["payload"]["chat"]["thread"]["queue"];
        assert_eq!(queue["position"], position, "{incoming}");
        assert_eq!(queue["wait_time"], position * QUEUE_WAIT_PER_POSITION_SECS);
        assert!(queue["queued_at"].is_string());
        let chat_id = response["payload"]["chat_id"].as_str().unwrap().to_owned();
        let thread_id = response["payload"]["thread_id"].as_str().unwrap().to_owned();
        let read = rtm.request("get_chat", json!({"chat_id": chat_id})).await;
        assert_eq!(read["payload"]["thread"]["queue"]["position"], position);
        waiting.push((rtm, chat_id, thread_id));
    }
    let (mut predicted_by, _) = login_in(&server, None).await;
    let reply = predicted_by.request("get_predicted_agent", json!({})).await;
    assert_eq!(
        (reply["payload"]["agent"]["id"].as_str(), reply["payload"]["queue"].as_bool()),
        (Some(ALEX), Some(true))
    );

    // The agent closes a chat: the first in line gets the agent, the second moves up.
    let (code, _) = server.agent("deactivate_chat", json!({"id": served[0]})).await;
    assert_eq!(code, 200);
    let added = waiting[0].0.recv().await;
    assert_eq!(
        (added["action"].as_str(), added["payload"]["user"]["id"].as_str()),
        (Some("user_added_to_chat"), Some(ALEX)),
        "{added}"
    );
    assert_eq!(added["payload"]["chat_id"], waiting[0].1.as_str());
    let moved = waiting[1].0.recv().await;
    assert_eq!(moved["action"], "queue_position_updated", "{moved}");
    assert_eq!(
        moved["payload"],
        json!({"chat_id": waiting[1].1, "thread_id": waiting[1].2, "queue": {"position": 1, "wait_time": QUEUE_WAIT_PER_POSITION_SECS}})
    );
    let first_chat = waiting[0].1.clone();
    let read = waiting[0].0.request("get_chat", json!({"chat_id": first_chat})).await;
    assert!(read["payload"]["thread"].get("queue").is_none(), "{read}");

    // The second leaves the queue itself; the agent's chat goes on.
    let (rtm, chat_id, _) = &mut waiting[1];
    let reply = rtm.request("deactivate_chat", json!({"id": chat_id})).await;
    assert_eq!(reply["success"], true);
    let (code, statuses) = server.agent("list_routing_statuses", json!({})).await;
    assert_eq!((code, statuses), (200, json!([{"agent_id": ALEX, "status": "accepting_chats"}])));
}

#[tokio::test]
async fn agents_set_and_list_routing_statuses() {
    let server = TestServer::start().await;
    let (code, body) = server.agent("list_routing_statuses", json!({})).await;
    assert_eq!((code, body), (200, json!([{"agent_id": ALEX, "status": "offline"}])), "offline until set");
    let (code, _) =
        server.agent("set_routing_status", json!({"status": "not_accepting_chats", "agent_id": ALEX})).await;
    assert_eq!(code, 200);
    let (code, body) = server.agent("list_routing_statuses", json!({"filters": {"group_ids": [0]}})).await;
    assert_eq!((code, body), (200, json!([{"agent_id": ALEX, "status": "not_accepting_chats"}])));
    let (code, body) = server.agent("list_routing_statuses", json!({"filters": {"group_ids": [5]}})).await;
    assert_eq!((code, body["error"]["type"].as_str()), (404, Some("group_not_found")));
    let (code, body) =
        server.agent("set_routing_status", json!({"status": "accepting_chats", "agent_id": "ghost@x"})).await;
    assert_eq!((code, body["error"]["type"].as_str()), (404, Some("not_found")));
    for bad in [json!({}), json!({"status": "busy"}), json!({"status": 1}), json!({"status": "offline", "agent_id": 7})]
    {
        let (code, body) = server.agent("set_routing_status", bad.clone()).await;
        assert_eq!((code, body["error"]["type"].as_str()), (400, Some("validation")), "{bad}");
    }
    let (code, body) = server.agent("list_routing_statuses", json!({"filters": {"group_ids": "0"}})).await;
    assert_eq!((code, body["error"]["type"].as_str()), (400, Some("validation")));
    let (code, body) = server.agent_with_token("set_routing_status", json!({"status": "offline"}), Some("wrong")).await;
    assert_eq!((code, body["error"]["type"].as_str()), (401, Some("authentication")));
}

async fn ticket(server: &TestServer, origin: Option<&str>, body: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/v2/tickets/new", server.url))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_ticket_form_leaves_a_ticket_or_says_what_is_wrong() {
    let server = TestServer::start().await;
    let body = json!({
        "licence_id": 1, "visitor_id": "v-1", "requester": {"name": "Ann", "mail": "ann@example.com"},
        "ticket_message": "Your message: Where is my order?", "offline_message": "Your name: Ann\nYour message: Where is my order?",
        "subject": "Order 123", "group": 0, "source": {"url": "https://shop.example/"}, "timezone": "Europe/Warsaw"
    });
    let (code, reply) = ticket(&server, Some(&server.url), &body.to_string()).await;
    assert_eq!(code, 200, "{reply}");
    let id = reply["id"].as_str().unwrap().to_owned();
    let stored = server.server.as_ref().unwrap().state.domain.ticket(&id).await.unwrap();
    assert_eq!(stored, Some((0, "ann@example.com".into(), "Your message: Where is my order?".into())));
    // The filled form itself.
    let form = json!({"filled_form": {"type": "filled_form", "form_id": "ticket", "fields": [
        {"id": "2", "type": "email", "label": "Your email:", "answer": "bo@example.com"},
        {"id": "3", "type": "textarea", "label": "Your message:", "answer": "Call me"}]}});
    let (code, reply) = ticket(&server, None, &form.to_string()).await;
    assert_eq!(code, 200, "{reply}");
    // What is wrong, in the documented shape.
    let (code, reply) =
        ticket(&server, None, &json!({"ticket_message": "hi", "requester": {"name": "Ann"}}).to_string()).await;
    assert_eq!(code, 422);
    assert_eq!(reply["errors"][0]["incorrect requester structure"][0], "mail is required", "{reply}");
    let (code, reply) =
        ticket(&server, None, &json!({"requester": {"mail": "a@b.co"}, "ticket_message": "x", "group": 6}).to_string())
            .await;
    assert_eq!((code, reply["errors"][0]["incorrect group"].is_array()), (422, true), "{reply}");
    let (code, reply) = ticket(&server, None, "{\"requester\":").await;
    assert_eq!((code, reply["errors"].is_array()), (400, true));
    let (code, reply) = ticket(&server, None, &json!({"requester": "ann"}).to_string()).await;
    assert_eq!((code, reply["errors"].is_array()), (400, true));
    // Foreign pages are refused, as at the token endpoint.
    let (code, reply) = ticket(&server, Some("https://evil.example"), &body.to_string()).await;
    assert_eq!((code, reply["errors"][0]["origin"].is_array()), (403, true));
}

#[tokio::test]
async fn tickets_are_rate_limited_per_address() {
    // The clock stands still: the bucket does not refill during the test.
    let clock = confab_server::clock::Clock::manual(confab_server::clock::Micros(1_764_000_000_000_000));
    let server = TestServer::start_on_clock(&[], clock).await;
    let body = json!({"requester": {"mail": "a@b.co"}, "ticket_message": "x"}).to_string();
    let mut codes = Vec::new();
    for _ in 0..confab_server::limits::TICKET_BURST_PER_ADDRESS + 1 {
        codes.push(ticket(&server, None, &body).await.0);
    }
    assert!(codes[..codes.len() - 1].iter().all(|&c| c == 200), "{codes:?}");
    assert_eq!(codes.last(), Some(&429));
}

#[tokio::test]
async fn a_bad_groups_file_stops_the_server_from_starting_and_says_why() {
    use clap::Parser;
    for (json, why) in [
        (r#"[{"id": 1, "name": "Sales", "agents": ["ghost@example.com"]}]"#, "unknown agent ghost@example.com"),
        (r#"[{"id": 1, "name": "Sales", "colour": "red"}]"#, "unknown field `colour`"),
        (r#"{"id": 1}"#, "invalid type"),
    ] {
        let (_file, path) = groups_file(json);
        let dir = tempfile::tempdir().unwrap();
        let config = confab_server::config::Config::parse_from([
            "confab-server",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--groups-file",
            &path,
        ]);
        let error = confab_server::Server::start(config).await.err().expect("refused").to_string();
        assert!(error.contains(why) && error.contains("groups.json"), "{error}");
    }
}
