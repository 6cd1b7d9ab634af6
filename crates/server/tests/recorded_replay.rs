//! protocol.md §15 from the client's side: every frame the official Customer SDKs sent in the
//! recorded sessions (`crates/protocol/tests/recorded/`, v2 on `/v3.2` and v4 on `/v3.5`) is
//! replayed, as sent, against the real server, and each gets a successful answer — and, where
//! a push settles the request (§3.4), that push with the request's id.
//!
//! Only what names server-side state is substituted: the token, the chat and thread ids, and a
//! page id. Between the first message and the first history read, the replay adds messages and
//! a second thread, so that the history has a second page to ask for, as the recordings did.

mod common;

use common::{ORG, TestServer};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn recorded_sends(file: &str) -> Vec<Value> {
    let path = format!("{}/../protocol/tests/recorded/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|entry| entry["kind"] == "send")
        .map(|entry| entry["frame"].clone())
        .collect()
}

/// What the replay learned from the server so far.
#[derive(Default)]
struct Learned {
    chat_id: String,
    newest_thread_id: String,
    next_page_id: String,
}

struct Replay {
    ws: Socket,
    learned: Learned,
    padding: u32,
}

impl Replay {
    /// Sends `frame` and waits for its response (and its settling push); returns the response.
    async fn exchange(&mut self, frame: &Value) -> Value {
        self.ws.send(Message::text(frame.to_string())).await.unwrap();
        let request_id = frame["request_id"].as_str().unwrap_or_default().to_owned();
        let action = frame["action"].as_str().unwrap().to_owned();
        let settling_push = match action.as_str() {
            "start_chat" | "resume_chat" | "activate_chat" => Some("incoming_chat"),
            "send_event" => Some("incoming_event"),
            _ => None,
        };
        let (mut response, mut pushed) = (None, settling_push.is_none());
        while response.is_none() || !pushed {
            let message = tokio::time::timeout(common::WAIT, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("no answer in time to {frame}"));
            let Message::Text(text) = message.expect("socket open").expect("frame") else { continue };
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["request_id"] != request_id.as_str() {
                continue;
            }
            match frame["type"].as_str() {
                Some("response") => response = Some(frame),
                Some("push") => {
                    assert_eq!(Some(frame["action"].as_str().unwrap()), settling_push, "{frame}");
                    pushed = true;
                }
                _ => panic!("unexpected {frame}"),
            }
        }
        let response = response.unwrap();
        assert_eq!(response["action"], action.as_str(), "{response}");
        assert_eq!(response["success"], true, "{action} was refused: {response}");
        response
    }

    /// Messages the recordings did not have, from an agent (the socket's own rate stays the
    /// recording's), to give the history a second page.
    async fn pad(&mut self, server: &TestServer, count: usize) {
        for n in 0..count {
            let event = json!({"type": "message", "text": format!("agent message {n}")});
            let (status, body) =
                server.agent("send_event", json!({"chat_id": self.learned.chat_id, "event": event})).await;
            assert_eq!(status, 200, "{body}");
        }
    }

    async fn pad_frame(&mut self, action: &str, payload: Value) {
        self.padding += 1;
        self.exchange(&json!({"request_id": format!("pad{}", self.padding), "action": action, "payload": payload}))
            .await;
    }

    /// Puts what the server named in place of what the recording's server named.
    fn substitute(&self, frame: &Value) -> Value {
        let mut frame = frame.clone();
        let payload = &mut frame["payload"];
        for key in ["chat_id", "id"] {
            if payload.get(key).is_some_and(|v| v == "CHAT000001") {
                payload[key] = json!(self.learned.chat_id);
            }
        }
        if payload.get("thread_id").is_some() {
            payload["thread_id"] = json!(self.learned.newest_thread_id);
        }
        if payload.get("page_id").is_some() {
            payload["page_id"] = json!(self.learned.next_page_id);
        }
        frame
    }
}

async fn replay(file: &str, socket_path: &str) {
    let server = TestServer::start().await;
    let token = server.visitor().token().await;
    let addr = server.server.as_ref().unwrap().api_addr;
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{socket_path}")).await.unwrap();
    let mut replay = Replay { ws, learned: Learned::default(), padding: 0 };

    let frames = recorded_sends(file);
    assert_eq!(frames.len(), 10, "{file}: every recorded request");
    let mut padded = false;
    for recorded in &frames {
        let mut frame = replay.substitute(recorded);
        let action = frame["action"].as_str().unwrap().to_owned();
        if action == "login" {
            frame["payload"]["token"] = json!(format!("Bearer {}", token["access_token"].as_str().unwrap()));
        }
        if action == "list_threads" && !padded {
            // A first thread of 30 events, a second of 30: `min_events_count: 25` pages twice.
            padded = true;
            replay.pad(&server, 28).await;
            let chat_id = replay.learned.chat_id.clone();
            replay.pad_frame("deactivate_chat", json!({"id": chat_id, "chat_id": chat_id})).await;
            let resume = if socket_path.starts_with("/v3.2") { "activate_chat" } else { "resume_chat" };
            replay.pad_frame(resume, json!({"chat": {"id": chat_id}})).await;
            replay.pad(&server, 30).await;
        }
        let response = replay.exchange(&frame).await;
        let payload = &response["payload"];
        match action.as_str() {
            "start_chat" => replay.learned.chat_id = payload["chat_id"].as_str().unwrap().to_owned(),
            "list_threads" => {
                if let Some(next) = payload["next_page_id"].as_str() {
                    replay.learned.next_page_id = next.to_owned();
                }
                if frame["payload"].get("page_id").is_none() {
                    replay.learned.newest_thread_id = payload["threads"][0]["id"].as_str().unwrap().to_owned();
                }
            }
            _ => {}
        }
    }
    assert!(!replay.learned.next_page_id.is_empty(), "the history had a second page to read");
}

#[tokio::test]
async fn every_frame_customer_sdk_2_sent_is_accepted() {
    replay("sdk2-basic.jsonl", "/v3.2/customer/rtm/ws?license_id=12345678").await;
}

#[tokio::test]
async fn every_frame_customer_sdk_4_sent_is_accepted() {
    replay("sdk4-basic.jsonl", &format!("/v3.5/customer/rtm/ws?organization_id={ORG}")).await;
}
