//! The async client: [`Client`] sends requests, [`Events`] yields what happens, and a driver
//! task (spawned by the adapter) runs the sans-IO [`Core`] against a platform (`platform.rs`).
//!
//! The driver owns everything mutable; `Client` only holds the way to reach it, so it is cheap
//! to clone and to share across tasks or UI components.
//!
//! Every method goes through one typed call, [`Client::call`]: the request's
//! [`Action`] impl (the protocol's action table) gives its wire name, its response type and
//! the push that settles it, so the core's settling logic comes from that table.
//!
//! Between them, every queue is bounded except `Events`:
//! - requests travel through a channel of `REQUEST_QUEUE` slots behind one shared sender; a
//!   caller beyond that waits its turn, and the core refuses requests beyond
//!   `MAX_PENDING_REQUESTS` at once;
//! - `connect()`, `disconnect()` and `destroy()` are flags, not messages: asking twice is
//!   asking once;
//! - `Events` stays unbounded, see `connect`.

use crate::core::{Config, Core, Io, Output, RawResponse, Reply, RequestId};
use crate::error::SdkError;
use crate::event::ClientEvent;
use crate::history::HistoryPager;
use crate::platform::{NetworkChange, Platform, Socket};
use crate::ticket::{TicketForm, read_ticket_response, ticket_body};
use confab_protocol::Request;
use confab_protocol::action::{
    AcceptGreetingRequest, Action, CancelGreetingRequest, CustomerPage, CustomerUpdate, DeactivateChatRequest,
    DeleteChatPropertiesRequest, DeleteEventPropertiesRequest, DeleteThreadPropertiesRequest, FormType, GetChatRequest,
    GetCustomerRequest, GetFormRequest, GetFormResponse, GetPredictedAgentRequest, GetUrlInfoRequest, GroupStatus,
    InitialChat, InitialThread, ListChatsRequest, ListChatsResponse, ListGroupStatusesRequest, ListThreadsRequest,
    ListThreadsResponse, MarkEventsAsSeenRequest, Postback, PredictedAgent, ResumeChatRequest, SendEventRequest,
    SendRichMessagePostbackRequest, SetCustomerSessionFieldsRequest, SortOrder, StartChatRequest,
    UpdateChatPropertiesRequest, UpdateCustomerRequest, UpdateEventPropertiesRequest, UpdateThreadPropertiesRequest,
    UrlInfo,
};
use confab_protocol::entity::{Chat, Customer, Event as ChatEvent, Properties, PropertyNames, SessionFields, Thread};
use confab_protocol::push::Push;
use confab_protocol::token::TokenReply;
use futures::channel::{mpsc, oneshot};
use futures::future::{Either, FutureExt};
use futures::lock::Mutex;
use futures::task::AtomicWaker;
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

/// Where a settled request's result goes.
pub(crate) type Responder = oneshot::Sender<Result<Reply, SdkError>>;

/// Something a `Client` asks of the driver.
pub(crate) enum Command {
    Request { request: Box<Request>, settled_by: Option<&'static str>, reply: Responder },
    SneakPeek { chat_id: String, text: String },
    CustomerPage { page: CustomerPage, reply: Responder },
    Ticket { form: Box<TicketForm>, reply: oneshot::Sender<Result<Value, SdkError>> },
}

/// Requests the driver has not picked up yet. The driver picks them up as soon as it is not
/// writing to the socket, so this only fills when a caller fires many at once.
pub(crate) const REQUEST_QUEUE: usize = 16;

/// `list_chats` accepts at most this `limit` (protocol.md §6.6, enforced client-side).
pub const MAX_LIST_CHATS_LIMIT: u32 = 25;

/// Sends requests. Clone it freely; all clones drive the same connection.
#[derive(Clone)]
pub struct Client {
    /// One sender shared by every clone: each `mpsc::Sender` has a slot of its own beyond the
    /// channel's capacity, so a sender per clone (or per call) would leave it unbounded.
    commands: Arc<Mutex<mpsc::Sender<Command>>>,
    control: Arc<Control>,
    /// Where uploads go, with the driver's latest access token (`upload.rs`).
    pub(crate) uploads: Arc<crate::upload::Uploads>,
}

/// `connect()`, `disconnect()`, `destroy()` → the driver. `disconnect` clears a `connect`
/// asked before it; a `connect` after a `disconnect` runs after it.
#[derive(Default)]
pub(crate) struct Control {
    pub(crate) connect: AtomicBool,
    pub(crate) disconnect: AtomicBool,
    pub(crate) destroy: AtomicBool,
    pub(crate) driver: AtomicWaker,
}

/// The stream of [`ClientEvent`]s. Ends when the client is dropped or destroyed.
pub type Events = mpsc::UnboundedReceiver<ClientEvent>;

/// A rating for [`Client::rate_chat`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rating {
    /// `1` good, `0` bad.
    pub score: u8,
    /// What the customer wrote with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Connects on `platform`: spawns the driver and returns the handle and its events.
pub(crate) fn connect<P: Platform>(platform: P, config: Config) -> (Client, Events) {
    let (platform, uploads) = crate::upload::tap(platform, &config);
    let (client, commands) = Client::new(uploads);
    // Unbounded on purpose: the driver must never wait for the app. An app may await a reply
    // while not reading events (the widget did, on `Connected`); a driver blocked on a full
    // `Events` would never read that reply: a deadlock. Dropping events instead would lose
    // messages. What fills it is the server's pushes, which a connected app reads as they come.
    let (events_tx, events) = mpsc::unbounded();
    spawn_driver(platform, config, commands, client.control.clone(), events_tx);
    (client, events)
}

/// Starts the one loop that owns a connection: it takes `commands`, obeys `control`, and
/// sends what happens to `events`.
pub(crate) fn spawn_driver<P: Platform>(
    platform: P,
    config: Config,
    commands: mpsc::Receiver<Command>,
    control: Arc<Control>,
    events: mpsc::UnboundedSender<ClientEvent>,
) {
    let mut core = Core::new(config, platform.random_seed());
    core.connect(platform.now());
    let network = platform.network_changes();
    let driver = Driver { platform, core, commands, control, events, pending: HashMap::new(), socket: None, network };
    P::spawn(Box::pin(driver.run()));
}

impl Client {
    /// A handle whose commands come out of the returned receiver (a driver's, or a tab
    /// relay's: `tabs.rs`).
    pub(crate) fn new(uploads: Arc<crate::upload::Uploads>) -> (Client, mpsc::Receiver<Command>) {
        let (commands_tx, commands) = mpsc::channel(REQUEST_QUEUE);
        let client = Client { commands: Arc::new(Mutex::new(commands_tx)), control: Arc::default(), uploads };
        (client, commands)
    }

