//! Webhooks over real sockets: administrators register them through the Configuration API,
//! and a receiver on loopback gets the calls chat activity causes — also after it fails, and
//! never at the cost of chat traffic when it hangs.

mod common;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use common::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Fast timings, so that retries and timeouts show within a test.
const TIMING: [&str; 4] = ["--webhook-timeout-ms", "300", "--webhook-retry-base-ms", "50"];

/// A receiver on loopback: `/ok` answers 200, `/flaky` 500 twice for each event then 200,
/// `/hang` never.
#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<Mutex<Vec<(String, Value)>>>,
    flaky_failures: Arc<Mutex<std::collections::HashMap<String, u32>>>,
}

impl Receiver {
    async fn start(&self) -> String {
        async fn receive(State(r): State<Receiver>, Path(path): Path<String>, body: String) -> StatusCode {
            let body: Value = serde_json::from_str(&body).unwrap();
            let event_id = body["payload"]["event"]["id"].as_str().unwrap_or_default().to_owned();
            r.calls.lock().unwrap().push((path.clone(), body));
            match path.as_str() {
                "hang" => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    StatusCode::OK
                }
                "flaky" => {
                    let mut failures = r.flaky_failures.lock().unwrap();
                    let failures = failures.entry(event_id).or_default();
                    *failures += 1;
                    if *failures <= 2 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
                }
                _ => StatusCode::OK,
            }
        }
        let app = axum::Router::new().route("/{path}", post(receive)).with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    /// The calls made to `path` so far.
    fn calls(&self, path: &str) -> Vec<Value> {
        self.calls.lock().unwrap().iter().filter(|(p, _)| p == path).map(|(_, body)| body.clone()).collect()
    }

