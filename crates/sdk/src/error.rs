//! The SDK's error: a server error passed through, or one the client produced
//! (protocol.md §11.2). `code()` gives the official SDK's code for each.

use confab_protocol::ApiError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The server refused the request.
    #[error("{0}")]
    Api(ApiError),
    /// A request was made while not connected.
    #[error("No connection.")]
    NoConnection,
    /// The socket closed while the request was pending.
    #[error("Connection lost.")]
    ConnectionLost,
    /// The client has ended (banned, identity changed, or dropped).
    #[error("SDK destroyed.")]
    Destroyed,
    /// No answer in time: the login after `LOGIN_TIMEOUT`, any other request after
    /// `REQUEST_TIMEOUT`.
    #[error("Request timed out.")]
    RequestTimeout,
    /// `MAX_PENDING_REQUESTS` requests were already waiting for their answers.
    #[error("Too many pending requests.")]
    TooManyPendingRequests,
    /// The token endpoint refused or could not be reached.
    #[error("Could not get an access token: {0}")]
    Token(String),
    /// An upload larger than the server accepts (`upload::MAX_UPLOAD_BYTES`), refused before
    /// sending (protocol.md §10).
    #[error("The file is too big (max size is 10.00 MB).")]
    TooBigFile,
    /// An upload failed in transit (no answer from the server).
    #[error("Upload failed: {0}")]
    UploadFailed(String),
    /// An upload was canceled.
    #[error("Upload canceled.")]
    UploadCanceled,
    /// The server answered something this client cannot use.
    #[error("Protocol error: {0}")]
    Protocol(String),
}

impl Error {
    /// The official SDK's error code: the server's error type upper-cased, or the client's own.
    pub fn code(&self) -> String {
        match self {
            Error::Api(e) => e.kind.as_str().to_uppercase(),
            Error::NoConnection => "NO_CONNECTION".into(),
            Error::ConnectionLost => "CONNECTION_LOST".into(),
            Error::Destroyed => "SDK_DESTROYED".into(),
            Error::RequestTimeout => "REQUEST_TIMEOUT".into(),
            // The server's error type for the same condition (§11.1), so callers treat both alike.
            Error::TooManyPendingRequests => "PENDING_REQUESTS_LIMIT_REACHED".into(),
            Error::Token(_) => "SSO_OAUTH_EXCEPTION".into(),
            Error::Protocol(_) => "PROTOCOL".into(),
            Error::TooBigFile => "TOO_BIG_FILE".into(),
            Error::UploadFailed(_) => "UPLOAD_FAILED".into(),
            Error::UploadCanceled => "UPLOAD_CANCELED".into(),
        }
    }
}