    pub(crate) fn control(&self) -> &Arc<Control> {
        &self.control
    }

    async fn command(&self, command: Command) -> Result<(), SdkError> {
        // Waits while the queue is full; the lock is released before waiting for the answer.
        self.commands.lock().await.send(command).await.map_err(|_| SdkError::Destroyed)
    }

    /// Sends `request` and waits until it settles, by its response or by the push its action
    /// names (`A::SETTLED_BY`).
    async fn settle<A: Action>(&self, request: A) -> Result<Reply, SdkError> {
        let (reply, answer) = oneshot::channel();
        let request = Box::new(request.into_request());
        self.command(Command::Request { request, settled_by: A::SETTLED_BY, reply }).await?;
        answer.await.map_err(|_| SdkError::Destroyed)?
    }

    /// Sends any action and returns its typed response: the one typed call every method uses.
    ///
    /// For an action settled by a push (`start_chat`, `resume_chat`, `send_event`), it returns
    /// once that push has arrived, with the direct response that preceded it; the methods
    /// [`Client::start_chat`], [`Client::activate_chat`] and [`Client::send_event`] return the
    /// push's value (the chat, the event) instead.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::action::GetUrlInfoRequest;
    /// let info = client.call(GetUrlInfoRequest { url: "https://example.com".into() }).await?;
    /// println!("{:?}", info.title);
    /// # Ok(()) }
    /// ```
    pub async fn call<A: Action>(&self, request: A) -> Result<A::Response, SdkError> {
        match self.settle(request).await? {
            Reply::Response(response) | Reply::Push { response: Some(response), .. } => response.decode(),
            Reply::Push { push, response: None } => {
                Err(SdkError::Protocol(format!("`{}` settled by `{}` before its response", A::NAME, push.name())))
            }
        }
    }

    /// The push that settled `request`.
    async fn pushed<A: Action>(&self, request: A) -> Result<Push, SdkError> {
        match self.settle(request).await? {
            Reply::Push { push, .. } => Ok(push),
            Reply::Response(response) => {
                Err(SdkError::Protocol(format!("`{}` settled without its push", response.action)))
            }
        }
    }

    async fn chat_from<A: Action>(&self, request: A) -> Result<Chat, SdkError> {
        match self.pushed(request).await? {
            Push::IncomingChat(incoming) => Ok(incoming.chat),
            other => Err(SdkError::Protocol(format!("expected incoming_chat, got {}", other.name()))),
        }
    }

    /// Accepts a greeting (`accept_greeting`).
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// client.accept_greeting(7, "Q10X0W0CUK").await?;
    /// # Ok(()) }
    /// ```
    pub async fn accept_greeting(&self, greeting_id: u64, unique_id: &str) -> Result<(), SdkError> {
        self.call(AcceptGreetingRequest { greeting_id, unique_id: unique_id.to_owned() }).await.map(drop)
    }

    /// Opens a new thread in an inactive chat: the SDK's `activateChat`, the wire's
    /// `resume_chat`. Resolves with the chat once its `incoming_chat` arrives.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::action::{InitialChat, ResumeChatRequest};
    /// let chat = InitialChat { id: Some("C1".into()), ..Default::default() };
    /// let chat = client.activate_chat(ResumeChatRequest { chat, active: Some(true), continuous: None }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn activate_chat(&self, request: ResumeChatRequest) -> Result<Chat, SdkError> {
        self.chat_from(request).await
    }

