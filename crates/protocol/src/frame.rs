//! The three frame shapes of the RTM socket (protocol.md §3) and their codec.
//!
//! ```text
//! request   {"request_id": "<id>", "action": "<action>", "payload": {…}, "version"?: "3.5"}
//! response  {"request_id": "<id>", "action": "<action>", "type": "response", "success": true,  "payload": {…}}
//!           {"request_id": "<id>", "action": "<action>", "type": "response", "success": false, "payload": {"error": {…}}}
//! push      {"action": "<push>", "type": "push", "payload": {…}, "request_id"?: "<id>"}
//! ```
//!
//! Decoding is two-step: first the envelope (so that a bad payload can still be answered with
//! the request's `request_id` and `action`), then the payload by its name.

use crate::action::{Request, Response};
use crate::error::{ApiError, ErrorBody};
use crate::push::Push;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Why a payload could not be decoded for a given name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PayloadError {
    #[error("unknown action `{0}`")]
    UnknownName(String),
    #[error("{0}")]
    Invalid(String),
}

/// Why a frame could not be decoded. Carries whatever of the envelope could be read, so the
/// receiver can answer in kind.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed frame: {0}")]
    Malformed(String),
    #[error("unknown action `{action}`")]
    UnknownAction { request_id: Option<String>, action: String },
    #[error("invalid payload for `{action}`: {message}")]
    InvalidPayload { request_id: Option<String>, action: String, message: String },
}

impl DecodeError {
    fn from_payload(err: PayloadError, request_id: Option<String>, action: String) -> Self {
        match err {
            PayloadError::UnknownName(_) => Self::UnknownAction { request_id, action },
            PayloadError::Invalid(message) => Self::InvalidPayload { request_id, action, message },
        }
    }

    /// The `request_id` of the offending frame, when it had one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Malformed(_) => None,
            Self::UnknownAction { request_id, .. } | Self::InvalidPayload { request_id, .. } => request_id.as_deref(),
        }
    }

    /// The `action` of the offending frame, when it could be read.
    pub fn action(&self) -> Option<&str> {
        match self {
            Self::Malformed(_) => None,
            Self::UnknownAction { action, .. } | Self::InvalidPayload { action, .. } => Some(action),
        }
    }
}

/// A payload as it came: JSON text not decoded yet; `None` when the frame had none.
pub type RawPayload = Option<Box<RawValue>>;

pub(crate) fn decode_payload<T: DeserializeOwned>(payload: Option<&RawValue>) -> Result<T, PayloadError> {
    let text = payload.map(RawValue::get).unwrap_or("null");
    if text == "null" {
        // Absent payload: fine for payloads that may be absent, `{}` for the rest.
        return serde_json::from_str(text)
            .or_else(|_| serde_json::from_str("{}"))
            .map_err(|e: serde_json::Error| PayloadError::Invalid(e.to_string()));
    }
    serde_json::from_str(text).map_err(|e| PayloadError::Invalid(e.to_string()))
}

pub(crate) fn encode_payload<T: Serialize>(payload: &T) -> RawPayload {
    // Our payload types have string keys only, so encoding cannot fail.
    let raw = serde_json::value::to_raw_value(payload).expect("wire payloads always encode");
    (raw.get() != "null").then_some(raw)
}

/// [`decode_payload`] with the wire codec: `Json::Null` is an absent payload.
pub(crate) fn decode_wire_payload<T: crate::wire::FromWire>(payload: &crate::wire::Json) -> Result<T, PayloadError> {
    use crate::wire::Json;
    let read = |json: &Json| T::from_wire(json).map_err(|e| PayloadError::Invalid(e.to_string()));
    match payload {
        Json::Null => read(&Json::Null).or_else(|_| read(&Json::Object(Vec::new()))),
        payload => read(payload),
    }
}

/// [`encode_payload`] with the wire codec.
pub(crate) fn encode_wire_payload<T: crate::wire::ToWire>(payload: &T) -> Option<crate::wire::Json> {
    let json = payload.to_wire();
    (json != crate::wire::Json::Null).then_some(json)
}

/// A client → server frame.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestFrame {
    /// Absent only on v2's keep-alive `{"action":"ping"}`.
    pub request_id: Option<String>,
    pub request: Request,
    /// The top-level `version` a v3.5 client puts on `login`.
    pub version: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct WireRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payload: RawPayload,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
}

impl RequestFrame {
    pub fn new(request_id: impl Into<String>, request: Request) -> Self {
        Self { request_id: Some(request_id.into()), request, version: None }
    }

    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let wire: WireRequest = serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        let request = Request::from_parts(&wire.action, wire.payload.as_deref())
            .map_err(|e| DecodeError::from_payload(e, wire.request_id.clone(), wire.action))?;
        Ok(Self { request_id: wire.request_id, request, version: wire.version })
    }

    pub fn encode(&self) -> String {
        let wire = WireRequest {
            request_id: self.request_id.clone(),
            action: self.request.name().to_owned(),
            payload: self.request.payload(),
            version: self.version.clone(),
        };
        serde_json::to_string(&wire).expect("wire frames always encode")
    }
}

/// A server → client frame.
// Decoded, matched and dropped at once: a box per frame would cost more than the size.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame {
    Response(ResponseFrame),
    Push(PushFrame),
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseFrame {
    pub request_id: Option<String>,
    pub action: String,
    pub result: Result<Response, ApiError>,
}

