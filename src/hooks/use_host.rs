//! `use_host`: the conversation with the page that embeds us, by postMessage.
//!
//! Messages are accepted only from `window.parent` at exactly the host origin the loader gave
//! us, and sent only to that origin, never `'*'` (design.md §4). Standalone (no host), the
//! widget counts as always open.
//!
//! From the host (`{confab: 1, type, …}`): `open`, `close`, and the page API's `customer`
//! (`name`, `email` or `session`, each a value as the page gave it, checked and shaped here)
//! and `page` (the visitor moved to another page), which become [`HostCommand`]s for
//! `use_chat`.
//!
//! To the host (`{type, data}`; every one is also an event for the page's `Confab.on`):
//! `style` (the window's look on the page, [`HOST_STYLE`]: the loader keeps the frame hidden
//! until it has it), `ready`, `open` (the visitor took up a greeting), `close`, `unread`,
//! `title` (the page's title while replies wait unseen, see `use_attention`), `chatting` (the
//! visitor has a chat, so later pages load the widget at once), and the page's events
//! `chat_started`, `message`, `greeting` and `availability`.

use crate::config::WidgetConfig;
use crate::hooks::use_attention::use_attention;
use confab_protocol::action::{CustomerPage, CustomerUpdate};
use futures::channel::mpsc;
use js_sys::{Object, Reflect};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

/// The window's look on the host page, adopted by the loader in its shadow root next to the
/// bubble's own sheet. Places follow the script tag's `data-offset-x`/`-y` (unitless numbers,
/// as custom properties).
pub const HOST_STYLE: &str = concat!(
    // The window, above the bubble.
    "iframe{bottom:calc(var(--offset-y,20)*1px + 68px);width:370px;",
    "height:min(600px,100dvh - var(--offset-y,20)*1px - 88px);border-radius:16px;background:#fff;",
    "box-shadow:0 6px 24px #0004}.open iframe{display:block}",
    // The unread badge on the bubble (the loader empties it when nothing is unread).
    "span{position:absolute;top:-4px;right:-4px;min-width:8px;padding:0 6px;border-radius:10px;",
    "background:#dc2626;color:#fff;font:700 12px/20px sans-serif}.open span,span:empty{display:none}",
    // Phones, and short windows (a laptop at 200 % zoom): full screen; the widget's own
    // minimize button closes it. With the on-screen keyboard up the frame fits what is left
    // visible (--vh, --vt: the loader follows the visual viewport).
    "@media (max-width:480px),(max-height:560px){.open iframe{inset:var(--vt,0) 0 auto;width:100%;",
    "height:var(--vh,100dvh);border-radius:0}.open button{display:none}}",
);
/// Added to [`HOST_STYLE`] while a greeting card shows and the window is closed: the frame
/// shows only the card, above the bubble.
pub const HOST_STYLE_GREETING: &str = "div:not(.open) iframe{display:block;width:min(340px,100vw - 40px);height:150px}";

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
            let data = event.data();
            if field(&data, "confab").as_f64() != Some(1.0) {
                return;
            }
            let command = match field(&data, "type").as_string().as_deref() {
                Some("open") => return is_open.set(true),
                Some("close") => return is_open.set(false),
                Some("customer") => HostCommand::Customer(CustomerUpdate {
                    name: text(&field(&data, "name")),
                    email: text(&field(&data, "email")),
                    avatar: None,
                    session_fields: session_fields(&field(&data, "session")),
                }),
                Some("page") => HostCommand::Page(CustomerPage {
                    url: text(&field(&data, "url")),
                    title: text(&field(&data, "title")),
                }),
                _ => return,
            };
            let _ = commands.unbounded_send(command);
        });
        on_cleanup(move || handle.remove());
    }

    // Copy, so that every callback below has it without a clone of its own.
    let host_origin = StoredValue::new(host_origin);
    let post = move |kind: &str, data: JsValue| {
        let (Some(origin), Ok(Some(parent))) = (host_origin.get_value(), window().parent()) else {
            return;
        };
        let message = Object::new();
        let _ = Reflect::set(&message, &"type".into(), &kind.into());
        let _ = Reflect::set(&message, &"data".into(), &data);
        let _ = parent.post_message(&message, &origin);
    };
    // The look first: the loader shows the frame only once it has it.
    post("style", HOST_STYLE.into());
    post("ready", JsValue::NULL);
    let attention = use_attention(is_open, config.sound, move |title: Option<String>| {
        post("title", title.map_or(JsValue::NULL, JsValue::from))
    });
    let close = Callback::new(move |()| {
        is_open.set(false);
        post("close", JsValue::NULL);
    });
    let open = Callback::new(move |()| {
        is_open.set(true);
        post("open", JsValue::NULL);
    });
    let show_greeting = Callback::new(move |shown: bool| {
        let style = if shown { [HOST_STYLE, HOST_STYLE_GREETING].concat() } else { HOST_STYLE.to_owned() };
        post("style", style.into());
    });
    let set_unread = Callback::new(move |count: u32| post("unread", count.into()));
    let emit = Callback::new(move |event: HostEvent| {
        let (name, data): (&str, JsValue) = match event {
            HostEvent::Chatting => ("chatting", JsValue::NULL),
            HostEvent::ChatStarted => ("chat_started", JsValue::NULL),
            HostEvent::Message { agent, text } => {
                if agent {
                    attention.run(());
                }
                let author = if agent { "agent" } else { "visitor" };
                ("message", object([("author", author.into()), ("text", text.into())]))
            }
            HostEvent::Greeting { text } => ("greeting", object([("text", text.into())])),
            HostEvent::Availability { online } => {
                let status = if online { "online" } else { "offline" };
                ("availability", object([("status", status.into())]))
            }
        };
        post(name, data);
    });
    (UseHost { is_open, open, close, show_greeting, set_unread, emit }, received)
}

/// A plain object with these fields.
fn object<'a>(fields: impl IntoIterator<Item = (&'a str, JsValue)>) -> JsValue {
    let object = Object::new();
    for (key, value) in fields {
        let _ = Reflect::set(&object, &key.into(), &value);
    }
    object.into()
}

/// `value[name]`, or `undefined` (also when `value` is not an object).
fn field(value: &JsValue, name: &str) -> JsValue {
    if value.is_object() { Reflect::get(value, &name.into()).unwrap_or_default() } else { JsValue::UNDEFINED }
}

/// A value the page gave as text: a string, or a number or boolean written out. Anything else
/// (an object, a function's absence, `null`) is no text.
fn text(value: &JsValue) -> Option<String> {
    if let Some(text) = value.as_string() {
        return Some(text);
    }
    if value.as_f64().is_some() || value.as_bool().is_some() {
        return js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string());
    }
    None
}

/// The page's session variables (`{plan: 'pro', seats: 3}`) as the Customer Chat API carries
/// them: `[{plan: "pro"}, {seats: "3"}]`, in the page's order; values that are not text are
/// left out.
fn session_fields(value: &JsValue) -> Option<confab_protocol::entity::SessionFields> {
    let object = value.dyn_ref::<Object>()?;
    let fields = Object::entries(object)
        .iter()
        .filter_map(|entry| {
            let entry = entry.dyn_into::<js_sys::Array>().ok()?;
            let key = entry.get(0).as_string()?;
            let value = text(&entry.get(1))?;
            Some([(key, serde_json::Value::String(value))].into_iter().collect())
        })
        .collect();
    Some(fields)
}