    /// [`Client::activate_chat`] for `chat_id`, optionally with a first message.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// let chat = client.resume_chat("C1", Some("Back again")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn resume_chat(&self, chat_id: &str, first_message: Option<&str>) -> Result<Chat, SdkError> {
        let chat = InitialChat {
            id: Some(chat_id.to_owned()),
            thread: first_message.map(initial_thread),
            ..InitialChat::default()
        };
        self.activate_chat(ResumeChatRequest { chat, active: Some(true), continuous: None }).await
    }

    /// Cancels a greeting (`cancel_greeting`).
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// client.cancel_greeting("Q10X0W0CUK").await?;
    /// # Ok(()) }
    /// ```
    pub async fn cancel_greeting(&self, unique_id: &str) -> Result<(), SdkError> {
        self.call(CancelGreetingRequest { unique_id: unique_id.to_owned() }).await.map(drop)
    }

    /// Takes back the rating of the chat's newest thread: deletes `rating` properties
    /// `properties` (the SDK's default is `["score"]`). No thread: `MISSING_CHAT_THREAD`.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// client.cancel_rate("C1", &["score", "comment"]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn cancel_rate(&self, chat_id: &str, properties: &[&str]) -> Result<(), SdkError> {
        let thread = self.newest_thread(chat_id).await?;
        let names = properties.iter().map(|name| (*name).to_owned()).collect();
        let properties = PropertyNames::from([("rating".to_owned(), names)]);
        self.delete_thread_properties(chat_id, &thread.id, properties).await
    }

    /// The chat's newest thread (`list_threads`, newest first).
    async fn newest_thread(&self, chat_id: &str) -> Result<Thread, SdkError> {
        let page = self
            .list_threads(ListThreadsRequest {
                chat_id: chat_id.to_owned(),
                sort_order: Some(SortOrder::Desc),
                limit: None,
                page_id: None,
                min_events_count: None,
            })
            .await?;
        page.threads.into_iter().next().ok_or_else(|| SdkError::MissingChatThread { chat_id: chat_id.to_owned() })
    }

    /// Connects again after [`Client::disconnect`] or a pause (`users_limit_reached`,
    /// `inactivity_timeout`). The client connects on its own when created; this does nothing
    /// while connecting or connected.
    ///
    /// ```no_run
    /// # fn demo(client: confab_sdk::Client) {
    /// client.disconnect();
    /// client.connect();
    /// # }
    /// ```
    pub fn connect(&self) {
        self.control.connect.store(true, Ordering::SeqCst);
        self.control.driver.wake();
    }

    /// Closes the chat's active thread (`deactivate_chat`).
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// client.deactivate_chat("C1").await?;
    /// # Ok(()) }
    /// ```
    pub async fn deactivate_chat(&self, chat_id: &str) -> Result<(), SdkError> {
        self.call(DeactivateChatRequest { id: Some(chat_id.to_owned()), chat_id: None }).await.map(drop)
    }

    /// Deletes chat properties: `{"<namespace>": ["<name>", …]}`.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::entity::PropertyNames;
    /// client.delete_chat_properties("C1", PropertyNames::from([("shop".into(), vec!["cart".into()])])).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_chat_properties(&self, chat_id: &str, properties: PropertyNames) -> Result<(), SdkError> {
        self.call(DeleteChatPropertiesRequest { id: Some(chat_id.to_owned()), chat_id: None, properties })
            .await
            .map(drop)
    }

    /// Deletes an event's properties.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::entity::PropertyNames;
    /// let names = PropertyNames::from([("shop".into(), vec!["sku".into()])]);
    /// client.delete_event_properties("C1", "T1", "E1", names).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_event_properties(
        &self,
        chat_id: &str,
        thread_id: &str,
        event_id: &str,
        properties: PropertyNames,
    ) -> Result<(), SdkError> {
        let request = DeleteEventPropertiesRequest {
            chat_id: chat_id.to_owned(),
            thread_id: thread_id.to_owned(),
            event_id: event_id.to_owned(),
            properties,
        };
        self.call(request).await.map(drop)
    }

    /// Deletes a thread's properties.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::entity::PropertyNames;
    /// client.delete_thread_properties("C1", "T1", PropertyNames::from([("rating".into(), vec!["score".into()])])).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_thread_properties(
        &self,
        chat_id: &str,
        thread_id: &str,
        properties: PropertyNames,
    ) -> Result<(), SdkError> {
        let request =
            DeleteThreadPropertiesRequest { chat_id: chat_id.to_owned(), thread_id: thread_id.to_owned(), properties };
        self.call(request).await.map(drop)
    }

    /// Ends the client for good: the socket closes, pending requests fail with
    /// `SDK_DESTROYED`, and so does every later call; [`Events`] ends. No `Disconnected`.
    ///
    /// ```no_run
    /// # fn demo(client: confab_sdk::Client) {
    /// client.destroy();
    /// # }
    /// ```
    pub fn destroy(&self) {
        self.control.destroy.store(true, Ordering::SeqCst);
        self.control.driver.wake();
    }

    /// Closes the connection until [`Client::connect`]; pending requests fail with
    /// `CONNECTION_LOST`. Requests already handed to the driver are sent first (and fail with
    /// it). No `Disconnected` event.
    ///
    /// ```no_run
    /// # fn demo(client: confab_sdk::Client) {
    /// client.disconnect();
    /// # }
    /// ```
    pub fn disconnect(&self) {
        self.control.connect.store(false, Ordering::SeqCst);
        self.control.disconnect.store(true, Ordering::SeqCst);
        self.control.driver.wake();
    }

    /// The chat with its latest thread (or `thread_id`). Also emits `UserData` per user.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// let chat = client.get_chat("C1", None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_chat(&self, chat_id: &str, thread_id: Option<&str>) -> Result<Chat, SdkError> {
        self.call(GetChatRequest { chat_id: chat_id.to_owned(), thread_id: thread_id.map(str::to_owned) }).await
    }

    /// The chat's history, newest page first, each page's threads oldest first (the SDK's
    /// `getChatHistory`, protocol.md §8.1).
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// let mut history = client.get_chat_history("C1");
    /// while let Some(threads) = history.next().await? {
    ///     for thread in threads {
    ///         println!("{}: {} events", thread.id, thread.events.len());
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn get_chat_history(&self, chat_id: &str) -> ChatHistory {
        ChatHistory { client: self.clone(), pager: HistoryPager::new(chat_id) }
    }

    /// The customer, with statistics (`get_customer`).
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// let me = client.get_customer().await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_customer(&self) -> Result<Customer, SdkError> {
        self.call(GetCustomerRequest {}).await.map(|customer| customer.0)
    }

    /// A group's pre-chat, post-chat or ticket form (`get_form`).
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::action::FormType;
    /// let form = client.get_form(0, FormType::Prechat).await?;
    /// if form.enabled { /* show form.form */ }
    /// # Ok(()) }
    /// ```
    pub async fn get_form(&self, group_id: u32, kind: FormType) -> Result<GetFormResponse, SdkError> {
        self.call(GetFormRequest { group_id, kind }).await
    }

    /// Who would take a chat started now (`get_predicted_agent`).
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// let predicted = client.get_predicted_agent(None).await?;
    /// println!("{:?}, queued: {}", predicted.agent.name, predicted.queue);
    /// # Ok(()) }
    /// ```
    pub async fn get_predicted_agent(&self, group_id: Option<u32>) -> Result<PredictedAgent, SdkError> {
        self.call(GetPredictedAgentRequest { group_id }).await
    }

    /// A link preview (`get_url_info`).
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// let info = client.get_url_info("https://example.com").await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_url_info(&self, url: &str) -> Result<UrlInfo, SdkError> {
        self.call(GetUrlInfoRequest { url: url.to_owned() }).await
    }

    /// The customer's chats, a page at a time. A `limit` over 25 is refused here
    /// (`VALIDATION`). Also emits `UserData` per user.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::action::ListChatsRequest;
    /// let page = client.list_chats(ListChatsRequest { limit: Some(10), ..Default::default() }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn list_chats(&self, request: ListChatsRequest) -> Result<ListChatsResponse, SdkError> {
        if request.limit.is_some_and(|limit| limit > MAX_LIST_CHATS_LIMIT) {
            return Err(SdkError::Validation(format!("`limit` must be at most {MAX_LIST_CHATS_LIMIT}")));
        }
        self.call(request).await
    }

    /// Whether groups can take chats: those in `group_ids`, or all (`None`).
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// let statuses = client.list_group_statuses(Some(vec![0, 1])).await?;
    /// # Ok(()) }
    /// ```
    pub async fn list_group_statuses(
        &self,
        group_ids: Option<Vec<u32>>,
    ) -> Result<BTreeMap<u32, GroupStatus>, SdkError> {
        let request = match group_ids {
            Some(ids) => ListGroupStatusesRequest { all: None, group_ids: Some(ids) },
            None => ListGroupStatusesRequest { all: Some(true), group_ids: None },
        };
        self.call(request).await.map(|response| response.groups_status)
    }

    /// A page of the chat's threads (`list_threads`).
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::action::ListThreadsRequest;
    /// let request = ListThreadsRequest { chat_id: "C1".into(), sort_order: None, limit: Some(3), page_id: None, min_events_count: None };
    /// let page = client.list_threads(request).await?;
    /// # Ok(()) }
    /// ```
    pub async fn list_threads(&self, request: ListThreadsRequest) -> Result<ListThreadsResponse, SdkError> {
        self.call(request).await
    }

    /// Marks the chat's events up to `seen_up_to` (RFC 3339) as seen.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// client.mark_events_as_seen("C1", "2025-01-01T10:00:00.000000Z").await?;
    /// # Ok(()) }
    /// ```
    pub async fn mark_events_as_seen(&self, chat_id: &str, seen_up_to: &str) -> Result<(), SdkError> {
        self.call(MarkEventsAsSeenRequest { chat_id: chat_id.to_owned(), seen_up_to: seen_up_to.to_owned() })
            .await
            .map(drop)
    }

    /// Rates the chat's newest thread: its `rating` property becomes `{score, comment?}`. No
    /// thread: `MISSING_CHAT_THREAD`.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::Rating;
    /// client.rate_chat("C1", Rating { score: 1, comment: Some("Quick and kind".into()) }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn rate_chat(&self, chat_id: &str, rating: Rating) -> Result<(), SdkError> {
        let thread = self.newest_thread(chat_id).await?;
        let mut properties = Properties::new();
        properties.insert("rating".into(), serde_json::to_value(&rating).expect("a rating encodes"));
        self.update_thread_properties(chat_id, &thread.id, properties).await
    }

    /// Sends an event; resolves with the event as stored (id, author, time) from its
    /// `incoming_event`. Any event kind; set `custom_id` to recognise your copy.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::Event;
    /// let stored = client.send_event("C1", Event::message("Hello!").with_custom_id("m-1")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_event(&self, chat_id: &str, event: ChatEvent) -> Result<ChatEvent, SdkError> {
        self.send_event_with(SendEventRequest { chat_id: chat_id.to_owned(), event, attach_to_last_thread: None }).await
    }

    /// [`Client::send_event`] with every parameter (`attach_to_last_thread`).
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::{Event, action::SendEventRequest};
    /// let request = SendEventRequest { chat_id: "C1".into(), event: Event::message("PS"), attach_to_last_thread: Some(true) };
    /// client.send_event_with(request).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_event_with(&self, request: SendEventRequest) -> Result<ChatEvent, SdkError> {
        // The flag only when set, as the SDK sends it (§7).
        let request =
            SendEventRequest { attach_to_last_thread: request.attach_to_last_thread.filter(|&v| v), ..request };
        match self.pushed(request).await? {
            Push::IncomingEvent(incoming) => Ok(incoming.event),
            other => Err(SdkError::Protocol(format!("expected incoming_event, got {}", other.name()))),
        }
    }

    /// A click on a rich message button.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::action::Postback;
    /// client.send_rich_message_postback("C1", "T1", "E1", Postback { id: "yes".into(), toggled: true }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_rich_message_postback(
        &self,
        chat_id: &str,
        thread_id: &str,
        event_id: &str,
        postback: Postback,
    ) -> Result<(), SdkError> {
        let request = SendRichMessagePostbackRequest {
            chat_id: chat_id.to_owned(),
            thread_id: thread_id.to_owned(),
            event_id: event_id.to_owned(),
            postback,
        };
        self.call(request).await.map(drop)
    }

    /// Sends a filled ticket form over HTTP (`POST /v2/tickets/new`, protocol.md §7.2);
    /// resolves with the server's answer (`{id, …}`). 400/422: `VALIDATION`.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::entity::FilledFormBody;
    /// use confab_sdk::ticket::TicketForm;
    /// let form = TicketForm { filled_form: FilledFormBody { form_id: "ticket".into(), fields: vec![] }, group_id: Some(0), time_zone: None };
    /// let ticket = client.send_ticket_form(form).await?;
    /// println!("ticket {}", ticket["id"]);
    /// # Ok(()) }
    /// ```
    pub async fn send_ticket_form(&self, form: TicketForm) -> Result<Value, SdkError> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Ticket { form: Box::new(form), reply }).await?;
        answer.await.map_err(|_| SdkError::Destroyed)?
    }

    /// Sets the customer's session fields (`[{key: value}, …]`).
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// let mut field = serde_json::Map::new();
    /// field.insert("plan".into(), "pro".into());
    /// client.set_customer_session_fields(vec![field]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_customer_session_fields(&self, session_fields: SessionFields) -> Result<(), SdkError> {
        self.call(SetCustomerSessionFieldsRequest { session_fields }).await.map(drop)
    }

    /// Shows agents what the customer is typing. Sent only when connected and the chat is
    /// known active; fire and forget (errors are swallowed, a full queue drops it).
    ///
    /// ```no_run
    /// # fn demo(client: confab_sdk::Client) {
    /// client.set_sneak_peek("C1", "I would like to ask ab");
    /// # }
    /// ```
    pub fn set_sneak_peek(&self, chat_id: &str, text: &str) {
        if let Some(mut commands) = self.commands.try_lock() {
            let _ = commands.try_send(Command::SneakPeek { chat_id: chat_id.to_owned(), text: text.to_owned() });
        }
    }

    /// Starts the customer's chat, optionally with a first message. Resolves with the chat
    /// once the server's `incoming_chat` arrives.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// let chat = client.start_chat(Some("Hello!")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn start_chat(&self, first_message: Option<&str>) -> Result<Chat, SdkError> {
        let chat = InitialChat { thread: first_message.map(initial_thread), ..InitialChat::default() };
        self.start_chat_with(StartChatRequest { chat: Some(chat), active: Some(true), continuous: None }).await
    }

    /// [`Client::start_chat`] with every parameter.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::action::StartChatRequest;
    /// let chat = client.start_chat_with(StartChatRequest { continuous: Some(true), ..Default::default() }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn start_chat_with(&self, request: StartChatRequest) -> Result<Chat, SdkError> {
        // §7: `chat` is always present, `{}` at least.
        let request = StartChatRequest { chat: Some(request.chat.unwrap_or_default()), ..request };
        self.chat_from(request).await
    }

    /// Updates chat properties: `{"<namespace>": {"<name>": value}}`.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// let properties = serde_json::json!({"shop": {"cart": 3}}).as_object().unwrap().clone();
    /// client.update_chat_properties("C1", properties).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_chat_properties(&self, chat_id: &str, properties: Properties) -> Result<(), SdkError> {
        self.call(UpdateChatPropertiesRequest { id: Some(chat_id.to_owned()), chat_id: None, properties })
            .await
            .map(drop)
    }

    /// Updates the customer's name, email, avatar or session fields.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::action::CustomerUpdate;
    /// client.update_customer(CustomerUpdate { name: Some("Jo".into()), ..Default::default() }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_customer(&self, update: CustomerUpdate) -> Result<(), SdkError> {
        self.call(UpdateCustomerRequest(update)).await.map(drop)
    }

    /// Tells the server the page the customer is on now; sent when connected, and remembered
    /// for every later login's `customer_page` either way.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// use confab_sdk::protocol::action::CustomerPage;
    /// client.update_customer_page(CustomerPage { url: Some("https://shop.example/cart".into()), title: Some("Cart".into()) }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_customer_page(&self, page: CustomerPage) -> Result<(), SdkError> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::CustomerPage { page, reply }).await?;
        answer.await.map_err(|_| SdkError::Destroyed)?.map(drop)
    }

    /// Updates an event's properties.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// let properties = serde_json::json!({"shop": {"sku": "A-1"}}).as_object().unwrap().clone();
    /// client.update_event_properties("C1", "T1", "E1", properties).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_event_properties(
        &self,
        chat_id: &str,
        thread_id: &str,
        event_id: &str,
        properties: Properties,
    ) -> Result<(), SdkError> {
        let request = UpdateEventPropertiesRequest {
            chat_id: chat_id.to_owned(),
            thread_id: thread_id.to_owned(),
            event_id: event_id.to_owned(),
            properties,
        };
        self.call(request).await.map(drop)
    }

    /// Updates a thread's properties.
    ///
    /// ```no_run
    /// # async fn demo(client: confab_sdk::Client) -> Result<(), confab_sdk::SdkError> {
    /// let properties = serde_json::json!({"shop": {"order": "123"}}).as_object().unwrap().clone();
    /// client.update_thread_properties("C1", "T1", properties).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_thread_properties(
        &self,
        chat_id: &str,
        thread_id: &str,
        properties: Properties,
    ) -> Result<(), SdkError> {
        let request =
            UpdateThreadPropertiesRequest { chat_id: chat_id.to_owned(), thread_id: thread_id.to_owned(), properties };
        self.call(request).await.map(drop)
    }
}

