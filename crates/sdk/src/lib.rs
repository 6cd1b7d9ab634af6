//! confab-sdk: a Rust client of the Customer Chat API v3.5, the LiveChat Customer SDK's
//! methods and events in Rust.
//!
//! # Layout
//!
//! - [`core`]: the sans-IO state machine (login, request matching, reconnects, disconnection
//!   reasons, typed events, each chat event handed on once). No I/O.
//! - [`client`]: the async API ([`Client`], [`Events`], [`ChatHistory`]) over any platform.
//! - [`event`]: [`ClientEvent`], every event of the Customer SDK as one enum.
//! - [`history`], [`ticket`]: the history pager and the ticket form body, sans IO.
//! - `native` (feature `native`): tokio + tokio-tungstenite + reqwest.
//! - `web` (feature `web`): the browser's WebSocket and fetch, through gloo-net.
//!
//! ```no_run
//! # #[cfg(feature = "native")]
//! # async fn demo() -> Result<(), confab_sdk::SdkError> {
//! use confab_sdk::{ClientEvent, Config};
//! use futures::StreamExt;
//! let (client, mut events) =
//!     confab_sdk::native::connect(Config::new("http://127.0.0.1:8080", "7c1f2a9e-3b4d-4e5f-8a6b-9c0d1e2f3a4b"));
//! while let Some(event) = events.next().await {
//!     if let ClientEvent::Connected { .. } = event {
//!         break;
//!     }
//! }
//! let chat = client.start_chat(Some("Hello!")).await?;
//! # Ok(()) }
//! ```
//!
//! Method names follow the Customer SDK v2 in snake_case (the README maps each): e.g.
//! `activate_chat` sends v3.5's `resume_chat`, `get_chat_history` pages with `list_threads`.

#![warn(missing_docs)]

// The README's example compiles as a doc test.
#[cfg(all(doctest, feature = "native"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

// The async client exists where an adapter can run it.
#[cfg(any(feature = "native", all(feature = "web", target_arch = "wasm32")))]
pub mod client;
pub mod core;
mod error;
pub mod event;
pub mod history;
#[cfg(feature = "native")]
pub mod native;
#[cfg(any(feature = "native", all(feature = "web", target_arch = "wasm32")))]
mod platform;
mod seen;
pub mod ticket;
// The browser adapter exists only in the browser. (Cargo unifies features: a native build of a
// workspace that contains the widget enables `web` too.)
#[cfg(all(feature = "web", target_arch = "wasm32"))]
pub mod web;
// File uploads (protocol.md §10), beside the client.
#[cfg(any(feature = "native", all(feature = "web", target_arch = "wasm32")))]
pub mod tabs;
#[cfg(any(feature = "native", all(feature = "web", target_arch = "wasm32")))]
pub mod upload;

#[cfg(any(feature = "native", all(feature = "web", target_arch = "wasm32")))]
pub use client::{ChatHistory, Client, Events, Rating};
pub use confab_protocol as protocol;
pub use core::Config;
pub use error::{Error, SdkError};
pub use event::{Availability, ClientEvent, DisconnectOutcome};
#[cfg(any(feature = "native", all(feature = "web", target_arch = "wasm32")))]
pub use upload::{CancelUpload, Progress, Upload, UploadFile, Uploaded};
