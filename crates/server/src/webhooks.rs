//! Webhooks: the Agent Chat API's webhook actions, POSTed to the receivers administrators
//! registered (`domain::webhooks`), from the domain events this node committed.
//!
//! ```text
//! Fanout::deliver(events) ─▶ Webhooks::offer ─▶ queue (WEBHOOK_QUEUE) ─▶ worker ─▶ one task per call
//!   (never waits)             picks the receivers   full: `dropped`      (≤ WEBHOOK_CONCURRENCY)
//! ```
//!
//! - What is sent: `{"webhook_id", "secret_key", "action", "organization_id",
//!   "additional_data": {}, "payload"}`, where `action` and `payload` are the push's of the
//!   same name (`fanout::push_of` decides both, once for pushes and webhooks alike). The
//!   secret key is in the body, as LiveChat sends it, for the receiver to check.
//! - Filters (`domain::WebhookFilters`): `author_type` and `chat_presence` are decided here,
//!   from the event; `only_my_chats` by the call's task, which reads the chat's
//!   `source.client_id` before the first attempt (a call it filters out is not logged).
//! - Retries: a receiver that answers other than 2xx, refuses the connection or does not
//!   answer within the timeout is tried again after the retry base, then twice as long, …,
//!   `WEBHOOK_MAX_ATTEMPTS` times in all. Every attempt is logged (`delivered`, `failed`,
//!   `gave_up`, `dropped`); administrators read the log with `list_webhook_deliveries`.
//! - Chat traffic never waits: `offer` only queues; a slow or dead receiver holds a task and
//!   its slot of `WEBHOOK_CONCURRENCY`, nothing else. Redirects are not followed.
//! - Only the node that committed a change calls its webhooks (events from the bus are pushed,
//!   not called again). Each node keeps a copy of the registrations, read again every
//!   `WEBHOOK_REGISTRY_REFRESH` and at once after a change made on it; it forgets logged
//!   attempts older than `WEBHOOK_LOG_RETENTION` every `WEBHOOK_LOG_PRUNE_INTERVAL`.

use crate::domain::{Domain, DomainEvent, WebhookFilters};
use crate::fanout::Delivery;
use crate::limits::{
    WEBHOOK_CONCURRENCY, WEBHOOK_LOG_PRUNE_INTERVAL, WEBHOOK_MAX_ATTEMPTS, WEBHOOK_QUEUE, WEBHOOK_REGISTRY_REFRESH,
};
use crate::shutdown::Shutdown;
use crate::store::WebhookRow;
use serde::Serialize;
use serde_json::value::RawValue;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, mpsc};

/// One call to make: to whom, and the body.
struct Call {
    webhook: Arc<WebhookRow>,
    body: String,
    /// `only_my_chats`: the chat to check first.
    only_if_mine: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    webhook_id: &'a str,
    secret_key: &'a str,
    action: &'a str,
    organization_id: &'a str,
    additional_data: serde_json::Map<String, serde_json::Value>,
    payload: &'a RawValue,
}

/// A registration with its filters read once.
struct Registered {
    row: Arc<WebhookRow>,
    filters: WebhookFilters,
}

/// How long to wait for a receiver, and before the first retry.
#[derive(Debug, Clone, Copy)]
pub struct WebhookTiming {
    pub timeout: Duration,
    pub retry_base: Duration,
}

pub struct Webhooks {
    organization_id: String,
    registry: Mutex<Vec<Registered>>,
    queue: mpsc::Sender<Call>,
    /// Taken by the worker when it starts.
    inbox: Mutex<Option<mpsc::Receiver<Call>>>,
    refresh_now: Notify,
    timing: WebhookTiming,
    pub dropped: AtomicU64,
}

impl Webhooks {
    pub fn new(organization_id: String, timing: WebhookTiming) -> Self {
        let (queue, inbox) = mpsc::channel(WEBHOOK_QUEUE);
        Self {
            organization_id,
            registry: Mutex::default(),
            queue,
            inbox: Mutex::new(Some(inbox)),
            refresh_now: Notify::new(),
            timing,
            dropped: AtomicU64::new(0),
        }
    }

    /// Reads the registrations again soon (one changed on this node).
    pub fn refresh(&self) {
        self.refresh_now.notify_one();
    }

