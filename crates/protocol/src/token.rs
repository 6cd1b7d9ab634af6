//! The customer token endpoint (protocol.md §2): `POST /v2/customer/token` (and the v2 SDK's
//! `/customer/token`). The body is JSON, sent by browsers as `text/plain`.

use crate::wire::{FromWire, ToWire};
use serde::{Deserialize, Serialize};

/// The grant a client asks for. Only `cookie` is used by the Customer SDK.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
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
    /// Confab's addition, for browsers that block third-party cookies: the identity an earlier
    /// grant returned, kept by the client in its own (partitioned) storage. It names the
    /// customer as the cookies would, and wins over them when valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<KeptIdentity>,
    /// Confab's addition: return the identity in the body (`TokenResponse::identity`), for a
    /// client that keeps it itself. Off for the Customer SDK, whose identity stays in HttpOnly
    /// cookies.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_identity: bool,
}

/// A visitor's identity as the cookies carry it: the customer id and the server's secret for
/// it. Whoever holds both is that visitor, so a client keeps it where only it can read it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, FromWire, ToWire)]
pub struct KeptIdentity {
    pub entity_id: String,
    pub secret: String,
}

/// Never prints the secret (it would end up in logs).
impl std::fmt::Debug for KeptIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeptIdentity").field("entity_id", &self.entity_id).finish_non_exhaustive()
    }
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
            identity: None,
            keep_identity: false,
        }
    }
}

/// A granted token. `entity_id` is the customer id; `expires_in` is in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct TokenResponse {
    pub access_token: String,
    pub entity_id: String,
    pub expires_in: u64,
    pub token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Confab's addition: the identity, when the request asked to keep it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<KeptIdentity>,
}

impl TokenResponse {
    /// The value of the `login` frame's `token` field: `"<token_type> <access_token>"`.
    pub fn login_token(&self) -> String {
        format!("{} {}", self.token_type, self.access_token)
    }
}

/// A refused grant. Clients read the body, not the status (protocol.md §2.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
pub struct TokenError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_exception: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_exception: Option<String>,
}

/// Either answer of the token endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromWire, ToWire)]
#[serde(untagged)]
pub enum TokenReply {
    Granted(TokenResponse),
    Refused(TokenError),
}
