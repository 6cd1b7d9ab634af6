//! `use_host`: the conversation with the page that embeds us, by postMessage.
//!
//! Messages are accepted only from `window.parent` at exactly the host origin the loader gave
//! us, and sent only to that origin, never `'*'` (design.md §4). Standalone (no host), the
//! widget counts as always open.
//!
//! From the host: `open`, `close`, and the page API's `customer` (name, email, session
//! fields) and `page` (the visitor moved to another page), which become [`HostCommand`]s for
//! `use_chat`. To the host: `ready`, `open` (the visitor took up a greeting), `close`,
//! `unread`, `greeting` (a greeting card to show, or none: the loader sizes the frame to the
//! card), `chatting` (the visitor has a chat, so later pages load the widget at once) and
//! `event`s for the page's `Confab.on`.

use crate::config::WidgetConfig;
use confab_protocol::action::{CustomerPage, CustomerUpdate};
use futures::channel::mpsc;
use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::JsValue;

/// What the host page asks of the chat.
#[derive(Debug, Clone, PartialEq)]
pub enum HostCommand {
    Customer(CustomerUpdate),
    Page(CustomerPage),
}

/// What the widget tells the host page (`Confab.on(name, …)` there).
#[derive(Debug, Clone, PartialEq)]
pub enum HostEvent {
    /// The visitor has a chat: the loader connects the widget on every later page.
    Chatting,
    ChatStarted,
    /// A new message; `agent` is false for the visitor's own.
    Message {
        agent: bool,
        text: String,
    },
    Availability {
        online: bool,
    },
    /// An agent's greeting arrived.
    Greeting {
        text: String,
    },
}

#[derive(Clone, Copy)]
pub struct UseHost {
    /// Whether the visitor has the chat open.
    pub is_open: RwSignal<bool>,
    /// Asks the host to open the panel.
    pub open: Callback<()>,
    /// Asks the host to close the panel.
    pub close: Callback<()>,
    /// Tells the host whether a greeting card is to be shown while the panel is closed.
    pub show_greeting: Callback<bool>,
    /// Tells the host how many messages arrived while closed.
    pub set_unread: Callback<u32>,
    /// Tells the host something happened.
    pub emit: Callback<HostEvent>,
}

/// The host's messages as they arrive (`{confab: 1, type, …}`).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Incoming {
    Open,
    Close,
    Customer {
        name: Option<String>,
        email: Option<String>,
        session_fields: Option<confab_protocol::entity::SessionFields>,
    },
    Page {
        url: Option<String>,
        title: Option<String>,
    },
}

/// Returns the hook and the host's commands, in the order the page made them.
pub fn use_host(config: &WidgetConfig) -> (UseHost, mpsc::UnboundedReceiver<HostCommand>) {
    let host_origin = config.host_origin.clone();
    let is_open = RwSignal::new(host_origin.is_none());
    let (commands, received) = mpsc::unbounded();

    if let Some(origin) = host_origin.clone() {
        let handle = window_event_listener(leptos::ev::message, move |event| {
            let from_parent = match (event.source(), window().parent().ok().flatten()) {
                (Some(source), Some(parent)) => JsValue::from(source) == JsValue::from(parent),
                _ => false,
            };
            if event.origin() != origin || !from_parent {
                return;
            }
            let command = match decode(&event.data()) {
                Some(Incoming::Open) => return is_open.set(true),
                Some(Incoming::Close) => return is_open.set(false),
                Some(Incoming::Customer { name, email, session_fields }) => {
                    HostCommand::Customer(CustomerUpdate { name, email, avatar: None, session_fields })
                }
                Some(Incoming::Page { url, title }) => HostCommand::Page(CustomerPage { url, title }),
                None => return,
            };
            let _ = commands.unbounded_send(command);
        });
        on_cleanup(move || handle.remove());
    }

    let post = move |kind: &str, fields: &[(&str, JsValue)]| {
        let (Some(origin), Ok(Some(parent))) = (host_origin.as_deref(), window().parent()) else {
            return;
        };
        let message = object([("confab", 1.into()), ("type", kind.into())].into_iter().chain(fields.iter().cloned()));
        let _ = parent.post_message(&message, origin);
    };
    post("ready", &[]);
    let post_close = post.clone();
    let close = Callback::new(move |()| {
        is_open.set(false);
        post_close("close", &[]);
    });
    let post_open = post.clone();
    let open = Callback::new(move |()| {
        is_open.set(true);
        post_open("open", &[]);
    });
    let post_greeting = post.clone();
    let show_greeting = Callback::new(move |shown: bool| post_greeting("greeting", &[("shown", shown.into())]));
    let post_unread = post.clone();
    let set_unread = Callback::new(move |count: u32| post_unread("unread", &[("count", count.into())]));
    let emit = Callback::new(move |event: HostEvent| {
        let (name, data): (&str, JsValue) = match event {
            HostEvent::Chatting => return post("chatting", &[]),
            HostEvent::ChatStarted => ("chat_started", JsValue::NULL),
            HostEvent::Message { agent, text } => {
                let author = if agent { "agent" } else { "visitor" };
                ("message", object([("author", author.into()), ("text", text.into())]).into())
            }
            HostEvent::Greeting { text } => ("greeting", object([("text", text.into())]).into()),
            HostEvent::Availability { online } => {
                let status = if online { "online" } else { "offline" };
                ("availability", object([("status", status.into())]).into())
            }
        };
        post("event", &[("name", name.into()), ("data", data)]);
    });
    (UseHost { is_open, open, close, show_greeting, set_unread, emit }, received)
}

/// A plain object with these fields.
fn object<'a>(fields: impl IntoIterator<Item = (&'a str, JsValue)>) -> js_sys::Object {
    let object = js_sys::Object::new();
    for (key, value) in fields {
        let _ = js_sys::Reflect::set(&object, &key.into(), &value);
    }
    object
}

/// A `{confab: 1, type, …}` message, else `None`. Through JSON, so the shapes are serde's.
fn decode(data: &JsValue) -> Option<Incoming> {
    let confab = js_sys::Reflect::get(data, &"confab".into()).ok()?;
    (confab.as_f64()? == 1.0).then_some(())?;
    let json = js_sys::JSON::stringify(data).ok()?.as_string()?;
    serde_json::from_str(&json).ok()
}
