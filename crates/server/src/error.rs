//! One error type for every failure the server reports. It renders the APIs' error shape:
//! `{"error": {"type", "message"}}` over HTTP, and `payload.error` of a failed RTM response.
//! Extractor rejections are mapped into it too (see `Body`), so no failure escapes in another
//! shape.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use confab_protocol::error::ErrorBody;
use confab_protocol::{ApiError, ErrorType};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error the client caused or may act on; reported as is.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A storage failure; logged, reported as `internal`.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn validation(message: impl Into<String>) -> Self {
        Self::Api(ApiError::validation(message))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::Api(ApiError::not_found(message))
    }

    pub fn authentication(message: impl Into<String>) -> Self {
        Self::Api(ApiError::authentication(message))
    }

    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        Self::Api(ApiError::new(kind, message))
    }

    /// What the client is told. Internal details stay in the log.
    pub fn to_api(&self) -> ApiError {
        match self {
            Error::Api(e) => e.clone(),
            Error::Database(e) => {
                tracing::error!(error = %e, "database error");
                ApiError::internal()
            }
        }
    }
}

/// The HTTP status for an error type (Agent Chat Web API v3.6 "Possible errors").
fn status(kind: &ErrorType) -> StatusCode {
    match kind {
        ErrorType::Authentication => StatusCode::UNAUTHORIZED,
        ErrorType::Authorization | ErrorType::MissingAccess | ErrorType::NotAllowed => StatusCode::FORBIDDEN,
        ErrorType::NotFound | ErrorType::GroupNotFound => StatusCode::NOT_FOUND,
        ErrorType::EntityTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorType::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorType::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorType::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorType::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        ErrorType::ChatInactive
        | ErrorType::ChatLimitReached
        | ErrorType::ChatAlreadyActive
        | ErrorType::LimitReached => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::BAD_REQUEST,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let error = self.to_api();
        (status(&error.kind), axum::Json(ErrorBody { error })).into_response()
    }
}
