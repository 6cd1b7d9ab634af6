//! Wire types of Confab: the Customer Chat API v3.5 (RTM over WebSocket, customer tokens) and
//! the Agent Chat Web API v3.6, as described in `shared/protocol.md`.
//!
//! This crate is the single place where serializable wire types live. The SDK (client side) and
//! the server both use it, so the two cannot drift apart.
//!
//! # Layout
//!
//! - [`frame`]: the three frame shapes (request, response, push) and their codec.
//! - [`action`]: every RTM request payload and its response payload, keyed by action name.
//! - [`push`]: every server push payload, keyed by push name.
//! - [`entity`]: customers, agents, chats, threads, events, access, properties.
//! - [`error`]: the protocol's error shape and error types.
//! - [`token`]: the customer token endpoint (`POST /v2/customer/token`).
//! - [`agent`]: Agent Chat Web API v3.6 request and response bodies.
//! - [`wire`]: the widget's small JSON codec (a tree, a parser, a writer), beside serde.
//!
//! # Invariant
//!
//! This crate does no I/O, reads no clock and knows neither axum nor web-sys. Timestamps are
//! strings on the wire and stay strings here; whoever creates one passes it in.

// The derived wire code names this crate by its name, also from inside it.
extern crate self as confab_protocol;

#[macro_use]
mod macros;

pub mod action;
pub mod agent;
pub mod archive;
pub mod entity;
pub mod error;
pub mod frame;
pub mod push;
pub mod ticket;
pub mod token;
pub mod wire;

pub use action::{Request, Response};
pub use entity::{Access, Agent, Chat, Customer, Event, EventBody, Properties, Thread, User};
pub use error::{ApiError, ErrorType};
pub use frame::{DecodeError, RequestFrame, ServerFrame};
pub use push::Push;

/// The Customer Chat API version this crate speaks (the `version` of a v4 SDK's `login` frame).
pub const API_VERSION: &str = "3.5";
