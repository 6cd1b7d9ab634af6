//! confab-sdk: a Rust client of the Customer Chat API v3.5, the concepts of the LiveChat
//! Customer SDK (connect, start a chat, send events, history, pushes) in Rust.
//!
//! # Layout
//!
//! - [`core`]: the sans-IO state machine (login, request matching, reconnects, each event
//!   handed on once). No I/O.
//! - [`client`]: the async API ([`Client`], [`Events`], [`ChatHistory`]) over any platform.
//! - `native` (feature `native`): tokio + tokio-tungstenite + reqwest.
//! - `web` (feature `web`): the browser's WebSocket and fetch, through gloo-net.
//!
//! ```no_run
//! # #[cfg(feature = "native")]
//! # async fn demo() -> Result<(), confab_sdk::Error> {
//! use confab_sdk::{Config, ClientEvent};
//! let (client, mut events) = confab_sdk::native::connect(Config::new("http://127.0.0.1:8080", "7c1f2a9e-3b4d-4e5f-8a6b-9c0d1e2f3a4b"));
//! let chat = client.start_chat(Some("Hello!")).await?;
//! # Ok(()) }
//! ```
//!
//! Concept names of the official SDK map to v3.5 actions: `activate_chat` is `resume_chat`,
//! `get_chat_history` pages with `list_threads`.

// The async client exists where an adapter can run it.
#[cfg(any(feature = "native", all(feature = "web", target_arch = "wasm32")))]
pub mod client;
pub mod core;
mod error;
#[cfg(feature = "native")]
pub mod native;
#[cfg(any(feature = "native", all(feature = "web", target_arch = "wasm32")))]
mod platform;
mod seen;
// The browser adapter exists only in the browser. (Cargo unifies features: a native build of a
// workspace that contains the widget enables `web` too.)
#[cfg(all(feature = "web", target_arch = "wasm32"))]
pub mod web;
// File uploads (protocol.md §10), beside the client.
#[cfg(any(feature = "native", all(feature = "web", target_arch = "wasm32")))]
pub mod upload;

#[cfg(any(feature = "native", all(feature = "web", target_arch = "wasm32")))]
pub use client::{ChatHistory, Client, ClientEvent, Events};
pub use confab_protocol as protocol;
pub use core::Config;
pub use error::Error;
#[cfg(any(feature = "native", all(feature = "web", target_arch = "wasm32")))]
pub use upload::{CancelUpload, Progress, Upload, UploadFile, Uploaded};