fn initial_thread(text: &str) -> InitialThread {
    InitialThread { events: Some(vec![ChatEvent::message(text)]), properties: None }
}

/// Pages through a chat's threads, newest page first; each page's threads are oldest first
/// (protocol.md §8.1). See [`Client::get_chat_history`].
pub struct ChatHistory {
    client: Client,
    pager: HistoryPager,
}

impl ChatHistory {
    /// True once the oldest page was handed out: [`ChatHistory::next`] has nothing more.
    pub fn is_done(&self) -> bool {
        self.pager.is_done()
    }

    /// The next (older) page, or `None` when the history is exhausted. After an error, the
    /// next call asks for the same page again.
    pub async fn next(&mut self) -> Result<Option<Vec<Thread>>, SdkError> {
        let Some(request) = self.pager.request() else {
            return Ok(None);
        };
        let page = self.client.list_threads(request).await?;
        Ok(Some(self.pager.take(page)))
    }

    /// The pages as a stream, ending after the oldest page or the first error.
    pub fn into_stream(self) -> impl futures::Stream<Item = Result<Vec<Thread>, SdkError>> {
        futures::stream::unfold(Some(self), |history| async move {
            let mut history = history?;
            match history.next().await {
                Ok(Some(page)) => Some((Ok(page), Some(history))),
                Ok(None) => None,
                Err(error) => Some((Err(error), None)),
            }
        })
    }
}

