//! A customer on raw sockets, as the Customer Chat API v3.5 sees one: a token from the cookie
//! grant (`POST /v2/customer/token`), an RTM socket, `login`, `start_chat`.
//!
//! Setup is sequential on the socket (send a request, read until its response). Under load the
//! socket is split between two tasks ([`Customer::go_live`]): a writer that turns scheduled
//! [`Tag`]s into `send_event` frames, and a reader that reports what comes back as
//! [`Observation`]s, stamped with the time the frame was read. The tool's own sockets use small
//! WebSocket buffers, so ten thousand idle ones cost it little.

use crate::openloop::{Observation, Tag};
use crate::target::{Node, Target};
use anyhow::{Context, Result, anyhow, bail};
use confab_protocol::action::{InitialChat, LoginRequest, SendEventRequest, StartChatRequest, StartChatResponse};
use confab_protocol::frame::{self, RawBody, RawPayload, RawServerFrame};
use confab_protocol::push::IncomingEvent;
use confab_protocol::token::{TokenReply, TokenRequest, TokenResponse};
use confab_protocol::{API_VERSION, Event, Request, RequestFrame};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt, TryStreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

pub type Ws = WebSocketStream<TcpStream>;

/// The tool's socket buffers (tungstenite's defaults are 128 KiB each).
const WS_READ_BUFFER_BYTES: usize = 4096;
const WS_WRITE_BUFFER_BYTES: usize = 0;
/// How long one setup step (token, socket, one request) may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a live customer's socket may take to close.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Customers set up at once.
pub const SETUP_CONCURRENCY: usize = 64;
/// The `client_id` of the tool's token requests.
const CLIENT_ID: &str = "confab-load";
/// The token endpoint's refusal when a client address asks too fast.
const TOO_MANY_REQUESTS: &str = "too_many_requests";
/// Every customer of this tool comes from one address, so a server with its default
/// per-address grant limits refuses most of them.
const PER_ADDRESS_HINT: &str = "the server limits token grants and new customers per client address, and all of \
     this tool's customers come from one; start it for load tests with --token-grants-per-second, \
     --token-grant-burst, --new-customers-per-second and --new-customer-burst raised, as bench/load.sh does";
/// The text of every load message (short, like a chat line).
pub const MESSAGE_TEXT: &str = "Hello! Is anyone there? (confab-load)";

/// An HTTP client for tokens: pooled, without a cookie store, so every call is a new visitor.
pub fn token_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(SETUP_CONCURRENCY)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("building an HTTP client")
}

/// The cookie grant; the body is read, not the status (as the SDKs do).
pub async fn fetch_token(http: &reqwest::Client, node: &Node, organization_id: &str) -> Result<TokenResponse> {
    let body = serde_json::to_string(&TokenRequest::cookie_grant(organization_id, CLIENT_ID))?;
    let response = http
        .post(node.token_url())
        .header(reqwest::header::CONTENT_TYPE, "text/plain;charset=UTF-8")
        .body(body)
        .send()
        .await
        .with_context(|| format!("POST {}", node.token_url()))?;
    let text = response.text().await.context("reading the token response")?;
    match serde_json::from_str::<TokenReply>(&text) {
        Ok(TokenReply::Granted(token)) => Ok(token),
        Ok(TokenReply::Refused(refused)) => {
            let reason = refused.identity_exception.or(refused.oauth_exception).unwrap_or_default();
            if reason == TOO_MANY_REQUESTS {
                bail!("token refused: {reason} ({PER_ADDRESS_HINT})");
            }
            bail!("token refused: {reason}")
        }
        Err(e) => bail!("unreadable token response ({e}): {text}"),
    }
}

