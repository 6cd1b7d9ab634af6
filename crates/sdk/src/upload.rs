//! `Client::upload_file` (protocol.md §10): a file to the server's `upload_file` endpoint over
//! HTTP, with progress and cancellation, answered `{url}`; put it in a chat afterwards with a
//! `file` event naming that URL.
//!
//! ```text
//! let mut upload = client.upload_file(UploadFile::from_bytes("photo.png", bytes));
//! let mut progress = upload.progress();   // 0.0 < … ≤ 1.0, increasing
//! let cancel = upload.canceller();        // cancel.cancel() → Err(UploadCanceled)
//! let Uploaded { url } = upload.await?;
//! ```
//!
//! Errors: `TOO_BIG_FILE` before anything is sent (more than [`MAX_UPLOAD_BYTES`]);
//! `UPLOAD_CANCELED`; the server's error type when it refuses (`ENTITY_TOO_LARGE`,
//! `AUTHENTICATION`, …); `UPLOAD_FAILED` when the request fails in transit; `NO_CONNECTION`
//! when the client has no access token yet (it gets one when it connects).
//!
//! The adapters do the transfer (`Platform::upload`): reqwest with a streamed multipart body
//! that reports each chunk as it is written (native), `XMLHttpRequest` with its `upload`
//! progress events (web; `fetch` cannot report upload progress).
//!
//! The access token is the driver's: `tap` wraps the platform so that every token the driver
//! is granted is also kept here, without the core or the driver knowing.

use crate::core::Config;
use crate::error::Error;
use crate::platform::{BoxFuture, BoxStream, NetworkChange, Platform, Socket, SocketError};
use confab_protocol::error::ErrorBody;
use confab_protocol::token::TokenReply;
use futures::channel::mpsc;
use futures::task::AtomicWaker;
use futures::{FutureExt, Stream};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// Largest file the server accepts (protocol.md §10: 10 MB; Agent Chat Web API v3.6
/// `upload_file`). Larger ones are refused here, before sending.
pub const MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;

/// A file to upload.
pub struct UploadFile {
    pub(crate) name: String,
    pub(crate) content_type: Option<String>,
    pub(crate) size: u64,
    pub(crate) data: FileData,
}

pub(crate) enum FileData {
    Bytes(Vec<u8>),
    /// A browser `Blob` (or `File`), sent as it is.
    #[cfg(all(feature = "web", target_arch = "wasm32"))]
    Blob(web_sys::Blob),
}

impl UploadFile {
    /// A file from memory, named `name` (the server keeps the name, sanitized, and decides the
    /// type from the bytes).
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>) -> Self {
        Self { name: name.into(), content_type: None, size: bytes.len() as u64, data: FileData::Bytes(bytes) }
    }

    /// A file the visitor picked (`<input type=file>`, drag and drop).
    #[cfg(all(feature = "web", target_arch = "wasm32"))]
    pub fn from_file(file: web_sys::File) -> Self {
        let content_type = Some(file.type_()).filter(|t| !t.is_empty());
        let size = file.size() as u64;
        Self { name: file.name(), content_type, size, data: FileData::Blob(file.into()) }
    }

    /// The content type to declare (the server sniffs its own; this is for the record).
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The file name sent with it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// The server's answer: where the file is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Uploaded {
    /// Where the server keeps the file; send it in a `file` event to show it in a chat.
    pub url: String,
}

/// Cancels an upload. Clone it freely; cancelling twice is cancelling once.
#[derive(Clone, Default)]
pub struct CancelUpload(Arc<CancelState>);

#[derive(Default)]
struct CancelState {
    canceled: AtomicBool,
    waker: AtomicWaker,
}

impl CancelUpload {
    /// Stops the upload: the transfer is aborted and the upload ends with `UPLOAD_CANCELED`
    /// (unless it has already ended).
    pub fn cancel(&self) {
        self.0.canceled.store(true, Ordering::SeqCst);
        self.0.waker.wake();
    }

    /// Whether `cancel` was called.
    pub fn is_canceled(&self) -> bool {
        self.0.canceled.load(Ordering::SeqCst)
    }

    /// Resolves once [`CancelUpload::cancel`] is called.
    pub(crate) fn canceled(&self) -> impl Future<Output = ()> + '_ {
        futures::future::poll_fn(move |cx| {
            self.0.waker.register(cx.waker());
            if self.is_canceled() { Poll::Ready(()) } else { Poll::Pending }
        })
    }
}

