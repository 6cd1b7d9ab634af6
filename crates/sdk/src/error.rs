//! The SDK's error: a server error passed through, or one the client produced
//! (protocol.md §11.2). [`SdkError::code`] gives the official SDK's code for each.

use confab_protocol::ApiError;

/// Why a call failed.
///
/// Server errors arrive as [`SdkError::Api`] (code: the error type upper-cased, e.g.
/// `GROUP_NOT_FOUND`, `INTERNAL`, `VALIDATION`, `PENDING_REQUESTS_LIMIT_REACHED`,
/// `CUSTOMER_BANNED`); the rest are the client's own.
///
/// ```
/// use confab_sdk::SdkError;
/// assert_eq!(SdkError::NoConnection.code(), "NO_CONNECTION");
/// assert_eq!(SdkError::MissingChatThread { chat_id: "C1".into() }.code(), "MISSING_CHAT_THREAD");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum SdkError {
    /// The server refused the request.
    #[error("{0}")]
    Api(ApiError),
    /// A request was made while not connected.
    #[error("No connection.")]
    NoConnection,
    /// The socket closed while the request was pending.
    #[error("Connection lost.")]
    ConnectionLost,
    /// The client has ended (`destroy()`, banned, identity changed, or every handle dropped).
    #[error("SDK destroyed.")]
    Destroyed,
    /// No answer in time: the login after `LOGIN_TIMEOUT`, any other request after
    /// `REQUEST_TIMEOUT`.
    #[error("Request timed out.")]
    RequestTimeout,
    /// `MAX_PENDING_REQUESTS` requests were already waiting for their answers.
    #[error("Too many pending requests.")]
    TooManyPendingRequests,
    /// The token endpoint could not be reached or answered something unreadable.
    #[error("Could not get an access token: {0}")]
    Token(String),
    /// The token endpoint refused: `{"identity_exception": "<message>"}`.
    #[error("Identity exception: {0}")]
    SsoIdentityException(String),
    /// The token endpoint refused: `{"oauth_exception": "<message>"}`.
    #[error("OAuth exception: {0}")]
    SsoOauthException(String),
    /// A later token named another customer than the first (protocol.md §2.3).
    #[error("Identity has changed.")]
    IdentityMismatch,
    /// The server sent the client away with `customer_banned`.
    #[error("Customer banned.")]
    CustomerBanned,
    /// Pending when the server sent the client to another region (`misdirected_connection`).
    #[error("Connected to wrong region.")]
    MisdirectedConnection,
    /// Pending when the server sent the client away with `too_many_unauthorized_connections`.
    #[error("Too many unauthorized connections.")]
    TooManyUnauthorizedConnections,
    /// Pending when the server sent the client away with `service_temporarily_unavailable`.
    #[error("Service temporarily unavailable.")]
    ServiceTemporarilyUnavailable,
    /// `rate_chat` / `cancel_rate` on a chat without threads.
    #[error("There is no thread in \"{chat_id}\".")]
    MissingChatThread {
        /// The chat asked about.
        chat_id: String,
    },
    /// Refused by the client before sending (e.g. `list_chats` with `limit` over 25), or a
    /// ticket form the server called invalid (HTTP 400/422).
    #[error("{0}")]
    Validation(String),
    /// `upload_file`: the file is over the size limit.
    #[error("The file is too big (max size is {max_mb}.00 MB).")]
    TooBigFile {
        /// The limit, in MiB.
        max_mb: u64,
    },
    /// `upload_file`: the upload failed on the network.
    #[error("Upload failed: {0}")]
    UploadFailed(String),
    /// `upload_file`: canceled by the caller.
    #[error("Upload canceled.")]
    UploadCanceled,
    /// An HTTP call (`send_ticket_form`) failed on the network or with an unexpected status.
    #[error("HTTP request failed: {0}")]
    Http(String),
    /// The server answered something this client cannot use.
    #[error("Protocol error: {0}")]
    Protocol(String),
}

/// The name this type had before it became [`SdkError`].
pub type Error = SdkError;

impl SdkError {
    /// The official SDK's error code: the server's error type upper-cased, or the client's own.
    ///
    /// ```
    /// use confab_sdk::SdkError;
    /// use confab_sdk::protocol::{ApiError, ErrorType};
    /// assert_eq!(SdkError::Api(ApiError::new(ErrorType::GroupNotFound, "no")).code(), "GROUP_NOT_FOUND");
    /// assert_eq!(SdkError::Destroyed.code(), "SDK_DESTROYED");
    /// ```
    pub fn code(&self) -> String {
        let code = match self {
            SdkError::Api(e) => return e.kind.as_str().to_uppercase(),
            SdkError::NoConnection => "NO_CONNECTION",
            SdkError::ConnectionLost => "CONNECTION_LOST",
            SdkError::Destroyed => "SDK_DESTROYED",
            SdkError::RequestTimeout => "REQUEST_TIMEOUT",
            // The server's error type for the same condition (§11.1), so callers treat both alike.
            SdkError::TooManyPendingRequests => "PENDING_REQUESTS_LIMIT_REACHED",
            SdkError::Token(_) | SdkError::SsoOauthException(_) => "SSO_OAUTH_EXCEPTION",
            SdkError::SsoIdentityException(_) => "SSO_IDENTITY_EXCEPTION",
            SdkError::IdentityMismatch => "IDENTITY_MISMATCH",
            SdkError::CustomerBanned => "CUSTOMER_BANNED",
            SdkError::MisdirectedConnection => "MISDIRECTED_CONNECTION",
            SdkError::TooManyUnauthorizedConnections => "TOO_MANY_UNAUTHORIZED_CONNECTIONS",
            SdkError::ServiceTemporarilyUnavailable => "SERVICE_TEMPORARILY_UNAVAILABLE",
            SdkError::MissingChatThread { .. } => "MISSING_CHAT_THREAD",
            SdkError::Validation(_) => "VALIDATION",
            SdkError::TooBigFile { .. } => "TOO_BIG_FILE",
            SdkError::UploadFailed(_) => "UPLOAD_FAILED",
            SdkError::UploadCanceled => "UPLOAD_CANCELED",
            SdkError::Http(_) => "HTTP",
            SdkError::Protocol(_) => "PROTOCOL",
        };
        code.into()
    }
}
