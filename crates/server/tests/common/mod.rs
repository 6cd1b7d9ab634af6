//! Test support: a real server on ephemeral ports, a raw RTM socket, customer tokens and
//! Agent Web API calls over real HTTP.

#![allow(dead_code)]

pub mod postgres;

use clap::Parser;
use confab_server::Server;
use confab_server::clock::Clock;
use confab_server::config::{Config, DEMO_ORGANIZATION_ID};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub const AGENT_TOKEN: &str = "test-agent-token";
/// The first agent, whose token is `AGENT_TOKEN`.
pub const ALEX: &str = "alex@confab.example";
/// A second agent, once `with_sam` or `add_sam` has added him.
pub const SAM: &str = "sam@confab.example";
pub const ORG: &str = DEMO_ORGANIZATION_ID;
/// How long a test waits for any single frame.
pub const WAIT: Duration = Duration::from_secs(5);

/// Starts a server with its database in `data_dir`, the API on `listen`.
pub async fn start_in(data_dir: &Path, listen: &str, extra: &[&str]) -> Server {
    start_on_clock(data_dir, listen, extra, Clock::system()).await
}

/// [`start_in`] on a given clock.
pub async fn start_on_clock(data_dir: &Path, listen: &str, extra: &[&str], clock: Clock) -> Server {
    let mut args = vec![
        "confab-server",
        "--listen",
        listen,
        "--site-listen",
        "127.0.0.1:0",
        "--agent-token",
        AGENT_TOKEN,
        "--data-dir",
        data_dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Server::start_with_clock(Config::parse_from(args), clock).await.expect("server starts")
}

pub struct TestServer {
    pub server: Option<Server>,
    pub dir: tempfile::TempDir,
    pub url: String,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    pub async fn start_with(extra: &[&str]) -> Self {
        Self::start_on_clock(extra, Clock::system()).await
    }

    /// A server whose clock moves only when the test moves it (`Clock::manual`).
    pub async fn start_on_clock(extra: &[&str], clock: Clock) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = start_on_clock(dir.path(), "127.0.0.1:0", extra, clock).await;
        let url = format!("http://{}", server.api_addr);
        Self { server: Some(server), dir, url }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/v3.5/customer/rtm/ws?organization_id={ORG}", self.server.as_ref().unwrap().api_addr)
    }

    /// A visitor with its own cookie jar.
    pub fn visitor(&self) -> Visitor {
        Visitor { http: reqwest::Client::builder().cookie_store(true).build().unwrap(), url: self.url.clone() }
    }

    /// Calls the Agent Chat Web API; returns status and JSON body.
    pub async fn agent(&self, action: &str, body: Value) -> (u16, Value) {
        self.agent_with_token(action, body, Some(AGENT_TOKEN)).await
    }

    pub async fn agent_with_token(&self, action: &str, body: Value, token: Option<&str>) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .post(format!("{}/v3.6/agent/action/{action}", self.url))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

pub struct Visitor {
    pub http: reqwest::Client,
    pub url: String,
}

impl Visitor {
    /// `POST /v2/customer/token` with the cookie grant; returns the JSON body.
    pub async fn token(&self) -> Value {
        let body = json!({"grant_type":"cookie","response_type":"token","client_id":"test","organization_id":ORG});
        self.http
            .post(format!("{}/v2/customer/token", self.url))
            .header("content-type", "text/plain;charset=UTF-8")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// A raw RTM socket.
pub struct Rtm {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    next_id: u32,
}

impl Rtm {
    pub async fn open(url: &str) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("socket opens");
        Self { ws, next_id: 0 }
    }

    /// Opens with an `Origin` header; returns the HTTP status when refused.
    pub async fn open_with_origin(url: &str, origin: &str) -> Result<Self, u16> {
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert("origin", origin.parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Ok((ws, _)) => Ok(Self { ws, next_id: 0 }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
            Err(e) => panic!("unexpected: {e}"),
        }
    }

    /// A logged-in socket for a new visitor of `server`.
    pub async fn logged_in(server: &TestServer) -> (Self, Visitor, String) {
        let visitor = server.visitor();
        let token = visitor.token().await;
        let mut rtm = Rtm::open(&server.ws_url()).await;
        let login =
            rtm.request("login", json!({"token": format!("Bearer {}", token["access_token"].as_str().unwrap())})).await;
        assert_eq!(login["success"], true, "{login}");
        (rtm, visitor, token["entity_id"].as_str().unwrap().to_owned())
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// Sends a request and returns its request id.
    pub async fn send(&mut self, action: &str, payload: Value) -> String {
        self.next_id += 1;
        let request_id = format!("t{}", self.next_id);
        let frame = json!({"request_id": request_id, "action": action, "payload": payload});
        self.send_text(&frame.to_string()).await;
        request_id
    }

    /// Sends a request and returns the response frame with its request id.
    pub async fn request(&mut self, action: &str, payload: Value) -> Value {
        let request_id = self.send(action, payload).await;
        let frame = self.recv().await;
        assert_eq!(frame["type"], "response", "{frame}");
        assert_eq!(frame["request_id"], request_id.as_str(), "{frame}");
        assert_eq!(frame["action"], action, "{frame}");
        frame
    }

    /// The next text frame, as JSON.
    pub async fn recv(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next()).await.expect("a frame in time");
            match message.expect("socket open").expect("frame") {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// The close frame's code and reason, skipping text frames before it (returned too).
    pub async fn closed(&mut self) -> (Vec<Value>, Option<(u16, String)>) {
        let mut frames = Vec::new();
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next()).await.expect("close in time");
            match message {
                Some(Ok(Message::Text(text))) => frames.push(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Close(frame))) => {
                    return (frames, frame.map(|f| (u16::from(f.code), f.reason.to_string())));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return (frames, None),
            }
        }
    }

    /// Asserts the server's goodbye: exactly one `customer_disconnected` with `reason`, then a
    /// close frame with `code` and `text`.
    pub async fn expect_goodbye(&mut self, reason: &str, code: u16, text: &str) {
        let (frames, close) = self.closed().await;
        assert_eq!(frames.len(), 1, "{frames:?}");
        assert_eq!(frames[0]["action"], "customer_disconnected");
        assert_eq!(frames[0]["payload"]["reason"], reason);
        assert_eq!(close, Some((code, text.to_owned())));
    }

    /// Asserts nothing arrives within `within`.
    pub async fn silent(&mut self, within: Duration) {
        if let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout(within, self.ws.next()).await {
            panic!("unexpected frame {text}");
        }
    }
}

/// Adds a second agent, Sam, beside the first (Alex), through `domain`.
pub async fn add_sam(domain: &confab_server::domain::Domain) {
    let seed = confab_server::store::AgentSeed {
        id: SAM.into(),
        name: "Sam Lee".into(),
        job_title: "Support Agent".into(),
        role: "agent".into(),
        max_chats: confab_server::limits::DEFAULT_MAX_CHATS_PER_AGENT,
    };
    domain.upsert_agent(&seed, "sam-token").await.unwrap();
}

/// Adds a second agent, Sam, beside the first (Alex).
pub async fn with_sam(server: &TestServer) {
    add_sam(&server.server.as_ref().unwrap().state.domain).await;
}

/// An agent's socket as the hub knows it: subscribed under the agent's id, its queue read here.
pub struct AgentSocket(confab_server::fanout::hub::SocketQueue);

impl AgentSocket {
    pub fn subscribe(server: &TestServer, agent_id: &str) -> Self {
        let hub = &server.server.as_ref().unwrap().state.fanout.hub;
        let (handle, queue) = hub.open_socket();
        hub.subscribe(agent_id, &handle);
        AgentSocket(queue)
    }

    pub async fn next(&mut self) -> Value {
        let frame = tokio::time::timeout(WAIT, self.0.frames.recv()).await.expect("a frame in time").unwrap();
        serde_json::from_str(std::str::from_utf8(frame.as_ref()).unwrap()).unwrap()
    }

    pub async fn silent(&mut self) {
        if let Ok(Some(frame)) = tokio::time::timeout(Duration::from_millis(100), self.0.frames.recv()).await {
            panic!("unexpected frame {}", std::str::from_utf8(frame.as_ref()).unwrap());
        }
    }
}