/// Opens an RTM socket to `node` (TCP without Nagle, small buffers).
pub async fn open_socket(node: &Node, organization_id: &str) -> Result<Ws> {
    let stream = tokio::time::timeout(REQUEST_TIMEOUT, TcpStream::connect(node.addr))
        .await
        .map_err(|_| anyhow!("connecting to {} timed out", node.addr))?
        .with_context(|| format!("connecting to {}", node.addr))?;
    stream.set_nodelay(true)?;
    let config =
        WebSocketConfig::default().read_buffer_size(WS_READ_BUFFER_BYTES).write_buffer_size(WS_WRITE_BUFFER_BYTES);
    let url = node.socket_url(organization_id);
    let handshake = tokio_tungstenite::client_async_with_config(url.as_str(), stream, Some(config));
    let (ws, _) = tokio::time::timeout(REQUEST_TIMEOUT, handshake)
        .await
        .map_err(|_| anyhow!("WebSocket handshake with {url} timed out"))?
        .with_context(|| format!("WebSocket handshake with {url}"))?;
    Ok(ws)
}

/// A logged-in customer, before load.
pub struct Customer {
    pub id: String,
    pub chat_id: Option<String>,
    ws: Ws,
    next_request: u64,
}

impl Customer {
    /// A new visitor on the target's next node: a token, a socket, `login`.
    pub async fn connect(http: &reqwest::Client, target: &Target) -> Result<Customer> {
        let node = target.next_node();
        let token = fetch_token(http, node, &target.organization_id).await?;
        let ws = open_socket(node, &target.organization_id).await?;
        let mut customer = Customer { id: token.entity_id.clone(), chat_id: None, ws, next_request: 0 };
        let login = LoginRequest { token: token.login_token(), ..LoginRequest::default() };
        customer.request(Request::Login(login), Some(API_VERSION)).await?;
        Ok(customer)
    }

    /// Starts the customer's chat (no first message); keeps and returns its id.
    pub async fn start_chat(&mut self) -> Result<String> {
        let request = StartChatRequest { chat: Some(InitialChat::default()), active: Some(true), continuous: None };
        let payload = self.request(Request::StartChat(request), None).await?;
        let started: StartChatResponse =
            frame::decode(payload.as_deref()).context("reading the start_chat response")?;
        self.chat_id = Some(started.chat_id.clone());
        Ok(started.chat_id)
    }

    /// Sends one request and reads until its response; pushes on the way are skipped.
    async fn request(&mut self, request: Request, version: Option<&str>) -> Result<RawPayload> {
        self.next_request += 1;
        let id = format!("setup{}", self.next_request);
        let action = request.name();
        let mut frame = RequestFrame::new(id.clone(), request);
        frame.version = version.map(str::to_owned);
        self.ws.send(Message::text(frame.encode())).await.with_context(|| format!("sending {action}"))?;
        let answer = async {
            loop {
                let text = match self.ws.next().await {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(close))) => {
                        bail!("the server closed the socket: {close:?}")
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e.into()),
                    None => bail!("the socket ended"),
                };
                let frame = RawServerFrame::decode(&text).with_context(|| format!("unreadable frame: {text}"))?;
                match frame.body {
                    RawBody::Response(result) if frame.request_id.as_deref() == Some(id.as_str()) => {
                        return result.map_err(|e| anyhow!("{e}"));
                    }
                    _ => continue,
                }
            }
        };
        tokio::time::timeout(REQUEST_TIMEOUT, answer)
            .await
            .map_err(|_| anyhow!("no {action} response within {REQUEST_TIMEOUT:?}"))?
            .with_context(|| action.to_owned())
    }

    /// Hands the socket to a writer task and a reader task; the reader reports to
    /// `observations`.
    pub fn go_live(self, observations: mpsc::UnboundedSender<Observation>) -> Result<Live> {
        let chat_id = self.chat_id.clone().ok_or_else(|| anyhow!("customer {} has no chat", self.id))?;
        let (sink, stream) = self.ws.split();
        let (outgoing, queue) = mpsc::unbounded_channel();
        let written = Arc::new(AtomicU64::new(0));
        let writer = tokio::spawn(write(sink, chat_id.clone(), queue, written.clone()));
        let reader = tokio::spawn(read(stream, observations));
        Ok(Live { chat_id, outgoing, written, writer, reader })
    }
}