    /// Queues the calls an event makes (`delivery` is its push, as `push_of` decided it),
    /// without waiting. Called for this node's own commits.
    pub fn offer(&self, event: &DomainEvent, delivery: &Delivery) {
        let action = match delivery {
            Delivery::Push(push, _) => push.name(),
            Delivery::Agents(push, _) => push.name(),
            Delivery::Disconnect(..) => return,
        };
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        let mut hooks = registry.iter().filter(|h| h.row.action == action).peekable();
        if hooks.peek().is_none() {
            // Most events have no receiver: their payload is never encoded here.
            return;
        }
        let payload = match delivery {
            Delivery::Push(push, _) => push.payload(),
            Delivery::Agents(push, _) => push.payload(),
            Delivery::Disconnect(..) => None,
        };
        let payload = payload.unwrap_or_else(|| RawValue::from_string("{}".into()).expect("valid JSON"));
        let chat = event.chat();
        for hook in hooks {
            if let Some(wanted) = &hook.filters.author_type
                && author_type(event).is_some_and(|author| author != wanted)
            {
                continue;
            }
            if chat.is_some_and(|(_, members)| !hook.filters.admits(members)) {
                continue;
            }
            let only_if_mine = match (hook.filters.only_my_chats, chat) {
                (Some(true), Some((chat_id, _))) => Some(chat_id.to_owned()),
                _ => None,
            };
            let body = Body {
                webhook_id: &hook.row.id,
                secret_key: &hook.row.secret_key,
                action,
                organization_id: &self.organization_id,
                additional_data: Default::default(),
                payload: &payload,
            };
            let body = serde_json::to_string(&body).expect("webhook bodies always encode");
            if self.queue.try_send(Call { webhook: hook.row.clone(), body, only_if_mine }).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(webhook = %hook.row.id, action, "webhook queue full; call dropped");
            }
        }
    }

    /// Starts the worker and the registry's refreshes, until shutdown.
    pub fn start(self: Arc<Self>, domain: Arc<Domain>, shutdown: Shutdown) {
        let inbox = self.inbox.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(mut inbox) = inbox else { return };
        // A receiver's time is measured on the server's clock (`deliver`), not by the client.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client with no custom TLS always builds");
        let this = self.clone();
        let (refresh_domain, stop) = (domain.clone(), shutdown.clone());
        tokio::spawn(async move {
            let clock = refresh_domain.clock.clone();
            let mut prune_at = clock.now();
            loop {
                this.load(&refresh_domain).await;
                if clock.now() >= prune_at {
                    if let Err(e) = refresh_domain.prune_deliveries().await {
                        tracing::warn!(error = %e.to_api().message, "webhooks: cannot prune the delivery log");
                    }
                    prune_at = clock.now().plus(WEBHOOK_LOG_PRUNE_INTERVAL);
                }
                tokio::select! {
                    _ = stop.signalled() => return,
                    _ = clock.sleep_until(clock.now().plus(WEBHOOK_REGISTRY_REFRESH)) => {}
                    _ = this.refresh_now.notified() => {}
                }
            }
        });
        let slots = Arc::new(Semaphore::new(WEBHOOK_CONCURRENCY));
        let timing = self.timing;
        tokio::spawn(async move {
            loop {
                let call = tokio::select! {
                    _ = shutdown.signalled() => return,
                    call = inbox.recv() => match call { Some(call) => call, None => return },
                };
                let Ok(slot) = slots.clone().acquire_owned().await else { return };
                let (client, domain) = (client.clone(), domain.clone());
                tokio::spawn(async move {
                    deliver(&client, &domain, timing, call).await;
                    drop(slot);
                });
            }
        });
    }

    async fn load(&self, domain: &Domain) {
        match domain.webhooks(None).await {
            Ok(rows) => {
                let registered = rows
                    .into_iter()
                    .map(|row| {
                        // Checked when registered; a row that no longer parses filters nothing.
                        let filters = serde_json::from_str(&row.filters)
                            .ok()
                            .and_then(|json| WebhookFilters::parse(&json).ok())
                            .unwrap_or_default();
                        Registered { row: Arc::new(row), filters }
                    })
                    .collect();
                *self.registry.lock().unwrap_or_else(|e| e.into_inner()) = registered;
            }
            Err(e) => tracing::warn!(error = %e.to_api().message, "webhooks: cannot read the registrations"),
        }
    }
}

/// `customer` or `agent`: who wrote the event an `incoming_event` carries.
fn author_type(event: &DomainEvent) -> Option<&'static str> {
    match event {
        DomainEvent::EventAdded { event, members, .. } => {
            let author = event.author_id.as_deref()?;
            Some(if members.customers.iter().any(|c| c == author) { "customer" } else { "agent" })
        }
        _ => None,
    }
}

/// Makes one call, with its retries, logging every attempt.
async fn deliver(client: &reqwest::Client, domain: &Domain, timing: WebhookTiming, call: Call) {
    let hook = &call.webhook;
    if let Some(chat_id) = &call.only_if_mine {
        match domain.chat_of_client(chat_id, &hook.owner_client_id).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                let error = format!("cannot read the chat for `only_my_chats`: {}", e.to_api().message);
                log(domain, hook, 1, "gave_up", None, Some(&error)).await;
                return;
            }
        }
    }
    let clock = &domain.clock;
    let mut wait = timing.retry_base;
    for attempt in 1..=WEBHOOK_MAX_ATTEMPTS {
        let request = client.post(&hook.url).header("content-type", "application/json").body(call.body.clone());
        let sent = tokio::select! {
            sent = request.send() => Some(sent),
            _ = clock.sleep_until(clock.now().plus(timing.timeout)) => None,
        };
        let (status, error) = match sent {
            Some(Ok(response)) if response.status().is_success() => {
                log(domain, hook, attempt, "delivered", Some(response.status().as_u16()), None).await;
                return;
            }
            Some(Ok(response)) => (Some(response.status().as_u16()), format!("answered {}", response.status())),
            Some(Err(e)) => (None, format!("cannot reach the receiver: {e}")),
            None => (None, format!("no answer within {:?}", timing.timeout)),
        };
        let last = attempt == WEBHOOK_MAX_ATTEMPTS;
        log(domain, hook, attempt, if last { "gave_up" } else { "failed" }, status, Some(&error)).await;
        if !last {
            clock.sleep_until(clock.now().plus(wait)).await;
            wait *= 2;
        }
    }
}

async fn log(
    domain: &Domain,
    hook: &WebhookRow,
    attempt: u32,
    outcome: &str,
    status: Option<u16>,
    error: Option<&str>,
) {
    if let Err(e) = domain.record_delivery(&hook.id, &hook.action, attempt, outcome, status, error).await {
        tracing::warn!(webhook = %hook.id, error = %e.to_api().message, "webhooks: cannot log an attempt");
    }
}
