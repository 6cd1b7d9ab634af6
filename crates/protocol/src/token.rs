//! The customer token endpoint (protocol.md §2): `POST /v2/customer/token` (and the v2 SDK's
//! `/customer/token`). The body is JSON, sent by browsers as `text/plain`.

use serde::{Deserialize, Serialize};

/// The grant a client asks for. Only `cookie` is used by the Customer SDK.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenRequest {
    pub grant_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// v3.2 clients name the account by a numeric license id instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

impl TokenRequest {
    /// The Customer SDK's request: the cookie grant for an organization.
    pub fn cookie_grant(organization_id: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            grant_type: "cookie".into(),
            response_type: Some("token".into()),
            client_id: Some(client_id.into()),
            organization_id: Some(organization_id.into()),
            license_id: None,
            redirect_uri: None,
        }
    }
}

/// A granted token. `entity_id` is the customer id; `expires_in` is in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub entity_id: String,
    pub expires_in: u64,
    pub token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
}

impl TokenResponse {
    /// The value of the `login` frame's `token` field: `"<token_type> <access_token>"`.
    pub fn login_token(&self) -> String {
        format!("{} {}", self.token_type, self.access_token)
    }
}

/// A refused grant. Clients read the body, not the status (protocol.md §2.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_exception: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_exception: Option<String>,
}

/// Either answer of the token endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TokenReply {
    Granted(TokenResponse),
    Refused(TokenError),
}