/// The upload's progress: the share of the file sent, increasing, ending at `1.0` when the
/// whole file is on its way. Ends with the upload.
pub struct Progress(mpsc::UnboundedReceiver<f64>);

impl Stream for Progress {
    type Item = f64;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<f64>> {
        Pin::new(&mut self.0).poll_next(cx)
    }
}

/// Where an adapter reports progress. Passes on only values above the last (so the stream
/// increases whatever the transport reports), at most one per whole percent plus the end.
#[derive(Clone)]
pub struct ProgressSender {
    tx: mpsc::UnboundedSender<f64>,
    last: Arc<Mutex<f64>>,
}

impl ProgressSender {
    /// `loaded` of `total` units sent.
    pub fn report(&self, loaded: f64, total: f64) {
        let share = if total > 0.0 { (loaded / total).clamp(0.0, 1.0) } else { 1.0 };
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if share > *last && (share >= 1.0 || share - *last >= 0.01) {
            *last = share;
            let _ = self.tx.unbounded_send(share);
        }
    }
}

/// What an adapter sends: `file` as the multipart field `file`, to `url`, with
/// `Authorization: Bearer <token>`.
pub struct UploadRequest {
    /// The upload endpoint.
    pub url: String,
    /// The customer access token.
    pub token: String,
    /// The file.
    pub file: UploadFile,
    /// Where progress goes.
    pub progress: ProgressSender,
    /// Set when the caller cancels.
    pub cancel: CancelUpload,
}

/// How a transfer ended, as an adapter reports it.
pub enum Transfer {
    /// The server answered: status and body.
    Answered(u16, String),
    /// Canceled by the caller before the answer.
    Canceled,
    /// No answer (network error, refused connection, …).
    Failed(String),
}

/// The signature of [`Platform::upload`].
pub(crate) type Uploader = fn(UploadRequest) -> BoxFuture<Transfer>;

/// An upload under way: await it for the server's answer.
pub struct Upload {
    result: BoxFuture<Result<Uploaded, Error>>,
    progress: Option<Progress>,
    cancel: CancelUpload,
}

impl Upload {
    /// The progress stream (once; later calls get a stream that ends at once).
    pub fn progress(&mut self) -> Progress {
        self.progress.take().unwrap_or_else(|| Progress(mpsc::unbounded().1))
    }

    /// A handle that cancels this upload, to keep while awaiting it.
    pub fn canceller(&self) -> CancelUpload {
        self.cancel.clone()
    }

    /// Cancels the upload: it fails with `UPLOAD_CANCELED`.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

impl Future for Upload {
    type Output = Result<Uploaded, Error>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.result.poll_unpin(cx)
    }
}

/// What `Client` keeps for uploads: where they go, the latest access token, the adapter.
pub(crate) struct Uploads {
    url: String,
    token: Mutex<Option<String>>,
    uploader: Uploader,
}

impl Uploads {
    pub(crate) fn set_token(&self, token: String) {
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
    }

    pub(crate) fn token(&self) -> Option<String> {
        self.token.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl crate::client::Client {
    /// Uploads a file (the official SDK's `uploadFile`). Returns at once; the upload runs
    /// while the returned [`Upload`] is awaited.
    pub fn upload_file(&self, file: UploadFile) -> Upload {
        let (tx, rx) = mpsc::unbounded();
        let progress = ProgressSender { tx, last: Arc::new(Mutex::new(0.0)) };
        let cancel = CancelUpload::default();
        let uploads = self.uploads.clone();
        let result = {
            let cancel = cancel.clone();
            async move {
                if file.size > MAX_UPLOAD_BYTES {
                    return Err(Error::TooBigFile { max_mb: MAX_UPLOAD_BYTES / (1024 * 1024) });
                }
                if cancel.is_canceled() {
                    return Err(Error::UploadCanceled);
                }
                let token = uploads.token().ok_or(Error::NoConnection)?;
                let request = UploadRequest { url: uploads.url.clone(), token, file, progress, cancel };
                match (uploads.uploader)(request).await {
                    Transfer::Answered(status, body) => answer(status, &body),
                    Transfer::Canceled => Err(Error::UploadCanceled),
                    Transfer::Failed(reason) => Err(Error::UploadFailed(reason)),
                }
            }
        };
        Upload { result: Box::pin(result), progress: Some(Progress(rx)), cancel }
    }
}

/// The server's answer: `{url}` on success, `{error:{type,message}}` otherwise (§10, §15).
fn answer(status: u16, body: &str) -> Result<Uploaded, Error> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body).map_err(|e| Error::Protocol(format!("unreadable upload answer: {e}")));
    }
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(refused) => Err(Error::Api(refused.error)),
        Err(_) => Err(Error::UploadFailed(format!("HTTP {status}"))),
    }
}

