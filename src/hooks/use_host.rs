//! `use_host`: the conversation with the page that embeds us, by postMessage.
//!
//! Messages are accepted only from `window.parent` at exactly the host origin the loader gave
//! us, and sent only to that origin, never `'*'` (design.md §4). Standalone (no host), the
//! widget counts as always open.

use crate::config::WidgetConfig;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

#[derive(Clone, Copy)]
pub struct UseHost {
    /// Whether the visitor has the chat open.
    pub is_open: RwSignal<bool>,
    /// Asks the host to close the panel.
    pub close: Callback<()>,
    /// Tells the host how many messages arrived while closed.
    pub set_unread: Callback<u32>,
}

pub fn use_host(config: &WidgetConfig) -> UseHost {
    let host_origin = config.host_origin.clone();
    let is_open = RwSignal::new(host_origin.is_none());

    if let Some(origin) = host_origin.clone() {
        let handle = window_event_listener(leptos::ev::message, move |event| {
            let from_parent = match (event.source(), window().parent().ok().flatten()) {
                (Some(source), Some(parent)) => JsValue::from(source) == JsValue::from(parent),
                _ => false,
            };
            if event.origin() != origin || !from_parent {
                return;
            }
            match message_type(&event.data()).as_deref() {
                Some("open") => is_open.set(true),
                Some("close") => is_open.set(false),
                _ => {}
            }
        });
        on_cleanup(move || handle.remove());
    }

    let post = move |kind: &str, count: Option<u32>| {
        let (Some(origin), Ok(Some(parent))) = (host_origin.as_deref(), window().parent()) else {
            return;
        };
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"confab".into(), &1.into());
        let _ = js_sys::Reflect::set(&message, &"type".into(), &kind.into());
        if let Some(count) = count {
            let _ = js_sys::Reflect::set(&message, &"count".into(), &count.into());
        }
        let _ = parent.post_message(&message, origin);
    };
    let post_close = post.clone();
    let close = Callback::new(move |()| {
        is_open.set(false);
        post_close("close", None);
    });
    let set_unread = Callback::new(move |count: u32| post("unread", Some(count)));
    UseHost { is_open, close, set_unread }
}

/// `data.type` of a `{confab: 1, type}` message, else `None`.
fn message_type(data: &JsValue) -> Option<String> {
    let get = |key: &str| js_sys::Reflect::get(data, &key.into()).ok();
    (get("confab")?.as_f64()? == 1.0).then_some(())?;
    get("type")?.as_string()
}
