//! What an adapter provides: a clock, timers, sockets, the token request, a spawner. The
//! driver in `client` runs the same loop on any of them.
//!
//! In the browser nothing is `Send`; on tokio everything must be. `MaybeSend` and the boxed
//! future/stream aliases say "Send where the platform needs it".

use futures::{Sink, Stream};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

#[cfg(not(target_arch = "wasm32"))]
mod send {
    pub trait MaybeSend: Send {}
    impl<T: Send> MaybeSend for T {}
}
#[cfg(target_arch = "wasm32")]
mod send {
    pub trait MaybeSend {}
    impl<T> MaybeSend for T {}
}
pub use send::MaybeSend;

#[cfg(not(target_arch = "wasm32"))]
mod boxed {
    use super::*;
    pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
    pub type BoxStream<T> = Pin<Box<dyn Stream<Item = T> + Send>>;
    pub type BoxSink<T> = Pin<Box<dyn Sink<T, Error = SocketError> + Send>>;
}
#[cfg(target_arch = "wasm32")]
mod boxed {
    use super::*;
    pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;
    pub type BoxStream<T> = Pin<Box<dyn Stream<Item = T>>>;
    pub type BoxSink<T> = Pin<Box<dyn Sink<T, Error = SocketError>>>;
}
pub use boxed::{BoxFuture, BoxSink, BoxStream};

/// The socket failed; the driver treats it as closed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("socket error: {0}")]
pub struct SocketError(pub String);

/// An open socket: text frames in (the stream ends when the socket closes), text frames out.
pub struct Socket {
    pub incoming: BoxStream<String>,
    pub outgoing: BoxSink<String>,
}

/// The network came or went (the browser's `online` / `offline` events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Only the browser adapter reports them.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub enum NetworkChange {
    Online,
    Offline,
}

pub trait Platform: MaybeSend + 'static {
    /// Monotonic time since an epoch of the platform's choosing.
    fn now(&self) -> Duration;
    fn sleep(&self, duration: Duration) -> BoxFuture<()>;
    fn open_socket(&self, url: String) -> BoxFuture<Result<Socket, SocketError>>;
    /// `POST` `body` to `url` with cookies; the response body as text.
    fn fetch_token(&self, url: String, body: String) -> BoxFuture<Result<String, String>>;
    /// `POST` `body` (JSON) to `url` without credentials; the status and the body as text.
    fn post_json(&self, url: String, body: String) -> BoxFuture<Result<(u16, String), String>>;
    /// The network's comings and goings, where the platform sees them.
    fn network_changes(&self) -> Option<BoxStream<NetworkChange>> {
        None
    }
    fn random_seed(&self) -> u64;
    fn spawn(task: BoxFuture<()>);
    /// Sends a file to the upload endpoint, reporting progress, until done or canceled
    /// (`upload.rs`). Platforms that cannot upload keep this default.
    fn upload(request: crate::upload::UploadRequest) -> BoxFuture<crate::upload::Transfer> {
        drop(request);
        Box::pin(std::future::ready(crate::upload::Transfer::Failed("uploads are not supported here".into())))
    }
}