/// The platform the driver runs on, with every token it is granted kept for uploads too.
pub(crate) struct TokenTap<P> {
    inner: P,
    uploads: Arc<Uploads>,
}

/// Wraps `platform` for the driver; the `Uploads` go to the `Client`.
pub(crate) fn tap<P: Platform>(platform: P, config: &Config) -> (TokenTap<P>, Arc<Uploads>) {
    let url =
        format!("{}/v3.5/customer/action/upload_file?organization_id={}", config.server_url, config.organization_id);
    let uploads = Arc::new(Uploads { url, token: Mutex::new(None), uploader: P::upload });
    (TokenTap { inner: platform, uploads: uploads.clone() }, uploads)
}

impl<P: Platform> Platform for TokenTap<P> {
    fn now(&self) -> Duration {
        self.inner.now()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        self.inner.sleep(duration)
    }

    fn open_socket(&self, url: String) -> BoxFuture<Result<Socket, SocketError>> {
        self.inner.open_socket(url)
    }

    fn fetch_token(&self, url: String, body: String) -> BoxFuture<Result<String, String>> {
        let uploads = self.uploads.clone();
        let fetch = self.inner.fetch_token(url, body);
        Box::pin(async move {
            let result = fetch.await;
            if let Ok(body) = &result
                && let Ok(TokenReply::Granted(token)) = serde_json::from_str::<TokenReply>(body)
            {
                uploads.set_token(token.access_token);
            }
            result
        })
    }

    fn post_json(&self, url: String, body: String) -> BoxFuture<Result<(u16, String), String>> {
        self.inner.post_json(url, body)
    }

    fn network_changes(&self) -> Option<BoxStream<NetworkChange>> {
        self.inner.network_changes()
    }

    fn random_seed(&self) -> u64 {
        self.inner.random_seed()
    }

    fn spawn(task: BoxFuture<()>) {
        P::spawn(task)
    }

    fn upload(request: UploadRequest) -> BoxFuture<Transfer> {
        P::upload(request)
    }
}

/// The chunks a file is streamed in (native), each reported as it is written.
pub const UPLOAD_CHUNK_BYTES: usize = 64 * 1024;

/// `bytes` as a stream of chunks that reports progress as each is taken by the transport.
pub fn chunks_with_progress(bytes: Vec<u8>, progress: ProgressSender) -> BoxStream<Vec<u8>> {
    let total = bytes.len() as f64;
    let stream = futures::stream::unfold((bytes, 0usize), move |(bytes, sent)| {
        let progress = progress.clone();
        async move {
            if sent >= bytes.len() {
                return None;
            }
            let end = (sent + UPLOAD_CHUNK_BYTES).min(bytes.len());
            let chunk = bytes[sent..end].to_vec();
            progress.report(end as f64, total);
            Some((chunk, (bytes, end)))
        }
    });
    Box::pin(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_as_the_protocol_says() {
        assert_eq!(answer(200, r#"{"url":"https://x/files/A/b.png"}"#).unwrap().url, "https://x/files/A/b.png");
        let refused = answer(413, r#"{"error":{"type":"entity_too_large","message":"too big"}}"#).unwrap_err();
        assert_eq!(refused.code(), "ENTITY_TOO_LARGE");
        assert_eq!(answer(502, "<html>bad gateway</html>").unwrap_err().code(), "UPLOAD_FAILED");
        assert_eq!(answer(200, "nope").unwrap_err().code(), "PROTOCOL");
    }

    #[test]
    fn progress_only_increases_and_ends_at_one() {
        let (tx, rx) = mpsc::unbounded();
        let progress = ProgressSender { tx, last: Arc::new(Mutex::new(0.0)) };
        for (loaded, total) in [(0.0, 10.0), (5.0, 10.0), (4.0, 10.0), (5.02, 10.0), (10.0, 10.0), (10.0, 10.0)] {
            progress.report(loaded, total);
        }
        let mut rx = rx;
        let values: Vec<f64> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(values, [0.5, 1.0]);
    }
}
