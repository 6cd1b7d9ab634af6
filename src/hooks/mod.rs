//! One hook per file.

// Needs the SDK's browser adapter: wasm32 only.
#[cfg(target_arch = "wasm32")]
pub mod outbox;
#[cfg(target_arch = "wasm32")]
pub mod stored;
#[cfg(target_arch = "wasm32")]
pub mod use_chat;
#[cfg(target_arch = "wasm32")]
pub mod use_consent;

pub mod use_attention;
pub mod use_host;
pub mod use_link_preview;
pub mod use_strings;
pub mod use_visibility;
