//! The Confab widget: a Leptos (CSR) app that runs in the iframe the loader inserts on a
//! host page (design.md §4), built on `confab-sdk`'s browser adapter.
//!
//! # Layout
//!
//! - [`state`]: the chat as the visitor sees it ([`state::ChatState`]), plain data and the
//!   rules that update it; no Leptos, so it is tested in plain Rust.
//! - [`hooks`]: one hook per file; `use_chat` connects the SDK to a reactive store,
//!   `use_host` talks to the host page.
//! - [`components`]: one component per file.
//! - [`config`]: what the widget reads from its URL.
//!
//! The app shell (`mount`, `components::app`, `hooks::use_chat`) needs the browser and exists
//! on wasm32 only; the rest also builds natively, so `state` is tested with plain `cargo test`.
//!
//! Invariant: user content is rendered as text nodes only. This crate never assigns HTML
//! markup to an element (Leptos's inner-HTML attribute and property are banned, and
//! `tests/banned_apis.rs` checks it); URLs from message data pass `state::safe_url` first.

pub mod components;
pub mod config;
pub mod format;
pub mod hooks;
pub mod i18n;
pub mod state;

/// Mounts the widget on `<body>`.
#[cfg(target_arch = "wasm32")]
pub fn mount() {
    use leptos::prelude::*;
    // A panic's message in the console while developing; a release build leaves the hook (and
    // the formatting it links) out: the size budget is for the release widget.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    let config = config::WidgetConfig::from_location();
    leptos::mount::mount_to_body(move || view! { <components::app::App config=config.clone() /> });
}