/// Connects `n` new customers, each with a chat, `SETUP_CONCURRENCY` at a time; the first
/// failure fails all.
pub async fn connect_with_chats(target: &Target, n: usize) -> Result<Vec<Customer>> {
    let http = token_client()?;
    futures::stream::iter(0..n)
        .map(|_| async {
            let mut customer = Customer::connect(&http, target).await?;
            customer.start_chat().await?;
            Ok::<_, anyhow::Error>(customer)
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .try_collect()
        .await
}

/// A customer under load: its socket is driven by a writer and a reader task.
pub struct Live {
    pub chat_id: String,
    outgoing: mpsc::UnboundedSender<Tag>,
    written: Arc<AtomicU64>,
    writer: JoinHandle<()>,
    reader: JoinHandle<()>,
}

impl Live {
    /// Queues message `tag` for sending; false when the socket is gone.
    pub fn send(&self, tag: Tag) -> bool {
        self.outgoing.send(tag).is_ok()
    }

    /// Messages written to the socket so far.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// Closes the socket politely (a close frame), within `CLOSE_TIMEOUT`.
    pub async fn close(self) {
        let Live { outgoing, writer, reader, .. } = self;
        drop(outgoing);
        let abort_writer = writer.abort_handle();
        let abort_reader = reader.abort_handle();
        if tokio::time::timeout(CLOSE_TIMEOUT, async {
            let _ = writer.await;
            let _ = reader.await;
        })
        .await
        .is_err()
        {
            abort_writer.abort();
            abort_reader.abort();
        }
    }
}

/// Closes every customer, all at once.
pub async fn close_all(customers: Vec<Live>) {
    futures::future::join_all(customers.into_iter().map(Live::close)).await;
}

async fn write(
    mut sink: SplitSink<Ws, Message>,
    chat_id: String,
    mut queue: mpsc::UnboundedReceiver<Tag>,
    written: Arc<AtomicU64>,
) {
    while let Some(tag) = queue.recv().await {
        let event = Event::message(MESSAGE_TEXT).with_custom_id(tag.to_string());
        let request = SendEventRequest { chat_id: chat_id.clone(), event, attach_to_last_thread: None };
        let frame = RequestFrame::new(tag.to_string(), Request::SendEvent(request));
        if sink.send(Message::text(frame.encode())).await.is_err() {
            return;
        }
        written.fetch_add(1, Ordering::Relaxed);
    }
    let _ = sink.close().await;
}

async fn read(mut stream: SplitStream<Ws>, observations: mpsc::UnboundedSender<Observation>) {
    while let Some(message) = stream.next().await {
        let at = Instant::now();
        match message {
            Ok(Message::Text(text)) => {
                if let Some(observation) = observe(&text, at)
                    && observations.send(observation).is_err()
                {
                    return;
                }
            }
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let _ = observations.send(Observation::Closed);
}

/// What a frame tells the collector: a response to one of our `send_event`s, or an
/// `incoming_event` from someone else (an agent) carrying one of our tags.
fn observe(text: &str, at: Instant) -> Option<Observation> {
    let frame = RawServerFrame::decode(text).ok()?;
    match frame.body {
        RawBody::Response(result) if frame.action == "send_event" => {
            let tag = frame.request_id?.parse().ok()?;
            Some(Observation::Acked { tag, at, error: result.err().map(|e| e.kind.as_str().to_owned()) })
        }
        RawBody::Push(payload) if frame.action == "incoming_event" && frame.request_id.is_none() => {
            let push: IncomingEvent = frame::decode(payload.as_deref()).ok()?;
            let tag = push.event.custom_id?.parse().ok()?;
            Some(Observation::Delivered { tag, at })
        }
        _ => None,
    }
}