/// Runs the core: turns its `Io` into platform calls and platform results into core inputs.
struct Driver<P: Platform> {
    platform: P,
    core: Core,
    commands: mpsc::Receiver<Command>,
    control: Arc<Control>,
    events: mpsc::UnboundedSender<ClientEvent>,
    pending: HashMap<RequestId, Responder>,
    socket: Option<Socket>,
    network: Option<crate::platform::BoxStream<NetworkChange>>,
}

/// One thing that happened, found by waiting on everything at once.
enum Input {
    /// `None`: every `Client` is gone.
    Command(Option<Command>),
    Control,
    Token(Result<String, String>),
    Opened(Result<Socket, crate::platform::SocketError>),
    Frame(Option<String>),
    Network(Option<NetworkChange>),
    Timeout,
}

impl<P: Platform> Driver<P> {
    async fn run(mut self) {
        let mut token_request: Option<crate::platform::BoxFuture<Result<String, String>>> = None;
        let mut opening: Option<crate::platform::BoxFuture<Result<Socket, crate::platform::SocketError>>> = None;
        loop {
            while let Some(io) = self.core.poll_io() {
                match io {
                    Io::FetchToken => {
                        let config = self.core.config();
                        token_request = Some(self.platform.fetch_token(config.token_url(), config.token_request()));
                    }
                    Io::OpenSocket { url } => opening = Some(self.platform.open_socket(url)),
                    Io::CloseSocket => {
                        opening = None;
                        if let Some(mut socket) = self.socket.take() {
                            let _ = socket.outgoing.close().await;
                        }
                    }
                    Io::Send(text) => {
                        let sent = match &mut self.socket {
                            Some(socket) => socket.outgoing.send(text).await.is_ok(),
                            None => false,
                        };
                        if !sent {
                            self.socket = None;
                            self.core.handle_close(self.platform.now());
                        }
                    }
                }
            }
            while let Some(output) = self.core.poll_event() {
                self.deliver(output);
            }
            if self.core.is_destroyed() {
                // Queued commands fail with `SDK_DESTROYED` as their replies drop; `Events` ends.
                return;
            }

            let now = self.platform.now();
            let input = {
                let command = self.commands.next().map(Input::Command);
                let control = futures::future::poll_fn(|cx| {
                    self.control.driver.register(cx.waker());
                    let asked = [&self.control.destroy, &self.control.disconnect, &self.control.connect]
                        .iter()
                        .any(|flag| flag.load(Ordering::SeqCst));
                    if asked { Poll::Ready(Input::Control) } else { Poll::Pending }
                });
                let token = optional(token_request.as_mut()).map(Input::Token);
                let opened = optional(opening.as_mut()).map(Input::Opened);
                let frame = match &mut self.socket {
                    Some(socket) => Either::Left(socket.incoming.next()),
                    None => Either::Right(futures::future::pending()),
                }
                .map(Input::Frame);
                let network = match &mut self.network {
                    Some(network) => Either::Left(network.next()),
                    None => Either::Right(futures::future::pending()),
                }
                .map(Input::Network);
                let timeout = match self.core.poll_timeout() {
                    Some(at) => Either::Left(self.platform.sleep(at.saturating_sub(now))),
                    None => Either::Right(futures::future::pending()),
                }
                .map(|_| Input::Timeout);
                // Commands before the control flags: a call queued before `disconnect()` is
                // handled before it.
                futures::select_biased! {
                    input = command.fuse() => input,
                    input = control.fuse() => input,
                    input = frame.fuse() => input,
                    input = token.fuse() => input,
                    input = opened.fuse() => input,
                    input = network.fuse() => input,
                    input = timeout.fuse() => input,
                }
            };

            let now = self.platform.now();
            match input {
                Input::Command(Some(command)) => self.on_command(command, now),
                Input::Command(None) => {
                    // Every Client is gone: nobody can ask anything any more.
                    self.core.disconnect();
                    if let Some(mut socket) = self.socket.take() {
                        let _ = socket.outgoing.close().await;
                    }
                    return;
                }
                Input::Control => {
                    if self.control.destroy.swap(false, Ordering::SeqCst) {
                        self.core.destroy();
                    }
                    if self.control.disconnect.swap(false, Ordering::SeqCst) {
                        self.core.disconnect();
                    }
                    if self.control.connect.swap(false, Ordering::SeqCst) {
                        self.core.connect(now);
                    }
                }
                Input::Token(result) => {
                    token_request = None;
                    self.core.handle_token(parse_token(result), now);
                }
                Input::Opened(Ok(socket)) => {
                    opening = None;
                    self.socket = Some(socket);
                    self.core.handle_open(now);
                }
                Input::Opened(Err(_)) => {
                    opening = None;
                    self.core.handle_close(now);
                }
                Input::Frame(Some(text)) => self.core.handle_text(&text, now),
                Input::Frame(None) => {
                    self.socket = None;
                    self.core.handle_close(now);
                }
                Input::Network(Some(NetworkChange::Online)) => self.core.handle_online(now),
                Input::Network(Some(NetworkChange::Offline)) => self.core.handle_offline(now),
                Input::Network(None) => self.network = None,
                Input::Timeout => self.core.handle_timeout(now),
            }
        }
    }

