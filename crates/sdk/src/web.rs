//! The browser adapter: the page's `WebSocket` (web-sys), `fetch` with credentials (gloo-net),
//! `setTimeout` (gloo-timers), `performance.now()` and `spawn_local`.
//!
//! A socket's JS callbacks live in a guard owned by its incoming stream; dropping the stream
//! (the driver does on close) closes the WebSocket and detaches the callbacks.

use crate::client::{self, Client, Events};
use crate::core::Config;
use crate::platform::{BoxFuture, BoxStream, NetworkChange, Platform, Socket, SocketError};
use crate::upload::{FileData, ProgressSender, Transfer, UploadFile, UploadRequest};
use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Blob, FormData, MessageEvent, ProgressEvent, RequestCredentials, WebSocket, XmlHttpRequest};

struct Web;

/// Connects in the background; returns at once. Watch `Events` for `Connected`. The window's
/// `online` / `offline` events drive `connection_recovered` / `connection_unstable`.
pub fn connect(config: Config) -> (Client, Events) {
    client::connect(Web, config)
}

/// Connects as one of the site's tabs: the tab holding the `confab:<organization>` Web Lock
/// keeps the one socket, the others reach it over a `BroadcastChannel` (`tabs.rs`). Both are
/// the widget origin's and partitioned by the embedding site, so only that site's tabs share.
/// Where either is missing or refused (old browsers, blocked storage), the tab connects alone.
pub fn connect_shared(config: Config) -> (Client, Events) {
    let name = format!("confab:{}", config.organization_id);
    let Ok(channel) = web_sys::BroadcastChannel::new(&name) else { return connect(config) };
    let Some(leadership) = leadership(&name) else { return connect(config) };
    let (tx, messages) = mpsc::unbounded();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(text) = event.data().as_string() {
            let _ = tx.unbounded_send(text);
        }
    });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let bus = TabChannel { channel, _on_message: on_message };
    crate::tabs::connect_shared(Web, config, crate::tabs::Tabs { bus, messages: Box::pin(messages), leadership })
}

/// The channel to the other tabs; closed (and its listener gone) when the tab relay ends.
struct TabChannel {
    channel: web_sys::BroadcastChannel,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl crate::tabs::TabBus for TabChannel {
    fn post(&self, message: String) {
        let _ = self.channel.post_message(&message.into());
    }
}

impl Drop for TabChannel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}

/// Resolves once this tab holds the Web Lock `name`, which it then keeps until the page goes
/// (the lock's callback returns a promise that never settles). `None` without Web Locks. If
/// the lock manager refuses (a third-party frame whose storage is blocked), the tab leads
/// alone.
fn leadership(name: &str) -> Option<BoxFuture<()>> {
    use std::cell::RefCell;
    use std::rc::Rc;
    let navigator = web_sys::window()?.navigator();
    let locks = js_sys::Reflect::get(&navigator, &"locks".into()).ok().filter(|l| l.is_object())?;
    let request: js_sys::Function = js_sys::Reflect::get(&locks, &"request".into()).ok()?.dyn_into().ok()?;
    let (granted, leading) = futures::channel::oneshot::channel::<()>();
    let granted = Rc::new(RefCell::new(Some(granted)));
    let grant = move || {
        if let Some(granted) = granted.borrow_mut().take() {
            let _ = granted.send(());
        }
    };
    let on_granted = {
        let grant = grant.clone();
        Closure::once_into_js(move |_lock: wasm_bindgen::JsValue| -> wasm_bindgen::JsValue {
            grant();
            js_sys::Promise::new(&mut |_, _| {}).into()
        })
    };
    let on_refused = Closure::<dyn FnMut(wasm_bindgen::JsValue)>::new(move |_error| grant());
    let pending: js_sys::Promise = request.call2(&locks, &name.into(), &on_granted).ok()?.dyn_into().ok()?;
    let _ = pending.catch(&on_refused);
    // Called at most once, when the page is about to lose its lock anyway: kept for the page.
    on_refused.forget();
    Some(Box::pin(async move {
        let _ = leading.await;
    }))
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

    /// `XMLHttpRequest` with `FormData`: its `upload` progress events are the progress (`fetch`
    /// reports none), `abort()` is the cancel.
    fn upload(request: UploadRequest) -> BoxFuture<Transfer> {
        Box::pin(async move {
            let UploadRequest { url, token, file, progress, cancel } = request;
            let xhr = match start_upload(&url, &token, file, progress) {
                Ok(xhr) => xhr,
                Err(e) => return Transfer::Failed(format!("{e:?}")),
            };
            let XhrUpload { xhr, mut done, _callbacks } = xhr;
            futures::select_biased! {
                _ = cancel.canceled().fuse() => {
                    let _ = xhr.abort();
                    Transfer::Canceled
                }
                ended = done.next() => match ended {
                    Some(true) => {
                        let status = xhr.status().unwrap_or(0);
                        let body = xhr.response_text().ok().flatten().unwrap_or_default();
                        Transfer::Answered(status, body)
                    }
                    _ => Transfer::Failed("network error".into()),
                },
            }
        })
    }
}

/// An `XMLHttpRequest` on its way: `done` yields `true` on load, `false` on error or abort.
struct XhrUpload {
    xhr: XmlHttpRequest,
    done: mpsc::UnboundedReceiver<bool>,
    _callbacks: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

fn start_upload(
    url: &str,
    token: &str,
    file: UploadFile,
    progress: ProgressSender,
) -> Result<XhrUpload, wasm_bindgen::JsValue> {
    let blob = match file.data {
        FileData::Blob(blob) => blob,
        FileData::Bytes(bytes) => {
            let array = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
            Blob::new_with_u8_array_sequence(&array)?
        }
    };
    let form = FormData::new()?;
    form.append_with_blob_and_filename("file", &blob, &file.name)?;
    let xhr = XmlHttpRequest::new()?;
    xhr.open_with_async("POST", url, true)?;
    xhr.set_request_header("Authorization", &format!("Bearer {token}"))?;
    let (tx, done) = mpsc::unbounded();
    let on_progress: Closure<dyn FnMut(web_sys::Event)> = Closure::new(move |event: web_sys::Event| {
        if let Ok(event) = event.dyn_into::<ProgressEvent>()
            && event.length_computable()
        {
            progress.report(event.loaded(), event.total());
        }
    });
    let on_end = |ok: bool| {
        let tx = tx.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            let _ = tx.unbounded_send(ok);
        })
    };
    let (on_load, on_error) = (on_end(true), on_end(false));
    xhr.upload()?.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    xhr.set_onabort(Some(on_error.as_ref().unchecked_ref()));
    xhr.send_with_opt_form_data(Some(&form))?;
    Ok(XhrUpload { xhr, done, _callbacks: vec![on_progress, on_load, on_error] })
}
