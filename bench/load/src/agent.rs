//! The Agent Chat Web API v3.6 (`POST /v3.6/agent/action/<action>` with a bearer token), as
//! far as the scenarios need it: `send_event` (the agent side of `latency`) and `get_chat`
//! (how `kill9` counts what was stored). Failures carry the API's `{"error": {type, message}}`.

use crate::target::{Node, Target};
use anyhow::{Context, Result, anyhow};
use confab_protocol::agent::{GetChatRequest, SendEventRequest, SendEventResponse};
use confab_protocol::error::ErrorBody;
use confab_protocol::{Chat, Event};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How long one Web API call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct Agent {
    http: reqwest::Client,
    node: Node,
    token: String,
}

impl Agent {
    /// The agent of `--agent-token`, calling `--agent-node`.
    pub fn new(target: &Target) -> Result<Agent> {
        let http = reqwest::Client::builder().timeout(CALL_TIMEOUT).build().context("building an HTTP client")?;
        Ok(Agent { http, node: target.agent_node.clone(), token: target.agent_token()?.to_owned() })
    }

    pub async fn send_event(&self, chat_id: &str, event: Event) -> Result<SendEventResponse> {
        let request = SendEventRequest { chat_id: chat_id.to_owned(), event, attach_to_last_thread: None };
        self.call("send_event", &request).await
    }

    /// The chat with its latest thread (all of that thread's events).
    pub async fn get_chat(&self, chat_id: &str) -> Result<Chat> {
        self.call("get_chat", &GetChatRequest { chat_id: chat_id.to_owned(), thread_id: None }).await
    }

    async fn call<T: DeserializeOwned>(&self, action: &str, body: &impl Serialize) -> Result<T> {
        let url = self.node.agent_url(action);
        let response = self
            .http
            .post(&url)
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_string(body)?)
            .send()
            .await
            .with_context(|| format!("POST {url}"))?;
        let status = response.status();
        let text = response.text().await.with_context(|| format!("reading the {action} response"))?;
        if !status.is_success() {
            return Err(match serde_json::from_str::<ErrorBody>(&text) {
                Ok(body) => anyhow!("{action}: {} ({status})", body.error),
                Err(_) => anyhow!("{action}: {status}: {text}"),
            });
        }
        serde_json::from_str(&text).with_context(|| format!("unreadable {action} response: {text}"))
    }
}
