//! The protocol's error shape: `{"type": "<snake_case>", "message": "<text>", "data"?: {…}}`.
//!
//! On the RTM socket it travels as a failed response's `payload.error`; on the Web APIs as the
//! body `{"error": {…}}`.

use crate::wire::{FromWire, ToWire};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Error types of the Customer Chat API (RTM reference "Possible errors") and the Agent Chat
/// Web API v3.6. A type this crate does not know is kept verbatim in `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, FromWire, ToWire)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    AgentOffline,
    Authentication,
    Authorization,
    ChatInactive,
    ChatLimitReached,
    ChatAlreadyActive,
    CustomerBanned,
    CustomerSessionFieldsLimitReached,
    EntityTooLarge,
    GreetingNotFound,
    GroupNotFound,
    GroupOffline,
    GroupUnavailable,
    GroupsOffline,
    Internal,
    LicenseExpired,
    LimitReached,
    MisdirectedRequest,
    MissingAccess,
    NotAllowed,
    NotFound,
    PendingRequestsLimitReached,
    RequestTimeout,
    ServiceUnavailable,
    TooManyRequests,
    UnsupportedVersion,
    UsersLimitReached,
    Validation,
    WrongProductVersion,
    #[serde(untagged)]
    Other(String),
}

impl ErrorType {
    /// The snake_case name as on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AgentOffline => "agent_offline",
            Self::Authentication => "authentication",
            Self::Authorization => "authorization",
            Self::ChatInactive => "chat_inactive",
            Self::ChatLimitReached => "chat_limit_reached",
            Self::ChatAlreadyActive => "chat_already_active",
            Self::CustomerBanned => "customer_banned",
            Self::CustomerSessionFieldsLimitReached => "customer_session_fields_limit_reached",
            Self::EntityTooLarge => "entity_too_large",
            Self::GreetingNotFound => "greeting_not_found",
            Self::GroupNotFound => "group_not_found",
            Self::GroupOffline => "group_offline",
            Self::GroupUnavailable => "group_unavailable",
            Self::GroupsOffline => "groups_offline",
            Self::Internal => "internal",
            Self::LicenseExpired => "license_expired",
            Self::LimitReached => "limit_reached",
            Self::MisdirectedRequest => "misdirected_request",
            Self::MissingAccess => "missing_access",
            Self::NotAllowed => "not_allowed",
            Self::NotFound => "not_found",
            Self::PendingRequestsLimitReached => "pending_requests_limit_reached",
            Self::RequestTimeout => "request_timeout",
            Self::ServiceUnavailable => "service_unavailable",
            Self::TooManyRequests => "too_many_requests",
            Self::UnsupportedVersion => "unsupported_version",
            Self::UsersLimitReached => "users_limit_reached",
            Self::Validation => "validation",
            Self::WrongProductVersion => "wrong_product_version",
            Self::Other(s) => s,
        }
    }
}

/// One error, as both APIs put it on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error, FromWire, ToWire)]
pub struct ApiError {
    #[serde(rename = "type")]
    pub kind: ErrorType,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

impl ApiError {
    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), data: None }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorType::Validation, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorType::NotFound, message)
    }

    pub fn authentication(message: impl Into<String>) -> Self {
        Self::new(ErrorType::Authentication, message)
    }

    pub fn internal() -> Self {
        Self::new(ErrorType::Internal, "Internal server error")
    }
}

/// The body of a failed Web API call, and the `payload` of a failed RTM response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct ErrorBody {
    pub error: ApiError,
}