    fn on_command(&mut self, command: Command, now: std::time::Duration) {
        match command {
            Command::Request { request, settled_by, reply } => match self.core.request_raw(*request, settled_by, now) {
                Ok(id) => {
                    self.pending.insert(id, reply);
                }
                Err(error) => {
                    let _ = reply.send(Err(error));
                }
            },
            Command::SneakPeek { chat_id, text } => {
                self.core.sneak_peek(&chat_id, &text, now);
            }
            Command::CustomerPage { page, reply } => match self.core.update_customer_page(page, now) {
                Ok(Some(id)) => {
                    self.pending.insert(id, reply);
                }
                Ok(None) => {
                    let _ = reply.send(Ok(Reply::Response(RawResponse {
                        action: "update_customer_page".into(),
                        payload: None,
                    })));
                }
                Err(error) => {
                    let _ = reply.send(Err(error));
                }
            },
            Command::Ticket { form, reply } => {
                let config = self.core.config();
                let page_url = config.page.as_ref().and_then(|page| page.url.as_deref());
                let body = ticket_body(&form, &config.organization_id, self.core.customer_id(), page_url);
                let post = self.platform.post_json(config.ticket_url(), body.to_string());
                P::spawn(Box::pin(async move {
                    let result = match post.await {
                        Ok((status, body)) => read_ticket_response(status, &body),
                        Err(error) => Err(SdkError::Http(error)),
                    };
                    let _ = reply.send(result);
                }));
            }
        }
    }

