//! The tokio adapter: tokio-tungstenite sockets, reqwest for the token (with a cookie store, so
//! the identity cookies persist for the life of the process), tokio timers.
//!
//! Must be called within a tokio runtime. Plain `ws://`/`http://` only for now.

use crate::client::{self, Client, Events};
use crate::core::Config;
use crate::platform::{BoxFuture, Platform, Socket, SocketError};
use crate::upload::{FileData, Transfer, UploadRequest, chunks_with_progress};
use futures::{FutureExt, SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

struct Native {
    epoch: Instant,
    http: reqwest::Client,
}

/// Connects in the background; returns at once. Watch `Events` for `Connected`. Must be
/// called within a tokio runtime.
///
/// ```no_run
/// # async fn demo() {
/// let (client, events) = confab_sdk::native::connect(confab_sdk::Config::new("http://127.0.0.1:8080", "org-1"));
/// # }
/// ```
pub fn connect(config: Config) -> (Client, Events) {
    let http = reqwest::Client::builder().cookie_store(true).build().expect("reqwest client builds");
    client::connect(Native { epoch: Instant::now(), http }, config)
}

/// Connects as one of several tabs that share one connection (`tabs.rs`): the bus between
/// them and the leader's lock are the caller's.
pub fn connect_shared<B: crate::tabs::TabBus>(config: Config, tabs: crate::tabs::Tabs<B>) -> (Client, Events) {
    let http = reqwest::Client::builder().cookie_store(true).build().expect("reqwest client builds");
    crate::tabs::connect_shared(Native { epoch: Instant::now(), http }, config, tabs)
}

impl Platform for Native {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        Box::pin(tokio::time::sleep(duration))
    }

    fn open_socket(&self, url: String) -> BoxFuture<Result<Socket, SocketError>> {
        Box::pin(async move {
            let (stream, _) =
                tokio_tungstenite::connect_async(url.as_str()).await.map_err(|e| SocketError(e.to_string()))?;
            let (sink, stream) = stream.split();
            let incoming = stream
                .take_while(|m| std::future::ready(matches!(m, Ok(m) if !m.is_close())))
                .filter_map(|m| std::future::ready(m.ok().and_then(|m| m.into_text().ok()).map(|t| t.to_string())));
            let outgoing = sink
                .sink_map_err(|e| SocketError(e.to_string()))
                .with(|text: String| std::future::ready(Ok::<_, SocketError>(Message::text(text))));
            Ok(Socket { incoming: Box::pin(incoming), outgoing: Box::pin(outgoing) })
        })
    }

    fn fetch_token(&self, url: String, body: String) -> BoxFuture<Result<String, String>> {
        let request = self.http.post(url).header("content-type", "text/plain;charset=UTF-8").body(body);
        Box::pin(async move {
            let response = request.send().await.map_err(|e| e.to_string())?;
            response.text().await.map_err(|e| e.to_string())
        })
    }

    fn post_json(&self, url: String, body: String) -> BoxFuture<Result<(u16, String), String>> {
        let request = self.http.post(url).header("content-type", "application/json").body(body);
        Box::pin(async move {
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            Ok((status, response.text().await.map_err(|e| e.to_string())?))
        })
    }

    fn random_seed(&self) -> u64 {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(self.epoch)
    }

    fn spawn(task: BoxFuture<()>) {
        tokio::spawn(task);
    }

    /// A multipart body whose file part streams in chunks, each reported as the transport
    /// takes it; dropping the request on cancel aborts the transfer.
    fn upload(request: UploadRequest) -> BoxFuture<Transfer> {
        Box::pin(async move {
            let UploadRequest { url, token, file, progress, cancel } = request;
            let FileData::Bytes(bytes) = file.data;
            let size = bytes.len() as u64;
            let body = reqwest::Body::wrap_stream(chunks_with_progress(bytes, progress).map(Ok::<_, std::io::Error>));
            let mut part = reqwest::multipart::Part::stream_with_length(body, size).file_name(file.name);
            if let Some(content_type) = &file.content_type {
                part = match part.mime_str(content_type) {
                    Ok(part) => part,
                    Err(e) => return Transfer::Failed(format!("invalid content type: {e}")),
                };
            }
            let form = reqwest::multipart::Form::new().part("file", part);
            let send = async {
                let response = reqwest::Client::new().post(url).bearer_auth(token).multipart(form).send().await?;
                let status = response.status().as_u16();
                Ok::<_, reqwest::Error>((status, response.text().await?))
            };
            futures::select_biased! {
                _ = cancel.canceled().fuse() => Transfer::Canceled,
                answered = send.fuse() => match answered {
                    Ok((status, body)) => Transfer::Answered(status, body),
                    Err(e) => Transfer::Failed(e.to_string()),
                },
            }
        })
    }
}