impl ResponseFrame {
    pub fn ok(request_id: Option<String>, response: Response) -> Self {
        Self { request_id, action: response.name().to_owned(), result: Ok(response) }
    }

    pub fn error(request_id: Option<String>, action: impl Into<String>, error: ApiError) -> Self {
        Self { request_id, action: action.into(), result: Err(error) }
    }
}

/// A push, with the `request_id` of the request that caused it on the requester's copy.
#[derive(Debug, Clone, PartialEq)]
pub struct PushFrame {
    pub request_id: Option<String>,
    pub push: Push,
}

#[derive(Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum FrameType {
    Response,
    Push,
}

#[derive(Serialize, Deserialize)]
struct WireServerFrame {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    action: String,
    #[serde(rename = "type")]
    kind: FrameType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    success: Option<bool>,
    #[serde(default)]
    payload: RawPayload,
}

/// A server frame with its payload still undecoded JSON: for a client that decodes only the
/// payloads it uses (the widget's wasm then carries no decoder for the rest). Payloads are
/// never parsed into a `Value` tree on the way: each is read once, into its own type.
#[derive(Debug, Clone)]
pub struct RawServerFrame {
    pub request_id: Option<String>,
    pub action: String,
    pub body: RawBody,
}

#[derive(Debug, Clone)]
pub enum RawBody {
    /// A response: its payload, or its error.
    Response(Result<RawPayload, ApiError>),
    Push(RawPayload),
}

impl RawServerFrame {
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let wire: WireServerFrame = serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        let body = match (wire.kind, wire.success) {
            (FrameType::Push, _) => RawBody::Push(wire.payload),
            (FrameType::Response, Some(false)) => match decode_payload::<ErrorBody>(wire.payload.as_deref()) {
                Ok(body) => RawBody::Response(Err(body.error)),
                Err(e) => {
                    return Err(DecodeError::from_payload(e, wire.request_id, wire.action));
                }
            },
            (FrameType::Response, _) => RawBody::Response(Ok(wire.payload)),
        };
        Ok(Self { request_id: wire.request_id, action: wire.action, body })
    }
}

/// Decodes a payload of a known type; an absent payload reads as `{}` where the type needs an
/// object.
pub fn decode<T: DeserializeOwned>(payload: Option<&RawValue>) -> Result<T, PayloadError> {
    decode_payload(payload)
}

impl ServerFrame {
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let RawServerFrame { request_id, action, body } = RawServerFrame::decode(text)?;
        match body {
            RawBody::Push(payload) => match Push::from_parts(&action, payload.as_deref()) {
                Ok(push) => Ok(ServerFrame::Push(PushFrame { request_id, push })),
                Err(e) => Err(DecodeError::from_payload(e, request_id, action)),
            },
            RawBody::Response(Err(error)) => Ok(ServerFrame::Response(ResponseFrame::error(request_id, action, error))),
            RawBody::Response(Ok(payload)) => match Response::from_parts(&action, payload.as_deref()) {
                Ok(response) => Ok(ServerFrame::Response(ResponseFrame::ok(request_id, response))),
                Err(e) => Err(DecodeError::from_payload(e, request_id, action)),
            },
        }
    }

    pub fn encode(&self) -> String {
        let wire = match self {
            ServerFrame::Response(r) => {
                let (success, payload) = match &r.result {
                    Ok(response) => (true, response.payload()),
                    Err(error) => (false, encode_payload(&ErrorBody { error: error.clone() })),
                };
                WireServerFrame {
                    request_id: r.request_id.clone(),
                    action: r.action.clone(),
                    kind: FrameType::Response,
                    success: Some(success),
                    // Responses always carry an object.
                    payload: payload.or_else(|| RawValue::from_string("{}".into()).ok()),
                }
            }
            ServerFrame::Push(p) => WireServerFrame {
                request_id: p.request_id.clone(),
                action: p.push.name().to_owned(),
                kind: FrameType::Push,
                success: None,
                payload: p.push.payload(),
            },
        };
        serde_json::to_string(&wire).expect("wire frames always encode")
    }
}

/// A push frame with any payload: for pushes outside [`Push`] (the Agent Chat API's own).
pub fn push_text(action: &str, payload: &impl Serialize) -> String {
    let wire = WireServerFrame {
        request_id: None,
        action: action.to_owned(),
        kind: FrameType::Push,
        success: None,
        payload: encode_payload(payload),
    };
    serde_json::to_string(&wire).expect("wire frames always encode")
}

/// A response frame with any payload: for actions outside [`Request`] (the Agent Chat API's
/// RTM answers). A failure carries `{"error": …}`.
pub fn response_text(request_id: Option<String>, action: &str, result: Result<&impl Serialize, &ApiError>) -> String {
    let (success, payload) = match result {
        Ok(payload) => (true, encode_payload(payload)),
        Err(error) => (false, encode_payload(&ErrorBody { error: error.clone() })),
    };
    let wire = WireServerFrame {
        request_id,
        action: action.to_owned(),
        kind: FrameType::Response,
        success: Some(success),
        payload: payload.or_else(|| RawValue::from_string("{}".into()).ok()),
    };
    serde_json::to_string(&wire).expect("wire frames always encode")
}

impl From<ResponseFrame> for ServerFrame {
    fn from(r: ResponseFrame) -> Self {
        ServerFrame::Response(r)
    }
}

impl From<PushFrame> for ServerFrame {
    fn from(p: PushFrame) -> Self {
        ServerFrame::Push(p)
    }
}