    /// Hands an output to whoever waits for it: a settled request to its caller, an event to
    /// `Events`.
    fn deliver(&mut self, output: Output) {
        match output {
            Output::Settled { id, result } => {
                if let Some(reply) = self.pending.remove(&id) {
                    let _ = reply.send(result);
                }
            }
            // A dropped `Events` is fine: requests still work.
            Output::Event(event) => {
                let _ = self.events.unbounded_send(event);
            }
        }
    }
}

/// A future that never resolves when there is nothing to wait for.
fn optional<F: std::future::Future + Unpin>(
    future: Option<&mut F>,
) -> impl std::future::Future<Output = F::Output> + '_ {
    match future {
        Some(future) => Either::Left(future),
        None => Either::Right(futures::future::pending()),
    }
}

/// Reads the token endpoint's body (protocol.md §2.2: the body decides, not the status).
fn parse_token(result: Result<String, String>) -> Result<confab_protocol::token::TokenResponse, SdkError> {
    let body = result.map_err(SdkError::Token)?;
    match serde_json::from_str::<TokenReply>(&body) {
        Ok(TokenReply::Granted(token)) => Ok(token),
        Ok(TokenReply::Refused(refused)) => Err(match (refused.identity_exception, refused.oauth_exception) {
            (Some(message), _) => SdkError::SsoIdentityException(message),
            (None, Some(message)) => SdkError::SsoOauthException(message),
            (None, None) => SdkError::Token("refused".into()),
        }),
        Err(e) => Err(SdkError::Token(format!("unreadable token response: {e}"))),
    }
}

