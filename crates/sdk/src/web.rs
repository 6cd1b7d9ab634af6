//! The browser adapter: the page's `WebSocket` (web-sys), `fetch` with credentials (gloo-net),
//! `setTimeout` (gloo-timers), `performance.now()` and `spawn_local`.
//!
//! A socket's JS callbacks live in a guard owned by its incoming stream; dropping the stream
//! (the driver does on close) closes the WebSocket and detaches the callbacks.

use crate::client::{self, Client, Events};
use crate::core::Config;
use crate::platform::{BoxFuture, BoxStream, NetworkChange, Platform, Socket, SocketError};
use futures::StreamExt;
use futures::channel::mpsc;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{MessageEvent, RequestCredentials, WebSocket};

struct Web;

/// Connects in the background; returns at once. Watch `Events` for `Connected`. The window's
/// `online` / `offline` events drive `connection_recovered` / `connection_unstable`.
pub fn connect(config: Config) -> (Client, Events) {
    client::connect(Web, config)
}

enum Signal {
    Open,
    Text(String),
    Closed,
}

/// Keeps the callbacks alive while the socket is used; closes the socket when dropped.
struct Guard {
    ws: WebSocket,
    _callbacks: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let _ = self.ws.close();
    }
}

fn callback(
    tx: &mpsc::UnboundedSender<Signal>,
    to_signal: fn(web_sys::Event) -> Option<Signal>,
) -> Closure<dyn FnMut(web_sys::Event)> {
    let tx = tx.clone();
    Closure::new(move |event: web_sys::Event| {
        if let Some(signal) = to_signal(event) {
            let _ = tx.unbounded_send(signal);
        }
    })
}

fn callback_for(
    tx: &mpsc::UnboundedSender<NetworkChange>,
    change: NetworkChange,
) -> Closure<dyn FnMut(web_sys::Event)> {
    let tx = tx.clone();
    Closure::new(move |_: web_sys::Event| {
        let _ = tx.unbounded_send(change);
    })
}

/// Keeps the window's `online` / `offline` listeners while the driver listens.
struct NetworkGuard {
    window: web_sys::Window,
    on_online: Closure<dyn FnMut(web_sys::Event)>,
    on_offline: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for NetworkGuard {
    fn drop(&mut self) {
        let _ = self.window.remove_event_listener_with_callback("online", self.on_online.as_ref().unchecked_ref());
        let _ = self.window.remove_event_listener_with_callback("offline", self.on_offline.as_ref().unchecked_ref());
    }
}

impl Platform for Web {
    fn now(&self) -> Duration {
        let ms = web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or_else(js_sys::Date::now);
        Duration::from_secs_f64(ms / 1000.0)
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        let ms = duration.as_millis().min(u32::MAX as u128) as u32;
        Box::pin(gloo_timers::future::TimeoutFuture::new(ms))
    }

    fn open_socket(&self, url: String) -> BoxFuture<Result<Socket, SocketError>> {
        Box::pin(async move {
            let ws = WebSocket::new(&url).map_err(|_| SocketError(format!("invalid socket URL {url}")))?;
            let (tx, mut rx) = mpsc::unbounded();
            let on_open = callback(&tx, |_| Some(Signal::Open));
            let on_message = callback(&tx, |event| {
                let text = event.dyn_into::<MessageEvent>().ok()?.data().as_string()?;
                Some(Signal::Text(text))
            });
            let on_close = callback(&tx, |_| Some(Signal::Closed));
            ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
            ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
            ws.set_onerror(Some(on_close.as_ref().unchecked_ref()));
            let guard = Guard { ws: ws.clone(), _callbacks: vec![on_open, on_message, on_close] };

            match rx.next().await {
                Some(Signal::Open) => {}
                _ => return Err(SocketError(format!("could not connect to {url}"))),
            }
            let incoming = futures::stream::unfold((rx, guard), |(mut rx, guard)| async move {
                match rx.next().await {
                    Some(Signal::Text(text)) => Some((text, (rx, guard))),
                    _ => None,
                }
            });
            let outgoing = futures::sink::unfold(ws, |ws, text: String| async move {
                ws.send_with_str(&text).map_err(|_| SocketError("send failed".into()))?;
                Ok::<_, SocketError>(ws)
            });
            Ok(Socket { incoming: Box::pin(incoming), outgoing: Box::pin(outgoing) })
        })
    }

    fn fetch_token(&self, url: String, body: String) -> BoxFuture<Result<String, String>> {
        Box::pin(async move {
            let request = gloo_net::http::Request::post(&url)
                .credentials(RequestCredentials::Include)
                .header("content-type", "text/plain;charset=UTF-8")
                .body(body)
                .map_err(|e| e.to_string())?;
            let response = request.send().await.map_err(|e| e.to_string())?;
            response.text().await.map_err(|e| e.to_string())
        })
    }

    fn post_json(&self, url: String, body: String) -> BoxFuture<Result<(u16, String), String>> {
        Box::pin(async move {
            let request = gloo_net::http::Request::post(&url)
                .header("content-type", "application/json")
                .body(body)
                .map_err(|e| e.to_string())?;
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            Ok((status, response.text().await.map_err(|e| e.to_string())?))
        })
    }

    fn network_changes(&self) -> Option<BoxStream<NetworkChange>> {
        let window = web_sys::window()?;
        let (tx, rx) = mpsc::unbounded();
        let on_online = callback_for(&tx, NetworkChange::Online);
        let on_offline = callback_for(&tx, NetworkChange::Offline);
        window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref()).ok()?;
        window.add_event_listener_with_callback("offline", on_offline.as_ref().unchecked_ref()).ok()?;
        // Removes the listeners when the driver drops the stream.
        let guard = NetworkGuard { window, on_online, on_offline };
        let stream = futures::stream::unfold((rx, guard), |(mut rx, guard)| async move {
            let change = rx.next().await?;
            Some((change, (rx, guard)))
        });
        Some(Box::pin(stream))
    }

    fn random_seed(&self) -> u64 {
        (js_sys::Math::random() * (1u64 << 53) as f64) as u64
    }

    fn spawn(task: BoxFuture<()>) {
        wasm_bindgen_futures::spawn_local(task);
    }
}