    /// Waits until `path` has had `n` calls; returns them.
    async fn wait_for(&self, path: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + WAIT;
        loop {
            let calls = self.calls(path);
            if calls.len() >= n || Instant::now() > deadline {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn configure(server: &TestServer, action: &str, body: Value, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/v3.6/configuration/action/{action}", server.url))
        .header("authorization", format!("Bearer {token}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn register(server: &TestServer, url: &str, action: &str, filters: Value) -> String {
    let body = json!({"url": url, "action": action, "secret_key": "s3cret", "type": "license",
        "owner_client_id": "my-app", "description": "test", "filters": filters});
    let (status, reply) = configure(server, "register_webhook", body, AGENT_TOKEN).await;
    assert_eq!(status, 200, "{reply}");
    reply["id"].as_str().unwrap().to_owned()
}

/// The delivery log of one webhook, oldest attempt first, once it holds `n` attempts.
async fn log_of(server: &TestServer, webhook_id: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let (_, log) =
            configure(server, "list_webhook_deliveries", json!({"webhook_id": webhook_id}), AGENT_TOKEN).await;
        let mut log = log.as_array().cloned().unwrap_or_default();
        if log.len() >= n || Instant::now() > deadline {
            log.reverse();
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn administrators_register_list_and_unregister_webhooks() {
    let server = TestServer::start().await;
    with_sam(&server).await;
    let url = "https://hooks.example/confab";
    let id = register(&server, url, "incoming_chat", json!({"author_type": "customer"})).await;
    let (_, list) = configure(&server, "list_webhooks", json!({"owner_client_id": "my-app"}), AGENT_TOKEN).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(
        (list[0]["url"].as_str(), list[0]["action"].as_str(), list[0]["type"].as_str()),
        (Some(url), Some("incoming_chat"), Some("license"))
    );
    assert_eq!(list[0]["filters"], json!({"author_type": "customer"}));
    let (_, others) =
        configure(&server, "list_webhooks", json!({"owner_client_id": "someone-else"}), AGENT_TOKEN).await;
    assert_eq!(others, json!([]));

    // Only administrators; bad registrations are named.
    let (status, reply) = configure(&server, "list_webhooks", json!({}), "sam-token").await;
    assert_eq!((status, reply["error"]["type"].as_str()), (403, Some("authorization")), "{reply}");
    let (status, _) = configure(&server, "list_webhooks", json!({}), "nobody").await;
    assert_eq!(status, 401);
    for (body, why) in [
        (json!({"url": "ftp://x", "action": "incoming_chat", "secret_key": "k", "type": "license"}), "url"),
        (json!({"url": url, "action": "made_up", "secret_key": "k", "type": "license"}), "action"),
        (json!({"url": url, "action": "incoming_chat", "secret_key": "", "type": "license"}), "secret_key"),
        (json!({"url": url, "action": "incoming_chat", "secret_key": "k", "type": "group"}), "type"),
        (json!({"url": url, "action": "incoming_chat", "secret_key": "k"}), "missing type"),
        (
            json!({"url": url, "action": "incoming_chat", "secret_key": "k", "type": "license", "filters": {"author_type": "bot"}}),
            "filter",
        ),
    ] {
        let (status, reply) = configure(&server, "register_webhook", body, AGENT_TOKEN).await;
        assert_eq!((status, reply["error"]["type"].as_str()), (400, Some("validation")), "{why}: {reply}");
    }
    register(&server, url, "incoming_chat", json!({})).await;
    register(&server, url, "incoming_chat", json!({})).await;
    let fourth = json!({"url": url, "action": "incoming_chat", "secret_key": "k", "type": "license", "owner_client_id": "my-app"});
    let (status, reply) = configure(&server, "register_webhook", fourth, AGENT_TOKEN).await;
    assert_eq!((status, reply["error"]["type"].as_str()), (422, Some("limit_reached")), "{reply}");

    let (status, _) = configure(&server, "unregister_webhook", json!({"id": id}), AGENT_TOKEN).await;
    assert_eq!(status, 200);
    let (status, reply) = configure(&server, "unregister_webhook", json!({"id": id}), AGENT_TOKEN).await;
    assert_eq!((status, reply["error"]["type"].as_str()), (404, Some("not_found")));
    let (_, list) = configure(&server, "list_webhooks", json!({}), AGENT_TOKEN).await;
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    let (status, _) = configure(&server, "make_coffee", json!({}), AGENT_TOKEN).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn chat_activity_reaches_the_receiver_with_the_secret_key() {
    let server = TestServer::start_with(&TIMING).await;
    let receiver = Receiver::default();
    let base = receiver.start().await;
    let ok = format!("{base}/ok");
    for action in ["incoming_chat", "chat_deactivated", "thread_tagged", "user_added_to_chat"] {
        register(&server, &ok, action, json!({})).await;
    }
    let events_id = register(&server, &ok, "incoming_event", json!({"author_type": "customer"})).await;

    let (mut rtm, _, customer_id) = Rtm::logged_in(&server).await;
    let started = rtm
        .request("start_chat", json!({"chat": {"thread": {"events": [{"type": "message", "text": "hello"}]}}}))
        .await;
    let chat_id = started["payload"]["chat_id"].as_str().unwrap().to_owned();
    let thread_id = started["payload"]["thread_id"].as_str().unwrap().to_owned();
    rtm.send("send_event", json!({"chat_id": chat_id, "event": {"type": "message", "text": "anyone?"}})).await;
    // The agent's reply is left out by the `author_type` filter; its joining is not.
    let reply = json!({"chat_id": chat_id, "event": {"type": "message", "text": "hi!"}});
    assert_eq!(server.agent("send_event", reply).await.0, 200);
    let tag = json!({"chat_id": chat_id, "thread_id": thread_id, "tag": "sales"});
    assert_eq!(server.agent("tag_thread", tag).await.0, 200);
    assert_eq!(server.agent("deactivate_chat", json!({"id": chat_id})).await.0, 200);

    let calls = receiver.wait_for("ok", 5).await;
    let of = |action: &str| calls.iter().filter(|c| c["action"] == action).cloned().collect::<Vec<_>>();
    let chat = &of("incoming_chat")[0];
    assert_eq!((chat["secret_key"].as_str(), chat["organization_id"].as_str()), (Some("s3cret"), Some(ORG)));
    assert!(chat["webhook_id"].is_string() && chat["additional_data"].is_object(), "{chat}");
    assert_eq!(chat["payload"]["chat"]["id"], chat_id.as_str());
    assert!(chat["payload"]["chat"]["users"].as_array().unwrap().iter().any(|u| u["id"] == customer_id.as_str()));
    let events = of("incoming_event");
    assert_eq!(events.len(), 1, "only the customer's: {events:?}");
    assert_eq!(
        (events[0]["webhook_id"].as_str(), events[0]["payload"]["event"]["text"].as_str()),
        (Some(events_id.as_str()), Some("anyone?"))
    );
    assert_eq!(of("user_added_to_chat")[0]["payload"]["user"]["id"], ALEX);
    assert_eq!(of("thread_tagged")[0]["payload"], json!({"chat_id": chat_id, "thread_id": thread_id, "tag": "sales"}));
    assert_eq!(of("chat_deactivated")[0]["payload"]["chat_id"], chat_id.as_str());
    let log = log_of(&server, &events_id, 1).await;
    assert_eq!(
        (log[0]["outcome"].as_str(), log[0]["http_status"].as_u64(), log[0]["attempt"].as_u64()),
        (Some("delivered"), Some(200), Some(1))
    );
}

#[tokio::test]
async fn failing_receivers_are_retried_and_a_hanging_one_never_delays_chat() {
    let server = TestServer::start_with(&TIMING).await;
    let receiver = Receiver::default();
    let base = receiver.start().await;
    let flaky = register(&server, &format!("{base}/flaky"), "incoming_event", json!({})).await;
    let hang = register(&server, &format!("{base}/hang"), "incoming_event", json!({})).await;
    let dead = register(&server, "http://127.0.0.1:9/nobody-listens", "incoming_event", json!({})).await;

    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let started = rtm.request("start_chat", json!({})).await;
    let chat_id = started["payload"]["chat_id"].as_str().unwrap().to_owned();
    // Every message is answered at once, while the hanging receiver holds its calls.
    for n in 0..5 {
        let sent = Instant::now();
        let request_id = rtm
            .send("send_event", json!({"chat_id": chat_id, "event": {"type": "message", "text": format!("m{n}")}}))
            .await;
        loop {
            let frame = rtm.recv().await;
            if frame["request_id"] == request_id.as_str() && frame["type"] == "response" {
                break;
            }
        }
        assert!(sent.elapsed() < Duration::from_millis(250), "message {n} took {:?}", sent.elapsed());
    }

    // The flaky receiver: each call fails twice, then is delivered on its third attempt.
    let log = log_of(&server, &flaky, 5 * 3).await;
    let attempts = |outcome: &str| -> Vec<u64> {
        let mut attempts: Vec<u64> =
            log.iter().filter(|a| a["outcome"] == outcome).map(|a| a["attempt"].as_u64().unwrap()).collect();
        attempts.sort();
        attempts
    };
    assert_eq!(attempts("delivered"), [3; 5], "{log:?}");
    assert_eq!(attempts("failed"), [1, 1, 1, 1, 1, 2, 2, 2, 2, 2], "{log:?}");
    assert!(log.iter().filter(|a| a["outcome"] == "failed").all(|a| a["http_status"] == 500));
    // The hanging and the dead receivers: every attempt fails, the last gives up.
    for webhook in [&hang, &dead] {
        let log = log_of(&server, webhook, 5 * 5).await;
        let one_call: Vec<&str> =
            log.iter().filter(|a| a["attempt"].as_u64() == Some(5)).map(|a| a["outcome"].as_str().unwrap()).collect();
        assert_eq!(one_call, ["gave_up"; 5], "{log:?}");
        assert!(log.iter().all(|a| a["outcome"] != "delivered"));
        assert!(log.iter().all(|a| a["error"].is_string()), "{log:?}");
    }
    assert!(receiver.calls("hang").len() >= 5);
}

#[tokio::test]
async fn chat_filters_keep_the_calls_about_chats_with_given_users_or_of_the_owners_integration() {
    let server = TestServer::start_with(&TIMING).await;
    let receiver = Receiver::default();
    let base = receiver.start().await;
    let (with_alex, without_alex, mine) = (format!("{base}/alex"), format!("{base}/noalex"), format!("{base}/mine"));
    register(&server, &with_alex, "incoming_event", json!({"chat_presence": {"user_ids": {"values": [ALEX]}}})).await;
    let exclude = json!({"chat_presence": {"user_ids": {"exclude_values": [ALEX]}}});
    register(&server, &without_alex, "incoming_event", exclude).await;
    register(&server, &mine, "incoming_event", json!({"only_my_chats": true})).await;

    // A visitor's chat nobody answered: Alex is not in it, and it is not the owner's.
    let (mut rtm, _, _) = Rtm::logged_in(&server).await;
    let started =
        rtm.request("start_chat", json!({"chat": {"thread": {"events": [{"type": "message", "text": "q"}]}}})).await;
    let chat_id = started["payload"]["chat_id"].as_str().unwrap().to_owned();
    rtm.send("send_event", json!({"chat_id": chat_id, "event": {"type": "message", "text": "anyone?"}})).await;
    assert_eq!(receiver.wait_for("noalex", 1).await.len(), 1);

    // Alex answers in it; the owner's integration marks it as its own.
    let (status, _) = server
        .agent("update_chat_properties", json!({"id": chat_id, "properties": {"source": {"client_id": "my-app"}}}))
        .await;
    assert_eq!(status, 200);
    let (status, _) =
        server.agent("send_event", json!({"chat_id": chat_id, "event": {"type": "message", "text": "hi"}})).await;
    assert_eq!(status, 200);
    let alex = receiver.wait_for("alex", 1).await;
    assert_eq!(alex[0]["payload"]["event"]["text"], "hi");
    let mine = receiver.wait_for("mine", 1).await;
    assert_eq!(mine[0]["payload"]["event"]["text"], "hi", "the first message came before the property");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.calls("noalex").len(), 1, "nothing once Alex is in the chat");
    assert_eq!((receiver.calls("alex").len(), receiver.calls("mine").len()), (1, 1));

    // Filters are checked when registered.
    for filters in [
        json!({"chat_presence": {"user_ids": {"values": []}}}),
        json!({"chat_presence": {"user_ids": {"values": ["a"], "exclude_values": ["b"]}}}),
        json!({"only_my_chats": "yes"}),
    ] {
        let body =
            json!({"url": base, "action": "incoming_event", "secret_key": "k", "type": "license", "filters": filters});
        let (status, reply) = configure(&server, "register_webhook", body, AGENT_TOKEN).await;
        assert_eq!((status, reply["error"]["type"].as_str()), (400, Some("validation")), "{filters}: {reply}");
    }
}