/// The driver on a fake platform: a socket made of channels, a token at once, tokio timers.
#[cfg(all(test, feature = "native"))]
mod tests {
    use super::*;
    use crate::platform::{BoxFuture, SocketError};
    use confab_protocol::action::{DynamicConfig, LoginResponse};
    use confab_protocol::entity::Statistics;
    use confab_protocol::frame::ResponseFrame;
    use confab_protocol::{RequestFrame, Response, ServerFrame};
    use std::time::{Duration, Instant};

    /// The server's end of one socket the client opened.
    struct ServerEnd {
        from_client: mpsc::Receiver<String>,
        to_client: mpsc::UnboundedSender<String>,
    }

    impl ServerEnd {
        /// The next frame the client sends, decoded.
        async fn receive(&mut self) -> RequestFrame {
            let text = self.from_client.next().await.expect("the client sends a frame");
            RequestFrame::decode(&text).expect("a frame the protocol reads")
        }

        fn answer(&self, request: &RequestFrame, response: Response) {
            let frame: ServerFrame = ResponseFrame::ok(request.request_id.clone(), response).into();
            self.to_client.unbounded_send(frame.encode()).expect("the client listens");
        }
    }

    struct Fake {
        epoch: Instant,
        sockets: mpsc::UnboundedSender<ServerEnd>,
    }

    impl Platform for Fake {
        fn now(&self) -> Duration {
            self.epoch.elapsed()
        }

        fn sleep(&self, duration: Duration) -> BoxFuture<()> {
            Box::pin(tokio::time::sleep(duration))
        }

        fn open_socket(&self, _url: String) -> BoxFuture<Result<Socket, SocketError>> {
            let (outgoing, from_client) = mpsc::channel(0);
            let (to_client, incoming) = mpsc::unbounded();
            let _ = self.sockets.unbounded_send(ServerEnd { from_client, to_client });
            let outgoing = outgoing.sink_map_err(|e| SocketError(e.to_string()));
            Box::pin(futures::future::ready(Ok(Socket { incoming: Box::pin(incoming), outgoing: Box::pin(outgoing) })))
        }

        fn fetch_token(&self, _url: String, _body: String) -> BoxFuture<Result<String, String>> {
            let token = r#"{"access_token":"tok-1","entity_id":"cust-1","expires_in":28800,"token_type":"Bearer"}"#;
            Box::pin(futures::future::ready(Ok(token.to_owned())))
        }

        fn post_json(&self, _url: String, _body: String) -> BoxFuture<Result<(u16, String), String>> {
            Box::pin(futures::future::ready(Ok((200, r#"{"id":"ticket-1"}"#.to_owned()))))
        }

        fn random_seed(&self) -> u64 {
            7
        }

        fn spawn(task: BoxFuture<()>) {
            tokio::spawn(task);
        }
    }

    fn login_response() -> Response {
        let customer = Customer { id: "cust-1".into(), statistics: Some(Statistics::default()), ..Customer::default() };
        Response::Login(LoginResponse::new(customer, vec![], DynamicConfig::new(1, vec![1])))
    }

    /// A client logged in on the fake platform, and the server's end of its socket.
    async fn connected() -> (Client, Events, ServerEnd) {
        let (sockets, mut opened) = mpsc::unbounded();
        let (client, mut events) =
            connect(Fake { epoch: Instant::now(), sockets }, Config::new("http://fake", "org-1"));
        let mut server = opened.next().await.expect("a socket is opened");
        let login = server.receive().await;
        server.answer(&login, login_response());
        assert_eq!(events.next().await, Some(ClientEvent::CustomerId("cust-1".into())), "from the first token");
        assert!(matches!(events.next().await, Some(ClientEvent::Connected { .. })));
        (client, events, server)
    }

    #[tokio::test]
    async fn disconnect_fails_the_pending_request_and_asking_twice_is_asking_once() {
        let (client, _events, mut server) = connected().await;
        let waiting = tokio::spawn({
            let client = client.clone();
            async move { client.list_chats(ListChatsRequest::default()).await }
        });
        let request = server.receive().await;
        assert!(matches!(request.request, Request::ListChats(_)), "the request went out first");

        client.disconnect();
        client.disconnect();
        assert_eq!(waiting.await.unwrap().unwrap_err(), SdkError::ConnectionLost);
        assert_eq!(client.list_chats(ListChatsRequest::default()).await.unwrap_err(), SdkError::NoConnection);
    }

    #[tokio::test]
    async fn requests_from_many_clones_each_get_their_own_answer() {
        let (client, _events, mut server) = connected().await;
        // More callers than the request queue has slots: the extra ones wait their turn.
        let callers: Vec<_> = (0..2 * REQUEST_QUEUE)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.list_chats(ListChatsRequest::default()).await })
            })
            .collect();
        for n in 0..2 * REQUEST_QUEUE as u64 {
            let request = server.receive().await;
            server.answer(
                &request,
                Response::ListChats(ListChatsResponse {
                    chats_summary: vec![],
                    total_chats: n,
                    next_page_id: None,
                    previous_page_id: None,
                }),
            );
        }
        let mut totals = Vec::new();
        for caller in callers {
            totals.push(caller.await.unwrap().expect("answered").total_chats);
        }
        totals.sort();
        assert_eq!(totals, (0..2 * REQUEST_QUEUE as u64).collect::<Vec<_>>(), "each answer reached one caller");
    }
}
