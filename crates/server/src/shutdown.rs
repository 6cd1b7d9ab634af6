//! Graceful shutdown as an object. `signal()` starts it: listeners stop accepting, every socket
//! says goodbye (a `customer_disconnected` push and a close frame with a reason) and ends.
//! `drain()` waits for them, up to `SHUTDOWN_GRACE`.
//!
//! Upgraded WebSockets outlive axum's own graceful shutdown (hyper hands them off), which is
//! why sockets are tracked here.

use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TrackedFuture;

#[derive(Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
    tasks: TaskTracker,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts the shutdown. Idempotent.
    pub fn signal(&self) {
        self.token.cancel();
    }

    /// Resolves once shutdown has started.
    pub async fn signalled(&self) {
        self.token.cancelled().await
    }

    pub fn is_signalled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Wraps a connection's future so that `drain` waits for it.
    pub fn track<F: Future>(&self, future: F) -> TrackedFuture<F> {
        self.tasks.track_future(future)
    }

    /// Waits for tracked connections to end, at most `grace`. Returns whether all ended.
    pub async fn drain(&self, grace: Duration) -> bool {
        self.tasks.close();
        tokio::time::timeout(grace, self.tasks.wait()).await.is_ok()
    }
}
